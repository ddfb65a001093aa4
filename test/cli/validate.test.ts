import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import type { ValidateRecord } from '../../src/cli/validate.js';
import { FIXTURE_DIR } from '../support/fixtures.js';

const FIXTURES = fileURLToPath(FIXTURE_DIR);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  records: ValidateRecord[];
}

/** Runs `s2 validate …` in-process with in-memory streams. */
async function validate(args: string[], stdinText = ''): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  stdin.end(stdinText);
  const code = await runCli(['validate', ...args], { stdout, stderr, stdin });
  const records = out
    .split('\n')
    .filter((l) => l.startsWith('{')) // verdict lines; --help prints plain text
    .map((l) => JSON.parse(l) as ValidateRecord);
  return { code, stdout: out, stderr: err, records };
}

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

const powerMeasurement = (id: string, cqs: string[]) =>
  JSON.stringify({
    message_type: 'PowerMeasurement',
    message_id: id,
    measurement_timestamp: '2025-01-01T12:00:00Z',
    values: cqs.map((commodity_quantity, i) => ({ commodity_quantity, value: 1000 + i })),
  });

const instruction = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({
    message_type: 'FRBC.Instruction',
    message_id: uuid(10),
    id: uuid(11),
    actuator_id: uuid(12),
    operation_mode: uuid(13),
    operation_mode_factor: 1,
    execution_time: '2019-08-24T14:15:22Z',
    abnormal_condition: false,
    ...fields,
  });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's2-validate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('s2 validate — input files', () => {
  it('accepts a pretty-printed fixture document as one message on line 1 (exit 0)', async () => {
    const r = await validate([join(FIXTURES, 'PowerMeasurement.json')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.records).toEqual([{ line: 1, valid: true, status: 'OK', message_type: 'PowerMeasurement', problems: [] }]);
  });

  it('accepts every fixture', async () => {
    const names = (await readdir(FIXTURES)).filter((n) => n.endsWith('.json'));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const r = await validate([join(FIXTURES, name)]);
      expect({ name, code: r.code, problems: r.records[0]?.problems }).toEqual({ name, code: 0, problems: [] });
      expect(r.records).toHaveLength(1);
    }
  });

  it('reports each line of a JSON-lines file with its line number, status and problem paths (exit 1)', async () => {
    const text = [
      powerMeasurement(uuid(1), ['ELECTRIC.POWER.L1']), // 1 valid
      '', // 2 blank: skipped
      'this is not json', // 3 INVALID_DATA
      JSON.stringify({ message_type: 'Handshake', role: 'CEM' }), // 4 no message_id: INVALID_DATA
      JSON.stringify({ message_type: 'NoSuchMessage', message_id: uuid(5) }), // 5 unknown type
      JSON.stringify({ message_type: 'PowerMeasurement', message_id: uuid(6), measurement_timestamp: '2025-01-01T12:00:00Z' }), // 6 schema
      instruction({ operation_mode_factor: 'full' }), // 7 schema: wrong type
      '   ', // 8 whitespace only: skipped
      instruction(), // 9 valid
      '',
    ].join('\n');
    const r = await validate([await file('mix.jsonl', text)]);
    expect(r.code).toBe(1);
    expect(r.records.map((x) => [x.line, x.valid, x.status, x.message_type])).toEqual([
      [1, true, 'OK', 'PowerMeasurement'],
      [3, false, 'INVALID_DATA', null],
      [4, false, 'INVALID_DATA', 'Handshake'],
      [5, false, 'INVALID_MESSAGE', 'NoSuchMessage'],
      [6, false, 'INVALID_MESSAGE', 'PowerMeasurement'],
      [7, false, 'INVALID_MESSAGE', 'FRBC.Instruction'],
      [9, true, 'OK', 'FRBC.Instruction'],
    ]);
    const paths = (line: number) => r.records.find((x) => x.line === line)!.problems.map((p) => p.path);
    expect(paths(3)).toEqual(['$']);
    expect(paths(4)).toEqual(['$.message_id']);
    expect(paths(5)).toEqual(['$.message_type']);
    expect(paths(6)).toEqual(['$.values']);
    expect(paths(7)).toEqual(['$.operation_mode_factor']);
  });

  it('prints value when the problem has one, and no rule key for schema problems', async () => {
    const r = await validate([await file('one.jsonl', instruction({ operation_mode_factor: 'full' }))]);
    expect(r.code).toBe(1);
    const [p] = r.records[0]!.problems;
    expect(p).toMatchObject({ path: '$.operation_mode_factor', value: '"full"' });
    expect(p).not.toHaveProperty('rule');
    expect(r.records[0]!.problems.every((q) => typeof q.message === 'string' && q.message.length > 0)).toBe(true);
  });

  it('treats a one-line JSON-lines file as one document, numbered by the line it is on', async () => {
    const r = await validate([await file('lead.jsonl', `\n\n${instruction()}\n`)]);
    expect(r.code).toBe(0);
    expect(r.records).toEqual([{ line: 3, valid: true, status: 'OK', message_type: 'FRBC.Instruction', problems: [] }]);
  });

  it('reports a malformed pretty-printed document once, not line by line', async () => {
    const pretty = JSON.stringify(JSON.parse(instruction()), null, 2).replace(/\n}$/, ',\n}'); // trailing comma
    const r = await validate([await file('broken.json', pretty)]);
    expect(r.code).toBe(1);
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({ line: 1, valid: false, status: 'INVALID_DATA', message_type: null });
    expect(r.records[0]!.problems[0]!.path).toBe('$');
  });

  it('reads a JSON-lines file line by line even when its first line is garbled or truncated', async () => {
    for (const first of ['garbage', '{"message_type":"PowerMeasurement","message_id":"0000']) {
      const r = await validate(['-'], `${first}\n${instruction()}\n`);
      expect(r.code).toBe(1);
      expect(r.records.map((x) => [x.line, x.status])).toEqual([
        [1, 'INVALID_DATA'],
        [2, 'OK'],
      ]);
    }
  });

  it('reports a JSON document that is not an object as INVALID_DATA', async () => {
    const r = await validate([await file('array.json', '[\n  1,\n  2\n]\n')]);
    expect(r.code).toBe(1);
    expect(r.records).toEqual([expect.objectContaining({ line: 1, status: 'INVALID_DATA', message_type: null })]);
  });
});

