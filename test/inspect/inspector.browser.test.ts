/**
 * The inspector page in a real browser: headless Chromium (env CHROMIUM, default Debian's
 * /usr/bin/chromium, driven by playwright-core) against `s2 demo --inspect`. Everything waits on
 * DOM conditions, never on sleeps; a screenshot is left in test-artifacts/inspector.png. Without
 * a Chromium the suite is skipped (fails with CI set; see test/support/outside-material.ts).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
import { describeWith, materialPath, requireMaterial } from '../support/outside-material.js';

const CHROMIUM = requireMaterial({
  name: 'Chromium',
  envVar: 'CHROMIUM',
  expected: 'a Chromium or Chrome executable (Debian: apt-get install chromium)',
  fallback: '/usr/bin/chromium',
  check(file) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
    } catch {
      return fs.existsSync(file) ? 'not executable' : 'no such file';
    }
    return fs.statSync(file).isFile() ? undefined : 'not a file';
  },
});
const bin = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const artifacts = new URL('../../test-artifacts/', import.meta.url).pathname;
// Generous: the suite runs other heavy files on the same two cores at the same time.
const WAIT = { timeout: 30_000 };

let demo: ChildProcessWithoutNullStreams | undefined;
let context: BrowserContext | undefined;
let profile: string | undefined;

afterAll(async () => {
  await context?.close();
  if (demo && demo.exitCode === null) demo.kill('SIGKILL');
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
});

/** Starts the demo with the inspector; resolves with the page URL it prints. */
function startDemo(): Promise<string> {
  demo = spawn(process.execPath, [bin, 'demo', '--inspect', '--inspect-port', '0', '--seconds', '60']);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no inspector URL from s2 demo:\n${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /inspector on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    demo!.stdout.on('data', onData);
    demo!.stderr.on('data', onData);
    demo!.once('exit', (code) => reject(new Error(`s2 demo exited with ${code}:\n${out}`)));
  });
}

