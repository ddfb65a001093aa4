/**
 * The checking proxy end to end (issue 14, Tests), over real WebSockets on 127.0.0.1, with
 * `createProxy` between the two ends:
 *
 * - clean runs: s2-engine's RM (createRmClient + the simulated device) → proxy → s2-engine's CEM
 *   (createCemServer + the simulated CEM policy), all five control types: no violation, every frame
 *   relayed (the summary's counts are what each end sent and received), both shadows active;
 * - the conformance kit's scenarios relayed through the proxy, both roles: the kit still passes
 *   every scenario, the implementation under test has no violation, and the kit's are exactly its
 *   deliberate probes, with the rule ids each one breaks;
 * - broken peers (s2-engine's CEM or RM behind a shim, test/testing/peers.ts) with a clean peer on
 *   the other side: exactly the expected violations (side, rule ids), nothing else.
 *
 * The judge's timers run on an XState SimulatedClock: a missing ReceptionStatus (R21) is produced
 * by advancing it, never by waiting.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createProxy, type Proxy, type ProxyRecord, type ProxySession, type Side, type Violation } from '../../src/proxy/index.js';
import { createCemServer } from '../../src/roles/cem-server.js';
import { createRmClient, type RmClient } from '../../src/roles/rm-client.js';
import type { S2Session } from '../../src/roles/session.js';
import { createCemPolicy, createDevice, type SimulatedDevice } from '../../src/sim/index.js';
import { runConformance, formatReport, type ConformanceReport, type Scenario } from '../../src/testing/index.js';
import { connectWs } from '../../src/transport/ws-client.js';
import type { ControlTypeShort } from '../../src/typebox/message-spec.js';
import { cemServer, peek, ShimTransport, type ShimHooks } from '../testing/peers.js';
import { waitFor } from '../transport/helpers.js';

const TYPES: readonly ControlTypeShort[] = ['FRBC', 'PPBC', 'OMBC', 'PEBC', 'DDBC'];

/** Everything a test opened, closed after it (last opened first). */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Polls `check` (the shared test helper) with this file's patience. */
const until = (check: () => boolean, what: string, ms = 5_000): Promise<void> => waitFor(check, ms, what);

const describeViolations = (vs: readonly Violation[]) => vs.map((v) => `${v.side} ${v.rules.join(',')}: ${v.text}`).join('\n');

/** A proxy whose judges run on a simulated clock, with every record and session kept. */
async function startProxy(upstream: string, receptionTimeoutMs?: number) {
  const clock = new SimulatedClock();
  const records: ProxyRecord[] = [];
  const errors: Error[] = [];
  const sessions: ProxySession[] = [];
  const proxy: Proxy = await createProxy({
    upstream,
    judge: { clock, now: () => Date.now(), ...(receptionTimeoutMs === undefined ? {} : { receptionTimeoutMs }) },
    onRecord: (r) => records.push(r),
    onError: (e) => errors.push(e),
    onSession: (s) => sessions.push(s),
  });
  cleanups.push(() => proxy.close());
  return { proxy, clock, records, errors, sessions };
}

/** Text frames one end's session sent and received (every frame, ReceptionStatuses included). */
interface Tally {
  sent: number;
  received: number;
  session?: S2Session;
}
function tally(session: S2Session, t: Tally): void {
  t.session = session;
  session.on('sent', () => t.sent++);
  session.on('received', () => t.received++);
}

/**
 * Waits until nothing is in flight: both ends and the proxy agree on every frame count, and neither
 * the ends nor the judge's shadows wait for a ReceptionStatus — twice in a row, 30 ms apart.
 */
async function quiet(session: ProxySession, cem: Tally, rm: Tally, owed: { CEM: number; RM: number } = { CEM: 0, RM: 0 }) {
  const settled = () => {
    const { frames } = session.summary();
    return (
      frames.CEM === cem.sent &&
      rm.received === cem.sent &&
      frames.RM === rm.sent &&
      cem.received === rm.sent &&
      session.judge.shadows.CEM.pendingCount === owed.RM &&
      session.judge.shadows.RM.pendingCount === owed.CEM
    );
  };
  for (let stable = 0; stable < 2;) {
    await until(settled, 'a quiet session');
    await new Promise((r) => setTimeout(r, 30));
    stable = settled() ? stable + 1 : 0;
  }
}