describe('s2 validate — standard input', () => {
  const twoLines = `${powerMeasurement(uuid(1), ['ELECTRIC.POWER.L1'])}\n${instruction()}\n`;

  it("reads stdin when FILE is '-'", async () => {
    const r = await validate(['-'], twoLines);
    expect(r.code).toBe(0);
    expect(r.records.map((x) => [x.line, x.status, x.message_type])).toEqual([
      [1, 'OK', 'PowerMeasurement'],
      [2, 'OK', 'FRBC.Instruction'],
    ]);
  });

  it('reads stdin when FILE is absent, including a pretty-printed document', async () => {
    const fixture = await readFile(join(FIXTURES, 'FRBC.SystemDescription.json'), 'utf8');
    const r = await validate([], fixture);
    expect(r.code).toBe(0);
    expect(r.records).toEqual([{ line: 1, valid: true, status: 'OK', message_type: 'FRBC.SystemDescription', problems: [] }]);
  });

  it('exits 1 when one stdin line is invalid', async () => {
    const r = await validate(['-'], `${twoLines}{"message_type":"PowerMeasurement"}\n`);
    expect(r.code).toBe(1);
    expect(r.records.map((x) => x.valid)).toEqual([true, true, false]);
  });
});

describe('s2 validate — rules and id mode', () => {
  const duplicateCq = powerMeasurement(uuid(1), ['ELECTRIC.POWER.L1', 'ELECTRIC.POWER.L1']);

  it('[R107] rejects a PowerMeasurement with two values for one commodity_quantity by default', async () => {
    const r = await validate(['-'], duplicateCq);
    expect(r.code).toBe(1);
    expect(r.records).toHaveLength(1);
    const rec = r.records[0]!;
    expect(rec).toMatchObject({ line: 1, valid: false, status: 'INVALID_MESSAGE', message_type: 'PowerMeasurement' });
    expect(rec.problems.some((p) => p.rule === 'R107' && p.path.startsWith('$.values'))).toBe(true);
  });

  it('[R107] --schema-only accepts the same message (semantic rules off)', async () => {
    const r = await validate(['--schema-only', '-'], duplicateCq);
    expect(r.code).toBe(0);
    expect(r.records).toEqual([{ line: 1, valid: true, status: 'OK', message_type: 'PowerMeasurement', problems: [] }]);
  });

  it('[R3] --ids uuid rejects a message_id like "msg-1" that the schema pattern accepts', async () => {
    const msg = powerMeasurement('msg-1', ['ELECTRIC.POWER.L1']);
    const loose = await validate(['-'], msg);
    expect(loose.code).toBe(0);
    const strict = await validate(['--ids', 'uuid', '-'], msg);
    expect(strict.code).toBe(1);
    // No readable message_id to answer ⇒ INVALID_DATA with the nil subject (docs/design.md decision table).
    expect(strict.records[0]).toMatchObject({ line: 1, valid: false, status: 'INVALID_DATA', message_type: 'PowerMeasurement' });
    expect(strict.records[0]!.problems[0]).toMatchObject({ path: '$.message_id', value: '"msg-1"' });
  });

  it('[R3] --ids uuid rejects a non-UUID object id as INVALID_MESSAGE; --ids schema accepts it', async () => {
    const msg = instruction({ id: 'instr-1' });
    expect((await validate(['--ids', 'schema', '-'], msg)).code).toBe(0);
    const strict = await validate(['--ids=uuid', '-'], msg);
    expect(strict.code).toBe(1);
    expect(strict.records[0]).toMatchObject({ status: 'INVALID_MESSAGE', message_type: 'FRBC.Instruction' });
    expect(strict.records[0]!.problems.map((p) => p.path)).toContain('$.id');
  });
});

