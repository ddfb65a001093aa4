/**
 * Every command's help against its option parser: the options a command accepts are read from the
 * very definitions its arguments are parsed with (`Command.options`), so the help text cannot
 * drift from what the command takes, in either direction. Plus the parser's usage errors.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { HELP_OPTION, parseCommandLine, type OptionSpecs } from '../../src/cli/common.js';
import { runCli } from '../../src/cli/run.js';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runCli(args, { stdout, stderr, stdin: new PassThrough() });
  return { code, stdout: out, stderr: err };
}

/** The synopsis: the usage text up to its first blank line. */
const synopsisOf = (usage: string) => usage.slice(0, usage.indexOf('\n\n'));

/** The lines of the `Options:` section, up to the next blank line. */
function optionsSectionOf(usage: string): string[] {
  const start = usage.indexOf('\nOptions:\n');
  if (start < 0) return [];
  const rest = usage.slice(start + '\nOptions:\n'.length);
  const end = rest.indexOf('\n\n');
  return (end < 0 ? rest : rest.slice(0, end)).split('\n');
}

/** An option's own line in the Options section: `  --name VALUE  text` or `  -h, --help  text` (continuations are indented deeper). */
const OPTION_LINE = /^ {2}(?:-(\w), )?--([a-z][\w-]*)( \S+)?/;

const mentions = (text: string, name: string) => new RegExp(`(?<![\\w-])--${name}(?![\\w-])`).test(text);

const commands = Object.entries(COMMANDS);

describe('every command documents exactly the options its parser accepts', () => {
  it('there are commands, each listed under its own name in `s2 --help`', async () => {
    expect(commands.length).toBeGreaterThanOrEqual(7);
    const help = (await cli(['--help'])).stdout;
    for (const [key, command] of commands) {
      expect(command.name).toBe(key);
      expect(help).toMatch(new RegExp(`^ {2}${key}\\s+${command.summary.replace(/[()|.*+?[\]\\]/g, '\\$&')}$`, 'm'));
      expect(command.usage.startsWith(`Usage: s2 ${key}`), key).toBe(true);
    }
  });

  describe.each(commands)('s2 %s', (name, command) => {
    const accepted: OptionSpecs = { ...command.options, ...HELP_OPTION };

    it('the synopsis names every option', () => {
      const synopsis = synopsisOf(command.usage);
      const missing = Object.keys(command.options).filter((o) => !mentions(synopsis, o));
      expect(missing, `missing from the synopsis of s2 ${name}:\n${synopsis}`).toEqual([]);
    });

    it('the Options list has one line per accepted option (with its short form and a value placeholder exactly when it takes a value), and no other', () => {
      const lines = optionsSectionOf(command.usage)
        .map((l) => l.match(OPTION_LINE))
        .filter((m): m is RegExpMatchArray => m !== null);
      const documented = lines.map((m) => m[2]!);
      expect([...documented].sort(), `the Options of s2 ${name}`).toEqual(Object.keys(accepted).sort());
      for (const m of lines) {
        const spec = accepted[m[2]!]!;
        expect(m[1], `short form of --${m[2]}`).toBe(spec.short);
        expect(m[3] !== undefined, `--${m[2]} is a ${spec.type} option: ${m[0]}`).toBe(spec.type === 'string');
      }
    });

    it('every option named in the help is accepted by the parser', () => {
      for (const [option, spec] of Object.entries(command.options)) {
        const args = spec.type === 'string' ? [`--${option}=x`] : [`--${option}`];
        const parsed = parseCommandLine(args, command.options);
        expect(parsed.kind, `s2 ${name} ${args.join(' ')}`).toBe('ok');
      }
    });

    it('an unknown option is one specific line on stderr, exit 2, nothing on stdout', async () => {
      const r = await cli([name, '--foo']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`s2 ${name}: unknown option --foo; see s2 ${name} --help\n`);
      const short = await cli([name, '-x']);
      expect(short.code).toBe(2);
      expect(short.stderr).toBe(`s2 ${name}: unknown option -x; see s2 ${name} --help\n`);
    });

    it('--help, -h and `s2 help` print the usage on stdout, exit 0; help wins over a bad option', async () => {
      for (const args of [
        [name, '--help'],
        [name, '-h'],
        ['help', name],
        ['--help', name],
        [name, '--foo', '--help'],
      ]) {
        const r = await cli(args);
        expect(r.code, args.join(' ')).toBe(0);
        expect(r.stdout, args.join(' ')).toBe(`${command.usage}\n`);
        expect(r.stderr, args.join(' ')).toBe('');
      }
    });
  });
});

