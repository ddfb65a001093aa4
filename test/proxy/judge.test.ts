/**
 * The judge of the checking proxy (issue 14), in memory: real S2Sessions over a memory pair whose
 * every frame is also given to the judge (clean sessions ⇒ no violation), and scripted traffic
 * with one deliberate fault each (⇒ exactly that violation, with the side at fault and its rule).
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createSessionJudge, type FrameVerdict, type SessionJudge, type Side, type Violation } from '../../src/proxy/index.js';
import { attachCemControlTypes } from '../../src/roles/cem-control.js';
import { attachRmControlTypes } from '../../src/roles/rm-control.js';
import { S2Session } from '../../src/roles/session.js';
import { createCemPolicy, createDevice, type PolicyEvent } from '../../src/sim/index.js';
import {
  brokenFrames,
  handshake,
  handshakeResponse,
  instructionFor,
  instructionStatusUpdate,
  newId,
  powerMeasurement,
  receptionStatus,
  rmDetails,
  rmMessageSet,
  selectControlType,
} from '../../src/testing/payloads/index.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import type { Transport } from '../../src/transport/transport.js';
import type { ControlType } from '../../src/typebox/common/enums.js';
import { CONTROL_TYPE_SHORT as SHORTS, type ControlTypeShort } from '../../src/typebox/message-spec.js';
import type { IdentifiedMessage } from '../../src/typebox/registry.js';
import type { S2Version } from '../../src/typebox/versions.js';

const WIRE: Readonly<Record<ControlTypeShort, ControlType>> = {
  FRBC: 'FILL_RATE_BASED_CONTROL',
  PPBC: 'POWER_PROFILE_BASED_CONTROL',
  OMBC: 'OPERATION_MODE_BASED_CONTROL',
  PEBC: 'POWER_ENVELOPE_BASED_CONTROL',
  DDBC: 'DEMAND_DRIVEN_BASED_CONTROL',
};

/** A transport that shows the judge every frame it sends, as a proxy in between would. */
function tapped(t: Transport, side: Side, judge: SessionJudge, verdicts: FrameVerdict[]): Transport {
  return {
    get peer() {
      return t.peer;
    },
    get isOpen() {
      return t.isOpen;
    },
    start: (handlers) => t.start(handlers),
    send(text) {
      verdicts.push(judge.frame(side, text));
      t.send(text);
    },
    close(code, reason) {
      judge.closed(side, code, reason);
      t.close(code, reason);
    },
  };
}

const describeViolations = (vs: readonly Violation[]) => vs.map((v) => `${v.side} ${v.rules.join(',')}: ${v.text}`).join('\n');

