import { createWriteStream, openSync, writeFileSync, type WriteStream } from 'node:fs';
import type { JudgeSummary, Side, Violation } from './judge.js';

/** One frame the proxy relayed (or, in strict mode, answered itself), with its verdict. */
export interface FrameRecord {
  readonly kind: 'frame';
  /** The judge's session id. */
  readonly session: string;
  /** 1, 2, … per proxied session, over both directions (binary frames included). */
  readonly seq: number;
  readonly from: Side;
  /** `message_type`, when the frame decoded far enough to have one. */
  readonly type?: string;
  /** `message_id`, when readable. */
  readonly id?: string;
  /** No violation found in this frame. */
  readonly ok: boolean;
  /** Rule ids of the violations this frame revealed (flattened, in order). */
  readonly violations: readonly string[];
  readonly ts: string;
  /** A binary frame (R1: S2 frames are text); relayed as binary all the same. */
  readonly binary?: true;
  /** Strict mode: the frame was not forwarded; the proxy answered the sender with this ReceptionStatus. */
  readonly answered?: string;
  /** The other side had already closed: the frame could not be relayed (and was not judged). */
  readonly dropped?: true;
}

/** One violation, as the judge found it. */
export type ViolationRecord = { readonly kind: 'violation' } & Violation;

/** The end of a proxied session: what the judge saw. */
export type SummaryRecord = { readonly kind: 'summary' } & JudgeSummary;

/** A line of the `--report` file. */
export type ProxyRecord = FrameRecord | ViolationRecord | SummaryRecord;

/** A record as one line of JSON (with its newline). `kind` comes first so that `grep '"kind":"violation"'` works. */
export function formatRecord(record: ProxyRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** Appends records to a JSON-lines file as they come. */
export interface ReportWriter {
  write(record: ProxyRecord): void;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

/**
 * Opens `path` for the JSON-lines report (truncated: one file per run, so that a reader never
 * mixes two runs' sessions). The file is opened at once, so a path that cannot be written throws
 * here, before any session; writes are then buffered by the stream and never block the relay.
 */
export function createReportWriter(path: string): ReportWriter {
  const stream: WriteStream = createWriteStream(path, { fd: openSync(path, 'w') });
  // A write error later (disk full) must not crash the proxy; it is reported once, on close.
  let failure: Error | undefined;
  stream.on('error', (err) => (failure ??= err));
  return {
    write: (record) => {
      if (failure === undefined) stream.write(formatRecord(record));
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (failure !== undefined || stream.destroyed) return failure ? reject(failure) : resolve();
        stream.end(() => (failure ? reject(failure) : resolve()));
      }),
  };
}

/** XML 1.0 text: the five entities, and characters XML cannot hold at all replaced by U+FFFD. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Rule ids in the order of docs/rules.md (R2 before R10), other ids after them by name. */
function byRuleId(a: string, b: string): number {
  const na = /^R(\d+)$/.exec(a)?.[1];
  const nb = /^R(\d+)$/.exec(b)?.[1];
  if (na !== undefined && nb !== undefined) return Number(na) - Number(nb);
  if (na !== undefined) return -1;
  if (nb !== undefined) return 1;
  return a.localeCompare(b);
}

/**
 * JUnit XML for CI: one `<testsuite>` per proxied session (named after its id), one `<testcase>`
 * per rule observed in it (name `R39`), with a `<failure>` holding every violation of that rule
 * when it was broken. A rule that only held is a passing test case; rules never exercised are
 * not listed (the judge cannot say a rule held when the session never came near it).
 */
export function junitXml(summaries: readonly JudgeSummary[], violations: readonly Violation[]): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  let tests = 0;
  let failures = 0;
  const suites: string[] = [];
  for (const s of summaries) {
    const ids = Object.keys(s.rules).sort(byRuleId);
    const own = violations.filter((v) => v.session === s.session);
    let suiteFailures = 0;
    const cases: string[] = [];
    for (const id of ids) {
      const counts = s.rules[id]!;
      const broken = own.filter((v) => v.rules.includes(id));
      const name = `name="${xmlEscape(id)}" classname="s2.proxy.${xmlEscape(s.session)}"`;
      if (counts.failed === 0 && broken.length === 0) {
        cases.push(`    <testcase ${name}/>`);
        continue;
      }
      suiteFailures++;
      const text = broken.map((v) => `[${v.side}] ${v.text}\n  expected: ${v.expected}${v.frame ? `\n  frame: ${v.frame}` : ''}`);
      const message = `${Math.max(counts.failed, broken.length)} violation(s) of ${id}, ${counts.passed} time(s) held`;
      cases.push(
        `    <testcase ${name}>`,
        `      <failure message="${xmlEscape(message)}" type="${xmlEscape(id)}">${xmlEscape(text.join('\n'))}</failure>`,
        '    </testcase>',
      );
    }
    tests += ids.length;
    failures += suiteFailures;
    suites.push(
      `  <testsuite name="s2 proxy session ${xmlEscape(s.session)}" tests="${ids.length}" failures="${suiteFailures}" errors="0">`,
      ...cases,
      '  </testsuite>',
    );
  }
  lines.push(`<testsuites name="s2 proxy" tests="${tests}" failures="${failures}" errors="0">`, ...suites, '</testsuites>', '');
  return lines.join('\n');
}

/** Writes {@link junitXml} to `path` (replacing it). */
export function writeJunit(path: string, summaries: readonly JudgeSummary[], violations: readonly Violation[]): void {
  writeFileSync(path, junitXml(summaries, violations));
}
