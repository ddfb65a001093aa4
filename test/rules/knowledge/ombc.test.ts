import { afterEach, describe, expect, it } from 'vitest';
import { controlTypeRefusal, type ControlTypeNotice, type ControlTypeReply } from '../../../src/machines/control-type.js';
import type { SessionRole } from '../../../src/machines/events.js';
import { ombcRules, type OmbcKnowledge } from '../../../src/rules/knowledge/ombc.js';
import type { ControlTypeRules } from '../../../src/rules/knowledge/types.js';
import type { InstructionStatus, RevokableObjects } from '../../../src/typebox/common/enums.js';
import type { MessageOf } from '../../../src/typebox/registry.js';
import { controlTypeHarness } from '../../support/control-type-harness.js';
import { expectAccepted, uuid } from '../support.js';

type SystemDescription = MessageOf<'OMBC.SystemDescription'>;
type Instruction = MessageOf<'OMBC.Instruction'>;

/*
 * A combined heat-and-power unit under OMBC: off, half and full load, plus a "boost" mode reserved
 * for abnormal conditions. Minimum run and minimum off times are timers; an abnormal-only
 * emergency stop (half → off) ignores the minimum run time.
 */
const mode = (name: string) => uuid(`ombc:mode:${name}`);
const timer = (name: string) => uuid(`ombc:timer:${name}`);
const transitionId = (name: string) => uuid(`ombc:transition:${name}`);
const instructionId = (name: string) => uuid(`ombc:instruction:${name}`);
const NOW = Date.parse('2026-01-01T00:00:00Z');
const IN_30_MIN = '2026-01-01T00:30:00Z';

function description(label = 'd1', modes: readonly string[] = ['off', 'half', 'full', 'boost']): SystemDescription {
  const kw: Record<string, number> = { off: 0, half: 3, full: 6, boost: 7 };
  const t = (name: string, from: string, to: string, extra: Partial<SystemDescription['transitions'][number]> = {}) => ({
    id: transitionId(name),
    from: mode(from),
    to: mode(to),
    start_timers: [],
    blocking_timers: [],
    abnormal_condition_only: false,
    ...extra,
  });
  const transitions = [
    t('off-half', 'off', 'half', { start_timers: [timer('min-run')], blocking_timers: [timer('min-off')], transition_duration: 60_000 }),
    t('half-full', 'half', 'full'),
    t('full-half', 'full', 'half'),
    t('half-off', 'half', 'off', { start_timers: [timer('min-off')], blocking_timers: [timer('min-run')] }),
    t('half-off-emergency', 'half', 'off', { abnormal_condition_only: true }),
    t('off-full-emergency', 'off', 'full', { abnormal_condition_only: true }),
    t('full-boost', 'full', 'boost'),
  ].filter((x) => modes.some((m) => mode(m) === x.from) && modes.some((m) => mode(m) === x.to));
  return {
    message_type: 'OMBC.SystemDescription',
    message_id: uuid(`ombc:description:${label}`),
    valid_from: '2025-12-31T23:59:00Z',
    operation_modes: modes.map((name) => ({
      id: mode(name),
      diagnostic_label: name,
      power_ranges: [
        {
          start_of_range: -kw[name]! * 1000,
          end_of_range: -kw[name]! * 800,
          commodity_quantity: 'ELECTRIC.POWER.3_PHASE_SYMMETRIC' as const,
        },
      ],
      abnormal_condition_only: name === 'boost',
    })),
    transitions,
    timers: [
      { id: timer('min-run'), diagnostic_label: 'minimum run time', duration: 900_000 },
      { id: timer('min-off'), diagnostic_label: 'minimum off time', duration: 600_000 },
    ],
  };
}

