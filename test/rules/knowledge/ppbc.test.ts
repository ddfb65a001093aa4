import { afterEach, describe, expect, it } from 'vitest';
import { controlTypeRefusal, type ControlTypeReply } from '../../../src/machines/control-type.js';
import type { SessionRole } from '../../../src/machines/events.js';
import { statusTransitionRefusal } from '../../../src/rules/instruction-status.js';
import { ppbcRules, type PpbcKnowledge } from '../../../src/rules/knowledge/ppbc.js';
import type { InstructionStatus, RevokableObjects } from '../../../src/typebox/common/enums.js';
import type { PPBCPowerSequenceStatus } from '../../../src/typebox/ppbc/index.js';
import type { IdentifiedMessage, MessageOf } from '../../../src/typebox/registry.js';
import { controlTypeHarness } from '../../support/control-type-harness.js';
import { expectAccepted, uuid } from '../support.js';

/*
 * A dishwasher's power profile (definition "d1"): a "heat" container with an interruptible eco
 * sequence (2 h), a fast non-interruptible one (1 h) and an abnormal-only boost (30 min), then a
 * "dry" container with one interruptible sequence (1 h). Window 00:00–12:00 on 2026-01-01, the
 * harness clock's start. A second profile "d2" (an EV session) has one container "ev".
 */

type Definition = MessageOf<'PPBC.PowerProfileDefinition'>;
type InstructionType = 'PPBC.ScheduleInstruction' | 'PPBC.StartInterruptionInstruction' | 'PPBC.EndInterruptionInstruction';
type Instruction = MessageOf<InstructionType>;
type Entry = MessageOf<'PPBC.PowerProfileStatus'>['sequence_container_status'][number];

const HOUR = 3_600_000;
const INSTRUCTION_TYPES: InstructionType[] = [
  'PPBC.ScheduleInstruction',
  'PPBC.StartInterruptionInstruction',
  'PPBC.EndInterruptionInstruction',
];

let serial = 0;
const messageId = () => uuid(`ppbc-knowledge:message:${serial++}`);
/** Object ids by label: `id('d1')`, `id('heat')`, `id('heat:eco')`, `id('i1')`. */
const id = (label: string) => uuid(`ppbc-knowledge:${label}`);

function sequence(name: string, hours: number, options: { interruptible?: boolean; abnormalOnly?: boolean } = {}) {
  return {
    id: id(name),
    elements: [
      { duration: (hours * HOUR) / 2, power_values: [{ commodity_quantity: 'ELECTRIC.POWER.L1' as const, value_expected: 2000 }] },
      { duration: (hours * HOUR) / 2, power_values: [{ commodity_quantity: 'ELECTRIC.POWER.L1' as const, value_expected: 200 }] },
    ],
    is_interruptible: options.interruptible ?? false,
    max_pause_before: HOUR,
    abnormal_condition_only: options.abnormalOnly ?? false,
  };
}

function dishwasher(overrides: Partial<Definition> = {}): Definition {
  return {
    message_type: 'PPBC.PowerProfileDefinition',
    message_id: messageId(),
    id: id('d1'),
    start_time: '2026-01-01T00:00:00Z',
    end_time: '2026-01-01T12:00:00Z',
    power_sequences_containers: [
      {
        id: id('heat'),
        power_sequences: [
          sequence('heat:eco', 2, { interruptible: true }),
          sequence('heat:fast', 1),
          sequence('heat:boost', 0.5, { abnormalOnly: true }),
        ],
      },
      { id: id('dry'), power_sequences: [sequence('dry:eco', 1, { interruptible: true })] },
    ],
    ...overrides,
  };
}

function evSession(): Definition {
  return {
    message_type: 'PPBC.PowerProfileDefinition',
    message_id: messageId(),
    id: id('d2'),
    start_time: '2026-01-01T00:00:00Z',
    end_time: '2026-01-02T00:00:00Z',
    power_sequences_containers: [{ id: id('ev'), power_sequences: [sequence('ev:slow', 6)] }],
  };
}

function instruction(type: InstructionType, label: string, path: [string, string, string], extra: Partial<Instruction> = {}): Instruction {
  return {
    message_type: type,
    message_id: messageId(),
    id: id(label),
    power_profile_id: id(path[0]),
    sequence_container_id: id(path[1]),
    power_sequence_id: id(path[2]),
    execution_time: '2026-01-01T01:00:00Z',
    abnormal_condition: false,
    ...extra,
  };
}
const schedule = (label: string, path: [string, string, string], extra: Partial<Instruction> = {}) =>
  instruction('PPBC.ScheduleInstruction', label, path, extra);

function entry(profile: string, container: string, status: PPBCPowerSequenceStatus, selected?: string): Entry {
  return {
    power_profile_id: id(profile),
    sequence_container_id: id(container),
    ...(selected === undefined ? {} : { selected_sequence_id: id(selected) }),
    ...(status === 'EXECUTING' || status === 'INTERRUPTED' ? { progress: 600_000 } : {}),
    status,
  };
}

/** A status of the dishwasher: `heat` as given, `dry` not scheduled. */
function status(
  heat: PPBCPowerSequenceStatus = 'NOT_SCHEDULED',
  selected?: string,
  entries?: Entry[],
): MessageOf<'PPBC.PowerProfileStatus'> {
  return {
    message_type: 'PPBC.PowerProfileStatus',
    message_id: messageId(),
    sequence_container_status: entries ?? [entry('d1', 'heat', heat, selected), entry('d1', 'dry', 'NOT_SCHEDULED')],
  };
}

