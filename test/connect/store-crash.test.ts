import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectoryPairingStore } from '../../src/connect/store/index.js';
import { Rng } from '../support/rng.js';

const CHILD = new URL('./store-crash-child.mjs', import.meta.url).pathname;
const BUILT_STORE = new URL('../../dist/connect/store/index.js', import.meta.url).pathname;
const LOCAL = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';

/** What a pair looks like on disk. */
type State = { kind: 'absent' } | { kind: 'tombstone' } | { kind: 'pairing'; tokens: string[] };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Round {
  /** Complete lines the child printed before it died. */
  lines: string[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * When the writer dies: killed by the test `ms` after it started writing, or by itself (SIGKILL to its own pid)
 * `turns` event-loop turns after announcing its `begins`-th write. The first is a truly random moment; the second
 * lands the kill between two I/O steps of a write, where a non-atomic store would leave a torn file, so a few
 * seconds of rounds catch such a store reliably.
 */
type KillAt = { by: 'test'; ms: number } | { by: 'itself'; begins: number; turns: number };

/** Runs the writer child until it is SIGKILLed as `at` says. */
function crashRound(dir: string, seed: number, at: KillAt): Promise<Round> {
  return new Promise((resolve, reject) => {
    const args = [CHILD, dir, String(seed), ...(at.by === 'itself' ? [`${at.begins}:${at.turns}`] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 5_000); // never outlive a broken round
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (at.by === 'test' && timer === undefined && out.startsWith('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), at.ms);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      clearTimeout(timer);
      // A line is whole only with its newline (each is one write below PIPE_BUF, so lines are never interleaved).
      const lines = out.split('\n').slice(0, -1);
      resolve({ lines, signal, stderr });
    });
  });
}

async function diskState(store: DirectoryPairingStore, remote: string): Promise<State> {
  const got = await store.get(LOCAL, remote);
  if (got !== undefined) {
    expect(got.record.remoteNodeId).toBe(remote);
    return { kind: 'pairing', tokens: [...got.tokens.tokens] };
  }
  return (await store.isTombstoned(LOCAL, remote)) ? { kind: 'tombstone' } : { kind: 'absent' };
}

describe('DirectoryPairingStore survives kill -9', () => {
  it('a writer killed at random moments never loses a reported write nor leaves a torn file', async () => {
    if (!existsSync(BUILT_STORE))
      throw new Error(`${BUILT_STORE} is missing: run \`npm run build\` first (the crash child runs the built store)`);
    const dir = mkdtempSync(join(tmpdir(), 's2-store-crash-'));
    dirs.push(dir);
    const rng = new Rng(0x5eed);
    const committed = new Map<string, State>(); // per remote: the state the child last reported as written
    let rounds = 0;
    let reportedWrites = 0;
    let killedMidWrite = 0;
    const started = Date.now();

    while (rounds < 16 && (rounds < 4 || Date.now() - started < 5_000)) {
      rounds++;
      const at: KillAt =
        rounds % 3 === 1 ? { by: 'test', ms: rng.int(20, 250) } : { by: 'itself', begins: rng.int(1, 20), turns: rng.int(0, 8) };
      const round = await crashRound(dir, rng.int(1, 2 ** 31), at);
      expect(round.stderr).toBe('');
      expect(round.signal).toBe('SIGKILL');
      expect(round.lines[0]).toBe('ready');

      // Writes the child announced and did not report done: per pair at most one (each pair's writes are sequential).
      const pending = new Map<string, State>();
      for (const text of round.lines.slice(1)) {
        const [tag, remote = '', json = ''] = text.split(' ');
        if (tag === 'B') {
          expect(pending.has(remote)).toBe(false);
          pending.set(remote, JSON.parse(json) as State);
        } else if (tag === 'D') {
          const state = pending.get(remote);
          expect(state).toBeDefined();
          committed.set(remote, state!);
          pending.delete(remote);
          reportedWrites++;
        } else throw new Error(`unexpected line from the child: ${text}`);
      }
      killedMidWrite += pending.size;

      // Every pairing file parses as a whole file, whatever the moment of the kill.
      for (const name of readdirSync(dir).filter((n) => n.startsWith('pairing-'))) {
        expect(() => JSON.parse(readFileSync(join(dir, name), 'utf8')) as unknown).not.toThrow();
      }

      const store = new DirectoryPairingStore(dir);
      try {
        await store.list(); // throws on any unusable file
        expect(readdirSync(dir).filter((n) => n.startsWith('.tmp-'))).toEqual([]); // leftovers were cleaned
        const remotes = new Set([...committed.keys(), ...pending.keys()]);
        for (const remote of remotes) {
          const onDisk = await diskState(store, remote);
          const before = committed.get(remote) ?? { kind: 'absent' };
          // The write in flight at the kill may or may not have landed; every reported one has.
          const inFlight = pending.get(remote);
          const allowed = inFlight === undefined ? [before] : [before, inFlight];
          expect(allowed).toContainEqual(onDisk);
          committed.set(remote, onDisk); // the next child starts from what is on disk
        }
        // And nothing appeared that the child never wrote.
        const listed = (await store.list()).map((r) => r.remoteNodeId).sort();
        const expected = [...committed]
          .filter(([, s]) => s.kind === 'pairing')
          .map(([r]) => r)
          .sort();
        expect(listed).toEqual(expected);
      } finally {
        await store.close();
      }
    }

    // The test must really have exercised the store: many durable writes, and kills that landed inside a write.
    expect(reportedWrites).toBeGreaterThan(20);
    expect(killedMidWrite).toBeGreaterThan(0);
  }, 30_000);
});