function status(active: string, previous?: string): MessageOf<'OMBC.Status'> {
  return {
    message_type: 'OMBC.Status',
    message_id: uuid(`ombc:status:${active}:${previous ?? '-'}`),
    active_operation_mode_id: mode(active),
    operation_mode_factor: 0.5,
    ...(previous === undefined ? {} : { previous_operation_mode_id: mode(previous), transition_timestamp: '2025-12-31T23:50:00Z' }),
  };
}

function timerStatus(name: string, finishedAt: string): MessageOf<'OMBC.TimerStatus'> {
  return {
    message_type: 'OMBC.TimerStatus',
    message_id: uuid(`ombc:timer-status:${name}:${finishedAt}`),
    timer_id: timer(name),
    finished_at: finishedAt,
  };
}

function instruction(label: string, target: string, options: { abnormal?: boolean; at?: string } = {}): Instruction {
  return {
    message_type: 'OMBC.Instruction',
    message_id: uuid(`ombc:instruction-message:${label}`),
    id: instructionId(label),
    execution_time: options.at ?? IN_30_MIN,
    operation_mode_id: mode(target),
    operation_mode_factor: 1,
    abnormal_condition: options.abnormal ?? false,
  };
}

function isu(label: string, statusType: InstructionStatus, n = 0): MessageOf<'InstructionStatusUpdate'> {
  return {
    message_type: 'InstructionStatusUpdate',
    message_id: uuid(`ombc:isu:${label}:${statusType}:${n}`),
    instruction_id: instructionId(label),
    status_type: statusType,
    timestamp: new Date(NOW + 1000 * (n + 1)).toISOString(),
  };
}

function revoke(objectType: RevokableObjects, objectId: string): MessageOf<'RevokeObject'> {
  return {
    message_type: 'RevokeObject',
    message_id: uuid(`ombc:revoke:${objectType}:${objectId}`),
    object_type: objectType,
    object_id: objectId,
  };
}

/** Knowledge after a sequence of accepted messages. */
function know(...messages: Parameters<typeof ombcRules.learn>[1][]): OmbcKnowledge {
  return messages.reduce((k, m) => ombcRules.learn(k, m), ombcRules.empty());
}

const rules = ombcRules as ControlTypeRules<unknown>;
const harnesses: { stop(): void }[] = [];
function harness(role: SessionRole) {
  const h = controlTypeHarness(rules, role, { now: NOW });
  harnesses.push(h);
  return h;
}
afterEach(() => {
  for (const h of harnesses.splice(0)) h.stop();
});

const types = (replies: ControlTypeReply[]) => replies.map((r) => r.type);
/** The reply types in a stable order (the statechart's order is not part of the contract). */
const sortedTypes = (replies: ControlTypeReply[]) => types(replies).sort();
function refusedReason(replies: ControlTypeReply[]): string {
  expect(types(replies)).toEqual(['ct.refused']);
  return (replies[0] as Extract<ControlTypeReply, { type: 'ct.refused' }>).reason;
}
function notices(replies: ControlTypeReply[]): ControlTypeNotice[] {
  return replies.flatMap((r) => (r.type === 'ct.notice' ? [r.notice] : []));
}
function rejectionOf(replies: ControlTypeReply[]): string | undefined {
  expect(types(replies)).toEqual(['ct.accepted', 'ct.notice']);
  const notice = notices(replies)[0];
  if (notice?.kind !== 'instruction') throw new Error('expected an instruction notice');
  return notice.rejection;
}

describe('OMBC test messages', () => {
  it('[R68] [R69] [R70] [R67] are schema-valid and pass the intra-message rules', () => {
    for (const m of [
      description(),
      description('d2', ['off', 'half']),
      status('half', 'off'),
      timerStatus('min-run', IN_30_MIN),
      instruction('i', 'full'),
      isu('i', 'ACCEPTED'),
      revoke('OMBC.SystemDescription', description().message_id),
    ]) {
      expectAccepted(m);
    }
  });
});

