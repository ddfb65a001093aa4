import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { codecFor, type DecodeResult } from '../codec/index.js';
import type { IdMode } from '../typebox/validators.js';
import { isS2Version, S2_VERSIONS } from '../typebox/versions.js';
import { defineCommand, usageError as commandUsageError, type CliIO, type ParsedArgs } from './common.js';

const USAGE = `Usage: s2 validate [--version 0.0.2-beta|1.0.0-beta] [--schema-only] [--ids strict|schema|uuid] [FILE|-]

Checks S2 messages of one S2 JSON version: JSON Schema first, then the rules a single message
must follow beyond the schema, exactly as a received frame of a session of that version is checked. Rule ids (R…) are listed
with their meaning in docs/rules.md of the s2-engine repository.

Input: FILE, or standard input when FILE is '-' or absent. Either ONE JSON document (it may be
pretty-printed over many lines) or JSON lines (one message per line; blank lines are skipped).
The input is one document when it parses as a whole, or when it does not parse but its first
non-blank line opens an object or array that continues on the next line (a malformed
pretty-printed document is reported once, not line by line); otherwise it is JSON lines.

Options:
  --version 0.0.2-beta|1.0.0-beta
                       the S2 JSON message set to check against: 0.0.2-beta (35 messages) or
                       1.0.0-beta (36: adds DDBC.PresentDemandStatus, drops present_demand_rate
                       from DDBC.SystemDescription)  (default: 0.0.2-beta)
  --schema-only        check the JSON Schemas only, not the semantic rules  (default: off, rules on)
  --ids strict|schema|uuid
                       how ID fields are checked (R3): 'schema' = the official pattern as
                       published (unanchored: any string holding two of [A-Za-z0-9-_:]),
                       'strict' = that pattern anchored (2–64 of [A-Za-z0-9-_:], nothing else),
                       'uuid' = canonical UUIDs as the spec means them  (default: schema)
  -h, --help           print this help and exit

Output: one JSON line per message on stdout, in input order:
  {"line":N,"valid":true|false,"status":"OK"|"INVALID_DATA"|"INVALID_MESSAGE",
   "message_type":"…"|null,"problems":[{"path":"$…","message":"…","value":"…","rule":"R…"}]}
  line: the input line the message starts on. message_type: the frame's own message_type
  string, null when it has none. value and rule appear only when known.

Exit status: 0 every message valid; 1 at least one invalid; 2 usage error (unknown flag, bad
--ids or --version, more than one FILE, unreadable FILE) or an input with no messages (empty or blank).`;

/** One line of `s2 validate` output. */
export interface ValidateRecord {
  readonly line: number;
  readonly valid: boolean;
  readonly status: 'OK' | 'INVALID_DATA' | 'INVALID_MESSAGE';
  readonly message_type: string | null;
  readonly problems: readonly { path: string; message: string; value?: string; rule?: string }[];
}

/** A message found in the input: the line it starts on and its text or already parsed value. */
type Item = { readonly line: number } & ({ readonly text: string } | { readonly value: unknown });

/**
 * Splits the input into messages (see USAGE for the rule). Returns an empty list for an input
 * with nothing but whitespace.
 */
export function splitInput(input: string): Item[] {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input; // tolerate a UTF-8 BOM
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const firstIndex = lines.findIndex((l) => l.trim() !== '');
  if (firstIndex < 0) return [];
  const firstLine = firstIndex + 1;
  try {
    return [{ line: firstLine, value: JSON.parse(text) as unknown }];
  } catch {
    // not one document: JSON lines, or one malformed document
  }
  const nonBlank = lines.filter((l) => l.trim() !== '').length;
  if (nonBlank === 1 || opensMultiLineValue(lines[firstIndex]!)) {
    // One document that does not parse: the codec reports it as INVALID_DATA (not JSON).
    return [{ line: firstLine, text }];
  }
  const items: Item[] = [];
  lines.forEach((l, i) => {
    if (l.trim() !== '') items.push({ line: i + 1, text: l });
  });
  return items;
}

/**
 * True when `line` leaves an object or array open outside a string, i.e. it is the start of a
 * pretty-printed document rather than a complete (or garbled) JSON line. A string cannot span
 * lines in JSON, so a line ending inside a string is a truncated JSON line, not an opening.
 */
function opensMultiLineValue(line: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (--depth < 0) return false;
    }
  }
  return depth > 0 && !inString;
}

function record(line: number, r: DecodeResult): ValidateRecord {
  if (r.ok) return { line, valid: true, status: 'OK', message_type: r.message.message_type, problems: [] };
  const { error } = r;
  return {
    line,
    valid: false,
    status: error.status,
    message_type: error.messageType ?? null,
    problems: error.problems.map((p) => ({
      path: p.path,
      message: p.message,
      ...(p.value !== undefined ? { value: p.value } : {}),
      ...(p.rule !== undefined ? { rule: p.rule } : {}),
    })),
  };
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const usageError = (io: CliIO, message: string): number => commandUsageError(io, 'validate', message);

const OPTIONS = {
  'schema-only': { type: 'boolean' },
  ids: { type: 'string' },
  version: { type: 'string' },
} as const;

async function run({ values, positionals }: ParsedArgs<typeof OPTIONS>, io: CliIO): Promise<number> {
  const ids = values.ids ?? 'schema';
  if (ids !== 'schema' && ids !== 'uuid' && ids !== 'strict')
    return usageError(io, `--ids must be 'schema' or 'uuid' or 'strict', got '${ids}'`);
  const version = values.version ?? '0.0.2-beta';
  if (!isS2Version(version))
    return usageError(io, `--version must be one of ${S2_VERSIONS.map((v) => `'${v}'`).join(', ')}, got '${version}'`);
  if (positionals.length > 1) return usageError(io, `expected at most one FILE, got ${positionals.length}: ${positionals.join(' ')}`);
  const file = positionals[0] ?? '-';

  let input: string;
  if (file === '-') {
    if ((io.stdin as { isTTY?: boolean }).isTTY) io.stderr.write('s2 validate: reading messages from standard input (end with Ctrl-D)\n');
    input = await readAll(io.stdin);
  } else {
    try {
      input = await readFile(file, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
      return usageError(io, `cannot read '${file}': ${why}`);
    }
  }

  const items = splitInput(input);
  if (items.length === 0)
    return usageError(io, `no messages in input (${file === '-' ? 'standard input' : `'${file}'`} is empty or blank)`);

  const codec = codecFor({ ids: ids satisfies IdMode, rules: !values['schema-only'], version });
  let allValid = true;
  const out: string[] = [];
  for (const item of items) {
    const r = 'value' in item ? codec.decodeValue(item.value) : codec.decode(item.text);
    if (!r.ok) allValid = false;
    out.push(JSON.stringify(record(item.line, r)));
  }
  io.stdout.write(`${out.join('\n')}\n`);
  return allValid ? 0 : 1;
}

/** `s2 validate`: checks S2 messages from a file or stdin and prints one JSON verdict per message. */
export const validateCommand = defineCommand({
  name: 'validate',
  summary: 'check S2 messages (one JSON document or JSON lines) against the schemas and rules',
  usage: USAGE,
  options: OPTIONS,
  run,
});
