import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { S2Error } from '../typebox/errors.js';
import { S2_VERSIONS, isS2Version, type S2Version } from '../typebox/versions.js';

/** Where a command reads and writes; injectable so tests run commands in-process. */
export interface CliIO {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
}

/** Exit code for a usage error (unknown command or option, missing or bad value, extra argument). */
export const EXIT_USAGE = 2;

/** One option a command accepts: a flag (`boolean`) or an option with a value (`string`). */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}

/** The options of a command by long name, as `node:util` parseArgs declares them. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** Parsed option values: a string for an option with a value, true for a flag; absent when not given. */
export type OptionValues<O extends OptionSpecs> = { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };

/** The command line of one command after parsing. */
export interface ParsedArgs<O extends OptionSpecs> {
  readonly values: OptionValues<O>;
  readonly positionals: string[];
}

/** `-h`/`--help`, which every command accepts on top of its own options. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const satisfies OptionSpecs;

/** What {@link parseCommandLine} found: a request for help, a usage error, or the values. */
export type ParseOutcome<O extends OptionSpecs> =
  { readonly kind: 'help' } | { readonly kind: 'error'; readonly message: string } | ({ readonly kind: 'ok' } & ParsedArgs<O>);

/**
 * Parses a command's arguments against its option definitions (plus -h/--help). Node's own strict
 * mode only says "Unknown option '--foo'. To specify a positional argument …"; walking the tokens
 * here gives one short, specific message per mistake instead: an unknown option, a missing or
 * empty value, a value given to a flag, an option given twice, or a value that is really the next
 * option (`--url --control-type FRBC`). Help wins over every error: whoever asks for help gets it.
 */
export function parseCommandLine<O extends OptionSpecs>(args: readonly string[], options: O): ParseOutcome<O> {
  const all: OptionSpecs = { ...options, ...HELP_OPTION };
  const { tokens } = parseArgs({ args: [...args], options: all, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean> = Object.create(null) as Record<string, string | boolean>;
  const positionals: string[] = [];
  let error: string | undefined;
  let help = false;
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const spec = Object.prototype.hasOwnProperty.call(all, token.name) ? all[token.name] : undefined;
    if (token.name === 'help' && spec) {
      help = true;
      continue;
    }
    if (error !== undefined) continue;
    if (!spec) error = `unknown option ${token.rawName}`;
    else if (spec.type === 'boolean' && token.value !== undefined) error = `option ${token.rawName} takes no value, got '${token.value}'`;
    else if (spec.type === 'string' && (token.value === undefined || token.value === '')) error = `option ${token.rawName} needs a value`;
    else if (spec.type === 'string' && !token.inlineValue && looksLikeOption(token.value!)) {
      error = `option ${token.rawName} needs a value, got the option '${token.value}' (write ${token.rawName}=${token.value} if that is the value)`;
    } else if (token.name in values) error = `option ${token.rawName} given twice`;
    else values[token.name] = spec.type === 'boolean' ? true : token.value!;
  }
  if (help) return { kind: 'help' };
  if (error !== undefined) return { kind: 'error', message: error };
  return { kind: 'ok', values: values as OptionValues<O>, positionals };
}

/** `--port`, `-h`: an option, not a value; `-1` and `-` are values. */
function looksLikeOption(value: string): boolean {
  return /^-[^\d.]/.test(value) && value !== '-';
}

/** A subcommand of `s2`: its name, one-line summary, usage text, the options it accepts, and what it does. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  /** The text `s2 <name> --help` prints: synopsis, description, every option. */
  readonly usage: string;
  /**
   * Every option the command accepts besides -h/--help: the very definitions its arguments are
   * parsed with, so that a test can hold the usage text against them.
   */
  readonly options: OptionSpecs;
  /** Runs the command with its arguments (after `s2 <name>`); returns the exit code. */
  run(args: string[], io: CliIO): Promise<number>;
}

