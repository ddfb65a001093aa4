import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { S2Error } from '../typebox/errors.js';
import type { CliIO } from './run.js';

/** Parses flags; on a usage error writes it with the usage text and returns undefined. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  usage: string,
  io: CliIO,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true }>> | undefined {
  try {
    return parseArgs({ args, options, allowPositionals: true });
  } catch (err) {
    io.stderr.write(`s2: ${(err as Error).message}\n\n${usage}\n`);
    return undefined;
  }
}

/** Reads a file named on the command line, or throws an S2Error naming the flag. */
export function readFlagFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new S2Error('INVALID_OPTIONS', `${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Opens the `--trace FILE` stream (JSON lines, appended). */
export function openTrace(path: string | undefined): WriteStream | undefined {
  return path ? createWriteStream(path, { flags: 'a' }) : undefined;
}

/**
 * Resolves on the first SIGINT or SIGTERM, or after `seconds` when given; removes its signal
 * handlers and timer again, so nothing is left behind.
 */
export function untilStopped(seconds?: number): Promise<'signal' | 'time'> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (why: 'signal' | 'time') => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      clearTimeout(timer);
      resolve(why);
    };
    const onSignal = () => done('signal');
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (seconds !== undefined) timer = setTimeout(() => done('time'), seconds * 1000);
  });
}

/** Parses a non-negative number flag or throws an S2Error naming it. */
export function numberFlag(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new S2Error('INVALID_OPTIONS', `${flag} must be a number ≥ 0, got '${value}'`);
  return n;
}

/** Closes a write stream and waits until it has flushed. */
export function endStream(stream: WriteStream | undefined): Promise<void> {
  return new Promise((resolve) => (stream ? stream.end(resolve) : resolve()));
}