async function cleanRun(short: ControlTypeShort, version: S2Version) {
  const clock = new SimulatedClock();
  const judge = createSessionJudge({ clock, now: () => Date.now() });
  const verdicts: FrameVerdict[] = [];
  const [a, b] = createMemoryPair();
  const device = createDevice(short, { tickMs: 10, speed: 1000 });
  const events: PolicyEvent[] = [];
  let poke = () => {};
  const policy = createCemPolicy({
    onEvent: (e) => {
      events.push(e);
      poke();
    },
  });
  const cem = new S2Session(tapped(a, 'CEM', judge, verdicts), { role: 'CEM', logger: false });
  const rm = new S2Session(tapped(b, 'RM', judge, verdicts), { role: 'RM', details: device.details, versions: [version], logger: false });
  attachRmControlTypes(rm, { [short]: device.handler });
  attachCemControlTypes(cem, policy);
  cem.start();
  rm.start();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no instruction for ${short}; ${describeViolations(judge.violations())}`)), 5000);
      // A final status (PEBC's envelope lasts 15 min: there, the instruction and its statuses so far).
      poke = () => {
        if (events.some((e) => e.kind === 'final') || (short === 'PEBC' && events.some((e) => e.kind === 'instructed'))) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    // Let the last answers (and PEBC's first statuses) cross.
    await new Promise((r) => setTimeout(r, short === 'PEBC' ? 200 : 20));
  } finally {
    device.stop();
    await cem.close();
    await rm.closed;
    judge.stop();
  }
  return { judge, verdicts };
}

describe('judge: clean s2 CEM ↔ s2 RM sessions produce no violation', () => {
  for (const version of ['0.0.2-beta', '1.0.0-beta'] as const) {
    for (const short of SHORTS) {
      it(`[R11, R12, R21, R37, R39, R42, R46] ${short} over ${version}: every frame of both sides conforms`, async () => {
        const { judge, verdicts } = await cleanRun(short, version);
        expect(describeViolations(judge.violations())).toBe('');
        const summary = judge.summary();
        expect(summary.version).toBe(version);
        expect(summary.frames.CEM).toBeGreaterThan(4);
        expect(summary.frames.RM).toBeGreaterThan(4);
        expect(verdicts.some((v) => v.messageType?.startsWith(`${short}.`))).toBe(true);
        expect(Object.values(summary.rules).every((t) => t.failed === 0)).toBe(true);
        expect(summary.rules.R12?.passed).toBeGreaterThan(5);
      });
    }
  }
});

/** Scripted traffic: every frame goes to the judge as the proxy would see it. */
function script(options: { strict?: boolean; version?: S2Version } = {}) {
  const clock = new SimulatedClock();
  const seen: Violation[] = [];
  const judge = createSessionJudge({
    clock,
    now: () => Date.now(),
    onViolation: (v) => seen.push(v),
    ...(options.strict ? { strict: true } : {}),
  });
  const version = options.version ?? '0.0.2-beta';
  const send = (from: Side, m: IdentifiedMessage | string) => judge.frame(from, typeof m === 'string' ? m : JSON.stringify(m));
  const answer = (from: Side, subject: string, status: Parameters<typeof receptionStatus>[1] = 'OK', label?: string) =>
    judge.frame(from, JSON.stringify(receptionStatus(subject, status, label)));
  /** A conforming message and its conforming answer. */
  const exchange = (from: Side, m: IdentifiedMessage) => {
    const v = send(from, m);
    expect(describeViolations(v.violations), `${from} ${m.message_type}`).toBe('');
    const r = answer(from === 'CEM' ? 'RM' : 'CEM', m.message_id);
    expect(describeViolations(r.violations), `answer to ${m.message_type}`).toBe('');
  };
  const open = (short: ControlTypeShort = 'FRBC') => {
    exchange('CEM', handshake('CEM', ['1.0.0-beta', '0.0.2-beta']));
    exchange('RM', handshake('RM', [version]));
    exchange('CEM', handshakeResponse(version));
    exchange('RM', rmDetails([WIRE[short]], newId()));
    exchange('CEM', selectControlType(WIRE[short]));
    expect(judge.summary().states).toEqual({ CEM: `connected.active.${short}`, RM: `connected.active.${short}` });
  };
  return { clock, judge, seen, send, answer, exchange, open };
}

/** The one violation the judge reported, with nothing else. */
function only(seen: readonly Violation[]): Violation {
  expect(seen, describeViolations(seen)).toHaveLength(1);
  return seen[0]!;
}

describe('judge: each deliberate fault is caught with the side at fault and its rule, and nothing else', () => {
  it('[R39] RM sends FRBC.ActuatorStatus before FRBC.SystemDescription', () => {
    const s = script();
    const reports: Record<string, string[]> = { CEM: [], RM: [] };
    for (const side of ['CEM', 'RM'] as const)
      s.judge.shadows[side].on('report', (r) => r.kind === 'violation' && reports[side]!.push(r.detail));
    s.open('FRBC');
    const set = rmMessageSet('FRBC', 'r39', Date.now());
    const status = set.statuses(1)[0]!;
    const v = s.send('RM', status);
    // The inspector lists a violation under the shadow of the side at fault.
    expect(reports).toEqual({ CEM: [], RM: [expect.stringContaining('(R39')] });
    s.answer('CEM', status.message_id, 'INVALID_CONTENT', 'no description (R39)');
    const fault = only(s.seen);
    expect(fault).toMatchObject({ side: 'RM', messageType: 'FRBC.ActuatorStatus', messageId: status.message_id });
    expect(fault.rules).toContain('R39');
    expect(v.violations).toEqual([fault]);
    expect(v.reply).toBeUndefined();
  });

  it("[R12] a second ReceptionStatus for one message is the receiver's fault", () => {
    const s = script();
    s.open('FRBC');
    const set = rmMessageSet('FRBC', 'r12', Date.now());
    const description = set.describe(1);
    s.exchange('RM', description);
    s.answer('CEM', description.message_id, 'OK');
    const fault = only(s.seen);
    expect(fault).toMatchObject({ side: 'CEM', rules: ['R12'], messageId: description.message_id });
    expect(fault.text).toContain('two ReceptionStatuses');
  });

  it("[R12] each side's answered ids are remembered in a bounded window: after 4,096 newer ones a second answer reads as unknown", () => {
    const s = script();
    s.open('FRBC');
    const sent = Array.from({ length: 4097 }, () => powerMeasurement(Date.now()));
    for (const m of sent) s.exchange('RM', m);
    s.answer('CEM', sent[0]!.message_id, 'OK');
    s.answer('CEM', sent[4096]!.message_id, 'OK');
    expect(s.seen.map((v) => v.rules)).toEqual([['R12'], ['R12']]);
    expect(s.seen[0]!.text).toContain('which is no message of RM awaiting an answer');
    expect(s.seen[1]!.text).toContain('two ReceptionStatuses');
  });

  it('[R12] a ReceptionStatus for an id nobody sent', () => {
    const s = script();
    s.open('OMBC');
    s.answer('RM', newId(), 'OK');
    expect(only(s.seen)).toMatchObject({ side: 'RM', rules: ['R12'] });
  });

  it("[R21] a missing ReceptionStatus is reported once the reception timeout has passed on the judge's clock", () => {
    const s = script();
    s.open('FRBC');
    const description = rmMessageSet('FRBC', 'r21', Date.now()).describe(1);
    s.send('RM', description);
    s.clock.increment(4_999);
    expect(s.seen).toEqual([]);
    s.clock.increment(2);
    const fault = only(s.seen);
    expect(fault).toMatchObject({ side: 'CEM', rules: ['R21'], messageId: description.message_id, messageType: 'FRBC.SystemDescription' });
    expect(fault.frame).toBeUndefined();
    // A late answer adds nothing.
    s.answer('CEM', description.message_id);
    expect(s.seen).toHaveLength(1);
    expect(s.judge.summary().rules.R21?.failed).toBe(1);
  });

  it('[R46] InstructionStatusUpdate SUCCEEDED after ABORTED', () => {
    const s = script();
    s.open('FRBC');
    const set = rmMessageSet('FRBC', 'r46', Date.now());
    const description = set.describe(1);
    s.exchange('RM', description);
    for (const st of set.statuses(1)) s.exchange('RM', st);
    const instruction = instructionFor('FRBC', [description, ...set.statuses(1)], { id: newId(), nowMs: Date.now(), leadMs: 0 });
    if ('skip' in instruction) throw new Error(instruction.skip);
    s.exchange('CEM', instruction);
    const id = (instruction as { id: string }).id;
    s.exchange('RM', instructionStatusUpdate(id, 'ACCEPTED', Date.now()));
    s.exchange('RM', instructionStatusUpdate(id, 'ABORTED', Date.now()));
    const late = instructionStatusUpdate(id, 'SUCCEEDED', Date.now());
    s.send('RM', late);
    s.answer('CEM', late.message_id, 'INVALID_CONTENT');
    const fault = only(s.seen);
    expect(fault).toMatchObject({ side: 'RM', messageType: 'InstructionStatusUpdate' });
    expect(fault.rules).toContain('R46');
  });

  it('[R49, R75] an FRBC.Instruction naming an operation mode the RM never described', () => {
    const s = script();
    s.open('FRBC');
    const set = rmMessageSet('FRBC', 'r75', Date.now());
    const description = set.describe(1);
    s.exchange('RM', description);
    const instruction = instructionFor('FRBC', [description], { id: newId(), nowMs: Date.now(), leadMs: 0, unknown: true });
    if ('skip' in instruction) throw new Error(instruction.skip);
    s.send('CEM', instruction);
    s.answer('RM', instruction.message_id, 'INVALID_CONTENT');
    const fault = only(s.seen);
    expect(fault.side).toBe('CEM');
    expect(fault.text).toMatch(/unknown operation mode/);
    expect(fault.rules.some((r) => ['R49', 'R75'].includes(r))).toBe(true);
  });

  it('[R42] an instruction id reused in the session', () => {
    const s = script();
    s.open('OMBC');
    const set = rmMessageSet('OMBC', 'r42', Date.now());
    const description = set.describe(1);
    s.exchange('RM', description);
    for (const st of set.statuses(1)) s.exchange('RM', st);
    const id = newId();
    const first = instructionFor('OMBC', [description, ...set.statuses(1)], { id, nowMs: Date.now(), leadMs: 0 });
    if ('skip' in first) throw new Error(first.skip);
    s.exchange('CEM', first);
    const again = { ...first, message_id: newId() };
    s.send('CEM', again);
    s.answer('RM', again.message_id, 'INVALID_CONTENT');
    expect(only(s.seen)).toMatchObject({ side: 'CEM', rules: ['R42'], messageId: again.message_id });
  });

  it('[R34, R35] the CEM selects a control type the RM did not offer', () => {
    const s = script();
    s.exchange('CEM', handshake('CEM', ['0.0.2-beta']));
    s.exchange('RM', handshake('RM', ['0.0.2-beta']));
    s.exchange('CEM', handshakeResponse('0.0.2-beta'));
    s.exchange('RM', rmDetails(['FILL_RATE_BASED_CONTROL'], newId()));
    const select = selectControlType('DEMAND_DRIVEN_BASED_CONTROL');
    s.send('CEM', select);
    s.answer('RM', select.message_id, 'INVALID_CONTENT');
    const fault = only(s.seen);
    expect(fault).toMatchObject({ side: 'CEM', messageType: 'SelectControlType' });
    expect(fault.rules).toEqual(expect.arrayContaining(['R34', 'R35']));
    expect(s.judge.summary().states).toEqual({ CEM: 'connected.awaitingDetails', RM: 'connected.awaitingSelection' });
  });

  it("[R1, R15, R20] a frame that is not JSON is reported with the codec's problems; the INVALID_DATA answer is right", () => {
    const s = script();
    s.open('PEBC');
    const v = s.send('RM', brokenFrames.notJson());
    s.answer('CEM', '00000000-0000-0000-0000-000000000000', 'INVALID_DATA');
    const fault = only(s.seen);
    expect(fault).toMatchObject({ side: 'RM', rules: ['R15', 'R20'] });
    expect(fault.text).toMatch(/does not decode \(INVALID_DATA\): \$ not JSON/);
    expect(v.violations).toHaveLength(1);
  });

  it('[R5, R15] a message with a field no schema has', () => {
    const s = script();
    s.open('PEBC');
    const id = newId();
    s.send('RM', brokenFrames.measurementWithExtraField(id, Date.now()));
    s.answer('CEM', id, 'INVALID_MESSAGE');
    expect(only(s.seen)).toMatchObject({ side: 'RM', rules: ['R5', 'R15'], messageId: id });
  });

  it('[R27] a HandshakeResponse naming a version the RM did not offer', () => {
    const s = script();
    s.exchange('CEM', handshake('CEM', ['1.0.0-beta', '0.0.2-beta']));
    s.exchange('RM', handshake('RM', ['0.0.2-beta']));
    const response = handshakeResponse('1.0.0-beta');
    s.send('CEM', response);
    s.answer('RM', response.message_id, 'INVALID_CONTENT');
    const fault = only(s.seen);
    expect(fault).toMatchObject({ side: 'CEM', rules: ['R27'], messageType: 'HandshakeResponse' });
    // The RM shadow closes, as a correct RM does (4001).
    expect(s.judge.shadows.RM.state).toBe('closing');
  });

  it('[R27, R29] no version in common is no violation of either side; the CEM answers INVALID_CONTENT and TERMINATEs', () => {
    const s = script();
    s.exchange('CEM', handshake('CEM', ['1.0.0-beta']));
    const offer = handshake('RM', ['0.0.2-beta']);
    expect(s.send('RM', offer).violations).toEqual([]);
    expect(s.answer('CEM', offer.message_id, 'INVALID_CONTENT').violations).toEqual([]);
    const terminate: IdentifiedMessage = { message_type: 'SessionRequest', message_id: newId(), request: 'TERMINATE' };
    expect(s.send('CEM', terminate).violations).toEqual([]);
    expect(s.seen).toEqual([]);
  });

  it('[R16, R39] a receiver that answers OK to a message a correct one refuses', () => {
    const s = script();
    s.open('FRBC');
    const status = rmMessageSet('FRBC', 'r16', Date.now()).statuses(1)[0]!;
    s.send('RM', status);
    s.answer('CEM', status.message_id, 'OK');
    expect(s.seen.map((v) => v.side)).toEqual(['RM', 'CEM']);
    expect(s.seen[1]!.rules).toContain('R39');
    expect(s.seen[1]!.text).toMatch(/answered OK/);
  });

  it('[R15] a receiver that refuses a valid message', () => {
    const s = script();
    s.open('FRBC');
    const description = rmMessageSet('FRBC', 'r15', Date.now()).describe(1);
    s.send('RM', description);
    s.answer('CEM', description.message_id, 'INVALID_CONTENT', 'no thanks');
    expect(only(s.seen)).toMatchObject({ side: 'CEM', rules: ['R15'] });
    // TEMPORARY_ERROR is the receiver's own right.
    const again = rmMessageSet('FRBC', 'r15b', Date.now()).describe(1);
    s.send('RM', again);
    s.answer('CEM', again.message_id, 'TEMPORARY_ERROR');
    expect(s.seen).toHaveLength(1);
  });
});

describe('judge: strict mode', () => {
  it('[R39] a violating frame gets the ReceptionStatus a correct receiver sends, and is treated as not delivered', () => {
    const s = script({ strict: true });
    s.open('FRBC');
    const status = rmMessageSet('FRBC', 'strict', Date.now()).statuses(1)[0]!;
    const v = s.send('RM', status);
    expect(v.violations).toHaveLength(1);
    const reply = JSON.parse(v.reply!) as { subject_message_id: string; status: string; diagnostic_label: string };
    expect(reply).toMatchObject({ subject_message_id: status.message_id, status: 'INVALID_CONTENT' });
    expect(reply.diagnostic_label).toMatch(/R39/);
    // The receiver never saw it: no answer is owed, and none is missing later.
    s.clock.increment(10_000);
    expect(s.seen).toHaveLength(1);
    // Conforming frames carry no reply.
    const description = rmMessageSet('FRBC', 'strict', Date.now()).describe(1);
    const ok = s.send('RM', description);
    expect(ok.reply).toBeUndefined();
    expect(ok.violations).toEqual([]);
  });

  it('[R15, R20] an undecodable frame is answered INVALID_DATA with the nil UUID', () => {
    const s = script({ strict: true });
    s.open('DDBC');
    const v = s.send('CEM', brokenFrames.notJson());
    expect(JSON.parse(v.reply!)).toMatchObject({ subject_message_id: '00000000-0000-0000-0000-000000000000', status: 'INVALID_DATA' });
  });
});

describe('judge: observe mode generates no message of its own', () => {
  it('[R11, R22, R28] a shadow on a sink sends nothing but ReceptionStatuses, and no close of its own', async () => {
    const s = script();
    const sent: { role: string; type: string }[] = [];
    for (const role of ['CEM', 'RM'] as const)
      s.judge.shadows[role].on('sent', ({ message }) => sent.push({ role, type: message.message_type }));
    // Started, yet no Handshake of their own: nothing waits for a ReceptionStatus.
    expect([s.judge.shadows.CEM.pendingCount, s.judge.shadows.RM.pendingCount]).toEqual([0, 0]);
    s.open('PPBC');
    // No details and no policy selection of their own either: everything sent was answered.
    expect([s.judge.shadows.CEM.pendingCount, s.judge.shadows.RM.pendingCount]).toEqual([0, 0]);
    const set = rmMessageSet('PPBC', 'observe', Date.now());
    s.exchange('RM', set.describe(1));
    await new Promise((r) => setTimeout(r, 0));
    expect(sent.length).toBe(6); // one ReceptionStatus per message received
    expect(sent.filter((x) => x.type !== 'ReceptionStatus')).toEqual([]);
    expect(s.judge.shadows.CEM.isClosed).toBe(false);
    expect(() => s.judge.shadows.CEM.send({ message_type: 'SelectControlType', control_type: 'NO_SELECTION' })).toThrow(/observ/);
    expect(() => s.judge.shadows.CEM.select('NO_SELECTION')).toThrow(/observ/);
    expect(() => s.judge.shadows.RM.request('TERMINATE')).toThrow(/observ/);
    expect(s.seen).toEqual([]);
  });
});