const isu = (label: string, statusType: InstructionStatus): MessageOf<'InstructionStatusUpdate'> => ({
  message_type: 'InstructionStatusUpdate',
  message_id: messageId(),
  instruction_id: id(label),
  status_type: statusType,
  timestamp: '2026-01-01T00:00:00Z',
});

const revoke = (type: RevokableObjects, objectId: string): MessageOf<'RevokeObject'> => ({
  message_type: 'RevokeObject',
  message_id: messageId(),
  object_type: type,
  object_id: objectId,
});

/** Knowledge after learning these messages in order (what the statechart does with accepted ones). */
function know(...messages: IdentifiedMessage[]): PpbcKnowledge {
  return messages.reduce(
    (k, m) => (m.message_type === 'RevokeObject' ? ppbcRules.revoke(k, m.object_type, m.object_id) : ppbcRules.learn(k, m)),
    ppbcRules.empty(),
  );
}
const reject = (k: PpbcKnowledge, m: IdentifiedMessage) => ppbcRules.rejection!(k, m);

describe('PPBC test messages', () => {
  it('[R100] [R101] [R103] [R105] are schema- and rule-valid S2 messages', () => {
    for (const m of [
      dishwasher(),
      evSession(),
      status('EXECUTING', 'heat:eco'),
      ...INSTRUCTION_TYPES.map((t) => instruction(t, 'i1', ['d1', 'heat', 'heat:eco'])),
      isu('i1', 'ACCEPTED'),
      revoke('PPBC.PowerProfileDefinition', id('d1')),
    ]) {
      expectAccepted(m);
    }
  });
});

describe('ppbcRules: knowledge', () => {
  it('[R39] [R99] is described once a PPBC.PowerProfileDefinition is known', () => {
    expect(ppbcRules.described(ppbcRules.empty())).toBe(false);
    expect(ppbcRules.described(know(dishwasher()))).toBe(true);
    expect(ppbcRules.described(know(status()))).toBe(false);
  });

  it('[Q21] keeps several definitions side by side, keyed by id', () => {
    const k = know(dishwasher(), evSession());
    expect([...k.profiles.keys()]).toEqual([id('d1'), id('d2')]);
    expect(ppbcRules.refusal(k, schedule('i1', ['d2', 'ev', 'ev:slow']))).toBeUndefined();
    expect(ppbcRules.refusal(k, schedule('i2', ['d1', 'dry', 'dry:eco']))).toBeUndefined();
  });

  it('[Q21] [R102] a definition with a known id replaces it: the old containers are gone', () => {
    const replacement = dishwasher({ power_sequences_containers: [{ id: id('dry'), power_sequences: [sequence('dry:eco', 1)] }] });
    const k = know(dishwasher(), replacement);
    expect(k.profiles.size).toBe(1);
    expect(k.profiles.get(id('d1'))?.definition).toBe(replacement);
    expect(ppbcRules.refusal(k, schedule('i1', ['d1', 'heat', 'heat:eco']))).toMatch(/unknown sequence_container_id .*\(R102\)/);
    expect(ppbcRules.refusal(ppbcRules.empty(), replacement)).toBeUndefined();
  });

  it('[Q12] [R99] a replacement definition starts from fresh container states', () => {
    const k = know(dishwasher(), schedule('i1', ['d1', 'heat', 'heat:eco']), status('SCHEDULED', 'heat:eco'), dishwasher());
    expect(reject(k, schedule('i2', ['d1', 'heat', 'heat:fast']))).toBeUndefined();
  });

  it('[R4] compares ids case-insensitively', () => {
    const k = know(dishwasher());
    const upper = schedule('i1', ['d1', 'heat', 'heat:eco']);
    const m = {
      ...upper,
      power_profile_id: upper.power_profile_id.toUpperCase(),
      sequence_container_id: upper.sequence_container_id.toUpperCase(),
      power_sequence_id: upper.power_sequence_id.toUpperCase(),
    };
    expect(ppbcRules.refusal(k, m)).toBeUndefined();
    expect(ppbcRules.hasObject(k, 'PPBC.PowerProfileDefinition', id('d1').toUpperCase())).toBe(true);
  });

  it('[R105] learns the latest status per container; other messages leave the knowledge as it was', () => {
    const k = know(dishwasher(), status('EXECUTING', 'heat:eco'));
    const heat = k.profiles.get(id('d1'))?.containers.get(id('heat'));
    expect(heat).toMatchObject({ status: 'EXECUTING', selected: id('heat:eco'), schedule: undefined });
    expect(ppbcRules.learn(k, isu('i1', 'ACCEPTED'))).toBe(k);
    expect(ppbcRules.learn(k, instruction('PPBC.StartInterruptionInstruction', 'i2', ['d1', 'heat', 'heat:eco']))).toBe(k);
  });
});