describeWith(CHROMIUM, 'the inspector page in headless Chromium', () => {
  it(
    'shows the sessions, draws their statecharts with the active states, follows them live and pairs every message with its ReceptionStatus',
    { timeout: 120_000 },
    async () => {
      // The browser first, so that the page is up as soon as the demo prints its URL.
      profile = fs.mkdtempSync(path.join(os.tmpdir(), 's2-inspector-chromium-'));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: materialPath(CHROMIUM),
        headless: true,
        viewport: { width: 1400, height: 1600 },
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      const requests: string[] = [];
      context.on('request', (r) => requests.push(r.url()));
      const page = context.pages()[0] ?? (await context.newPage());
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));

      const url = await startDemo();
      await page.goto(url);

      // The sessions appear: a CEM and an RM per control type.
      await page.waitForFunction(() => document.querySelectorAll('#sessions li').length >= 10, undefined, WAIT);
      await expect.poll(() => page.locator('#sessions li[data-role="CEM"]').count()).toBe(5);
      await page.waitForFunction(() => document.querySelector('#connection')?.getAttribute('data-state') === 'open', undefined, WAIT);
      // Each session shows the S2 version it selected: the demo runs PEBC and DDBC in 1.0.0-beta.
      await page.waitForFunction(() => document.querySelectorAll('#sessions li[data-version="1.0.0-beta"]').length === 4, undefined, WAIT);
      await page.waitForFunction(() => document.querySelectorAll('#sessions li[data-version="0.0.2-beta"]').length === 6, undefined, WAIT);
      const heatBuffer = page.locator('#sessions li[data-role="CEM"][data-version="1.0.0-beta"]', { hasText: /heat buffer/i });
      expect(await heatBuffer.locator('.version').textContent()).toBe('1.0.0-beta');

      // Follow the washing machine's CEM session: its programme gives the most instructions.
      await page.locator('#sessions li[data-role="CEM"]', { hasText: 'Washing machine' }).click();
      await page.waitForFunction(() => document.querySelector('#title')?.textContent?.includes('Washing machine'), undefined, WAIT);

      // The session's statechart is drawn, with its active states highlighted.
      await page.waitForSelector('#chart-session .chart-body svg', WAIT);
      await page.waitForFunction(
        () => document.querySelector('#chart-session g[id="state:cemSession.connected.active.PPBC"]')?.classList.contains('state-active'),
        undefined,
        WAIT,
      );
      const sessionActive = await page.$$eval('#chart-session g.state-active', (gs) => gs.map((g) => g.id));
      expect(sessionActive).toEqual([
        'state:cemSession.connected',
        'state:cemSession.connected.active',
        'state:cemSession.connected.active.PPBC',
      ]);
      expect(await page.locator('#chart-session g[id^="state:"]').count()).toBeGreaterThan(8);
      // It advanced from the handshake to the active control type.
      expect(await page.locator('#facts dt', { hasText: 'protocol version' }).locator('xpath=following-sibling::dd[1]').textContent()).toBe(
        '0.0.2-beta',
      );
      const history = await page.$$eval('#history li', (lis) => lis.map((li) => li.textContent));
      expect(history.slice(0, 3)).toEqual(['handshake', 'connected.awaitingDetails', 'connected.active.PPBC']);
      // The control type's own chart, from its activation actor.
      await page.waitForFunction(
        () => document.querySelector('#chart-controlType g[id="state:PPBC.described"]')?.classList.contains('state-active'),
        undefined,
        WAIT,
      );

      // Live: an instruction seen on this page without a final status reaches one, and the
      // instruction chart's highlighted state follows it.
      await page.waitForFunction(
        () => {
          const w = window as unknown as { seenOpen?: Set<string> };
          w.seenOpen ??= new Set();
          const rows = Array.from(document.querySelectorAll<HTMLTableRowElement>('#instructions tbody tr'));
          const final = new Set(['SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED']);
          for (const tr of rows) {
            const id = tr.dataset.id ?? '';
            const status = tr.dataset.status ?? '';
            if (!final.has(status)) w.seenOpen.add(id);
            else if (w.seenOpen.has(id)) return true;
          }
          return false;
        },
        undefined,
        { timeout: 45_000, polling: 'raf' },
      );
      // The selected row's status and the chart's active state, read at one instant: the instruction may move on
      // between two reads on a loaded machine.
      await page.waitForFunction(
        () => {
          const status = document.querySelector<HTMLElement>('#instructions tbody tr.selected')?.dataset.status;
          if (status === undefined) return false;
          return (
            document.querySelector(`#chart-instruction g[id="state:instruction.${status}"]`)?.classList.contains('state-active') === true
          );
        },
        undefined,
        WAIT,
      );

      // The message log: every message we sent or received carries the ReceptionStatus that answered it.
      const handshake = page.locator('#log tbody tr[data-type="Handshake"]').first();
      await expect.poll(() => handshake.locator('td.reception').getAttribute('data-status'), WAIT).toBe('OK');
      const by = await handshake.locator('td.reception').getAttribute('data-by');
      const answer = page.locator(`#log tbody tr[data-seq="${by}"]`);
      expect(await answer.getAttribute('data-type')).toBe('ReceptionStatus');
      const handshakeSeq = await handshake.getAttribute('data-seq');
      expect(await answer.locator('td.reception').textContent()).toBe(`answers #${handshakeSeq}`);
      // Paired ReceptionStatus rows are folded into the rows they answer, until asked for.
      expect(await answer.isVisible()).toBe(false);
      await page.locator('#show-rs').check();
      expect(await answer.isVisible()).toBe(true);
      await page.locator('#show-rs').uncheck();
      const paired = await page.$$eval('#log tbody tr[data-type="PowerMeasurement"] td.reception[data-status="OK"]', (tds) => tds.length);
      expect(paired).toBeGreaterThan(0);
      // A row's message opens below the log.
      await handshake.click();
      await page.waitForFunction(
        () => document.querySelector('#body')?.textContent?.includes('"message_type": "Handshake"'),
        undefined,
        WAIT,
      );

      await page.evaluate(() => window.scrollTo(0, 0));
      fs.mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, 'inspector.png') });

      // Nothing but our own server was asked for anything, and the page ran without errors.
      const origin = new URL(url).origin;
      expect(requests.filter((r) => !r.startsWith(origin))).toEqual([]);
      expect(errors).toEqual([]);
    },
  );
});