describe('ombcRules (pure functions)', () => {
  it('[R39] knows nothing when empty and is described after an OMBC.SystemDescription', () => {
    const k = ombcRules.empty();
    expect(ombcRules.described(k)).toBe(false);
    expect(ombcRules.hasObject(k, 'OMBC.SystemDescription', description().message_id)).toBe(false);
    expect(ombcRules.refusal(k, instruction('i', 'half'))).toMatch(/R39/);
    const after = ombcRules.learn(k, description());
    expect(ombcRules.described(after)).toBe(true);
    expect(ombcRules.described(k)).toBe(false); // immutable update
  });

  it('[R56] [R54] keeps descriptions by message_id (Q10), compared case-insensitively (R4)', () => {
    const k = know(description());
    expect(ombcRules.hasObject(k, 'OMBC.SystemDescription', description().message_id)).toBe(true);
    expect(ombcRules.hasObject(k, 'OMBC.SystemDescription', description().message_id.toUpperCase())).toBe(true);
    expect(ombcRules.hasObject(k, 'OMBC.SystemDescription', uuid('other'))).toBe(false);
    expect(ombcRules.hasObject(k, 'FRBC.SystemDescription', description().message_id)).toBe(false);
  });

  it('[R84] accepts an instruction naming a mode of the current description and refuses an unknown one', () => {
    const k = know(description());
    expect(ombcRules.refusal(k, instruction('i', 'full'))).toBeUndefined();
    expect(ombcRules.refusal(k, instruction('i', 'turbo'))).toBe(
      `unknown operation_mode_id ${mode('turbo')}: not a mode of the current OMBC.SystemDescription (R84)`,
    );
  });

  it('[R62] refuses an OMBC.Status whose active mode is not in the current description', () => {
    const k = know(description());
    expect(ombcRules.refusal(k, status('half', 'off'))).toBeUndefined();
    expect(ombcRules.refusal(k, status('half'))).toBeUndefined(); // R61: first mode, no previous
    expect(ombcRules.refusal(k, status('turbo', 'off'))).toMatch(/^unknown active_operation_mode_id .*\(R62\)$/);
  });

  it('[R62] [R85] refuses a previous mode never described in the session, accepts one of a superseded description', () => {
    const k = know(description(), description('d2', ['off', 'half']));
    expect(ombcRules.refusal(k, status('half', 'turbo'))).toMatch(/^unknown previous_operation_mode_id .*\(R62, R85\)$/);
    // "full" left with d2, but the device was in it before: R85 keeps its id meaningful.
    expect(ombcRules.refusal(k, status('half', 'full'))).toBeUndefined();
    expect(ombcRules.refusal(k, status('full', 'half'))).toMatch(/R62/);
  });

  it('[R62] [R71] [R83] refuses OMBC.Status and OMBC.TimerStatus when there is no description', () => {
    const k = ombcRules.empty();
    expect(ombcRules.refusal(k, status('half'))).toMatch(/no valid OMBC.SystemDescription.*\(R62, R83\)/);
    expect(ombcRules.refusal(k, timerStatus('min-run', IN_30_MIN))).toMatch(/\(R71, R83\)/);
  });

  it('[R71] accepts a TimerStatus for a timer of the current description and refuses an unknown timer', () => {
    const k = know(description());
    expect(ombcRules.refusal(k, timerStatus('min-run', IN_30_MIN))).toBeUndefined();
    expect(ombcRules.refusal(k, timerStatus('warm-up', IN_30_MIN))).toBe(
      `unknown timer_id ${timer('warm-up')}: not a timer of the current OMBC.SystemDescription (R71)`,
    );
  });

  it('[R72] [R84] a later description supersedes the earlier one', () => {
    const k = know(description(), description('d2', ['off', 'half']));
    expect(ombcRules.refusal(k, instruction('i', 'full'))).toMatch(/R84/);
    expect(ombcRules.refusal(k, instruction('i', 'half'))).toBeUndefined();
    // The superseded description was never revoked, so it can still be (R54).
    expect(ombcRules.hasObject(k, 'OMBC.SystemDescription', description().message_id)).toBe(true);
  });

  it('[R85] [R69] does not refuse a later description that repeats the mode ids of an earlier one', () => {
    const k = know(description());
    expect(ombcRules.refusal(k, description('d2'))).toBeUndefined();
    const changed = description('d3');
    changed.operation_modes[1]!.power_ranges[0]!.end_of_range = -2000; // re-described, same mode
    expect(ombcRules.refusal(k, changed)).toBeUndefined();
  });

  it('[R58] [R72] revoking the current description leaves none; a superseded one does not come back', () => {
    const k = know(description(), description('d2', ['off', 'half']));
    const withoutOld = ombcRules.revoke(k, 'OMBC.SystemDescription', description().message_id);
    expect(ombcRules.described(withoutOld)).toBe(true);
    expect(ombcRules.refusal(withoutOld, instruction('i', 'half'))).toBeUndefined();
    const withoutCurrent = ombcRules.revoke(k, 'OMBC.SystemDescription', description('d2').message_id.toUpperCase());
    expect(ombcRules.described(withoutCurrent)).toBe(false);
    expect(ombcRules.hasObject(withoutCurrent, 'OMBC.SystemDescription', description('d2').message_id)).toBe(false);
    expect(ombcRules.hasObject(withoutCurrent, 'OMBC.SystemDescription', description().message_id)).toBe(true);
    expect(ombcRules.described(k)).toBe(true); // immutable update
    expect(ombcRules.revoke(k, 'OMBC.Instruction', description('d2').message_id)).toBe(k);
  });

  it('[R71] [R69] keeps timer states across a re-description only for timers it still has', () => {
    const withTimers: SystemDescription = { ...description('d2'), timers: [{ id: timer('min-run'), duration: 900_000 }] };
    const k = know(description(), timerStatus('min-run', IN_30_MIN), timerStatus('min-off', IN_30_MIN), withTimers);
    expect([...k.timerFinish.keys()]).toEqual([timer('min-run')]);
  });
});