/** An s2-engine RM with the simulated device of `type`, dialling `url` once, optionally behind a shim. */
function rmClient(type: ControlTypeShort, url: string, rm: Tally, hooks?: ShimHooks): { client: RmClient; device: SimulatedDevice } {
  const device = createDevice(type, { tickMs: 10, speed: 1000 });
  const client = createRmClient({
    ...(hooks ? { connect: async () => new ShimTransport(await connectWs(url), hooks) } : { url }),
    details: device.details,
    controlTypes: { [type]: device.handler },
    reconnect: false,
    logger: false,
    onSession: (s) => tally(s, rm),
  });
  cleanups.push(() => device.stop());
  cleanups.push(() => client.stop());
  return { client, device };
}

const relayed = (records: readonly ProxyRecord[], from: Side, type: string) =>
  records.some((r) => r.kind === 'frame' && r.from === from && r.type === type);

describe('clean runs: s2 RM → proxy → s2 CEM, all five control types', () => {
  for (const type of TYPES) {
    it(`[R11, R12, R21, R37, R39, R46] ${type}: no violation, every frame relayed, both shadows reach connected.active.${type}`, async () => {
      const cemEnd: Tally = { sent: 0, received: 0 };
      const rmEnd: Tally = { sent: 0, received: 0 };
      const cem = await createCemServer({
        port: 0,
        host: '127.0.0.1',
        logger: false,
        controlTypes: createCemPolicy({ interruptionMs: false }),
        onSession: (s) => tally(s, cemEnd),
      });
      cleanups.push(() => cem.close());
      const { proxy, clock, records, errors, sessions } = await startProxy(cem.url);
      const { client, device } = rmClient(type, proxy.url, rmEnd);

      // An instruction was given and the RM has reported on it.
      await until(() => relayed(records, 'RM', 'InstructionStatusUpdate'), `an InstructionStatusUpdate of the ${type} RM`);
      const [session] = sessions;
      expect(sessions).toHaveLength(1);
      expect(session!.summary().states).toEqual({ CEM: `connected.active.${type}`, RM: `connected.active.${type}` });
      device.stop();
      await quiet(session!, cemEnd, rmEnd);
      // Every message has had its answer: however long the judge now waits, nothing is missing (R21).
      clock.increment(60_000);
      expect(describeViolations(session!.violations())).toBe('');

      await client.stop();
      const summary = await session!.closed;
      expect(describeViolations(session!.violations())).toBe('');
      expect(errors).toEqual([]);
      expect(summary).toMatchObject({
        violations: 0,
        frames: { CEM: cemEnd.sent, RM: rmEnd.sent },
        states: { CEM: 'closed', RM: 'closed' },
        close: { by: 'RM', code: 1000, reason: 'client stopped' },
      });
      // Every frame one end sent is a frame the other end received, and one judged frame record.
      expect(cemEnd.received).toBe(rmEnd.sent);
      expect(rmEnd.received).toBe(cemEnd.sent);
      const frames = records.filter((r) => r.kind === 'frame');
      expect(frames.filter((r) => r.from === 'RM')).toHaveLength(rmEnd.sent);
      expect(frames.filter((r) => r.from === 'CEM')).toHaveLength(cemEnd.sent);
      expect(frames.every((r) => r.kind === 'frame' && r.ok && !r.dropped)).toBe(true);
      expect(relayed(records, 'CEM', `${type}.Instruction`) || relayed(records, 'CEM', `${type}.ScheduleInstruction`)).toBe(true);
      expect(Object.entries(summary.rules).filter(([, t]) => t.failed > 0)).toEqual([]);
      expect(summary.rules.R12?.passed).toBeGreaterThan(5);
      expect(summary.rules.R21?.passed).toBeGreaterThan(5);
      expect(summary.rules.R46?.passed).toBeGreaterThan(0);
      expect(records.filter((r) => r.kind === 'summary')).toEqual([{ kind: 'summary', ...summary }]);
    });
  }
});

/* ------------------------------------------------------------------------------------------------
 * The conformance kit through the proxy. What the judge must report for each of the kit's
 * deliberately broken probes (and nothing for the rest), per model event, in the order sent.
 */

