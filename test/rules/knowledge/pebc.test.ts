import { afterEach, describe, expect, it } from 'vitest';
import { controlTypeRefusal, type ControlTypeReply } from '../../../src/machines/control-type.js';
import type { SessionRole } from '../../../src/machines/events.js';
import { statusTransitionRefusal } from '../../../src/rules/instruction-status.js';
import { pebcRules, type PebcKnowledge } from '../../../src/rules/knowledge/pebc.js';
import type { ControlTypeRules } from '../../../src/rules/knowledge/types.js';
import type { InstructionStatus, RevokableObjects } from '../../../src/typebox/common/enums.js';
import type { IdentifiedMessage, MessageOf } from '../../../src/typebox/registry.js';
import { controlTypeHarness } from '../../support/control-type-harness.js';
import { expectAccepted, uuid } from '../support.js';

type PowerConstraints = MessageOf<'PEBC.PowerConstraints'>;
type EnergyConstraint = MessageOf<'PEBC.EnergyConstraint'>;
type Instruction = MessageOf<'PEBC.Instruction'>;
type Range = PowerConstraints['allowed_limit_ranges'][number];
type Envelope = Instruction['power_envelopes'][number];
type Element = Envelope['power_envelope_elements'][number];

const rules = pebcRules as ControlTypeRules<unknown>;
const L1 = 'ELECTRIC.POWER.L1' as const;
const PC = uuid('pebc:constraints:ev');
const PC2 = uuid('pebc:constraints:ev-night');
const EC = uuid('pebc:energy:ev');
const HOUR = 3_600_000;

let seq = 0;
const messageId = () => uuid(`pebc:message:${++seq}`);

const range = (limit: Range['limit_type'], start: number, end: number, abnormal = false, cq: Range['commodity_quantity'] = L1): Range => ({
  commodity_quantity: cq,
  limit_type: limit,
  range_boundary: { start_of_range: start, end_of_range: end },
  abnormal_condition_only: abnormal,
});

/**
 * A single-phase EV charger (consumption positive, R9): the CEM may cap charging at 0..7360 W and
 * must leave the lower limit at 0, except in abnormal conditions, when it may boost up to 11000 W
 * or ask for up to 3000 W of discharge (V2G).
 */
function constraints(over: Partial<PowerConstraints> = {}): PowerConstraints {
  return {
    message_type: 'PEBC.PowerConstraints',
    message_id: messageId(),
    id: PC,
    valid_from: '2026-01-01T00:00:00Z',
    valid_until: '2026-01-02T00:00:00Z',
    consequence_type: 'DEFER',
    allowed_limit_ranges: [
      range('UPPER_LIMIT', 0, 7360),
      range('UPPER_LIMIT', 7360, 11000, true),
      range('LOWER_LIMIT', 0, 0),
      range('LOWER_LIMIT', -3000, 0, true),
    ],
    ...over,
  };
}

function energy(over: Partial<EnergyConstraint> = {}): EnergyConstraint {
  return {
    message_type: 'PEBC.EnergyConstraint',
    message_id: messageId(),
    id: EC,
    valid_from: '2026-01-01T18:00:00Z',
    valid_until: '2026-01-02T07:00:00Z',
    upper_average_power: 3000,
    lower_average_power: 1000,
    commodity_quantity: L1,
    ...over,
  };
}

const element = (upper: number, lower = 0, duration = 15 * 60_000): Element => ({ duration, upper_limit: upper, lower_limit: lower });
const envelope = (elements: Element[], cq: Envelope['commodity_quantity'] = L1): Envelope => ({
  id: uuid(`pebc:envelope:${++seq}`),
  commodity_quantity: cq,
  power_envelope_elements: elements,
});

/** Caps charging at 3700 W for 15 minutes, then 7360 W for 45 minutes, from noon. */
function instruction(id: string, over: Partial<Instruction> = {}): Instruction {
  return {
    message_type: 'PEBC.Instruction',
    message_id: messageId(),
    id,
    execution_time: '2026-01-01T12:00:00Z',
    abnormal_condition: false,
    power_constraints_id: PC,
    power_envelopes: [envelope([element(3700), element(7360, 0, 45 * 60_000)])],
    ...over,
  };
}