describe('ombcRules.rejection (RM side, Q14)', () => {
  const active = (name: string) => know(description(), status(name));

  it('[R50] rejects an abnormal-only mode without abnormal_condition and allows it with', () => {
    const k = active('full');
    expect(ombcRules.rejection!(k, instruction('i', 'boost'))).toBe(
      `operation mode ${mode('boost')} is for abnormal conditions only and abnormal_condition is false (R50)`,
    );
    expect(ombcRules.rejection!(k, instruction('i', 'boost', { abnormal: true }))).toBeUndefined();
  });

  it('[R63] rejects a mode with no transition from the active mode', () => {
    expect(ombcRules.rejection!(active('off'), instruction('i', 'boost', { abnormal: true }))).toBe(
      `no transition from the active operation mode ${mode('off')} to ${mode('boost')} in the current OMBC.SystemDescription (R63)`,
    );
    expect(ombcRules.rejection!(active('half'), instruction('i', 'full'))).toBeUndefined();
  });

  it('[R63] needs no transition to stay in the active mode with another factor', () => {
    expect(ombcRules.rejection!(active('half'), instruction('i', 'half'))).toBeUndefined();
  });

  it('[R63] [R64] does not reject on transitions or timers while no OMBC.Status is known', () => {
    const k = know(description(), timerStatus('min-run', '2026-01-01T01:00:00Z'));
    expect(ombcRules.rejection!(k, instruction('i', 'off'))).toBeUndefined();
  });

  it('[R50] [R63] rejects when only abnormal-only transitions lead there, unless abnormal_condition', () => {
    expect(ombcRules.rejection!(active('off'), instruction('i', 'full'))).toMatch(/abnormal conditions only.*\(R50\)$/);
    expect(ombcRules.rejection!(active('off'), instruction('i', 'full', { abnormal: true }))).toBeUndefined();
  });

  it('[R64] rejects a transition whose blocking timer is still running at execution_time', () => {
    const k = know(description(), status('half', 'off'), timerStatus('min-run', '2026-01-01T00:40:00Z'));
    expect(ombcRules.rejection!(k, instruction('i', 'off'))).toBe(
      `transition ${transitionId('half-off')} is blocked at execution_time by timer ${timer('min-run')}, finished only at 2026-01-01T00:40:00.000Z (R64)`,
    );
    // Evaluated at execution_time, not at reception.
    expect(ombcRules.rejection!(k, instruction('i', 'off', { at: '2026-01-01T00:45:00Z' }))).toBeUndefined();
    // Another transition between the same modes that is not blocked is enough (here abnormal-only).
    expect(ombcRules.rejection!(k, instruction('i', 'off', { abnormal: true }))).toBeUndefined();
  });

  it('[R64] [R71] treats a timer with no TimerStatus or one finished in the past as run out', () => {
    expect(ombcRules.rejection!(active('off'), instruction('i', 'half'))).toBeUndefined();
    const k = know(description(), status('off'), timerStatus('min-off', '2025-12-31T00:00:00Z'));
    expect(ombcRules.rejection!(k, instruction('i', 'half'))).toBeUndefined();
  });

  it('[R63] does not judge transitions from a status whose mode the current description lacks', () => {
    const k = know(description(), status('full'), description('d2', ['off', 'half']));
    expect(ombcRules.rejection!(k, instruction('i', 'off'))).toBeUndefined();
  });

  it('[R63] [R64] [R60] does not judge transitions behind an earlier instruction not yet reflected in a status', () => {
    // A plan: off → half at +30 min, then half → full at +60 min. The second starts from "half".
    const plan = know(description(), status('off'), instruction('i1', 'half'));
    expect(plan.pending.size).toBe(1);
    expect(ombcRules.rejection!(plan, instruction('i2', 'full', { at: '2026-01-01T01:00:00Z' }))).toBeUndefined();
    // One executing before the pending instruction still starts from the reported mode.
    expect(ombcRules.rejection!(plan, instruction('i3', 'full', { at: '2026-01-01T00:10:00Z' }))).toMatch(/\(R50\)$/);
    // A new status reports the effect; the CEM's revocation withdraws it (R58): judged again.
    expect(ombcRules.rejection!(ombcRules.learn(plan, status('half', 'off')), instruction('i2', 'boost', { abnormal: true }))).toMatch(
      /\(R63\)$/,
    );
    expect(
      ombcRules.rejection!(
        ombcRules.revoke(plan, 'OMBC.Instruction', instructionId('i1')),
        instruction('i2', 'full', { at: '2026-01-01T01:00:00Z' }),
      ),
    ).toMatch(/\(R50\)$/);
    // A rejected instruction will not execute, so it is not pending.
    expect(know(description(), status('off'), instruction('i4', 'boost')).pending.size).toBe(0);
  });

  it('[Q14] rejects nothing but OMBC.Instructions', () => {
    expect(ombcRules.rejection!(active('off'), status('half'))).toBeUndefined();
  });
});

