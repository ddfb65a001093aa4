import { writeFileSync } from 'node:fs';
import { CONTROL_TYPE_SHORT, type ControlTypeShort } from '../typebox/message-spec.js';
import { S2_VERSION } from '../machines/session-setup.js';
import { S2_VERSIONS, isS2Version } from '../typebox/versions.js';
import {
  formatFailures,
  formatRow,
  formatSummary,
  passed,
  runConformance,
  TABLE_HEADER,
  toJUnitXml,
  type ConformanceReport,
  type ScenarioResult,
} from '../testing/index.js';
import { badOption, defineCommand, failed, noPositionals, readFlagFile } from './common.js';

const TYPES = [...CONTROL_TYPE_SHORT, 'NOT_CONTROLABLE'] as const;

const USAGE = `Usage: s2 conformance --role cem|rm (--url URL | --listen PORT) [--control-type T] [--junit FILE]
                      [--version V] [--ids schema|strict|uuid] [--timeout MS] [--host H] [--token T] [--ca F]

Tests ANOTHER S2 implementation over WebSocket with scenarios generated from s2-engine's
statecharts (session, control type, instruction). --role is the role of the implementation
UNDER TEST; the kit plays the other one:
  --role rm   the kit is a CEM. With --listen PORT it waits for the RM to connect (and to
              reconnect after every scenario: each scenario is one session, ended with
              SessionRequest RECONNECT); with --url it dials an RM that listens.
  --role cem  the kit is an RM and dials the CEM at --url for every scenario.
Every reply is checked: the ReceptionStatus of every message (OK, INVALID_DATA with the nil
UUID, INVALID_MESSAGE, INVALID_CONTENT), the order of messages (Handshake first,
HandshakeResponse, ResourceManagerDetails, description after activation), instruction statuses
(R46) and how sessions end (SessionRequest, PERMANENT_ERROR). Rule ids are listed with their
meaning in docs/rules.md of the s2-engine repository.

One run speaks one S2 JSON version (--version): the kit as an RM offers only it, the kit as a CEM
selects it (an RM that does not offer it ends the run after the discovery), and every frame is
checked against that version's messages. Test an implementation of both versions with two runs.

Output: one table row per scenario as it completes (pass, FAIL, n/a, ERROR), then every failure
with its rule ids, what was expected and the frames observed (← from the peer, → from the kit).

Options:
  --role cem|rm        role of the implementation under test (required)
  --url URL            ws:// or wss:// URL to dial (a CEM, or an RM that listens)
  --listen PORT        listen for the RM under test on this port (0: a free port, printed)
  --host H             interface to listen on (default 127.0.0.1)
  --control-type T     test only this control type: ${TYPES.join('|')}
                       (default: every type the RM offers; for a CEM all five)
  --junit FILE         also write the results as JUnit XML
  --version V          the S2 JSON version to test: ${S2_VERSIONS.join(' or ')} (default ${S2_VERSION})
  --ids schema|strict|uuid  check the peer's ID fields: the schema pattern, anchored 2–64 characters, or UUIDs (R3)
  --timeout MS         how long to wait for each answer, message or close (default 5000)
  --token T            bearer token: sent when dialling, required from the RM when listening
  --ca F               PEM CA certificate to trust for wss://
  -h, --help           print this help

Exit status: 0 every scenario passed (n/a ones are not failures), 1 a scenario failed or could
not run, 2 usage error.`;

const FLAGS = {
  role: { type: 'string' },
  url: { type: 'string' },
  listen: { type: 'string' },
  host: { type: 'string' },
  'control-type': { type: 'string' },
  junit: { type: 'string' },
  ids: { type: 'string' },
  timeout: { type: 'string' },
  token: { type: 'string' },
  ca: { type: 'string' },
  version: { type: 'string' },
} as const;