describe('usage errors name the mistake (exit 2)', () => {
  const options = { url: { type: 'string' }, port: { type: 'string' }, quiet: { type: 'boolean' } } as const;

  it.each([
    [['--url'], 'option --url needs a value'],
    [['--url='], 'option --url needs a value'],
    [['--url', '--quiet'], "option --url needs a value, got the option '--quiet' (write --url=--quiet if that is the value)"],
    [['--quiet=yes'], "option --quiet takes no value, got 'yes'"],
    [['--port', '1', '--port', '2'], 'option --port given twice'],
    [['--nope'], 'unknown option --nope'],
    [['-q'], 'unknown option -q'],
  ])('%j → %s', (args, message) => {
    expect(parseCommandLine(args, options)).toEqual({ kind: 'error', message });
  });

  it('values that start with a dash but are not options are values; -- ends the options', () => {
    expect(parseCommandLine(['--port', '-1', '--url', '-', '--', '--quiet'], options)).toEqual({
      kind: 'ok',
      values: { port: '-1', url: '-' },
      positionals: ['--quiet'],
    });
    expect(parseCommandLine(['--url=--odd', '--quiet', 'a'], options)).toEqual({
      kind: 'ok',
      values: { url: '--odd', quiet: true },
      positionals: ['a'],
    });
    expect(parseCommandLine(['--url', '--help'], options)).toMatchObject({ kind: 'error' });
    expect(parseCommandLine(['-h'], options)).toEqual({ kind: 'help' });
  });

  it('a bad value found by the command itself is one line naming the option and the help', async () => {
    const r = await cli(['rm', '--url', 'http://127.0.0.1:1', '--control-type', 'FRBC']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("s2 rm: --url must be a ws:// or wss:// URL, got 'http://127.0.0.1:1'; see s2 rm --help\n");
    const retries = await cli(['rm', '--url', 'ws://127.0.0.1:1', '--control-type', 'FRBC', '--retries', '1.5']);
    expect(retries.code).toBe(2);
    expect(retries.stderr).toBe("s2 rm: --retries must be a whole number ≥ 0, got '1.5'; see s2 rm --help\n");
    const extra = await cli(['demo', 'now']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toBe("s2 demo: unexpected argument 'now'; see s2 demo --help\n");
  });
});

describe('s2 itself', () => {
  it('bare `s2` prints the usage to stderr and exits 2; `s2 --help` prints it to stdout and exits 0', async () => {
    const bare = await cli([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toMatch(/^Usage: s2 <command> \[options\]$/m);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stderr).toBe('');
    expect(help.stdout).toBe(bare.stderr);
  });

  it.each([
    [['--foo'], 's2: unknown option --foo; see s2 --help\n'],
    [['nope'], `s2: unknown command 'nope': the commands are ${Object.keys(COMMANDS).join(', ')}; see s2 --help\n`],
    [['help', 'nope'], `s2: no help for 'nope': the commands are ${Object.keys(COMMANDS).join(', ')}; see s2 --help\n`],
    [['--version', 'rm'], "s2: --version takes no arguments, got 'rm'; see s2 --help\n"],
  ])('%j is a usage error', async (args, stderr) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(stderr);
  });
});