/** R46, written out: the statuses that may follow each one (undefined: none yet). */
const R46_NEXT: Readonly<Record<string, readonly string[]>> = {
  none: ['NEW', 'ACCEPTED', 'STARTED', 'SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED'],
  NEW: ['ACCEPTED', 'STARTED', 'SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED'],
  ACCEPTED: ['STARTED', 'SUCCEEDED', 'ABORTED', 'REVOKED'],
  STARTED: ['SUCCEEDED', 'ABORTED', 'REVOKED'],
};
const FINAL = new Set(['SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED']);

/** The kit's probe after a ReceptionStatus it sent (to prove no answer came): a frame with an unknown message_type. */
const PROBE = ['R1', 'R15'];

/** Probes the kit sends in both roles. */
const FRAME_PROBES: Readonly<Record<string, readonly (readonly string[])[]>> = {
  INVALID_JSON: [['R15', 'R20']],
  NO_MESSAGE_ID: [['R15', 'R20']],
  SCHEMA_VIOLATION: [['R5', 'R15']],
  UNKNOWN_TYPE: [PROBE],
  INVALID_RS: [['R5', 'R15'], PROBE],
  RS_UNKNOWN: [['R12'], PROBE],
  EARLY_MESSAGE: [['R22', 'R28']],
  WRONG_SENDER: [['Q6']],
};

/** The kit plays the RM (CEM under test). */
const RM_KIT_PROBES: Readonly<Record<string, readonly (readonly string[])[]>> = {
  ...FRAME_PROBES,
  // No version in common is a mismatch, not a violation of either side.
  RM_HANDSHAKE_NO_COMMON_VERSION: [],
  RM_HANDSHAKE_WRONG_ROLE: [['R24']],
  RM_HANDSHAKE_AGAIN: [['R30']],
  CT_MESSAGE_INACTIVE: [['R37']],
  CT_MESSAGE_OTHER_TYPE: [['R37']],
  ISU_NO_CONTROL_TYPE: [['R37']],
  RM_INSTRUCTION: [['Q6']],
  // The kit answers a valid selection INVALID_CONTENT on purpose.
  SELECTION_REFUSED: [['R15']],
  REVOKE_UNKNOWN: [['R54', 'R56']],
  ISU_UNKNOWN: [['R45']],
  REVOKE_OTHER_TYPE: [['R57']],
  REVOKE_CEM_INSTRUCTION: [['R55']],
  STATUS_AFTER_FINAL: [['R44', 'R46']],
};
/** A status before the description, and one naming nothing described: each type's own reference rules. */
const STATUS_EARLY: Readonly<Partial<Record<ControlTypeShort, readonly string[]>>> = {
  FRBC: ['R39', 'R62'],
  PPBC: ['R39', 'R99'],
  OMBC: ['R62', 'R83'],
  DDBC: ['R39', 'R62'],
};
const STATUS_UNKNOWN: Readonly<Partial<Record<ControlTypeShort, readonly string[]>>> = {
  FRBC: ['R62'],
  PPBC: ['R105'],
  OMBC: ['R62'],
  DDBC: ['R62', 'R88'],
};

/** The kit plays the CEM (RM under test). */
const CEM_KIT_PROBES: Readonly<Record<string, readonly (readonly string[])[]>> = {
  ...FRAME_PROBES,
  CEM_HANDSHAKE_WRONG_ROLE: [['R24']],
  CEM_HANDSHAKE_AGAIN: [['R30']],
  HANDSHAKE_RESPONSE_AGAIN: [['R30']],
  HANDSHAKE_RESPONSE_NOT_OFFERED: [['R27']],
  SELECT_NOT_OFFERED: [['R34', 'R35']],
  OTHER_CT_MESSAGE: [['R37']],
  REVOKE_OTHER_TYPE: [['R57']],
  REVOKE_RM_OBJECT: [['R55']],
  REVOKE_UNKNOWN: [['R54']],
  REVOKE_AGAIN: [['R54']],
  REVOKE_AFTER_DESELECT: [['R37']],
  INSTRUCT_REUSED_ID: [['R42']],
};
/** An instruction naming an object the RM never described. */
const INSTRUCT_UNKNOWN: Readonly<Record<ControlTypeShort, readonly string[]>> = {
  FRBC: ['R75'],
  PPBC: ['R102'],
  OMBC: ['R84'],
  PEBC: ['R96'],
  DDBC: ['R87', 'R88'],
};