describe('OMBC control-type statechart, CEM side (receives the RM messages)', () => {
  it('[R39] [R83] [R62] [R71] accepts a description first, then status and timer status', () => {
    const h = harness('CEM');
    expect(h.state).toBe('awaitingDescription');
    expect(types(h.send('in', description()))).toEqual(['ct.accepted']);
    expect(h.state).toBe('described');
    expect(types(h.send('in', status('off')))).toEqual(['ct.accepted']);
    expect(types(h.send('in', timerStatus('min-off', '2025-12-31T00:00:00Z')))).toEqual(['ct.accepted']);
    const k = h.context.knowledge as OmbcKnowledge;
    expect(k.status?.active_operation_mode_id).toBe(mode('off'));
    expect(k.timerFinish.get(timer('min-off'))).toBe(Date.parse('2025-12-31T00:00:00Z'));
  });

  it('[R62] [R83] refuses an OMBC.Status before any description and changes nothing', () => {
    const h = harness('CEM');
    expect(refusedReason(h.send('in', status('off')))).toMatch(/\(R62, R83\)/);
    expect(h.state).toBe('awaitingDescription');
    expect((h.context.knowledge as OmbcKnowledge).status).toBeUndefined();
  });

  it('[R62] [R71] [R45] refuses every unknown reference with a reason naming the rule', () => {
    const h = harness('CEM');
    h.send('in', description());
    expect(refusedReason(h.send('in', status('turbo')))).toMatch(/active_operation_mode_id.*\(R62\)/);
    expect(refusedReason(h.send('in', status('off', 'turbo')))).toMatch(/previous_operation_mode_id.*\(R62, R85\)/);
    expect(refusedReason(h.send('in', timerStatus('warm-up', IN_30_MIN)))).toMatch(/\(R71\)/);
    expect(refusedReason(h.send('in', isu('never-sent', 'ACCEPTED')))).toMatch(/\(R45\)/);
    expect((h.context.knowledge as OmbcKnowledge).status).toBeUndefined();
  });

  it('[R44] [R46] follows an instruction through its statuses, refusing an illegal one and any after the final', () => {
    const h = harness('CEM');
    h.send('in', description());
    h.send('in', status('off'));
    expect(h.send('out', instruction('i1', 'half'))).toEqual([]);
    expect(sortedTypes(h.send('in', isu('i1', 'NEW', 0)))).toEqual(['ct.accepted', 'ct.notice']);
    expect(sortedTypes(h.send('in', isu('i1', 'ACCEPTED', 1)))).toEqual(['ct.accepted', 'ct.notice']);
    expect(sortedTypes(h.send('in', isu('i1', 'STARTED', 2)))).toEqual(['ct.accepted', 'ct.notice']);
    expect(refusedReason(h.send('in', isu('i1', 'ACCEPTED', 3)))).toMatch(/ACCEPTED may not follow STARTED \(R46/);
    expect(sortedTypes(h.send('in', isu('i1', 'SUCCEEDED', 4)))).toEqual(['ct.accepted', 'ct.notice']);
    expect(h.context.instructions.get(instructionId('i1'))?.status).toBe('SUCCEEDED');
    expect(refusedReason(h.send('in', isu('i1', 'ABORTED', 5)))).toMatch(/already final \(SUCCEEDED\) \(R44, R46\)/);
  });

  it('[R54] [R56] [R58] [R39] [R84] revoking the description by its message_id leaves the CEM unable to instruct', () => {
    const h = harness('CEM');
    h.send('in', description());
    expect(controlTypeRefusal(rules, h.context, instruction('i1', 'turbo'), 'CEM')).toMatch(/\(R84\)/);
    expect(types(h.send('in', revoke('OMBC.SystemDescription', description().message_id)))).toEqual(['ct.accepted']);
    expect(h.state).toBe('awaitingDescription');
    // What the CEM application would send is judged by the same rules (roles layer): R39 now.
    expect(controlTypeRefusal(rules, h.context, instruction('i1', 'half'), 'CEM')).toMatch(/\(R39\)/);
    expect(refusedReason(h.send('in', status('off')))).toMatch(/\(R62, R83\)/);
    // Gone means gone: a second revocation names nothing (R54).
    expect(refusedReason(h.send('in', revoke('OMBC.SystemDescription', description().message_id)))).toMatch(/\(R54, R56\)/);
  });

  it('[R72] [R58] revoking a superseded description keeps the current one; revoking that one leaves none', () => {
    const h = harness('CEM');
    h.send('in', description());
    h.send('in', description('d2', ['off', 'half']));
    expect(types(h.send('in', revoke('OMBC.SystemDescription', description().message_id)))).toEqual(['ct.accepted']);
    expect(h.state).toBe('described');
    expect(types(h.send('in', revoke('OMBC.SystemDescription', description('d2').message_id)))).toEqual(['ct.accepted']);
    expect(h.state).toBe('awaitingDescription');
  });

  it('[R55] [R57] refuses the RM revoking an instruction or an object of another control type', () => {
    const h = harness('CEM');
    h.send('in', description());
    h.send('out', instruction('i1', 'half'));
    expect(refusedReason(h.send('in', revoke('OMBC.Instruction', instructionId('i1'))))).toMatch(/\(R55\)/);
    expect(refusedReason(h.send('in', revoke('FRBC.SystemDescription', description().message_id)))).toMatch(/\(R57\)/);
  });
});

describe('OMBC control-type statechart, RM side (receives the CEM instructions)', () => {
  function described(...extra: Parameters<typeof ombcRules.learn>[1][]) {
    const h = harness('RM');
    for (const m of [description(), ...extra]) expect(h.send('out', m)).toEqual([]);
    return h;
  }

  it('[R39] refuses an instruction before any description', () => {
    const h = harness('RM');
    expect(refusedReason(h.send('in', instruction('i1', 'half')))).toMatch(/before the RM described its flexibility \(R39\)/);
    expect(h.context.instructions.size).toBe(0);
  });

  it('[R83] [R84] accepts an instruction naming a described mode and passes it on without rejection', () => {
    const h = described(status('off'));
    expect(h.state).toBe('described');
    const replies = h.send('in', instruction('i1', 'half'));
    expect(rejectionOf(replies)).toBeUndefined();
    expect(notices(replies)[0]).toMatchObject({ kind: 'instruction', instruction: { id: instructionId('i1') } });
  });

  it('[R84] [R42] refuses an instruction naming an unknown mode, and a reused instruction id', () => {
    const h = described();
    expect(refusedReason(h.send('in', instruction('i1', 'turbo')))).toMatch(/unknown operation_mode_id .*\(R84\)/);
    h.send('in', instruction('i2', 'half'));
    expect(refusedReason(h.send('in', { ...instruction('i2', 'full'), message_id: uuid('ombc:other-message') }))).toMatch(/\(R42\)/);
  });

  it('[R72] [R84] refuses an instruction for a mode the newer description dropped', () => {
    const h = described();
    h.send('out', description('d2', ['off', 'half']));
    expect(refusedReason(h.send('in', instruction('i1', 'full')))).toMatch(/\(R84\)/);
  });

  it('[R54] [R56] [R58] [R39] after the RM revokes its only description, instructions are refused', () => {
    const h = described();
    expect(h.send('out', revoke('OMBC.SystemDescription', description().message_id))).toEqual([]);
    expect(h.state).toBe('awaitingDescription');
    expect(refusedReason(h.send('in', instruction('i1', 'half')))).toMatch(/\(R39\)/);
    h.send('out', description('d2'));
    expect(h.state).toBe('described');
    expect(types(h.send('in', instruction('i1', 'half')))).toEqual(['ct.accepted', 'ct.notice']);
  });

  it('[R44] [R46] records the statuses the RM sends; an illegal one or one after the final is not taken', () => {
    const h = described();
    h.send('in', instruction('i1', 'half'));
    const status = () => h.context.instructions.get(instructionId('i1'))?.status;
    expect(notices(h.send('out', isu('i1', 'ACCEPTED', 0)))).toEqual([
      { kind: 'status', instructionId: instructionId('i1'), status: 'ACCEPTED' },
    ]);
    expect(notices(h.send('out', isu('i1', 'STARTED', 1)))).toEqual([
      { kind: 'status', instructionId: instructionId('i1'), status: 'STARTED' },
    ]);
    // R46: sent statuses are judged before sending (roles layer); the statechart never moves back.
    expect(h.send('out', isu('i1', 'REJECTED', 2))).toEqual([]);
    expect(status()).toBe('STARTED');
    h.send('out', isu('i1', 'SUCCEEDED', 3));
    expect(status()).toBe('SUCCEEDED');
    expect(controlTypeRefusal(rules, h.context, isu('i1', 'ABORTED', 4), 'RM')).toMatch(/already final \(SUCCEEDED\) \(R44, R46\)/);
  });

  it('[R55] [R58] [R54] the CEM revokes its instruction: the RM is told, reports REVOKED, and it cannot be revoked again', () => {
    const h = described();
    h.send('in', instruction('i1', 'half'));
    h.send('out', isu('i1', 'ACCEPTED'));
    const replies = h.send('in', revoke('OMBC.Instruction', instructionId('i1')));
    expect(types(replies)).toEqual(['ct.accepted', 'ct.notice']);
    expect(notices(replies)).toEqual([{ kind: 'revoked', instructionId: instructionId('i1') }]);
    expect(notices(h.send('out', isu('i1', 'REVOKED', 1)))).toEqual([
      { kind: 'status', instructionId: instructionId('i1'), status: 'REVOKED' },
    ]);
    expect(refusedReason(h.send('in', { ...revoke('OMBC.Instruction', instructionId('i1')), message_id: uuid('ombc:again') }))).toMatch(
      /already final \(REVOKED\) \(R54\)/,
    );
    // The CEM revokes only instructions, not the RM's descriptions (R55).
    expect(refusedReason(h.send('in', revoke('OMBC.SystemDescription', description().message_id)))).toMatch(/\(R55\)/);
  });

  it('[R50] [Q14] an abnormal-only mode without abnormal_condition is accepted, then flagged for REJECTED', () => {
    const h = described(status('full', 'half'));
    expect(rejectionOf(h.send('in', instruction('i1', 'boost')))).toMatch(/\(R50\)$/);
    expect(rejectionOf(h.send('in', instruction('i2', 'boost', { abnormal: true })))).toBeUndefined();
  });

  it('[R63] [Q14] a mode not reachable from the active one is flagged for REJECTED', () => {
    const h = described(status('off'));
    expect(rejectionOf(h.send('in', instruction('i1', 'boost', { abnormal: true })))).toMatch(
      /no transition from the active operation mode .*\(R63\)$/,
    );
    expect(rejectionOf(h.send('in', instruction('i2', 'off')))).toBeUndefined();
  });

  it('[R64] [Q14] a transition blocked at execution_time by a running timer is flagged for REJECTED', () => {
    const h = described(status('half', 'off'), timerStatus('min-run', '2026-01-01T00:40:00Z'));
    expect(rejectionOf(h.send('in', instruction('i1', 'off')))).toMatch(/blocked at execution_time by timer .*\(R64\)$/);
    expect(rejectionOf(h.send('in', instruction('i2', 'off', { at: '2026-01-01T00:41:00Z' })))).toBeUndefined();
    // The RM's newer TimerStatus counts: the timer was cut short.
    h.send('out', timerStatus('min-run', '2026-01-01T00:10:00Z'));
    expect(rejectionOf(h.send('in', instruction('i3', 'off')))).toBeUndefined();
  });

  it('[R63] [R60] [Q14] a plan of successive instructions is not rejected against the mode before the first', () => {
    const h = described(status('off'));
    expect(rejectionOf(h.send('in', instruction('i1', 'half')))).toBeUndefined();
    expect(rejectionOf(h.send('in', instruction('i2', 'full', { at: '2026-01-01T01:00:00Z' })))).toBeUndefined();
    h.send('out', status('full', 'half'));
    expect(rejectionOf(h.send('in', instruction('i3', 'off', { at: '2026-01-01T02:00:00Z' })))).toMatch(/\(R63\)$/);
  });

  it('[R63] [R64] without any OMBC.Status nothing is rejected on transitions', () => {
    const h = described(timerStatus('min-run', '2026-01-01T01:00:00Z'));
    expect(rejectionOf(h.send('in', instruction('i1', 'full')))).toBeUndefined();
  });
});