export const conformanceCommand = defineCommand({
  name: 'conformance',
  summary: 'test another CEM or RM with scenarios generated from the statecharts',
  usage: USAGE,
  options: FLAGS,
  async run({ values: f, positionals }, io) {
    let options: Parameters<typeof runConformance>[0];
    try {
      noPositionals(positionals);
      const role = f.role?.toUpperCase();
      if (role !== 'CEM' && role !== 'RM') throw badOption('--role must be cem or rm (the role of the implementation under test)');
      if (Boolean(f.url) === Boolean(f.listen)) throw badOption('give exactly one of --url and --listen');
      if (role === 'CEM' && f.listen) throw badOption('a CEM is tested with --url: the kit plays an RM, which dials the CEM');
      if (f.url && !/^wss?:\/\//.test(f.url)) throw badOption(`--url must be a ws:// or wss:// URL, got '${f.url}'`);
      const port = f.listen === undefined ? undefined : Number(f.listen);
      if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
        throw badOption(`--listen must be a port number 0–65535, got '${f.listen}'`);
      const ct = f['control-type'];
      if (ct !== undefined && !(TYPES as readonly string[]).includes(ct))
        throw badOption(`--control-type must be one of ${TYPES.join(', ')}`);
      if (ct === 'NOT_CONTROLABLE' && role === 'CEM') throw badOption('--control-type NOT_CONTROLABLE applies to --role rm only');
      if (f.ids !== undefined && f.ids !== 'uuid' && f.ids !== 'schema' && f.ids !== 'strict')
        throw badOption(`--ids must be 'schema', 'strict' or 'uuid'`);
      if (f.version !== undefined && !isS2Version(f.version))
        throw badOption(`--version: unknown S2 version '${f.version}' (known: ${S2_VERSIONS.join(', ')})`);
      const version = f.version;
      const timeoutMs = f.timeout === undefined ? undefined : Number(f.timeout);
      if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0))
        throw badOption(`--timeout must be a number of milliseconds > 0, got '${f.timeout}'`);
      const ca = f.ca ? readFlagFile('--ca', f.ca) : undefined;
      let row = 0;
      options = {
        role,
        ...(f.url ? { url: f.url } : {}),
        ...(port !== undefined ? { listen: { port, ...(f.host ? { host: f.host } : {}) } } : {}),
        ...(ct ? { controlType: ct as ControlTypeShort | 'NOT_CONTROLABLE' } : {}),
        ...(f.ids ? { ids: f.ids } : {}),
        ...(version !== undefined ? { version } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(f.token ? { token: f.token } : {}),
        ...(ca ? { ca } : {}),
        onListening: (url) => io.stdout.write(`s2 conformance: listening on ${url}, waiting for the RM under test to connect\n`),
        onResult: (r: ScenarioResult) => {
          if (row === 0) io.stdout.write(`${TABLE_HEADER}\n`);
          io.stdout.write(`${formatRow(r, row++)}\n`);
        },
      };
      if (f.url)
        io.stdout.write(
          `s2 conformance: testing the ${role} at ${f.url} in S2 ${version ?? S2_VERSION} (the kit plays the ${role === 'CEM' ? 'RM' : 'CEM'})\n`,
        );
    } catch (err) {
      return failed(io, 'conformance', err);
    }
    let report: ConformanceReport;
    try {
      report = await runConformance(options);
    } catch (err) {
      io.stderr.write(`s2 conformance: ${(err as Error).message}\n`);
      return 1;
    }
    const failures = formatFailures(report.results);
    if (failures) io.stdout.write(`\nFailures:\n\n${failures}`);
    const skipped = report.results.filter((r) => r.outcome === 'skip');
    if (skipped.length) {
      io.stdout.write('\nNot applicable:\n');
      for (const note of new Set(skipped.map((r) => r.note ?? '')))
        io.stdout.write(`  ${skipped.filter((r) => (r.note ?? '') === note).length} × ${note}\n`);
    }
    io.stdout.write(`\n${formatSummary(report)}\n`);
    if (f.junit) {
      try {
        writeFileSync(f.junit, toJUnitXml(report));
      } catch (err) {
        io.stderr.write(`s2 conformance: --junit ${f.junit}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
        return 1;
      }
    }
    return passed(report) ? 0 : 1;
  },
});