const isu = (instructionId: string, status: InstructionStatus): MessageOf<'InstructionStatusUpdate'> => ({
  message_type: 'InstructionStatusUpdate',
  message_id: messageId(),
  instruction_id: instructionId,
  status_type: status,
  timestamp: '2026-01-01T12:00:00Z',
});

const revoke = (type: RevokableObjects, id: string): MessageOf<'RevokeObject'> => ({
  message_type: 'RevokeObject',
  message_id: messageId(),
  object_type: type,
  object_id: id,
});

const know = (...messages: IdentifiedMessage[]): PebcKnowledge => messages.reduce((k, m) => pebcRules.learn(k, m), pebcRules.empty());

// ---------------------------------------------------------------------------------------------
// Statechart helpers

const harnesses: { stop(): void }[] = [];
afterEach(() => {
  for (const h of harnesses.splice(0)) h.stop();
});

function harness(role: SessionRole) {
  const h = controlTypeHarness(rules, role);
  harnesses.push(h);
  return h;
}

function expectAcceptedReply(replies: ControlTypeReply[]): void {
  expect(replies.map((r) => r.type)).toEqual(['ct.accepted']);
}

/** Exactly one reply: a refusal whose reason names every given rule id. */
function expectRefused(replies: ControlTypeReply[], ...ruleIds: string[]): string {
  expect(replies).toHaveLength(1);
  const r = replies[0]!;
  if (r.type !== 'ct.refused') throw new Error(`expected ct.refused, got ${JSON.stringify(r)}`);
  for (const id of ruleIds) expect(r.reason).toContain(`${id}`);
  return r.reason;
}

const notices = (replies: ControlTypeReply[]) => replies.flatMap((r) => (r.type === 'ct.notice' ? [r.notice] : []));

/** RM side: what the roles layer checks before the RM application may send a message (R45, R46). */
function rmMayNotSend(h: ReturnType<typeof harness>, m: IdentifiedMessage): string | undefined {
  const why = controlTypeRefusal(rules, h.context, m, 'RM');
  if (why || m.message_type !== 'InstructionStatusUpdate') return why;
  return statusTransitionRefusal(h.context.instructions.get(m.instruction_id.toLowerCase())?.status, m.status_type);
}

// ---------------------------------------------------------------------------------------------

describe('PEBC test messages', () => {
  it('[R92] [R93] [R95] [R97] [R98] every builder message passes the codec and its intra-message rules', () => {
    expectAccepted(constraints());
    expectAccepted(energy());
    expectAccepted(instruction(uuid('pebc:i:codec')));
    expectAccepted(isu(uuid('pebc:i:codec'), 'ACCEPTED'));
    expectAccepted(revoke('PEBC.PowerConstraints', PC));
  });
});

