import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach } from 'vitest';

/** The built command line (the suite runs after `npm run build`). */
export const S2_BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  /** Resolves once stdout+stderr match (the processes print as they go; no fixed sleeps). */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  output(): string;
}

/**
 * Runs `s2 …` as a child process, as a user would. Every process started in a test is killed
 * after it (register with `killCliProcessesAfterEach()` in the test file).
 */
export function runS2(args: string[]): CliProcess {
  const child = spawn(process.execPath, [S2_BIN, ...args]);
  started.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = (re: RegExp, ms = 10_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const t0 = Date.now();
      const poll = () => {
        const m = out.match(re);
        if (m) return resolve(m);
        if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${re} in:\n${out}`));
        setTimeout(poll, 20);
      };
      poll();
    });
  return { child, exited, waitFor, output: () => out };
}

const started: ChildProcessWithoutNullStreams[] = [];

/** Kills every process `runS2` started in a test once the test is over. */
export function killCliProcessesAfterEach(): void {
  afterEach(() => {
    for (const c of started.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  });
}