/** The violations (rule ids, in order) the judge must report for the kit's side of one scenario. */
function expectedKitViolations(scenario: Scenario): string[][] {
  const out: string[][] = [];
  const type = scenario.controlType;
  const table = scenario.role === 'CEM' ? RM_KIT_PROBES : CEM_KIT_PROBES;
  let status: string | undefined;
  for (const event of [...scenario.prefix, ...scenario.events]) {
    if (event === 'AWAIT_INSTRUCTION') status = undefined;
    const match = /^STATUS_(NEW|ACCEPTED|STARTED|SUCCEEDED|ABORTED|REJECTED|REVOKED)$/.exec(event);
    if (match) {
      const to = match[1]!;
      if (status !== undefined && FINAL.has(status)) out.push(['R44', 'R46']);
      else if (!R46_NEXT[status ?? 'none']!.includes(to)) out.push(['R46']);
      else status = to;
    } else if (scenario.role === 'CEM' && event === 'STATUS_EARLY') out.push([...(STATUS_EARLY[type!] ?? [])]);
    else if (scenario.role === 'CEM' && event === 'STATUS_UNKNOWN') out.push([...(STATUS_UNKNOWN[type!] ?? [])]);
    else if (scenario.role === 'RM' && event === 'INSTRUCT_UNKNOWN') out.push([...INSTRUCT_UNKNOWN[type!]]);
    else for (const rules of table[event] ?? []) out.push([...rules]);
  }
  return out;
}

/**
 * Sessions and scenarios run one at a time, so the n-th proxied session is the n-th scenario: the
 * side under test has no violation, the kit's are exactly the expected ones.
 */
function checkKitRun(report: ConformanceReport, sessions: readonly ProxySession[], kitSide: Side): Set<string> {
  expect(report.counts, formatReport(report)).toMatchObject({ passed: report.counts.total, failed: 0, errors: 0, skipped: 0 });
  expect(sessions).toHaveLength(report.results.length);
  const mismatches: string[] = [];
  const seen = new Set<string>();
  report.results.forEach((result, i) => {
    const vs = sessions[i]!.violations();
    const wrongSide = vs.filter((v) => v.side !== kitSide);
    const expected = expectedKitViolations(result.scenario);
    const got = vs.filter((v) => v.side === kitSide).map((v) => [...v.rules]);
    for (const rules of got) for (const r of rules) seen.add(r);
    if (wrongSide.length || JSON.stringify(got) !== JSON.stringify(expected))
      mismatches.push(
        `${result.scenario.id} ${result.scenario.title}\n  expected ${JSON.stringify(expected)}\n  got ${describeViolations(vs) || '[]'}`,
      );
  });
  expect(mismatches.join('\n')).toBe('');
  return seen;
}

