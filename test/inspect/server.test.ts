import fs from 'node:fs';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connectInspector, createInspector, type LocalInspector } from '../../src/inspect/index.js';
import type { SessionSnapshot } from '../../src/inspect/model.js';
import { createCemServer } from '../../src/roles/cem-server.js';
import { createRmClient } from '../../src/roles/rm-client.js';
import { waitFor } from '../transport/helpers.js';
import { details, runScenario } from './scenario.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function inspector(options: Parameters<typeof createInspector>[0] = {}): Promise<LocalInspector> {
  const i = await createInspector(options);
  open.push(i);
  return i;
}

/** A GET with a chosen Host header (fetch does not let us set it). */
function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

async function sessions(url: string): Promise<SessionSnapshot[]> {
  const res = await fetch(new URL('api/sessions', url));
  return ((await res.json()) as { sessions: SessionSnapshot[] }).sessions;
}

/** Asks the page's JSON until `ok` holds (every 25 ms); returns the last answer. */
async function sessionsUntil(url: string, ok: (s: SessionSnapshot[]) => boolean, what: string, ms = 3000): Promise<SessionSnapshot[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await sessions(url);
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('inspector server', () => {
  it('serves the page, its script and style from itself only, under a strict content policy, on 127.0.0.1', async () => {
    const i = await inspector();
    expect(i.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(i.url);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('<script src="app.js"');
    // Nothing from elsewhere: no absolute URL in the page, the script or the style sheet.
    for (const path of ['', 'app.js', 'style.css']) {
      const res = await get(new URL(path, i.url).toString());
      expect(res.status).toBe(200);
      expect(res.body).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
    }
    expect((await get(new URL('nope', i.url).toString())).status).toBe(404);
    const post = await fetch(i.url, { method: 'POST' });
    expect(post.status).toBe(405);
  });

  it('answers only its own host names (no DNS rebinding)', async () => {
    const i = await inspector();
    expect((await get(i.url, { host: `localhost:${i.port}` })).status).toBe(200);
    expect((await get(i.url, { host: `evil.example:${i.port}` })).status).toBe(403);
    expect((await get(new URL('api/sessions', i.url).toString(), { host: 'evil.example' })).status).toBe(403);
  });

  it('draws the same statechart SVGs as docs/statecharts/, with one state:<id> group per state', async () => {
    const i = await inspector();
    for (const name of ['cem-session', 'rm-session', 'control-type-frbc', 'instruction']) {
      const res = await get(new URL(`charts/${name}.svg`, i.url).toString());
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toContain('image/svg+xml');
      expect(res.body).toBe(fs.readFileSync(new URL(`../../docs/statecharts/${name}.svg`, import.meta.url), 'utf8'));
    }
    const svg = (await get(new URL('charts/cem-session.svg', i.url).toString())).body;
    expect(svg).toContain('id="state:cemSession.handshake"');
    expect(svg).toContain('id="state:cemSession.connected.active.FRBC"');
    expect((await get(new URL('charts/nothing.svg', i.url).toString())).status).toBe(404);
  });

  it('streams a snapshot, then batches of changes, to every page', async () => {
    const i = await inspector();
    const chunks: string[] = [];
    const req = http.get(new URL('events', i.url), (res) => res.on('data', (d: Buffer) => chunks.push(d.toString())));
    await waitFor(() => chunks.join('').includes('event: snapshot'), 2000, 'the snapshot');
    expect(chunks.join('')).toContain('data: {"sessions":[]}');
    await runScenario({ inspect: i.inspect, attach: (s) => i.attach(s) });
    await waitFor(() => chunks.join('').includes('"state":"closed"'), 3000, 'the sessions in the stream');
    req.destroy();
    const all = await sessions(i.url);
    expect(all.map((s) => s.header.role).sort()).toEqual(['CEM', 'RM']);
    expect(all.every((s) => s.header.closed)).toBe(true);
  });

  it('never shows the bearer token of a CEM server that requires one', async () => {
    const token = 'tok-7b1f0e-very-secret';
    const i = await inspector();
    const cem = await createCemServer({ token, inspect: i.inspect, onSession: (s) => i.attach(s) });
    open.push(cem);
    const rm = createRmClient({ url: cem.url, token, details, reconnect: false, inspect: i.inspect, onSession: (s) => i.attach(s) });
    await rm.nextSession();
    const text = JSON.stringify(
      await sessionsUntil(i.url, (s) => JSON.stringify(s).includes('ResourceManagerDetails'), 'the RM details on the page'),
    );
    await rm.stop();
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/authorization/i);
  });

  it('`s2 inspect` mode: another process feeds it; its sessions show up, and are shown closed when the feed goes away', async () => {
    const hub = await inspector({ acceptFeeds: true });
    expect(hub.feedUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/feed$/);
    const feed = await connectInspector(hub.feedUrl!);
    expect(feed.url).toBe(hub.url);
    await runScenario({ inspect: feed.inspect, attach: (s) => feed.attach(s) });
    let seen = await sessionsUntil(
      hub.url,
      (all) => all.length === 2 && all.every((x) => x.instructions[0]?.status === 'SUCCEEDED' && x.header.closed),
      'the fed sessions',
    );
    expect(seen.find((s) => s.header.role === 'CEM')!.messages.some((m) => m.reception?.status === 'OK')).toBe(true);

    // A session still open when its process goes away is shown closed.
    const feed2 = await connectInspector(hub.feedUrl!);
    const cem = await createCemServer({ inspect: feed2.inspect, onSession: (s) => feed2.attach(s) });
    open.push(cem);
    const rm = createRmClient({ url: cem.url, details, reconnect: false });
    await rm.nextSession();
    await sessionsUntil(hub.url, (all) => all.length === 3, 'the open session');
    await feed2.close();
    seen = await sessionsUntil(hub.url, (all) => all.every((x) => x.header.closed), 'the open session shown closed');
    expect(seen.some((s) => s.header.closed?.reason === 'the inspected process went away')).toBe(true);
    await rm.stop();
    await feed.close();
  });

  it('refuses feeds from web pages and when feeds are off; a feed to nowhere fails clearly', async () => {
    const hub = await inspector({ acceptFeeds: true });
    const fromPage = new WebSocket(hub.feedUrl!, { origin: 'http://evil.example' });
    const refused = await new Promise<string>((resolve) => {
      fromPage.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      fromPage.on('error', (err) => resolve(err.message));
    });
    expect(refused).toMatch(/403/);
    const plain = await inspector();
    expect(plain.feedUrl).toBeUndefined();
    const noFeed = new WebSocket(plain.url.replace('http:', 'ws:') + 'feed');
    const status = await new Promise<string>((resolve) => {
      noFeed.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      noFeed.on('error', (err) => resolve(err.message));
    });
    expect(status).toMatch(/403/);
    await expect(connectInspector(`ws://127.0.0.1:${plain.port}/feed`, { connectTimeoutMs: 2000 })).rejects.toThrow(/no inspector at/);
  });
});
