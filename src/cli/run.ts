import type { Readable, Writable } from 'node:stream';
import { COMMANDS } from './commands.js';

/** Where a command reads and writes; injectable so tests run commands in-process. */
export interface CliIO {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
}

/** A subcommand of `s2`: its one-line summary, its usage text, and what it does (returns the exit code). */
export interface Command {
  readonly summary: string;
  readonly usage: string;
  run(args: string[], io: CliIO): Promise<number>;
}

/** Exit code for a usage error (unknown command or flag, missing argument). */
export const EXIT_USAGE = 2;

function help(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  return [
    's2 — the s2-engine command line (S2 / EN 50491-12-2 over JSON + WebSocket)',
    '',
    'Usage: s2 <command> [options]',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`),
    '',
    'Run `s2 <command> --help` for the options of one command.',
    '',
  ].join('\n');
}

/** Runs `s2 …` with the given arguments; returns the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(help());
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr.write(`s2: unknown command '${name}'\n\n${help()}`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return command.run(rest, io);
}
