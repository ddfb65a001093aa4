import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import type { Transport } from '../../src/transport/index.js';

/** Polls until `predicate` holds; rejects after `timeoutMs` so a hang becomes a clear failure. */
export async function waitFor(predicate: () => boolean, timeoutMs = 2_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** Starts a transport and records everything it delivers. */
export interface Collector {
  readonly frames: string[];
  readonly errors: unknown[];
  readonly closes: Closed[];
  readonly closed: Promise<Closed>;
  nextFrame(): Promise<string>;
}

export function collect(transport: Transport): Collector {
  const frames: string[] = [];
  const errors: unknown[] = [];
  const closes: Closed[] = [];
  let resolveClosed!: (closed: Closed) => void;
  const closed = new Promise<Closed>((resolve) => (resolveClosed = resolve));
  let consumed = 0;
  transport.start({
    text: (frame) => frames.push(frame),
    error: (err) => errors.push(err),
    close: (code, reason) => {
      closes.push({ code, reason });
      resolveClosed({ code, reason });
    },
  });
  return {
    frames,
    errors,
    closes,
    closed,
    async nextFrame() {
      await waitFor(() => frames.length > consumed, 2_000, 'a frame');
      return frames[consumed++] as string;
    },
  };
}

type Counts = Record<string, number>;
/** Socket and server handles; vitest talks to its main process over pipes, so these are ours. */
const WATCHED = ['TCPSocketWrap', 'TCPServerWrap', 'TLSWrap'];

function handleCounts(): Counts {
  const counts: Counts = {};
  for (const name of process.getActiveResourcesInfo()) {
    if (WATCHED.includes(name)) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

function exceeds(now: Counts, base: Counts): string[] {
  return Object.entries(now)
    .filter(([name, n]) => n > (base[name] ?? 0))
    .map(([name, n]) => `${name}: ${base[name] ?? 0} -> ${n}`);
}

/** Timers created by the transport code or by `ws`, recognised by the stack that created them. */
const OWN_TIMER = /[\\/]src[\\/]transport[\\/]|[\\/]node_modules[\\/]ws[\\/]/;

/**
 * Records every timer started through the globals while a test runs, and which are still live.
 * Counting 'Timeout' in `getActiveResourcesInfo()` is not reliable inside vitest (its RPC layer
 * starts and stops timers of its own at unpredictable moments), and unref'd timers are not listed
 * there at all; wrapping the globals catches both.
 */
function trackTimers(): { live(): string[]; restore(): void } {
  const real = {
    setTimeout: globalThis.setTimeout,
    setInterval: globalThis.setInterval,
    clearTimeout: globalThis.clearTimeout,
    clearInterval: globalThis.clearInterval,
  };
  const live = new Map<unknown, string>();
  const origin = (): string | undefined => {
    const stack = new Error().stack ?? '';
    const frame = stack
      .split('\n')
      .slice(3)
      .find((line) => OWN_TIMER.test(line));
    return frame?.trim().replace(/^at /, '');
  };
  const clear = (timer: unknown): void => void live.delete(timer);
  globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const where = origin();
    const timer = real.setTimeout(() => {
      live.delete(timer);
      fn(...args);
    }, ms);
    if (where !== undefined) live.set(timer, `timeout ${ms ?? 0} ms at ${where}`);
    return timer;
  }) as typeof globalThis.setTimeout;
  globalThis.setInterval = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const where = origin();
    const timer = real.setInterval(fn, ms, ...args);
    if (where !== undefined) live.set(timer, `interval ${ms ?? 0} ms at ${where}`);
    return timer;
  }) as typeof globalThis.setInterval;
  globalThis.clearTimeout = (timer: Parameters<typeof clearTimeout>[0]) => {
    clear(timer);
    real.clearTimeout(timer);
  };
  globalThis.clearInterval = (timer: Parameters<typeof clearInterval>[0]) => {
    clear(timer);
    real.clearInterval(timer);
  };
  return {
    live: () => [...live.values()],
    restore: () => void Object.assign(globalThis, real),
  };
}

/**
 * Fails a test that leaves sockets, servers or timers of the transport behind. Closing is
 * asynchronous, so the check polls briefly before failing. `defer` registers safety-net clean-ups
 * that run *after* the check, so a failing test does not cascade into the next one while a
 * library leak still shows up.
 */
export function leakGuard(): { readonly defer: (cleanup: () => unknown) => void } {
  let baseline: Counts = {};
  let cleanups: Array<() => unknown> = [];
  let timers: ReturnType<typeof trackTimers> | undefined;
  beforeEach(() => {
    baseline = handleCounts();
    cleanups = [];
    timers = trackTimers();
  });
  afterEach(async () => {
    const leaks = (): string[] => [...exceeds(handleCounts(), baseline), ...(timers?.live() ?? [])];
    let leaked = leaks();
    const deadline = Date.now() + 1_500;
    while (leaked.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      leaked = leaks();
    }
    timers?.restore();
    for (const cleanup of cleanups.reverse()) await cleanup();
    expect(leaked, 'handles left open after the test').toEqual([]);
  });
  return { defer: (cleanup) => void cleanups.push(cleanup) };
}

export interface RawUpgrade {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The upgraded socket when the server switched protocols (status 101). */
  readonly socket?: Socket;
}

/** A bare HTTP upgrade request, to see exactly what the server answers before any WebSocket. */
export function rawUpgrade(url: string, headers: Record<string, string> = {}): Promise<RawUpgrade> {
  const target = new URL(url.replace(/^ws/, 'http'));
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      agent: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('upgrade', (res, socket: Socket) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, socket });
    });
    req.on('error', reject);
    req.end();
  });
}

export interface TestCerts {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** A throw-away private CA and a server certificate for 127.0.0.1 and localhost, via `openssl`. */
export function makeCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 's2-transport-tls-'));
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    run(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=s2-test-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
    writeFileSync(
      join(dir, 'ext.cnf'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' +
        'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
    );
    run(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
    );
    const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
    return { ca: read('ca.crt'), cert: read('server.crt'), key: read('server.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
