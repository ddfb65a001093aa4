import { describe, expect, it } from 'vitest';
import { printable, summarize } from '../../src/cli/format.js';
import { logSession } from '../../src/cli/session-log.js';
import { describeConnectEvent } from '../../src/cli/connect.js';
import { traceSession } from '../../src/roles/trace.js';
import type { S2Message } from '../../src/typebox/registry.js';
import { handshake, rmDetails, rs } from '../support/e2e-messages.js';
import { memorySession } from '../support/memory-peer.js';

const EVIL_NAME = 'evil\n12:00:00 CEM fake line\x1b[31m';
const EVIL_LABEL = 'ok\r\n12:00:01 CEM forged\x1b]0;title\x07\u2028\u202e';
/** Nothing a terminal or a line reader would act on: C0/C1 controls, DEL, separators, bidi controls. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** A CEM session whose RM peer announces EVIL_NAME and answers the SelectControlType with EVIL_LABEL. */
async function evilRmSession() {
  const { session, peer } = memorySession({ role: 'CEM' });
  const lines: string[] = [];
  const traces: string[] = [];
  logSession(session, (line) => lines.push(line), { now: () => new Date(Date.UTC(2026, 0, 1, 12)) });
  traceSession(session, (line) => traces.push(line));
  peer.ack(await peer.message('Handshake'));
  peer.send(handshake('RM'));
  peer.ack(await peer.message('HandshakeResponse'));
  const detailsId = peer.send({ ...rmDetails(), name: EVIL_NAME }) as string;
  await peer.statusFor(detailsId);
  const select = await peer.message('SelectControlType');
  peer.send({ ...rs(String(select.message_id)), diagnostic_label: EVIL_LABEL });
  await new Promise((resolve) => setTimeout(resolve, 20));
  await session.close();
  return { lines, traces };
}

describe('log injection: peer text is escaped in the readable log and the trace', () => {
  it('prints a hostile ResourceManagerDetails.name as visible escapes on one line', async () => {
    const { lines } = await evilRmSession();
    const text = lines.join('');
    expect(text.split('\n').filter(Boolean)).toHaveLength(lines.length); // one event, one line
    for (const line of lines) expect(line.slice(0, -1)).not.toMatch(RAW_CONTROL);
    const details = lines.find((l) => l.includes('← ResourceManagerDetails'));
    expect(details).toContain('ResourceManagerDetails evil\\n12:00:00 CEM fake line\\x1b[31m offers');
    expect(lines.some((l) => l.startsWith('12:00:00 CEM fake line'))).toBe(false);
  });

  it('prints a hostile diagnostic_label of a ReceptionStatus as visible escapes', async () => {
    const { lines } = await evilRmSession();
    const status = lines.find((l) => l.includes('← ReceptionStatus OK') && l.includes('forged'));
    expect(status).toContain('(ok\\r\\n12:00:01 CEM forged\\x1b]0;title\\x07\\u2028\\u202e)');
    expect(status?.slice(0, -1)).not.toMatch(RAW_CONTROL);
  });

  it('keeps every trace entry on one JSON line, with the hostile strings round-tripping exactly', async () => {
    const { traces } = await evilRmSession();
    for (const line of traces) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toMatch(RAW_CONTROL);
    }
    const entries = traces.map((l) => JSON.parse(l) as { event: string; message?: Record<string, unknown> });
    expect(entries.find((e) => e.message?.message_type === 'ResourceManagerDetails')?.message?.name).toBe(EVIL_NAME);
    expect(entries.find((e) => e.message?.diagnostic_label !== undefined)?.message?.diagnostic_label).toBe(EVIL_LABEL);
  });
});

describe('printable', () => {
  it('escapes C0 and C1 controls, DEL, line separators and bidi controls visibly', () => {
    expect(printable('a\tb\rc\nd\x1b[0m\x00\x7f\x85\u2028\u2029\u202a\u202e\u2066\u2069')).toBe(
      'a\\tb\\rc\\nd\\x1b[0m\\x00\\x7f\\x85\\u2028\\u2029\\u202a\\u202e\\u2066\\u2069',
    );
    expect(printable('Wärmepumpe ☀ 🔋')).toBe('Wärmepumpe ☀ 🔋');
  });

  it('caps a long string at 200 characters ending in …, never cutting an escape in half', () => {
    expect(printable('x'.repeat(1000))).toBe(`${'x'.repeat(199)}…`);
    expect(printable('x'.repeat(150))).toBe('x'.repeat(150));
    const cut = printable(`${'x'.repeat(197)}\x1b\x1b`);
    expect(cut).toBe(`${'x'.repeat(197)}…`);
    expect(printable('ab\ncd', 4)).toBe('ab…');
  });

  it('is idempotent, so escaping a line twice changes nothing', () => {
    const once = printable(EVIL_LABEL, Infinity);
    expect(printable(once, Infinity)).toBe(once);
  });

  it('is used by summarize for names, labels and versions', () => {
    const m = { message_type: 'SessionRequest', message_id: 'x', request: 'TERMINATE', diagnostic_label: 'bye\nforged' } as S2Message;
    expect(summarize(m)).toBe('SessionRequest TERMINATE (bye\\nforged)');
  });
});

describe('S2 Connect events', () => {
  it('escapes what a peer sent in a refused request and in node ids', () => {
    const refused = describeConnectEvent({
      type: 'refused',
      path: '/pair\r\nX: forged\x1b[2J',
      remoteAddress: '10.0.0.9',
      status: 400,
      errorMessage: 'Other\u202e',
    });
    expect(refused).toBe('refused /pair\\r\\nX: forged\\x1b[2J from 10.0.0.9: 400 Other\\u202e');
    const unpaired = describeConnectEvent({ type: 'unpaired', remoteNodeId: 'n\u2029\x9b31m', by: 'peer' } as Parameters<
      typeof describeConnectEvent
    >[0]);
    expect(unpaired).toBe('unpaired n\\u2029\\x9b31m (by the other node)');
  });
});