describe('the conformance kit’s scenarios relayed through the proxy', () => {
  it('[R1, R5, R12, R15, R20, R22, R24, R27–R30, R37, R39, R44–R46, R54–R57, R62, R83, R88, R99, R105, Q6] kit as RM → proxy → s2 CEM: every scenario passes; the CEM has no violation, the kit exactly its deliberate probes', async () => {
    const cem = await createCemServer({ port: 0, host: '127.0.0.1', logger: false, controlTypes: createCemPolicy() });
    cleanups.push(() => cem.close());
    const { proxy, sessions, errors } = await startProxy(cem.url);
    const report = await runConformance({ role: 'CEM', url: proxy.url, ids: 'uuid', timeoutMs: 2000, quietMs: 150 });
    await until(() => proxy.sessions().length === 0, 'every proxied session closed');
    expect(report.counts.total).toBe(98);
    const seen = checkKitRun(report, sessions, 'RM');
    // The run exercised every kind of deliberate probe.
    for (const r of ['R1', 'R5', 'R12', 'R15', 'R20', 'R24', 'R30', 'R37', 'R45', 'R46', 'R55', 'R57', 'Q6']) expect(seen).toContain(r);
    expect(errors).toEqual([]);
  });

  for (const type of TYPES) {
    it(`[R1, R5, R12, R15, R20, R22, R24, R27, R28, R30, R34, R35, R37, R42, R54, R55, R57, ${INSTRUCT_UNKNOWN[type].join(', ')}, Q6] s2 ${type} RM → proxy → kit as CEM (listening): every scenario passes; the RM has no violation, the kit exactly its deliberate probes`, async () => {
      const device = createDevice(type);
      cleanups.push(() => device.stop());
      const sessions: ProxySession[] = [];
      const errors: Error[] = [];
      const report = await runConformance({
        role: 'RM',
        listen: { port: 0, host: '127.0.0.1' },
        ids: 'uuid',
        timeoutMs: 2000,
        connectTimeoutMs: 5000,
        onListening: (url) => {
          // The proxy dials the kit for every RM connection; the RM reconnects after every scenario.
          void createProxy({
            upstream: url,
            judge: { clock: new SimulatedClock() },
            onSession: (s) => sessions.push(s),
            onError: (e) => errors.push(e),
          }).then((proxy) => {
            cleanups.push(() => proxy.close());
            const client = createRmClient({
              url: proxy.url,
              details: device.details,
              controlTypes: { [type]: device.handler },
              reconnect: { initialMs: 20, maxMs: 200 },
              logger: false,
            });
            cleanups.push(() => client.stop());
          });
        },
      });
      expect(report.offer).toEqual({ types: [type], notControllable: false });
      const seen = checkKitRun(report, sessions.slice(0, report.results.length), 'CEM');
      for (const r of ['R1', 'R5', 'R12', 'R15', 'R20', 'R24', 'R27', 'R30', 'R35', 'R37', 'R42', 'R54', 'R55', 'R57', 'Q6'])
        expect(seen).toContain(r);
      // Once the kit has stopped listening, a reconnecting RM finds the proxy's upstream gone: nothing else went wrong.
      expect(errors.filter((e) => !/unreachable/.test(e.message))).toEqual([]);
    });
  }
});

/* ------------------------------------------------------------------------------------------------
 * Broken peers: s2-engine's CEM or RM behind a shim, a clean s2-engine peer on the other side.
 */

/** `hooks`, counting every frame that crosses the shim (what that end really sent and received). */
function counting(t: Tally, hooks: ShimHooks): ShimHooks {
  const send = (pass: (text: string) => void) => (text: string) => {
    t.sent++;
    pass(text);
  };
  return {
    in: (text, inject) => {
      t.received++;
      hooks.in?.(text, send(inject));
    },
    out: (text, pass) => (hooks.out ? hooks.out(text, send(pass)) : send(pass)(text)),
  };
}

/** A broken CEM (peers.ts: s2-engine's CEM and CEM policy behind a shim per connection). */
async function brokenCem(cemEnd: Tally, hooks: () => ShimHooks) {
  const cem = await cemServer(() => counting(cemEnd, hooks()));
  cleanups.push(() => cem.close());
  return cem;
}

/** A clean s2-engine CEM (createCemServer + the CEM policy). */
async function cleanCem(cemEnd: Tally) {
  const cem = await createCemServer({
    port: 0,
    host: '127.0.0.1',
    logger: false,
    controlTypes: createCemPolicy({ interruptionMs: false }),
    onSession: (s) => tally(s, cemEnd),
  });
  cleanups.push(() => cem.close());
  return cem;
}

/** Ids of the RM's messages of `type` as they cross a CEM shim (its `in` hook). */
function idsOf(type: string) {
  const ids: string[] = [];
  return {
    ids,
    in: (text: string) => {
      const m = peek(text);
      if (m.message_type === type && m.message_id) ids.push(m.message_id);
    },
  };
}

/** Whether `text` is the ReceptionStatus for message `id`. */
const answers = (text: string, id: string | undefined): boolean => {
  const m = peek(text);
  return id !== undefined && m.message_type === 'ReceptionStatus' && m.subject_message_id === id;
};

/** The one violation reported, with nothing else. */
function only(vs: readonly Violation[]): Violation {
  expect(vs, describeViolations(vs)).toHaveLength(1);
  return vs[0]!;
}