describe('ppbcRules.refusal (INVALID_CONTENT)', () => {
  const k = know(dishwasher(), evSession());

  it.each(INSTRUCTION_TYPES)('[R102] accepts a %s whose profile → container → sequence path exists', (type) => {
    expect(ppbcRules.refusal(k, instruction(type, 'i1', ['d1', 'heat', 'heat:fast']))).toBeUndefined();
  });

  it.each(INSTRUCTION_TYPES)('[R102] refuses a %s naming an unknown power profile', (type) => {
    expect(ppbcRules.refusal(k, instruction(type, 'i1', ['d9', 'heat', 'heat:eco']))).toBe(
      `unknown power_profile_id ${id('d9')}: it is not a PPBC.PowerProfileDefinition the RM sent (R102)`,
    );
  });

  it.each(INSTRUCTION_TYPES)('[R102] refuses a %s naming a container of another profile', (type) => {
    expect(ppbcRules.refusal(k, instruction(type, 'i1', ['d1', 'ev', 'ev:slow']))).toBe(
      `unknown sequence_container_id ${id('ev')}: not a container of power profile ${id('d1')} (R102)`,
    );
  });

  it.each(INSTRUCTION_TYPES)('[R102] refuses a %s naming a sequence of another container (inconsistent path)', (type) => {
    expect(ppbcRules.refusal(k, instruction(type, 'i1', ['d1', 'dry', 'heat:eco']))).toBe(
      `unknown power sequence ${id('heat:eco')}: not a sequence of container ${id('dry')} of power profile ${id('d1')} (R102)`,
    );
  });

  it('[R102] refuses a sequence id that exists nowhere', () => {
    expect(ppbcRules.refusal(k, schedule('i1', ['d1', 'heat', 'heat:none']))).toMatch(/^unknown power sequence .*\(R102\)$/);
  });

  it('[R105] accepts a status that reports every container of the definition', () => {
    expect(ppbcRules.refusal(k, status('EXECUTING', 'heat:eco'))).toBeUndefined();
    expect(ppbcRules.refusal(k, status('NOT_SCHEDULED'))).toBeUndefined();
  });

  it('[Q21] [R105] a status may report on one definition and leave the other out', () => {
    expect(ppbcRules.refusal(k, status(undefined, undefined, [entry('d2', 'ev', 'SCHEDULED', 'ev:slow')]))).toBeUndefined();
  });

  it('[R39] [R99] refuses a status before any definition', () => {
    expect(ppbcRules.refusal(ppbcRules.empty(), status())).toBe(
      'PPBC.PowerProfileStatus before any PPBC.PowerProfileDefinition (R39, R99)',
    );
  });

  it.each([
    ['an unknown power profile', [entry('d9', 'heat', 'NOT_SCHEDULED')], /^unknown power_profile_id .*\(R105\)$/],
    [
      'a container of another profile',
      [entry('d1', 'heat', 'NOT_SCHEDULED'), entry('d1', 'dry', 'NOT_SCHEDULED'), entry('d1', 'ev', 'NOT_SCHEDULED')],
      /^unknown sequence_container_id .*\(R105\)$/,
    ],
    [
      'a selected sequence of another container',
      [entry('d1', 'heat', 'SCHEDULED', 'dry:eco'), entry('d1', 'dry', 'NOT_SCHEDULED')],
      /^unknown power sequence .*: not a sequence of container .*\(R105\)$/,
    ],
    [
      'a container twice',
      [entry('d1', 'heat', 'NOT_SCHEDULED'), entry('d1', 'dry', 'NOT_SCHEDULED'), entry('d1', 'heat', 'SCHEDULED', 'heat:eco')],
      /has two statuses \(R105\)$/,
    ],
    [
      'no entry for one of the containers',
      [entry('d1', 'heat', 'SCHEDULED', 'heat:eco')],
      /omits sequence container .* must report every container \(R105\)$/,
    ],
  ] as const)('[R105] refuses a status naming %s', (_, entries, reason) => {
    expect(ppbcRules.refusal(k, status(undefined, undefined, [...entries]))).toMatch(reason);
  });
});

describe('ppbcRules.hasObject / revoke (RevokeObject)', () => {
  it('[R54] [R56] [Q10] names a definition by its id, not its message_id', () => {
    const d1 = dishwasher();
    const k = know(d1);
    expect(ppbcRules.hasObject(k, 'PPBC.PowerProfileDefinition', d1.id)).toBe(true);
    expect(ppbcRules.hasObject(k, 'PPBC.PowerProfileDefinition', d1.message_id)).toBe(false);
    expect(ppbcRules.hasObject(k, 'PPBC.PowerProfileDefinition', id('d2'))).toBe(false);
    expect(ppbcRules.hasObject(k, 'FRBC.SystemDescription', d1.id)).toBe(false);
  });

  it('[R54] [R58] a revoked definition is gone: instructions and statuses naming it are refused, saying why', () => {
    const k = know(dishwasher(), evSession(), revoke('PPBC.PowerProfileDefinition', id('d1')));
    expect(ppbcRules.hasObject(k, 'PPBC.PowerProfileDefinition', id('d1'))).toBe(false);
    expect(ppbcRules.described(k)).toBe(true);
    expect(ppbcRules.refusal(k, schedule('i1', ['d1', 'heat', 'heat:eco']))).toBe(
      `unknown power_profile_id ${id('d1')}: it was revoked (R58) (R102)`,
    );
    expect(ppbcRules.refusal(k, status())).toMatch(/was revoked \(R58\) \(R105\)$/);
    expect(ppbcRules.described(ppbcRules.revoke(k, 'PPBC.PowerProfileDefinition', id('d2')))).toBe(false);
  });

  it('[Q21] [R58] a definition sent again after its revocation is known again', () => {
    const k = know(dishwasher(), revoke('PPBC.PowerProfileDefinition', id('d1')), dishwasher());
    expect(ppbcRules.refusal(k, schedule('i1', ['d1', 'heat', 'heat:eco']))).toBeUndefined();
    expect(k.revoked.size).toBe(0);
  });

  it('[R58] revoking an unknown object or an instruction nobody scheduled changes nothing', () => {
    const k = know(dishwasher());
    expect(ppbcRules.revoke(k, 'PPBC.ScheduleInstruction', id('i9'))).toBe(k);
    expect(ppbcRules.revoke(k, 'PPBC.StartInterruptionInstruction', id('i9'))).toBe(k);
  });
});