describe('s2 validate --version', () => {
  const presentDemand = JSON.stringify({
    message_type: 'DDBC.PresentDemandStatus',
    message_id: uuid(20),
    present_demand_rate: { start_of_range: 3000, end_of_range: 3500 },
  });
  const description = (fields: Record<string, unknown>) =>
    JSON.stringify({
      message_type: 'DDBC.SystemDescription',
      message_id: uuid(21),
      valid_from: '2025-01-01T12:00:00Z',
      actuators: [
        {
          id: uuid(22),
          supported_commodites: ['HEAT'],
          operation_modes: [
            {
              Id: uuid(23),
              power_ranges: [{ start_of_range: 0, end_of_range: 2000, commodity_quantity: 'ELECTRIC.POWER.L1' }],
              supply_range: { start_of_range: 0, end_of_range: 6000 },
              abnormal_condition_only: false,
            },
          ],
          transitions: [],
          timers: [],
        },
      ],
      provides_average_demand_rate_forecast: false,
      ...fields,
    });
  const v0Description = description({ present_demand_rate: { start_of_range: 3000, end_of_range: 3500 } });
  const v1Description = description({});
  const input = `${presentDemand}\n${v0Description}\n${v1Description}\n${instruction()}\n`;

  it('[R1] 1.0.0-beta: DDBC.PresentDemandStatus and the description without present_demand_rate are valid; a 0.0.2-beta description is not (exit 1)', async () => {
    const r = await validate(['--version', '1.0.0-beta', '-'], input);
    expect(r.code).toBe(1);
    expect(r.records.map((x) => [x.line, x.status])).toEqual([
      [1, 'OK'],
      [2, 'INVALID_MESSAGE'],
      [3, 'OK'],
      [4, 'OK'],
    ]);
    expect(r.records[1]!.problems[0]!.path).toBe('$.present_demand_rate');
    expect(r.records[1]!.problems[0]!.message).toMatch(/unknown field 'present_demand_rate'/);
  });

  it('[R1] 0.0.2-beta (the default, and named): DDBC.PresentDemandStatus is an unknown message_type there, and the description needs present_demand_rate', async () => {
    for (const args of [['-'], ['--version', '0.0.2-beta', '-']]) {
      const r = await validate(args, input);
      expect(r.code).toBe(1);
      expect(r.records.map((x) => [x.line, x.status])).toEqual([
        [1, 'INVALID_MESSAGE'],
        [2, 'OK'],
        [3, 'INVALID_MESSAGE'],
        [4, 'OK'],
      ]);
      expect(r.records[0]!.problems[0]!.message).toBe('unknown message_type in S2 JSON 0.0.2-beta (a message of 1.0.0-beta)');
      expect(r.records[2]!.problems).toEqual([{ path: '$.present_demand_rate', message: 'required field is missing' }]);
    }
  });

  it('--version combines with --schema-only and --ids', async () => {
    const r = await validate(['--version', '1.0.0-beta', '--schema-only', '--ids', 'uuid', '-'], `${presentDemand}\n`);
    expect(r.code).toBe(0);
    expect(r.records).toEqual([{ line: 1, valid: true, status: 'OK', message_type: 'DDBC.PresentDemandStatus', problems: [] }]);
  });
});

describe('s2 validate — usage errors (exit 2)', () => {
  it.each([
    [['--nope'], /--nope/],
    [['--ids', 'guid', '-'], /--ids must be 'schema' or 'uuid'/],
    [['--ids'], /--ids/],
    [['a.json', 'b.json'], /at most one FILE/],
    // Version strings are compared exactly (docs: S2 Connect digest §6): near misses are refused, listing the known ones.
    [['--version', '0.0.2', '-'], /--version must be one of '1\.0\.0-beta', '0\.0\.2-beta', got '0\.0\.2'/],
    [['--version', 'v1', '-'], /--version must be one of .*got 'v1'/],
    [['--version', '>=0.0.2-beta', '-'], /--version must be one of .*got '>=0\.0\.2-beta'/],
    [['--version'], /--version/],
  ])('%j', async (args, stderr) => {
    const r = await validate(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(stderr);
  });

  it('a missing file is a usage error', async () => {
    const r = await validate([join(dir, 'does-not-exist.json')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/cannot read .*does-not-exist\.json.*no such file/);
  });

  it.each([[''], ['\n\n  \n']])('an input without messages (%j) exits 2 with "no messages in input"', async (text) => {
    const r = await validate(['-'], text);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/no messages in input/);
  });

  it('--help prints the usage with every flag and its default, exit 0', async () => {
    const r = await validate(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--schema-only', '--ids', '--version', '--help']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toMatch(/default: schema/);
    expect(r.stdout).toMatch(/default: off/);
    expect(r.stdout).toMatch(/no messages/);
  });
});