/**
 * Defines a command whose arguments are parsed with `options` before `run` sees them: `--help`
 * prints the usage to stdout (exit 0), a usage error prints one line to stderr (exit 2).
 */
export function defineCommand<const O extends OptionSpecs>(definition: {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: O;
  run(parsed: ParsedArgs<O>, io: CliIO): Promise<number>;
}): Command {
  const { name, summary, usage, options } = definition;
  return {
    name,
    summary,
    usage,
    options,
    async run(args, io) {
      const parsed = parseCommandLine(args, options);
      if (parsed.kind === 'help') {
        io.stdout.write(`${usage}\n`);
        return 0;
      }
      if (parsed.kind === 'error') return usageError(io, name, parsed.message);
      return definition.run(parsed, io);
    },
  };
}

/** Writes a usage error of `s2 <command>` as one line that says where the help is; returns {@link EXIT_USAGE}. */
export function usageError(io: CliIO, command: string, message: string): number {
  io.stderr.write(`s2 ${command}: ${message}; see s2 ${command} --help\n`);
  return EXIT_USAGE;
}

/** Thrown for a usage error found after parsing (a bad value, a missing option); see {@link failed}. */
export function badOption(message: string): S2Error {
  return new S2Error('INVALID_OPTIONS', message);
}

/** Reports an error that ended a command: a usage error (S2Error INVALID_OPTIONS) exits 2, anything else 1. */
export function failed(io: CliIO, command: string, err: unknown): number {
  if (err instanceof S2Error && err.code === 'INVALID_OPTIONS') return usageError(io, command, err.message);
  io.stderr.write(`s2 ${command}: ${(err as Error).message}\n`);
  return 1;
}

/** Throws a usage error for the first argument when the command takes none. */
export function noPositionals(positionals: readonly string[]): void {
  if (positionals.length) throw badOption(`unexpected argument '${positionals[0]}'`);
}

/**
 * The root of the installed package (or of the repository when run from it): this file is
 * `src/cli/common.ts` or `dist/cli/common.js`, two levels below it either way.
 */
export const PACKAGE_ROOT = new URL('../../', import.meta.url);

/** Name and version from the package's own package.json, read when asked, never copied into the code. */
export function packageInfo(): { readonly name: string; readonly version: string } {
  const json = JSON.parse(readFileSync(new URL('package.json', PACKAGE_ROOT), 'utf8')) as { name?: unknown; version?: unknown };
  if (typeof json.name !== 'string' || typeof json.version !== 'string') throw new Error('package.json has no name or version');
  return { name: json.name, version: json.version };
}

/** Reads a file named on the command line, or throws an S2Error naming the option. */
export function readFlagFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw badOption(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Opens the `--trace FILE` stream (JSON lines, appended). */
export function openTrace(path: string | undefined): WriteStream | undefined {
  return path ? createWriteStream(path, { flags: 'a' }) : undefined;
}

/**
 * Resolves on the first SIGINT or SIGTERM, after `seconds` when given, or when `abort` fires;
 * removes its signal handlers and timer again, so nothing is left behind.
 */
export function untilStopped(seconds?: number, abort?: AbortSignal): Promise<'signal' | 'time' | 'aborted'> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (why: 'signal' | 'time' | 'aborted') => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      abort?.removeEventListener('abort', onAbort);
      clearTimeout(timer);
      resolve(why);
    };
    const onSignal = () => done('signal');
    const onAbort = () => done('aborted');
    if (abort?.aborted) return done('aborted');
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    abort?.addEventListener('abort', onAbort);
    if (seconds !== undefined) timer = setTimeout(() => done('time'), seconds * 1000);
  });
}

/** Parses a non-negative number option or throws an S2Error naming it. */
export function numberFlag(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw badOption(`${flag} must be a number ≥ 0, got '${value}'`);
  return n;
}

/** Closes a write stream and waits until it has flushed. */
export function endStream(stream: WriteStream | undefined): Promise<void> {
  return new Promise((resolve) => (stream ? stream.end(resolve) : resolve()));
}

