import type { JudgeSummary, Violation } from '../proxy/judge.js';
import { createProxy, type Proxy } from '../proxy/relay.js';
import { createReportWriter, writeJunit, type ProxyRecord, type ReportWriter } from '../proxy/report.js';
import { badOption, defineCommand, failed, noPositionals, numberFlag, readFlagFile, untilStopped } from './common.js';
import { clockTime, printable, shortId } from './format.js';
import { INSPECT_FLAGS, INSPECT_HELP, startInspection, type Inspection } from './inspect.js';

const USAGE = `Usage: s2 proxy --upstream URL [--listen P] [--host H] [--tls-cert F --tls-key F] [--upstream-ca F]
                [--report FILE] [--junit FILE] [--strict] [--seconds N] [--quiet]
                [--inspect [--inspect-port P] | --inspect-to URL]

A checking relay between RMs and a CEM: RMs connect to the proxy, and for each of them the proxy
opens its own connection to the CEM at --upstream. Every frame is relayed unchanged (the same
bytes), in order, both ways; the upgrade's Authorization, Sec-WebSocket-Protocol and X-* headers
go upstream; a refused upgrade is answered to the RM with the CEM's HTTP status (502 when the CEM
cannot be reached); close codes and reasons are mirrored.

Each session is judged live by two shadow sessions of the engine, one per side, that know what a
correct CEM and a correct RM would do now. Every violation is printed as one line naming the side
at fault and the rule ids (docs/rules.md), e.g.
  ✗ 3f2a1c0d RM R39: RM sent FRBC.ActuatorStatus before FRBC.SystemDescription (R39)
Stops on SIGINT/SIGTERM or after --seconds: closes the sessions with 1001, writes the summaries
and the JUnit file. Exit status: 0 no violation, 1 at least one violation (or a failure), 2 usage error.

Options:
  --upstream URL      the CEM's ws:// or wss:// URL (required)
  --listen P          port the RMs connect to (default 0: a free port, printed at start)
  --host H            interface to listen on (default 127.0.0.1)
  --tls-cert F        PEM certificate: serve wss:// to the RMs (needs --tls-key)
  --tls-key F         PEM private key
  --upstream-ca F     extra trusted CA (PEM) for a wss:// upstream with a private CA
  --report FILE       JSON lines: one per frame with its verdict, one per violation, one summary per session
  --junit FILE        JUnit XML: one test suite per session, one test case per rule observed
  --strict            do not forward a violating frame: answer it as a correct peer would (its
                      ReceptionStatus). For debugging only: it changes the conversation being judged
  --seconds N         stop after N seconds (default: run until a signal)
  --quiet             print only violations, the listening line and the final result
${INSPECT_HELP}
  -h, --help          print this help`;

