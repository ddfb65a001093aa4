import { COMMANDS } from './commands.js';
import { EXIT_USAGE, packageInfo, type CliIO } from './common.js';

export { EXIT_USAGE, type CliIO, type Command } from './common.js';

function help(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  return [
    's2 — the s2-engine command line (S2 / EN 50491-12-2 over JSON + WebSocket)',
    '',
    'Usage: s2 <command> [options]',
    '       s2 --help [<command>]    (also -h, or s2 help [<command>])',
    '       s2 --version             (also -v)',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`),
    '',
    'Run `s2 <command> --help` for the options of one command. Exit status 2 means a usage error.',
    '',
  ].join('\n');
}

const commandList = () => Object.keys(COMMANDS).join(', ');

/**
 * Runs `s2 …` with the given arguments; returns the exit code. Bare `s2` is a usage error: the
 * usage goes to stderr with exit 2, so a script that forgot its command fails loudly, while
 * `s2 --help` asks for it and gets it on stdout with exit 0.
 */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(help());
    return EXIT_USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const [topic, ...extra] = rest;
    if (topic === undefined) {
      io.stdout.write(help());
      return 0;
    }
    const command = Object.prototype.hasOwnProperty.call(COMMANDS, topic) ? COMMANDS[topic] : undefined;
    if (!command) return topLevelError(io, `no help for '${topic}': the commands are ${commandList()}`);
    if (extra.length) return topLevelError(io, `unexpected argument '${extra[0]}' after ${name} ${topic}`);
    io.stdout.write(`${command.usage}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    if (rest.length) return topLevelError(io, `${name} takes no arguments, got '${rest[0]}'`);
    let info;
    try {
      info = packageInfo();
    } catch (err) {
      io.stderr.write(`s2: cannot read the package version: ${(err as Error).message}\n`);
      return 1;
    }
    io.stdout.write(`${info.name} ${info.version}\n`);
    return 0;
  }
  if (name.startsWith('-')) return topLevelError(io, `unknown option ${name}`);
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) return topLevelError(io, `unknown command '${name}': the commands are ${commandList()}`);
  return command.run(rest, io);
}

function topLevelError(io: CliIO, message: string): number {
  io.stderr.write(`s2: ${message}; see s2 --help\n`);
  return EXIT_USAGE;
}