describe('pebcRules (pure functions)', () => {
  it('[R39] [R91] empty knowledge is not described and holds no objects', () => {
    const k = pebcRules.empty();
    expect(pebcRules.described(k)).toBe(false);
    expect(pebcRules.hasObject(k, 'PEBC.PowerConstraints', PC)).toBe(false);
    expect(pebcRules.hasObject(k, 'PEBC.EnergyConstraint', EC)).toBe(false);
  });

  it('[R91] [R39] a PowerConstraints describes; an EnergyConstraint alone does not', () => {
    expect(pebcRules.described(know(energy()))).toBe(false);
    expect(pebcRules.hasObject(know(energy()), 'PEBC.EnergyConstraint', EC)).toBe(true);
    expect(pebcRules.described(know(constraints()))).toBe(true);
  });

  it('[Q21] [R56] several PowerConstraints coexist by id; the same id replaces', () => {
    const first = constraints();
    const replacement = constraints({ consequence_type: 'VANISH' });
    const k = know(first, constraints({ id: PC2 }), replacement);
    expect([...k.powerConstraints.keys()]).toEqual([PC, PC2]);
    expect(k.powerConstraints.get(PC)).toBe(replacement);
  });

  it('[R4] [R56] ids compare case-insensitively', () => {
    const k = know(constraints({ id: PC.toUpperCase() }), energy({ id: EC.toUpperCase() }));
    expect(pebcRules.hasObject(k, 'PEBC.PowerConstraints', PC)).toBe(true);
    expect(pebcRules.hasObject(k, 'PEBC.EnergyConstraint', EC)).toBe(true);
    expect(pebcRules.refusal(k, instruction(uuid('pebc:i:case'), { power_constraints_id: PC.toUpperCase() }))).toBeUndefined();
  });

  it('[R56] learn and revoke are immutable updates', () => {
    const before = pebcRules.empty();
    const after = pebcRules.learn(before, constraints());
    expect(before.powerConstraints.size).toBe(0);
    const revoked = pebcRules.revoke(after, 'PEBC.PowerConstraints', PC);
    expect(after.powerConstraints.size).toBe(1);
    expect(revoked.powerConstraints.size).toBe(0);
  });

  it('[R54] [R56] hasObject knows only constraints, by their id (not their message_id)', () => {
    const m = constraints();
    const k = know(m);
    expect(pebcRules.hasObject(k, 'PEBC.PowerConstraints', m.message_id)).toBe(false);
    expect(pebcRules.hasObject(k, 'PEBC.EnergyConstraint', PC)).toBe(false);
    expect(pebcRules.hasObject(k, 'PEBC.Instruction', PC)).toBe(false);
  });

  it('[R58] [R91] revoking the last PowerConstraints ends "described"; another one keeps it', () => {
    const k = know(constraints(), constraints({ id: PC2 }), energy());
    const one = pebcRules.revoke(k, 'PEBC.PowerConstraints', PC);
    expect(pebcRules.described(one)).toBe(true);
    expect(pebcRules.hasObject(one, 'PEBC.PowerConstraints', PC)).toBe(false);
    const none = pebcRules.revoke(one, 'PEBC.PowerConstraints', PC2);
    expect(pebcRules.described(none)).toBe(false);
    expect(pebcRules.hasObject(none, 'PEBC.EnergyConstraint', EC)).toBe(true);
    expect(pebcRules.hasObject(pebcRules.revoke(none, 'PEBC.EnergyConstraint', EC), 'PEBC.EnergyConstraint', EC)).toBe(false);
  });

  it('[R58] revoking an instruction does not change the knowledge (the statechart tracks instructions)', () => {
    const k = know(constraints());
    expect(pebcRules.revoke(k, 'PEBC.Instruction', uuid('pebc:i:any'))).toBe(k);
  });

  it('[R96] refuses an instruction naming unknown constraints', () => {
    const other = uuid('pebc:constraints:never-sent');
    expect(pebcRules.refusal(know(constraints()), instruction(uuid('pebc:i:unknown'), { power_constraints_id: other }))).toBe(
      `unknown power_constraints_id ${other}: no PEBC.PowerConstraints with that id (R96)`,
    );
    expect(pebcRules.refusal(know(constraints()), instruction(uuid('pebc:i:known')))).toBeUndefined();
  });

  it('[R96] refuses an instruction naming an EnergyConstraint id as its constraints', () => {
    expect(pebcRules.refusal(know(constraints(), energy()), instruction(uuid('pebc:i:ec'), { power_constraints_id: EC }))).toContain(
      '(R96)',
    );
  });

  it('[R58] [R96] refuses an instruction naming revoked constraints, until they are sent again', () => {
    const revoked = pebcRules.revoke(know(constraints()), 'PEBC.PowerConstraints', PC);
    expect(pebcRules.refusal(revoked, instruction(uuid('pebc:i:revoked')))).toBe(
      `power_constraints_id ${PC} names a revoked PEBC.PowerConstraints (R96, R58)`,
    );
    expect(pebcRules.refusal(pebcRules.learn(revoked, constraints()), instruction(uuid('pebc:i:resent')))).toBeUndefined();
  });

  it('[R98] refuses an instruction reusing a power envelope id of an earlier instruction', () => {
    const first = instruction(uuid('pebc:i:first'));
    const k = know(constraints(), first);
    const again = instruction(uuid('pebc:i:second'), {
      power_envelopes: [{ ...envelope([element(1000)]), id: first.power_envelopes[0]!.id.toUpperCase() }],
    });
    expect(pebcRules.refusal(k, again)).toBe(`power envelope id ${again.power_envelopes[0]!.id} was already used in this session (R98)`);
  });

  it("[R96] has no opinion on the RM's own messages", () => {
    const k = pebcRules.empty();
    expect(pebcRules.refusal(k, constraints())).toBeUndefined();
    expect(pebcRules.refusal(k, energy())).toBeUndefined();
    expect(pebcRules.rejection!(k, constraints())).toBeUndefined();
  });

  describe('rejection (RM side, Q14)', () => {
    const k = know(constraints());
    const reject = (over: Partial<Instruction>) => pebcRules.rejection!(k, instruction(uuid('pebc:i:rejection'), over));

    it('[R97] accepts limits inside the allowed ranges, boundaries included', () => {
      expect(reject({})).toBeUndefined();
      expect(reject({ power_envelopes: [envelope([element(0), element(7360)])] })).toBeUndefined();
    });

    it('[R97] accepts the official PV example (VANISH, lower limit -4000..0, Q17)', () => {
      const pv = constraints({
        id: PC2,
        consequence_type: 'VANISH',
        allowed_limit_ranges: [range('LOWER_LIMIT', -4000, 0), range('UPPER_LIMIT', 0, 0)],
      });
      const curtail = instruction(uuid('pebc:i:pv'), { power_constraints_id: PC2, power_envelopes: [envelope([element(0, -2000, HOUR)])] });
      expectAccepted(curtail);
      expect(pebcRules.rejection!(know(pv), curtail)).toBeUndefined();
    });

    it('[R97] rejects an envelope for a commodity quantity without allowed ranges', () => {
      const env = envelope([element(1000)], 'ELECTRIC.POWER.L2');
      expect(reject({ power_envelopes: [envelope([element(1000)]), env] })).toBe(
        `power envelope ${env.id}: PEBC.PowerConstraints ${PC} allows no limit ranges for ELECTRIC.POWER.L2 (R97)`,
      );
    });

    it('[R97] rejects an upper_limit outside every UPPER_LIMIT range', () => {
      const env = envelope([element(3700), element(12000)]);
      expect(reject({ power_envelopes: [env] })).toBe(
        `power envelope ${env.id} (ELECTRIC.POWER.L1) element 1: upper_limit 12000 lies in no UPPER_LIMIT allowed limit range (allowed: 0..7360, 7360..11000 (abnormal only)) (R97)`,
      );
    });

    it('[R97] rejects a lower_limit outside every LOWER_LIMIT range', () => {
      expect(reject({ power_envelopes: [envelope([element(3700, 500)])] })).toMatch(
        /element 0: lower_limit 500 lies in no LOWER_LIMIT allowed limit range .*\(R97\)$/,
      );
    });

    it('[R97] matches limits only against ranges of the same commodity quantity and limit type', () => {
      const k3 = know(
        constraints({
          allowed_limit_ranges: [
            range('UPPER_LIMIT', 0, 5000, false, 'ELECTRIC.POWER.L2'),
            range('LOWER_LIMIT', 0, 0),
            range('LOWER_LIMIT', 0, 5000, false, 'ELECTRIC.POWER.L2'),
          ],
        }),
      );
      // L1 has a LOWER_LIMIT range only: no upper limit can be placed (R92 is checked overall, not per quantity).
      expect(pebcRules.rejection!(k3, instruction(uuid('pebc:i:l1'), { power_envelopes: [envelope([element(0)])] }))).toContain(
        'upper_limit 0 lies in no UPPER_LIMIT allowed limit range (allowed: none) (R97)',
      );
      expect(
        pebcRules.rejection!(
          k3,
          instruction(uuid('pebc:i:l2'), { power_envelopes: [envelope([element(4000, 1000)], 'ELECTRIC.POWER.L2')] }),
        ),
      ).toBeUndefined();
    });

    it('[R97] [Q21] judges against the referenced constraints, not another valid one', () => {
      const k2 = know(
        constraints(),
        constraints({ id: PC2, allowed_limit_ranges: [range('UPPER_LIMIT', 0, 2000), range('LOWER_LIMIT', 0, 0)] }),
      );
      expect(pebcRules.rejection!(k2, instruction(uuid('pebc:i:pc'), { power_envelopes: [envelope([element(3700)])] }))).toBeUndefined();
      expect(
        pebcRules.rejection!(
          k2,
          instruction(uuid('pebc:i:pc2'), { power_constraints_id: PC2, power_envelopes: [envelope([element(3700)])] }),
        ),
      ).toContain('(R97)');
    });

    it('[R50] rejects a limit in abnormal-only ranges without abnormal_condition; accepts it with', () => {
      const boost = [envelope([element(9000)])];
      expect(reject({ power_envelopes: boost })).toMatch(
        /upper_limit 9000 lies only in abnormal_condition_only UPPER_LIMIT ranges \(7360\.\.11000 \(abnormal only\)\) but abnormal_condition is false \(R50, R97\)$/,
      );
      expect(reject({ power_envelopes: boost, abnormal_condition: true })).toBeUndefined();
      const discharge = [envelope([element(0, -2000)])];
      expect(reject({ power_envelopes: discharge })).toContain('lower_limit -2000 lies only in abnormal_condition_only LOWER_LIMIT ranges');
      expect(reject({ power_envelopes: discharge, abnormal_condition: true })).toBeUndefined();
    });

    it('[R50] accepts a limit that also lies in a normal range', () => {
      expect(reject({ power_envelopes: [envelope([element(7360, 0)])] })).toBeUndefined();
    });

    it('[R96] [R94] rejects envelopes outside the validity window of the constraints', () => {
      expect(reject({ execution_time: '2025-12-31T23:59:59Z' })).toBe(
        `execution_time 2025-12-31T23:59:59Z is before valid_from 2026-01-01T00:00:00Z of PEBC.PowerConstraints ${PC} (R96)`,
      );
      expect(reject({ execution_time: '2026-01-01T23:30:00Z' })).toBe(
        `the power envelopes run until 2026-01-02T00:30:00.000Z, after valid_until 2026-01-02T00:00:00Z of PEBC.PowerConstraints ${PC} (R96, R94)`,
      );
      expect(reject({ execution_time: '2026-01-01T23:00:00Z' })).toBeUndefined(); // ends exactly at valid_until
      const open = constraints();
      delete open.valid_until;
      expect(
        pebcRules.rejection!(know(open), instruction(uuid('pebc:i:open'), { execution_time: '2030-01-01T00:00:00Z' })),
      ).toBeUndefined();
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('PEBC statechart, CEM side (RM messages in, CEM instructions out)', () => {
  it('[R39] [R91] an EnergyConstraint is accepted but does not describe; PowerConstraints do', () => {
    const h = harness('CEM');
    expectAcceptedReply(h.send('in', energy()));
    expect(h.state).toBe('awaitingDescription');
    expect(controlTypeRefusal(rules, h.context, instruction(uuid('pebc:cem:early')), 'CEM')).toBe(
      'PEBC.Instruction before the RM described its flexibility (R39)',
    );
    expectAcceptedReply(h.send('in', constraints()));
    expect(h.state).toBe('described');
    expect((h.context.knowledge as PebcKnowledge).powerConstraints.has(PC)).toBe(true);
  });

  it('[R96] the CEM may not send an instruction naming unknown constraints', () => {
    const h = harness('CEM');
    h.send('in', constraints());
    expect(controlTypeRefusal(rules, h.context, instruction(uuid('pebc:cem:unknown'), { power_constraints_id: PC2 }), 'CEM')).toContain(
      '(R96)',
    );
  });

  it("[R44] [R45] [R46] follows an instruction through the RM's status updates", () => {
    const h = harness('CEM');
    h.send('in', constraints());
    const id = uuid('pebc:cem:lifecycle');
    expect(h.send('out', instruction(id))).toEqual([]);
    expectRefused(h.send('in', isu(uuid('pebc:cem:never-sent'), 'ACCEPTED')), 'R45');
    const accepted = h.send('in', isu(id, 'ACCEPTED'));
    expect(accepted.map((r) => r.type)).toEqual(['ct.accepted', 'ct.notice']);
    expect(notices(accepted)).toEqual([{ kind: 'status', instructionId: id, status: 'ACCEPTED' }]);
    expectRefused(h.send('in', isu(id, 'NEW')), 'R46');
    expectRefused(h.send('in', isu(id, 'REJECTED')), 'R46');
    expect(h.send('in', isu(id, 'STARTED'))[0]?.type).toBe('ct.accepted');
    expect(h.send('in', isu(id, 'SUCCEEDED'))[0]?.type).toBe('ct.accepted');
    expect(h.context.instructions.get(id)?.status).toBe('SUCCEEDED');
    expect(expectRefused(h.send('in', isu(id, 'ABORTED')), 'R44', 'R46')).toContain('already final (SUCCEEDED)');
  });

  it('[R42] [R98] instruction and envelope ids cannot be reused', () => {
    const h = harness('CEM');
    h.send('in', constraints());
    const first = instruction(uuid('pebc:cem:first'));
    h.send('out', first);
    expect(controlTypeRefusal(rules, h.context, instruction(first.id), 'CEM')).toContain('(R42)');
    const reuse = instruction(uuid('pebc:cem:second'), { power_envelopes: first.power_envelopes });
    expect(controlTypeRefusal(rules, h.context, reuse, 'CEM')).toContain('(R98)');
  });

  it('[R54] [R56] [R58] the RM revokes its only PowerConstraints by id: back to awaitingDescription, new instructions refused, old ones still report', () => {
    const h = harness('CEM');
    h.send('in', constraints());
    h.send('in', energy());
    const id = uuid('pebc:cem:before-revoke');
    h.send('out', instruction(id));
    expectAcceptedReply(h.send('in', revoke('PEBC.PowerConstraints', PC)));
    expect(h.state).toBe('awaitingDescription');
    expect((h.context.knowledge as PebcKnowledge).energyConstraints.has(EC)).toBe(true);
    expect(controlTypeRefusal(rules, h.context, instruction(uuid('pebc:cem:after-revoke')), 'CEM')).toContain('(R39)');
    expectRefused(h.send('in', revoke('PEBC.PowerConstraints', PC)), 'R54');
    // The instruction sent before the revocation still gets its statuses (Q12: the RM decides).
    expect(h.send('in', isu(id, 'ABORTED'))[0]?.type).toBe('ct.accepted');
    expectAcceptedReply(h.send('in', constraints()));
    expect(h.state).toBe('described');
  });

  it('[R58] [R96] with two PowerConstraints, revoking one keeps the session described and refuses instructions naming it', () => {
    const h = harness('CEM');
    h.send('in', constraints());
    h.send('in', constraints({ id: PC2 }));
    expectAcceptedReply(h.send('in', revoke('PEBC.PowerConstraints', PC2)));
    expect(h.state).toBe('described');
    expect(controlTypeRefusal(rules, h.context, instruction(uuid('pebc:cem:pc2'), { power_constraints_id: PC2 }), 'CEM')).toContain(
      '(R96, R58)',
    );
    expect(controlTypeRefusal(rules, h.context, instruction(uuid('pebc:cem:pc')), 'CEM')).toBeUndefined();
  });

  it('[R54] [R56] refuses revoking constraints by their message_id or an unknown EnergyConstraint; accepts an EnergyConstraint by id', () => {
    const h = harness('CEM');
    const c = constraints();
    h.send('in', c);
    expectRefused(h.send('in', revoke('PEBC.PowerConstraints', c.message_id)), 'R54', 'R56');
    expectRefused(h.send('in', revoke('PEBC.EnergyConstraint', EC)), 'R54');
    h.send('in', energy());
    expectAcceptedReply(h.send('in', revoke('PEBC.EnergyConstraint', EC)));
    expect(h.state).toBe('described');
  });

  it('[R55] [R57] refuses the RM revoking an instruction or an object of another control type', () => {
    const h = harness('CEM');
    h.send('in', constraints());
    const id = uuid('pebc:cem:owned');
    h.send('out', instruction(id));
    expectRefused(h.send('in', revoke('PEBC.Instruction', id)), 'R55');
    expectRefused(h.send('in', revoke('FRBC.SystemDescription', PC)), 'R57');
  });

  it('[R55] [R58] the CEM revokes its instruction; the RM then reports REVOKED', () => {
    const h = harness('CEM');
    h.send('in', constraints());
    const id = uuid('pebc:cem:revoked');
    h.send('out', instruction(id));
    h.send('in', isu(id, 'ACCEPTED'));
    const r = revoke('PEBC.Instruction', id);
    expect(controlTypeRefusal(rules, h.context, r, 'CEM')).toBeUndefined();
    expect(h.send('out', r)).toEqual([]);
    expect(notices(h.send('in', isu(id, 'REVOKED')))).toEqual([{ kind: 'status', instructionId: id, status: 'REVOKED' }]);
    expect(controlTypeRefusal(rules, h.context, revoke('PEBC.Instruction', id), 'CEM')).toContain('already final (REVOKED) (R54)');
  });
});

describe('PEBC statechart, RM side (CEM instructions in, RM messages out)', () => {
  it('[R39] refuses an instruction before any PowerConstraints', () => {
    const h = harness('RM');
    h.send('out', energy());
    expectRefused(h.send('in', instruction(uuid('pebc:rm:early'))), 'R39');
    expect(h.context.instructions.size).toBe(0);
  });

  it('[R39] [R96] accepts an instruction against sent constraints and hands it to the application', () => {
    const h = harness('RM');
    expect(h.send('out', constraints())).toEqual([]);
    expect(h.state).toBe('described');
    const m = instruction(uuid('pebc:rm:ok'));
    const replies = h.send('in', m);
    expect(replies.map((r) => r.type)).toEqual(['ct.accepted', 'ct.notice']);
    expect(notices(replies)).toEqual([{ kind: 'instruction', instruction: m, rejection: undefined }]);
    expect(h.context.instructions.get(m.id)).toEqual({ messageType: 'PEBC.Instruction', status: undefined, revoked: false });
  });

  it('[R96] [R49] refuses an instruction naming unknown constraints; nothing is recorded', () => {
    const h = harness('RM');
    h.send('out', constraints());
    const unknown = uuid('pebc:constraints:unknown');
    expect(expectRefused(h.send('in', instruction(uuid('pebc:rm:unknown'), { power_constraints_id: unknown })), 'R96')).toContain(unknown);
    expect(h.context.instructions.size).toBe(0);
  });

  it('[R42] [R98] refuses a reused instruction id and a reused envelope id', () => {
    const h = harness('RM');
    h.send('out', constraints());
    const first = instruction(uuid('pebc:rm:first'));
    h.send('in', first);
    expectRefused(h.send('in', instruction(first.id)), 'R42');
    expectRefused(h.send('in', instruction(uuid('pebc:rm:second'), { power_envelopes: first.power_envelopes })), 'R98');
  });

  it("[R44] [R46] the RM reports an instruction's lifecycle; illegal and post-final statuses may not be sent", () => {
    const h = harness('RM');
    h.send('out', constraints());
    const id = uuid('pebc:rm:lifecycle');
    h.send('in', instruction(id));
    expect(rmMayNotSend(h, isu(uuid('pebc:rm:nope'), 'NEW'))).toContain('(R45)');
    expect(notices(h.send('out', isu(id, 'NEW')))).toEqual([{ kind: 'status', instructionId: id, status: 'NEW' }]);
    h.send('out', isu(id, 'ACCEPTED'));
    h.send('out', isu(id, 'STARTED'));
    expect(rmMayNotSend(h, isu(id, 'ACCEPTED'))).toContain('(R46');
    expect(rmMayNotSend(h, isu(id, 'REJECTED'))).toContain('(R46');
    // The statechart ignores an outgoing status the roles layer should have stopped.
    expect(h.send('out', isu(id, 'ACCEPTED'))).toEqual([]);
    expect(h.context.instructions.get(id)?.status).toBe('STARTED');
    expect(notices(h.send('out', isu(id, 'SUCCEEDED')))).toEqual([{ kind: 'status', instructionId: id, status: 'SUCCEEDED' }]);
    expect(rmMayNotSend(h, isu(id, 'ABORTED'))).toContain('already final (SUCCEEDED) (R44, R46)');
  });

  it('[R55] [R58] the CEM revokes an instruction: the RM gets a revoked notice and reports REVOKED', () => {
    const h = harness('RM');
    h.send('out', constraints());
    const id = uuid('pebc:rm:revoked');
    h.send('in', instruction(id));
    h.send('out', isu(id, 'ACCEPTED'));
    const replies = h.send('in', revoke('PEBC.Instruction', id));
    expect(replies.map((r) => r.type)).toEqual(['ct.accepted', 'ct.notice']);
    expect(notices(replies)).toEqual([{ kind: 'revoked', instructionId: id }]);
    expect(rmMayNotSend(h, isu(id, 'REVOKED'))).toBeUndefined();
    h.send('out', isu(id, 'REVOKED'));
    expect(h.context.instructions.get(id)?.status).toBe('REVOKED');
    expectRefused(h.send('in', revoke('PEBC.Instruction', id)), 'R54');
  });

  it('[R54] [R55] refuses the CEM revoking constraints or an unknown instruction', () => {
    const h = harness('RM');
    h.send('out', constraints());
    expectRefused(h.send('in', revoke('PEBC.PowerConstraints', PC)), 'R55');
    expectRefused(h.send('in', revoke('PEBC.Instruction', uuid('pebc:rm:never-sent'))), 'R54');
    expect(h.state).toBe('described');
  });

  it('[R56] [R58] the RM revokes its PowerConstraints by id: back to awaitingDescription, later instructions refused', () => {
    const h = harness('RM');
    h.send('out', constraints());
    h.send('out', constraints({ id: PC2 }));
    expect(rmMayNotSend(h, revoke('PEBC.PowerConstraints', PC))).toBeUndefined();
    h.send('out', revoke('PEBC.PowerConstraints', PC));
    expect(h.state).toBe('described');
    expectRefused(h.send('in', instruction(uuid('pebc:rm:revoked-pc'))), 'R96', 'R58');
    h.send('out', revoke('PEBC.PowerConstraints', PC2));
    expect(h.state).toBe('awaitingDescription');
    expect(rmMayNotSend(h, revoke('PEBC.PowerConstraints', PC2))).toContain('(R54, R56)');
    expectRefused(h.send('in', instruction(uuid('pebc:rm:none-left'), { power_constraints_id: PC2 })), 'R39');
  });

  it('[R97] [Q14] an instruction outside the allowed ranges is accepted with a rejection for the application', () => {
    const h = harness('RM');
    h.send('out', constraints());
    const m = instruction(uuid('pebc:rm:too-high'), { power_envelopes: [envelope([element(12000)])] });
    const replies = h.send('in', m);
    expect(replies[0]?.type).toBe('ct.accepted');
    const [notice] = notices(replies);
    if (notice?.kind !== 'instruction') throw new Error('expected an instruction notice');
    expect(notice.rejection).toContain('upper_limit 12000 lies in no UPPER_LIMIT allowed limit range');
    expect(notice.rejection).toContain('(R97)');
    // The RM answers REJECTED; nothing may follow (R46).
    expect(notices(h.send('out', isu(m.id, 'REJECTED')))).toEqual([{ kind: 'status', instructionId: m.id, status: 'REJECTED' }]);
    expect(rmMayNotSend(h, isu(m.id, 'ACCEPTED'))).toContain('(R44, R46)');
  });

  it('[R50] [Q14] abnormal-only ranges: rejection without abnormal_condition, none with it', () => {
    const h = harness('RM');
    h.send('out', constraints());
    const boost = (id: string, abnormal: boolean) =>
      instruction(id, { abnormal_condition: abnormal, power_envelopes: [envelope([element(11000, -3000)])] });
    const normal = notices(h.send('in', boost(uuid('pebc:rm:boost'), false)))[0];
    expect(normal?.kind === 'instruction' && normal.rejection).toContain('(R50, R97)');
    const abnormal = notices(h.send('in', boost(uuid('pebc:rm:boost-abnormal'), true)))[0];
    expect(abnormal).toMatchObject({ kind: 'instruction', rejection: undefined });
  });

  it('[R96] [R97] [Q14] a commodity quantity without ranges or an envelope past valid_until is a rejection, not a refusal', () => {
    const h = harness('RM');
    h.send('out', constraints());
    const l3 = notices(
      h.send('in', instruction(uuid('pebc:rm:l3'), { power_envelopes: [envelope([element(1000)], 'ELECTRIC.POWER.L3')] })),
    )[0];
    expect(l3?.kind === 'instruction' && l3.rejection).toContain('allows no limit ranges for ELECTRIC.POWER.L3 (R97)');
    const late = notices(h.send('in', instruction(uuid('pebc:rm:late'), { execution_time: '2026-01-01T23:50:00Z' })))[0];
    expect(late?.kind === 'instruction' && late.rejection).toContain('after valid_until');
  });
});