export const proxyCommand = defineCommand({
  name: 'proxy',
  summary: 'relay between RMs and a CEM, judging both sides against the statecharts',
  usage: USAGE,
  options: {
    upstream: { type: 'string' },
    listen: { type: 'string' },
    host: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'upstream-ca': { type: 'string' },
    report: { type: 'string' },
    junit: { type: 'string' },
    strict: { type: 'boolean' },
    seconds: { type: 'string' },
    quiet: { type: 'boolean' },
    ...INSPECT_FLAGS,
  },
  async run({ values: f, positionals }, io) {
    let port: number;
    let report: ReportWriter | undefined;
    let seconds: number | undefined;
    let tls: { cert: string; key: string } | undefined;
    let upstreamCa: string | undefined;
    try {
      noPositionals(positionals);
      if (!f.upstream) throw badOption('--upstream is required (the CEM’s ws:// or wss:// URL)');
      if (!/^wss?:\/\//.test(f.upstream)) throw badOption(`--upstream must be a ws:// or wss:// URL, got '${f.upstream}'`);
      port = numberFlag('--listen', f.listen, 0);
      if (!Number.isInteger(port) || port > 65535) throw badOption(`--listen must be a port number 0–65535, got '${f.listen}'`);
      seconds = f.seconds === undefined ? undefined : numberFlag('--seconds', f.seconds, 0);
      if (Boolean(f['tls-cert']) !== Boolean(f['tls-key'])) throw badOption('--tls-cert and --tls-key go together');
      if (f['tls-cert'] && f['tls-key'])
        tls = { cert: readFlagFile('--tls-cert', f['tls-cert']), key: readFlagFile('--tls-key', f['tls-key']) };
      if (f['upstream-ca'] !== undefined) upstreamCa = readFlagFile('--upstream-ca', f['upstream-ca']);
      // Opened now: a report that cannot be written is a usage error before any session, not a loss at the end.
      if (f.report !== undefined) {
        try {
          report = createReportWriter(f.report);
        } catch (err) {
          throw badOption(`--report ${f.report}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
    } catch (err) {
      return failed(io, 'proxy', err);
    }
    const quiet = f.quiet === true;
    let inspection: Inspection | undefined;
    let proxy: Proxy | undefined;
    const violations: Violation[] = [];
    const summaries: JudgeSummary[] = [];
    const line = (text: string): void => void io.stdout.write(`${clockTime(new Date())} ${printable(text, Infinity)}\n`);
    try {
      inspection = await startInspection(f);
      if (inspection) io.stdout.write(`s2 proxy: inspector on ${inspection.url}\n`);
      const onRecord = (r: ProxyRecord): void => {
        report?.write(r);
        if (r.kind === 'violation') {
          violations.push(r);
          line(
            `✗ ${shortId(r.session)} ${r.side} ${r.rules.join(',')}: ${printable(r.text, 500)} — expected: ${printable(r.expected, 300)}`,
          );
        } else if (r.kind === 'summary') {
          summaries.push(r);
          if (!quiet) line(`${shortId(r.session)} ended: ${summaryText(r)}`);
        }
      };
      proxy = await createProxy({
        upstream: f.upstream,
        port,
        host: f.host ?? '127.0.0.1',
        ...(tls ? { tls } : {}),
        ...(upstreamCa === undefined ? {} : { upstreamCa }),
        strict: f.strict === true,
        // Both shadows of every session are shown (with their refusals in red); see docs/proxy.md.
        ...(inspection
          ? {
              inspector: {
                url: inspection.url,
                inspect: inspection.options.inspect,
                attach: (session) => inspection!.attach(session),
                close: () => inspection!.close(),
              },
            }
          : {}),
        onRecord,
        onSession: (s) => {
          if (!quiet) line(`${shortId(s.id)} RM ${s.peer} ⇄ ${f.upstream}`);
        },
        onError: (err) => io.stderr.write(`s2 proxy: ${printable(err.message, 1000)}\n`),
      });
      io.stdout.write(`s2 proxy listening on ${proxy.url} → ${f.upstream}${f.strict ? ' (strict)' : ''}\n`);
      await untilStopped(seconds);
      if (!quiet) io.stdout.write('s2 proxy: stopping, closing every session with 1001\n');
      await proxy.close();
      await inspection?.close();
      await report?.close();
      if (f.junit !== undefined) writeJunit(f.junit, summaries, violations);
      io.stdout.write(
        `s2 proxy: ${summaries.length} session(s), ${violations.length} violation(s)${violations.length ? ` (${ruleCounts(violations)})` : ''}\n`,
      );
      return violations.length ? 1 : 0;
    } catch (err) {
      io.stderr.write(`s2 proxy: ${(err as Error).message}\n`);
      await proxy?.close();
      await inspection?.close();
      await report?.close().catch(() => undefined);
      return 1;
    }
  },
});

/** `frames CEM 12 / RM 9, 0 violations, S2 1.0.0-beta, closed by RM 1000` */
function summaryText(s: JudgeSummary): string {
  const close = s.close ? `, closed by ${s.close.by} ${s.close.code}${s.close.reason ? ` ${s.close.reason}` : ''}` : '';
  return `frames CEM ${s.frames.CEM} / RM ${s.frames.RM}, ${s.violations} violation(s)${s.version ? `, S2 ${s.version}` : ''}, states CEM ${s.states.CEM} / RM ${s.states.RM}${close}`;
}

/** `R39 ×2, R12 ×1` */
function ruleCounts(violations: readonly Violation[]): string {
  const counts = new Map<string, number>();
  for (const v of violations) for (const r of v.rules) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${r} ×${n}`).join(', ');
}