/** `--versions V[,V…]`, shared by `s2 cem`, `s2 rm` and `s2 demo`. */
export const VERSIONS_FLAG = { versions: { type: 'string' } } as const satisfies OptionSpecs;

/** The help line of {@link VERSIONS_FLAG} (the column of the option texts starts at `indent`). */
export function versionsHelp(indent: number): string {
  const pad = ' '.repeat(indent);
  const name = '--versions V[,V…]';
  // A narrow option column (s2 demo's) puts the text on the next line, as --ids does.
  const head = name.length < indent - 2 ? `  ${name.padEnd(indent - 2)}` : `  ${name}\n${pad}`;
  return `${head}S2 JSON versions, most preferred first: ${S2_VERSIONS.join(', ')} (default
${pad}both, ${S2_VERSIONS[0]} preferred; with S2 Connect also the versions offered
${pad}and accepted in pairing and session initiation)`;
}

/**
 * Parses `--versions 1.0.0-beta,0.0.2-beta`: a comma-separated list of {@link S2_VERSIONS} entries,
 * most preferred first, each at most once. A version string is compared exactly, as in the S2
 * Handshake and S2 Connect, so `0.0.2` or `v1` are usage errors that name the known versions
 * (rather than a session that can never agree with anyone). Undefined when the option is absent.
 */
export function parseVersions(value: string | undefined): S2Version[] | undefined {
  if (value === undefined) return undefined;
  const known = S2_VERSIONS.join(', ');
  const versions: S2Version[] = [];
  for (const raw of value.split(',')) {
    const v = raw.trim();
    if (v === '') throw badOption(`--versions takes a comma-separated list of ${known}; got an empty entry in '${value}'`);
    if (!isS2Version(v)) throw badOption(`--versions: unknown S2 version '${v}' (known: ${known})`);
    if (versions.includes(v)) throw badOption(`--versions names ${v} twice`);
    versions.push(v);
  }
  return versions;
}

/** `--receive-budget` of `s2 cem` and `s2 rm`: the per-connection receive budget of its WebSockets. */
export const RECEIVE_BUDGET_FLAG = { 'receive-budget': { type: 'string' } } as const satisfies OptionSpecs;

/** The help line of {@link RECEIVE_BUDGET_FLAG} (the column of the option texts starts at `indent`). */
export function receiveBudgetHelp(indent: number): string {
  const pad = ' '.repeat(indent);
  return `  --receive-budget B,M|off\n${pad}per connection, the peer may send B bytes and M messages per second\n${pad}(bursts: the largest frame + 1 MiB, 1,000 messages); above: close 4003.\n${pad}Default 1048576,200; 'off' for load tests`;
}

/** The `receiveBudget` option from --receive-budget: undefined (the default), false (off) or the two rates. */
export function parseReceiveBudget(
  value: string | undefined,
): { readonly bytesPerSecond: number; readonly messagesPerSecond: number } | false | undefined {
  if (value === undefined) return undefined;
  if (value === 'off') return false;
  const m = /^(\d+),(\d+)$/.exec(value);
  const bytesPerSecond = Number(m?.[1]);
  const messagesPerSecond = Number(m?.[2]);
  if (!m || !(bytesPerSecond > 0) || !(messagesPerSecond > 0))
    throw badOption(`--receive-budget takes BYTES_PER_SECOND,MESSAGES_PER_SECOND (positive whole numbers) or 'off', got '${value}'`);
  return { bytesPerSecond, messagesPerSecond };
}

/** `{ receiveBudget }` from --receive-budget (checked before), or nothing: the library's default budget. */
export function receiveBudgetOption(value: string | undefined): { receiveBudget?: ReturnType<typeof parseReceiveBudget> } {
  const receiveBudget = parseReceiveBudget(value);
  return receiveBudget === undefined ? {} : { receiveBudget };
}
