import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay, type BackoffOptions } from '../../src/transport/reconnect.js';
import { killCliProcessesAfterEach, runS2 } from '../support/cli-process.js';

// A CEM that dies (SIGKILL: no close frames, no goodbye) under 20 RMs and comes back on the same
// port: every RM must notice the loss and be active again within the bound its reconnect back-off
// promises. The CEM is the real `s2 cem` process (dist/, as the other CLI tests); the 20 RMs are
// 20 real `s2 rm` commands run in one Node process by test/support/rm-fleet.mjs (20 Node processes
// would cost seconds of CPU on a 2-core CI machine before the test even starts).

killCliProcessesAfterEach();

const FLEET = new URL('../support/rm-fleet.mjs', import.meta.url).pathname;
const TYPES = ['FRBC', 'PPBC', 'OMBC', 'PEBC', 'DDBC'] as const;
const RMS = 20;
/**
 * How long the CEM stays dead before it is started again (as a service manager restarts a crashed
 * service after a pause): long enough that every RM's first dial (0.5–1 s after the drop) is
 * refused, so the test runs the back-off schedule rather than just the first wait.
 */
const DOWN_MS = 2_000;

/** `s2 rm` passes no reconnect option: createRmClient's defaults (README: 1 s doubling to 60 s, jitter 50 %). */
const S2_RM_BACKOFF: BackoffOptions = {};

/**
 * Time from the dial that reaches the restarted CEM to the RM's control type being active: TCP
 * connect, upgrade, both Handshakes, HandshakeResponse, ResourceManagerDetails, SelectControlType,
 * all on loopback (a few ms when idle). The CEM is a fresh process (its validators compile on first
 * use, README: 170–270 ms to the first decoded message) taking 20 sessions at once, and CI shares
 * the 2 cores with other suites: 2 s leaves an order of magnitude of room without hiding a missed
 * back-off step (the shortest wait after the first one is 1 s).
 */
const HANDSHAKE_ALLOWANCE_MS = 2_000;

/**
 * The latest an RM can be active again, counted from the moment it saw the connection drop, when
 * the CEM accepts connections again `upMs` after that moment. After the loss the client waits
 * `backoffDelay(0)`, dials, and after each refused dial waits `backoffDelay(k)` for k = 1, 2, …
 * (src/transport/reconnect.ts; the handshake of the lost session had reset the count). A wait k
 * lies in [ceiling_k × (1 − jitter), ceiling_k]. The last refused dial happened before `upMs`, so
 * the dial after it comes at most ceiling_K after `upMs`, where K is the highest wait index whose
 * earliest possible start (the sum of the minimal waits before it) lies before `upMs`.
 */
function reconnectBound(upMs: number, backoff: BackoffOptions = S2_RM_BACKOFF): { readonly boundMs: number; readonly waitIndex: number } {
  const ceiling = (k: number) => backoffDelay(k, backoff, () => 0);
  const shortest = (k: number) => backoffDelay(k, backoff, () => 1);
  let k = 0;
  let earliestStart = 0; // earliest start of wait k: the sum of the shortest waits 0 … k − 1
  while (earliestStart + shortest(k) < upMs) earliestStart += shortest(k++);
  return { boundMs: upMs + ceiling(k) + HANDSHAKE_ALLOWANCE_MS, waitIndex: k };
}

interface RmView {
  /** Epoch ms of every '@ connected.active.*' line. */
  readonly active: number[];
  /** Epoch ms and code of every 'closed' line. */
  readonly closed: { readonly at: number; readonly code: number }[];
  /** The waits it announced after refused dials ('next in N ms'). */
  readonly waits: number[];
}

const fleets: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const f of fleets.splice(0)) if (f.exitCode === null) f.kill('SIGKILL');
});