describe('ppbcRules.rejection (RM answers OK, then REJECTED: Q14)', () => {
  const base = [dishwasher(), evSession(), status()] as const;

  it('[Q14] [R102] leaves unknown references and non-instructions to refusal', () => {
    const k = know(...base);
    expect(reject(k, schedule('i1', ['d9', 'heat', 'heat:eco']))).toBeUndefined();
    expect(reject(k, instruction('PPBC.StartInterruptionInstruction', 'i1', ['d1', 'dry', 'heat:fast']))).toBeUndefined();
    expect(reject(k, status())).toBeUndefined();
  });

  it('[R50] rejects scheduling an abnormal-only sequence without abnormal_condition', () => {
    const k = know(...base);
    expect(reject(k, schedule('i1', ['d1', 'heat', 'heat:boost']))).toBe(
      `power sequence ${id('heat:boost')} is for abnormal conditions only and abnormal_condition is false (R50)`,
    );
    expect(reject(k, schedule('i1', ['d1', 'heat', 'heat:boost'], { abnormal_condition: true }))).toBeUndefined();
  });

  it('[R103] [R52] rejects a second schedule for a container while the first is in force; other containers are free', () => {
    const k = know(...base, schedule('i1', ['d1', 'heat', 'heat:eco']));
    expect(reject(k, schedule('i2', ['d1', 'heat', 'heat:fast']))).toBe(
      `container ${id('heat')} already has sequence ${id('heat:eco')} scheduled by instruction ${id('i1')}; revoke that first (R103, R52)`,
    );
    expect(reject(k, schedule('i2', ['d1', 'dry', 'dry:eco'], { execution_time: '2026-01-01T03:00:00Z' }))).toBeUndefined();
    expect(reject(k, schedule('i2', ['d2', 'ev', 'ev:slow']))).toBeUndefined();
  });

  it('[R103] [R58] revoking the schedule frees its container, also once the RM reported it SCHEDULED', () => {
    const scheduled = [...base, schedule('i1', ['d1', 'heat', 'heat:eco']), status('SCHEDULED', 'heat:eco')] as const;
    const k = know(...scheduled, revoke('PPBC.ScheduleInstruction', id('i1')));
    expect(k.profiles.get(id('d1'))?.containers.get(id('heat'))).toMatchObject({
      status: 'NOT_SCHEDULED',
      selected: undefined,
      schedule: undefined,
    });
    expect(reject(k, schedule('i2', ['d1', 'heat', 'heat:fast']))).toBeUndefined();
  });

  it('[R103] [R58] revoking a running schedule keeps the RM-reported EXECUTING until its next status', () => {
    const k = know(
      ...base,
      schedule('i1', ['d1', 'heat', 'heat:eco']),
      status('EXECUTING', 'heat:eco'),
      revoke('PPBC.ScheduleInstruction', id('i1')),
    );
    expect(reject(k, schedule('i2', ['d1', 'heat', 'heat:fast']))).toMatch(
      /is EXECUTING \(sequence .*\) per the latest PPBC.PowerProfileStatus.*\(R103, R106\)$/,
    );
  });

  it.each(['SCHEDULED', 'EXECUTING', 'INTERRUPTED', 'FINISHED', 'ABORTED'] as const)(
    '[R103] [R106] rejects a schedule for a container the RM reports %s',
    (reported) => {
      const k = know(...base, status(reported, 'heat:eco'));
      expect(reject(k, schedule('i1', ['d1', 'heat', 'heat:fast']))).toBe(
        `container ${id('heat')} is ${reported} (sequence ${id('heat:eco')}) per the latest PPBC.PowerProfileStatus: at most one sequence per container (R103, R106)`,
      );
    },
  );

  it('[R103] a later NOT_SCHEDULED status drops a schedule the RM did not take', () => {
    const k = know(...base, schedule('i1', ['d1', 'heat', 'heat:eco']), status('NOT_SCHEDULED'));
    expect(reject(k, schedule('i2', ['d1', 'heat', 'heat:fast']))).toBeUndefined();
  });

  it('[R103] [Q14] a schedule the rules reject is not learnt as scheduling anything', () => {
    const k = know(...base, schedule('i1', ['d1', 'heat', 'heat:boost']));
    expect(k.profiles.get(id('d1'))?.containers.get(id('heat'))?.schedule).toBeUndefined();
    expect(reject(k, schedule('i2', ['d1', 'heat', 'heat:eco']))).toBeUndefined();
  });

  it('[R103] rejects a sequence that would start before start_time or end after end_time', () => {
    const k = know(...base);
    const early = schedule('i1', ['d1', 'heat', 'heat:eco'], { execution_time: '2025-12-31T23:59:59Z' });
    expect(reject(k, early)).toBe(
      `execution_time 2025-12-31T23:59:59Z is before the power profile's start_time 2026-01-01T00:00:00Z (R103)`,
    );
    const late = schedule('i1', ['d1', 'heat', 'heat:eco'], { execution_time: '2026-01-01T10:00:01Z' });
    expect(reject(k, late)).toBe(
      `sequence ${id('heat:eco')} (7200000 ms) from 2026-01-01T10:00:01Z ends after the power profile's end_time 2026-01-01T12:00:00Z (R103)`,
    );
    expect(reject(k, schedule('i1', ['d1', 'heat', 'heat:eco'], { execution_time: '2026-01-01T10:00:00Z' }))).toBeUndefined();
    expect(reject(k, schedule('i1', ['d1', 'heat', 'heat:eco'], { execution_time: '2026-01-01T01:00:00+01:00' }))).toBeUndefined();
  });

  it('[R104] rejects interrupting a sequence that is not interruptible', () => {
    const k = know(...base, status('EXECUTING', 'heat:fast'));
    expect(reject(k, instruction('PPBC.StartInterruptionInstruction', 'i1', ['d1', 'heat', 'heat:fast']))).toBe(
      `power sequence ${id('heat:fast')} is not interruptible (is_interruptible: false) (R104)`,
    );
    expect(reject(k, instruction('PPBC.EndInterruptionInstruction', 'i1', ['d1', 'heat', 'heat:fast']))).toMatch(
      /not interruptible .*\(R104\)$/,
    );
  });

  it.each([
    ['PPBC.StartInterruptionInstruction', 'EXECUTING', ['SCHEDULED', 'INTERRUPTED', 'FINISHED', 'NOT_SCHEDULED']],
    ['PPBC.EndInterruptionInstruction', 'INTERRUPTED', ['SCHEDULED', 'EXECUTING', 'FINISHED', 'ABORTED']],
  ] as const)('[R104] accepts a %s only while the selected sequence is %s', (type, needed, others) => {
    const m = instruction(type, 'i1', ['d1', 'heat', 'heat:eco']);
    expect(reject(know(...base, status(needed, 'heat:eco')), m)).toBeUndefined();
    for (const other of others) {
      expect(reject(know(...base, status(other, 'heat:eco')), m)).toBe(
        `${type} needs power sequence ${id('heat:eco')} ${needed}, but the latest PPBC.PowerProfileStatus reports container ${id('heat')} ${other} (sequence ${id('heat:eco')}) (R104)`,
      );
    }
  });

  it('[R104] rejects interrupting a sequence other than the selected one, or before any status', () => {
    const m = instruction('PPBC.StartInterruptionInstruction', 'i1', ['d1', 'dry', 'dry:eco']);
    expect(reject(know(dishwasher()), m)).toBe(
      `${m.message_type} needs power sequence ${id('dry:eco')} EXECUTING, but the latest PPBC.PowerProfileStatus reports container ${id('dry')} NOT_SCHEDULED (R104)`,
    );
    const heat = instruction('PPBC.StartInterruptionInstruction', 'i1', ['d1', 'heat', 'heat:eco']);
    expect(reject(know(...base, status('EXECUTING', 'heat:fast')), heat)).toMatch(
      /reports container .* EXECUTING \(sequence .*\) \(R104\)$/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The real control-type statechart, with these rules, under a recording parent.

const accepted = (replies: ControlTypeReply[]) => replies.filter((r) => r.type === 'ct.accepted').length;
const refusal = (replies: ControlTypeReply[]) => {
  const r = replies.find((x) => x.type === 'ct.refused');
  return r?.type === 'ct.refused' ? r.reason : undefined;
};
const notices = (replies: ControlTypeReply[]) => replies.flatMap((r) => (r.type === 'ct.notice' ? [r.notice] : []));
const instructionNotice = (replies: ControlTypeReply[]) => {
  const n = notices(replies).find((x) => x.kind === 'instruction');
  return n?.kind === 'instruction' ? n : undefined;
};

let harness: ReturnType<typeof controlTypeHarness> | undefined;
function start(role: SessionRole) {
  harness = controlTypeHarness(ppbcRules, role);
  return harness;
}
afterEach(() => harness?.stop());

describe('PPBC statechart, CEM side (receives the RM messages)', () => {
  it('[R39] [R99] [R105] accepts a definition then a status and becomes described', () => {
    const h = start('CEM');
    expect(h.state).toBe('awaitingDescription');
    expect(h.send('in', dishwasher())).toEqual([
      { type: 'ct.accepted', message: expect.objectContaining({ message_type: 'PPBC.PowerProfileDefinition' }) as unknown },
    ]);
    expect(h.state).toBe('described');
    expect(accepted(h.send('in', status('SCHEDULED', 'heat:eco')))).toBe(1);
    expect((h.context.knowledge as PpbcKnowledge).profiles.get(id('d1'))?.containers.get(id('heat'))?.status).toBe('SCHEDULED');
  });

  it('[R39] [R99] refuses a status before any definition and stays awaitingDescription', () => {
    const h = start('CEM');
    expect(refusal(h.send('in', status()))).toBe('PPBC.PowerProfileStatus before any PPBC.PowerProfileDefinition (R39, R99)');
    expect(h.state).toBe('awaitingDescription');
  });

  it.each([
    ['an unknown profile', [entry('d9', 'heat', 'NOT_SCHEDULED')]],
    [
      'an unknown container',
      [entry('d1', 'heat', 'NOT_SCHEDULED'), entry('d1', 'dry', 'NOT_SCHEDULED'), entry('d1', 'ev', 'NOT_SCHEDULED')],
    ],
    ['a selected sequence of another container', [entry('d1', 'heat', 'EXECUTING', 'dry:eco'), entry('d1', 'dry', 'NOT_SCHEDULED')]],
    ['too few containers', [entry('d1', 'dry', 'NOT_SCHEDULED')]],
  ] as const)('[R105] refuses a status naming %s and learns nothing from it', (_, entries) => {
    const h = start('CEM');
    h.send('in', dishwasher());
    const before = h.context.knowledge;
    const replies = h.send('in', status(undefined, undefined, [...entries]));
    expect(replies).toHaveLength(1);
    expect(refusal(replies)).toMatch(/\(R105\)$/);
    expect(h.context.knowledge).toBe(before);
  });

  it('[R54] [R56] [R58] the RM revokes its definition by id: awaitingDescription again, statuses naming it refused', () => {
    const h = start('CEM');
    h.send('in', dishwasher());
    expect(accepted(h.send('in', revoke('PPBC.PowerProfileDefinition', id('d1'))))).toBe(1);
    expect(h.state).toBe('awaitingDescription');
    expect(refusal(h.send('in', status()))).toBe('PPBC.PowerProfileStatus before any PPBC.PowerProfileDefinition (R39, R99)');
    // The CEM's own next instruction would be stopped by the roles layer with the same rules.
    expect(controlTypeRefusal(ppbcRules, h.context, schedule('i1', ['d1', 'heat', 'heat:eco']), 'CEM')).toBe(
      'PPBC.ScheduleInstruction before the RM described its flexibility (R39)',
    );
  });

  it('[R54] [R56] refuses revoking a definition by its message_id, an unknown one, or twice', () => {
    const h = start('CEM');
    const d1 = dishwasher();
    h.send('in', d1);
    expect(refusal(h.send('in', revoke('PPBC.PowerProfileDefinition', d1.message_id)))).toBe(
      `no PPBC.PowerProfileDefinition with id ${d1.message_id} to revoke (R54, R56)`,
    );
    expect(refusal(h.send('in', revoke('PPBC.PowerProfileDefinition', id('d2'))))).toMatch(/\(R54, R56\)$/);
    h.send('in', revoke('PPBC.PowerProfileDefinition', id('d1')));
    expect(refusal(h.send('in', revoke('PPBC.PowerProfileDefinition', id('d1'))))).toMatch(/\(R54, R56\)$/);
  });

  it('[R58] [Q21] revoking one of two definitions keeps the type described; the other stays usable', () => {
    const h = start('CEM');
    h.send('in', dishwasher());
    h.send('in', evSession());
    h.send('in', revoke('PPBC.PowerProfileDefinition', id('d1')));
    expect(h.state).toBe('described');
    expect(refusal(h.send('in', status()))).toMatch(/was revoked \(R58\) \(R105\)$/);
    expect(accepted(h.send('in', status(undefined, undefined, [entry('d2', 'ev', 'NOT_SCHEDULED')])))).toBe(1);
    expect(controlTypeRefusal(ppbcRules, h.context, schedule('i1', ['d1', 'heat', 'heat:eco']), 'CEM')).toBe(
      `unknown power_profile_id ${id('d1')}: it was revoked (R58) (R102)`,
    );
    expect(controlTypeRefusal(ppbcRules, h.context, schedule('i1', ['d2', 'ev', 'ev:slow']), 'CEM')).toBeUndefined();
  });

  it('[R44] [R45] [R46] follows a sent ScheduleInstruction through received InstructionStatusUpdates', () => {
    const h = start('CEM');
    h.send('in', dishwasher());
    expect(h.send('out', schedule('i1', ['d1', 'heat', 'heat:eco']))).toEqual([]);
    expect(h.context.instructions.get(id('i1'))).toEqual({ messageType: 'PPBC.ScheduleInstruction', status: undefined, revoked: false });

    for (const step of ['ACCEPTED', 'STARTED'] as const) {
      const replies = h.send('in', isu('i1', step));
      expect(accepted(replies)).toBe(1);
      expect(notices(replies)).toEqual([{ kind: 'status', instructionId: id('i1'), status: step }]);
    }
    // R46: back from STARTED to ACCEPTED is not a legal transition.
    expect(refusal(h.send('in', isu('i1', 'ACCEPTED')))).toBe(
      `instruction ${id('i1')}: ACCEPTED may not follow STARTED (R46: allowed next: SUCCEEDED, ABORTED, REVOKED)`,
    );
    expect(h.context.instructions.get(id('i1'))?.status).toBe('STARTED');
    expect(accepted(h.send('in', isu('i1', 'SUCCEEDED')))).toBe(1);
    // R44: nothing follows a final status.
    expect(refusal(h.send('in', isu('i1', 'ABORTED')))).toBe(`instruction ${id('i1')} is already final (SUCCEEDED) (R44, R46)`);
    expect(refusal(h.send('in', isu('i9', 'ACCEPTED')))).toBe(
      `unknown instruction_id ${id('i9')}: no instruction with that id in this session (R45)`,
    );
  });

  it("[R55] refuses the RM revoking the CEM's instruction", () => {
    const h = start('CEM');
    h.send('in', dishwasher());
    h.send('out', schedule('i1', ['d1', 'heat', 'heat:eco']));
    expect(refusal(h.send('in', revoke('PPBC.ScheduleInstruction', id('i1'))))).toMatch(
      /^RM cannot revoke a PPBC.ScheduleInstruction.*\(R55\)$/,
    );
  });

  it("[R102] [R39] the roles layer stops the CEM's badly referenced instructions with the same rules", () => {
    const h = start('CEM');
    expect(controlTypeRefusal(ppbcRules, h.context, schedule('i1', ['d1', 'heat', 'heat:eco']), 'CEM')).toMatch(/\(R39\)$/);
    h.send('in', dishwasher());
    expect(
      controlTypeRefusal(ppbcRules, h.context, instruction('PPBC.EndInterruptionInstruction', 'i1', ['d1', 'dry', 'heat:eco']), 'CEM'),
    ).toMatch(/^unknown power sequence .*\(R102\)$/);
  });
});

describe('PPBC statechart, RM side (receives the CEM instructions)', () => {
  /** An RM that has sent its dishwasher definition and a status (`out`). */
  function described(heat: PPBCPowerSequenceStatus = 'NOT_SCHEDULED', selected?: string) {
    const h = start('RM');
    expect(h.send('out', dishwasher())).toEqual([]);
    h.send('out', status(heat, selected));
    expect(h.state).toBe('described');
    return h;
  }

  it.each(INSTRUCTION_TYPES)('[R39] refuses a %s before any definition', (type) => {
    const h = start('RM');
    const replies = h.send('in', instruction(type, 'i1', ['d1', 'heat', 'heat:eco']));
    expect(replies).toHaveLength(1);
    expect(refusal(replies)).toBe(`${type} before the RM described its flexibility (R39)`);
    expect(h.context.instructions.size).toBe(0);
  });

  it('[R39] [R99] [R102] accepts a well-referenced ScheduleInstruction after its definition and status', () => {
    const h = described();
    const m = schedule('i1', ['d1', 'heat', 'heat:eco']);
    const replies = h.send('in', m);
    expect(replies).toEqual([
      { type: 'ct.accepted', message: m },
      { type: 'ct.notice', notice: { kind: 'instruction', instruction: m, rejection: undefined } },
    ]);
    expect(h.context.instructions.get(id('i1'))).toEqual({ messageType: 'PPBC.ScheduleInstruction', status: undefined, revoked: false });
  });

  it.each([
    ['power profile', ['d9', 'heat', 'heat:eco'], 'unknown power_profile_id'],
    ['container', ['d1', 'ev', 'heat:eco'], 'unknown sequence_container_id'],
    ['sequence of the container', ['d1', 'dry', 'heat:eco'], 'unknown power sequence'],
  ] as const)('[R102] [R49] refuses an instruction naming an unknown %s: no notice, no instruction', (_, path, start) => {
    for (const type of INSTRUCTION_TYPES) {
      const h = described('EXECUTING', 'heat:eco');
      const replies = h.send('in', instruction(type, 'i1', [...path]));
      expect(replies).toHaveLength(1);
      expect(refusal(replies)).toMatch(new RegExp(`^${start} .*\\(R102\\)$`));
      expect(h.context.instructions.size).toBe(0);
    }
  });

  it('[R42] refuses an instruction id used before in the session', () => {
    const h = described();
    h.send('in', schedule('i1', ['d1', 'heat', 'heat:eco']));
    expect(refusal(h.send('in', schedule('i1', ['d1', 'dry', 'dry:eco'])))).toBe(
      `instruction id ${id('i1')} was already used in this session (R42)`,
    );
  });

  it('[R54] [R56] [R58] the RM revokes its definition: awaitingDescription, later instructions refused', () => {
    const h = described();
    h.send('out', evSession());
    h.send('out', revoke('PPBC.PowerProfileDefinition', id('d1')));
    expect(h.state).toBe('described');
    expect(refusal(h.send('in', schedule('i1', ['d1', 'heat', 'heat:eco'])))).toBe(
      `unknown power_profile_id ${id('d1')}: it was revoked (R58) (R102)`,
    );
    expect(accepted(h.send('in', schedule('i2', ['d2', 'ev', 'ev:slow'])))).toBe(1);
    h.send('out', revoke('PPBC.PowerProfileDefinition', id('d2')));
    expect(h.state).toBe('awaitingDescription');
    expect(refusal(h.send('in', schedule('i3', ['d2', 'ev', 'ev:slow'])))).toMatch(/\(R39\)$/);
  });

  it("[R55] refuses the CEM revoking the RM's definition", () => {
    const h = described();
    expect(refusal(h.send('in', revoke('PPBC.PowerProfileDefinition', id('d1'))))).toMatch(
      /^CEM cannot revoke a PPBC.PowerProfileDefinition.*\(R55\)$/,
    );
    expect(h.state).toBe('described');
  });

  it('[R44] [R46] drives an instruction through the InstructionStatusUpdates the RM sends', () => {
    const h = described();
    h.send('in', schedule('i1', ['d1', 'heat', 'heat:eco']));
    /** What the roles layer checks before letting the RM application send a status. */
    const whyNot = (m: MessageOf<'InstructionStatusUpdate'>) =>
      controlTypeRefusal(ppbcRules, h.context, m, 'RM') ??
      statusTransitionRefusal(h.context.instructions.get(m.instruction_id)?.status, m.status_type);

    for (const step of ['ACCEPTED', 'STARTED'] as const) {
      expect(whyNot(isu('i1', step))).toBeUndefined();
      expect(notices(h.send('out', isu('i1', step)))).toEqual([{ kind: 'status', instructionId: id('i1'), status: step }]);
    }
    // R46: ACCEPTED after STARTED may not be sent; were it pushed through, the instruction ignores it.
    expect(whyNot(isu('i1', 'ACCEPTED'))).toBe('ACCEPTED may not follow STARTED (R46: allowed next: SUCCEEDED, ABORTED, REVOKED)');
    expect(h.send('out', isu('i1', 'ACCEPTED'))).toEqual([]);
    expect(h.context.instructions.get(id('i1'))?.status).toBe('STARTED');
    expect(notices(h.send('out', isu('i1', 'SUCCEEDED')))).toEqual([{ kind: 'status', instructionId: id('i1'), status: 'SUCCEEDED' }]);
    expect(whyNot(isu('i1', 'ABORTED'))).toBe(`instruction ${id('i1')} is already final (SUCCEEDED) (R44, R46)`);
    expect(whyNot(isu('i9', 'ACCEPTED'))).toMatch(/\(R45\)$/);
  });

  it('[R54] [R55] [R58] [R103] the CEM revokes a ScheduleInstruction: revoked notice, container free again', () => {
    const h = described();
    h.send('in', schedule('i1', ['d1', 'heat', 'heat:eco']));
    h.send('out', isu('i1', 'ACCEPTED'));
    h.send('out', status('SCHEDULED', 'heat:eco'));
    expect(instructionNotice(h.send('in', schedule('i2', ['d1', 'heat', 'heat:fast'])))?.rejection).toMatch(/\(R103, R52\)$/);

    const replies = h.send('in', revoke('PPBC.ScheduleInstruction', id('i1')));
    expect(accepted(replies)).toBe(1);
    expect(notices(replies)).toEqual([{ kind: 'revoked', instructionId: id('i1') }]);
    expect(instructionNotice(h.send('in', schedule('i3', ['d1', 'heat', 'heat:fast'])))?.rejection).toBeUndefined();

    h.send('out', isu('i1', 'REVOKED'));
    expect(refusal(h.send('in', revoke('PPBC.ScheduleInstruction', id('i1'))))).toBe(
      `PPBC.ScheduleInstruction ${id('i1')} is already final (REVOKED) (R54)`,
    );
    expect(refusal(h.send('in', revoke('PPBC.StartInterruptionInstruction', id('i3'))))).toMatch(
      /^no PPBC.StartInterruptionInstruction with id .*\(R54\)$/,
    );
  });

  it('[R50] [Q14] an abnormal-only sequence without abnormal_condition is accepted with a rejection', () => {
    const h = described();
    const replies = h.send('in', schedule('i1', ['d1', 'heat', 'heat:boost']));
    expect(accepted(replies)).toBe(1);
    expect(instructionNotice(replies)?.rejection).toMatch(/abnormal conditions only .*\(R50\)$/);
    expect(
      instructionNotice(h.send('in', schedule('i2', ['d1', 'heat', 'heat:boost'], { abnormal_condition: true })))?.rejection,
    ).toBeUndefined();
  });

  it('[R103] [Q14] a second schedule for one container, or one outside the profile window, carries a rejection', () => {
    const h = described();
    expect(instructionNotice(h.send('in', schedule('i1', ['d1', 'heat', 'heat:eco'])))?.rejection).toBeUndefined();
    expect(instructionNotice(h.send('in', schedule('i2', ['d1', 'heat', 'heat:fast'])))?.rejection).toMatch(
      /already has sequence .* scheduled by instruction .*\(R103, R52\)$/,
    );
    expect(
      instructionNotice(h.send('in', schedule('i3', ['d1', 'dry', 'dry:eco'], { execution_time: '2026-01-01T11:30:00Z' })))?.rejection,
    ).toMatch(/ends after the power profile's end_time .*\(R103\)$/);
    expect(
      instructionNotice(h.send('in', schedule('i4', ['d1', 'dry', 'dry:eco'], { execution_time: '2026-01-01T03:00:00Z' })))?.rejection,
    ).toBeUndefined();
  });

  it('[R104] [Q14] interruptions carry a rejection unless the interruptible sequence is EXECUTING / INTERRUPTED', () => {
    const h = described('SCHEDULED', 'heat:eco');
    const start1 = (label: string, seq = 'heat:eco') =>
      instructionNotice(h.send('in', instruction('PPBC.StartInterruptionInstruction', label, ['d1', 'heat', seq])))?.rejection;
    const end1 = (label: string) =>
      instructionNotice(h.send('in', instruction('PPBC.EndInterruptionInstruction', label, ['d1', 'heat', 'heat:eco'])))?.rejection;
    expect(start1('i1')).toMatch(/reports container .* SCHEDULED .*\(R104\)$/);
    expect(start1('i2', 'heat:fast')).toMatch(/is not interruptible .*\(R104\)$/);
    h.send('out', status('EXECUTING', 'heat:eco'));
    expect(end1('i3')).toMatch(/needs power sequence .* INTERRUPTED, .* EXECUTING .*\(R104\)$/);
    expect(start1('i4')).toBeUndefined();
    h.send('out', status('INTERRUPTED', 'heat:eco'));
    expect(start1('i5')).toMatch(/needs power sequence .* EXECUTING, .* INTERRUPTED .*\(R104\)$/);
    expect(end1('i6')).toBeUndefined();
  });
});