describe('broken peers through the proxy: the right side and rule id, and nothing else', () => {
  it('[R21] a CEM that never answers the RM’s FRBC.SystemDescription: CEM R21, once the judge’s reception timeout has passed on its clock', async () => {
    const cemEnd: Tally = { sent: 0, received: 0 };
    const rmEnd: Tally = { sent: 0, received: 0 };
    const d = idsOf('FRBC.SystemDescription');
    const cem = await brokenCem(cemEnd, () => ({
      in: d.in,
      out: (text, pass) => (answers(text, d.ids[0]) ? undefined : pass(text)),
    }));
    const { proxy, clock, sessions, records } = await startProxy(cem.url, 1000);
    const { client, device } = rmClient('FRBC', proxy.url, rmEnd);
    await until(() => relayed(records, 'RM', 'InstructionStatusUpdate'), 'an InstructionStatusUpdate');
    device.stop();
    const session = sessions[0]!;
    // Quiet, but for the one answer the CEM owes.
    await quiet(session, cemEnd, rmEnd, { CEM: 1, RM: 0 });
    clock.increment(999);
    expect(describeViolations(session.violations())).toBe('');
    clock.increment(2);
    const v = only(session.violations());
    expect(v).toMatchObject({ side: 'CEM', rules: ['R21'], messageType: 'FRBC.SystemDescription', messageId: d.ids[0] });
    expect(v.text).toContain('never answered');
    await client.stop();
    const summary = await session.closed;
    expect(summary).toMatchObject({ violations: 1, rules: { R21: { failed: 1 } } });
    expect(records.filter((r) => r.kind === 'violation')).toEqual([expect.objectContaining({ side: 'CEM', rules: ['R21'] })]);
  });

  it('[R12] a CEM that answers the RM’s FRBC.SystemDescription twice: CEM R12 for the second ReceptionStatus', async () => {
    const cemEnd: Tally = { sent: 0, received: 0 };
    const rmEnd: Tally = { sent: 0, received: 0 };
    const d = idsOf('FRBC.SystemDescription');
    const cem = await brokenCem(cemEnd, () => ({
      in: d.in,
      out: (text, pass) => {
        pass(text);
        if (answers(text, d.ids[0])) pass(text);
      },
    }));
    const { proxy, clock, sessions, records } = await startProxy(cem.url);
    const { client, device } = rmClient('FRBC', proxy.url, rmEnd);
    await until(() => relayed(records, 'RM', 'InstructionStatusUpdate'), 'an InstructionStatusUpdate');
    device.stop();
    const session = sessions[0]!;
    await quiet(session, cemEnd, rmEnd);
    clock.increment(60_000);
    const v = only(session.violations());
    expect(v).toMatchObject({ side: 'CEM', rules: ['R12'], messageType: 'ReceptionStatus', messageId: d.ids[0] });
    expect(v.text).toContain('two ReceptionStatuses');
    await client.stop();
    expect((await session.closed).violations).toBe(1);
  });

  for (const [field, rules, what] of [
    ['operation_mode', ['R75'], /unknown operation mode/],
    ['actuator_id', ['R75', 'R72'], /unknown actuator_id/],
  ] as const) {
    it(`[${rules.join(', ')}] a CEM whose FRBC.Instruction names a ${field} the RM never described: CEM ${rules.join(', ')}`, async () => {
      const cemEnd: Tally = { sent: 0, received: 0 };
      const rmEnd: Tally = { sent: 0, received: 0 };
      let rewritten: string | undefined;
      const cem = await brokenCem(cemEnd, () => ({
        out: (text, pass) => {
          if (rewritten === undefined && peek(text).message_type === 'FRBC.Instruction') {
            const m = JSON.parse(text) as { message_id: string };
            rewritten = m.message_id;
            return pass(JSON.stringify({ ...m, [field]: randomUUID() }));
          }
          pass(text);
        },
      }));
      const { proxy, clock, sessions } = await startProxy(cem.url);
      const { client, device } = rmClient('FRBC', proxy.url, rmEnd);
      await until(() => rewritten !== undefined && (sessions[0]?.violations().length ?? 0) > 0, 'the broken instruction judged');
      device.stop();
      const session = sessions[0]!;
      await quiet(session, cemEnd, rmEnd);
      clock.increment(60_000);
      const v = only(session.violations());
      expect(v).toMatchObject({ side: 'CEM', rules, messageType: 'FRBC.Instruction', messageId: rewritten });
      expect(v.text).toMatch(what);
      await client.stop();
      expect((await session.closed).violations).toBe(1);
    });
  }

  it('[R44, R46] an RM that reports SUCCEEDED after ABORTED: RM R44, R46 for the SUCCEEDED', async () => {
    const cemEnd: Tally = { sent: 0, received: 0 };
    const rmEnd: Tally = { sent: 0, received: 0 };
    const cem = await cleanCem(cemEnd);
    const { proxy, clock, sessions } = await startProxy(cem.url);
    let late: string | undefined;
    const { client, device } = rmClient(
      'FRBC',
      proxy.url,
      { sent: 0, received: 0 },
      counting(rmEnd, {
        // The first final status becomes ABORTED, and a SUCCEEDED follows it.
        out: (text, pass) => {
          const m = JSON.parse(text) as { message_type: string; status_type?: string };
          if (
            late !== undefined ||
            m.message_type !== 'InstructionStatusUpdate' ||
            !['SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED'].includes(m.status_type!)
          )
            return pass(text);
          pass(JSON.stringify({ ...m, status_type: 'ABORTED' }));
          late = randomUUID();
          pass(JSON.stringify({ ...m, message_id: late, status_type: 'SUCCEEDED' }));
        },
      }),
    );
    await until(() => late !== undefined && (sessions[0]?.violations().length ?? 0) > 0, 'the late status judged');
    device.stop();
    const session = sessions[0]!;
    await quiet(session, cemEnd, rmEnd);
    clock.increment(60_000);
    const v = only(session.violations());
    expect(v).toMatchObject({ side: 'RM', rules: ['R44', 'R46'], messageType: 'InstructionStatusUpdate', messageId: late });
    expect(v.text).toContain('already final (ABORTED)');
    await client.stop();
    expect((await session.closed).violations).toBe(1);
  });

  it('[R39] an RM that never sends its FRBC.SystemDescription: RM R39 for every FRBC status, nothing else', async () => {
    const cemEnd: Tally = { sent: 0, received: 0 };
    const rmEnd: Tally = { sent: 0, received: 0 };
    const cem = await cleanCem(cemEnd);
    const { proxy, clock, sessions, records } = await startProxy(cem.url);
    const { client, device } = rmClient(
      'FRBC',
      proxy.url,
      { sent: 0, received: 0 },
      counting(rmEnd, { out: (text, pass) => (peek(text).message_type === 'FRBC.SystemDescription' ? undefined : pass(text)) }),
    );
    await until(() => relayed(records, 'RM', 'FRBC.ActuatorStatus') && relayed(records, 'RM', 'FRBC.StorageStatus'), 'the FRBC statuses');
    device.stop();
    const session = sessions[0]!;
    await quiet(session, cemEnd, rmEnd);
    clock.increment(60_000);
    const vs = session.violations();
    // Each status names what the missing description would have described: R39 and that reference rule.
    const expected: Readonly<Record<string, readonly string[]>> = {
      'FRBC.ActuatorStatus': ['R39', 'R62'],
      'FRBC.StorageStatus': ['R39', 'R73'],
      'FRBC.TimerStatus': ['R39', 'R71'],
    };
    expect(vs.map((v) => v.messageType).sort(), describeViolations(vs)).toEqual(expect.arrayContaining(Object.keys(expected)));
    for (const v of vs) expect({ side: v.side, rules: v.rules }, v.text).toEqual({ side: 'RM', rules: expected[v.messageType!] });
    // Exactly the RM's FRBC frames were refused; the CEM, answering them INVALID_CONTENT, did right and never instructed.
    const frames = records.filter((r) => r.kind === 'frame');
    expect(frames.filter((r) => !r.ok).map((r) => r.kind === 'frame' && r.type)).toEqual(vs.map((v) => v.messageType));
    expect(relayed(records, 'CEM', 'FRBC.Instruction')).toBe(false);
    await client.stop();
  });
});