/** Starts the RM fleet and keeps a per-RM view of what it printed. */
function startFleet(url: string) {
  const child = spawn(process.execPath, [FLEET, url, TYPES.join(','), String(RMS)]);
  fleets.push(child);
  const rms: RmView[] = Array.from({ length: RMS }, () => ({ active: [], closed: [], waits: [] }));
  let out = '';
  let pending = '';
  const onData = (d: Buffer) => {
    out += d.toString();
    pending += d.toString();
    let i;
    while ((i = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, i);
      pending = pending.slice(i + 1);
      const m = /^(\d+) rm(\d+) (.*)$/.exec(line);
      const rm = m ? rms[Number(m[2])] : undefined;
      if (!m || !rm) continue;
      const at = Number(m[1]);
      const text = m[3]!;
      if (/ @ connected\.active\.\w+$/.test(text)) rm.active.push(at);
      const closed = / closed (\d+)/.exec(text);
      if (closed) rm.closed.push({ at, code: Number(closed[1]) });
      const wait = /\(attempt \d+, next in (\d+) ms\)/.exec(text);
      if (wait) rm.waits.push(Number(wait[1]));
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Resolves once `done()` holds, re-checked as output arrives; rejects after `ms` with the output. */
  const until = (what: string, done: () => boolean, ms: number) =>
    new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const poll = () => {
        if (done()) return resolve();
        if (Date.now() - t0 > ms)
          return reject(new Error(`timed out after ${ms} ms waiting for ${what}; fleet output:\n${out.slice(-4000)}`));
        setTimeout(poll, 10);
      };
      poll();
    });
  return { child, rms, exited, until, output: () => out };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

describe('s2 cem killed under 20 s2 rm', () => {
  it('SIGKILL the CEM and restart it 2 s later on the same port: all 20 RMs see the drop, back off, and are active again within the back-off bound', async () => {
    const cem = runS2(['cem', '--port', '0', '--quiet']);
    const [, url, port] = await cem.waitFor(/s2 cem listening on (ws:\/\/127\.0\.0\.1:(\d+))/);
    const fleet = startFleet(url!);
    await fleet.until('all 20 RMs active', () => fleet.rms.every((rm) => rm.active.length === 1), 30_000);
    expect(fleet.rms.every((rm) => rm.closed.length === 0)).toBe(true);

    const killedAt = Date.now();
    cem.child.kill('SIGKILL');
    expect(await cem.exited).toBe(null); // ended by the signal, not by itself
    // The loss reaches every RM (a killed process's sockets are closed by the kernel: no close frame).
    await fleet.until('all 20 RMs to see the drop', () => fleet.rms.every((rm) => rm.closed.length === 1), 10_000);
    for (const rm of fleet.rms) expect(rm.closed[0]!.code).toBe(1006);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, killedAt + DOWN_MS - Date.now())));
    const restarted = runS2(['cem', '--port', port!, '--quiet']);
    await restarted.waitFor(new RegExp(`s2 cem listening on ws://127\\.0\\.0\\.1:${port}\\b`));
    const upAt = Date.now(); // the CEM listened at the latest now

    // Wait for the worst case the schedule allows, then judge each RM against its own bound.
    const bounds = fleet.rms.map((rm) => reconnectBound(upAt - rm.closed[0]!.at));
    const worst = Math.max(...bounds.map((b, i) => fleet.rms[i]!.closed[0]!.at + b.boundMs)) - Date.now();
    await fleet.until('all 20 RMs active again', () => fleet.rms.every((rm) => rm.active.length === 2), Math.max(0, worst) + 500);
    const reconnectMs = fleet.rms.map((rm) => rm.active[1]! - rm.closed[0]!.at);
    fleet.rms.forEach((rm, i) => {
      expect(
        rm.active[1]!,
        `rm${i} active again only ${reconnectMs[i]} ms after its drop; bound ${bounds[i]!.boundMs} ms`,
      ).toBeLessThanOrEqual(rm.closed[0]!.at + bounds[i]!.boundMs);
      // Each wait it announced after a refused dial is the schedule's: the j-th lies in
      // [ceiling_j × (1 − jitter), ceiling_j] (the wait before the first dial is not announced).
      expect(rm.waits.length, `rm${i} had no refused dial: the CEM was back too early to test the back-off`).toBeGreaterThanOrEqual(1);
      rm.waits.forEach((w, j) => {
        expect(w).toBeGreaterThanOrEqual(backoffDelay(j + 1, S2_RM_BACKOFF, () => 1));
        expect(w).toBeLessThanOrEqual(backoffDelay(j + 1, S2_RM_BACKOFF, () => 0));
      });
    });
    const allActiveMs = Math.max(...fleet.rms.map((rm) => rm.active[1]!)) - killedAt;
    console.info(
      `kill-cem: CEM back ${upAt - killedAt} ms after the kill; all ${RMS} RMs active again ${allActiveMs} ms after it ` +
        `(per RM from its drop: min ${Math.min(...reconnectMs)}, median ${median(reconnectMs)}, max ${Math.max(...reconnectMs)} ms; ` +
        `bound ${Math.min(...bounds.map((b) => b.boundMs))}–${Math.max(...bounds.map((b) => b.boundMs))} ms, back-off wait index ≤ ${Math.max(...bounds.map((b) => b.waitIndex))}; ` +
        `refused dials: ${fleet.rms.reduce((n, rm) => n + rm.waits.length, 0)})`,
    );

    fleet.child.kill('SIGTERM');
    expect(await fleet.exited).toBe(0); // every RM reached a CEM's handshake and stopped cleanly
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
  }, 60_000);

  it('the bound follows the schedule: 1 s doubling, 50 % jitter', () => {
    // Back 0.3 s after the drop: at worst the first wait (≤ 1 s) already ended after it, or the
    // first dial came before 0.3 s (it cannot: the shortest first wait is 0.5 s).
    expect(reconnectBound(300)).toEqual({ boundMs: 300 + 1_000 + HANDSHAKE_ALLOWANCE_MS, waitIndex: 0 });
    // Back at 1.2 s: the first dial (0.5–1 s) may have been refused; the second wait is ≤ 2 s.
    expect(reconnectBound(1_200)).toEqual({ boundMs: 1_200 + 2_000 + HANDSHAKE_ALLOWANCE_MS, waitIndex: 1 });
    // Back at 4 s: dials at ≥ 0.5, ≥ 1.5, ≥ 3.5 s may all have been refused; the fourth wait is ≤ 8 s.
    expect(reconnectBound(4_000)).toEqual({ boundMs: 4_000 + 8_000 + HANDSHAKE_ALLOWANCE_MS, waitIndex: 3 });
  });
});
