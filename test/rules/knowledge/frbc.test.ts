import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { decode } from '../../../src/codec/index.js';
import { controlTypeRefusal, type ControlTypeReply } from '../../../src/machines/control-type.js';
import type { SessionRole } from '../../../src/machines/events.js';
import { frbcRejection, frbcRules, type FrbcKnowledge } from '../../../src/rules/knowledge/frbc.js';
import type { ControlTypeRules } from '../../../src/rules/knowledge/types.js';
import type { InstructionStatus, RevokableObjects } from '../../../src/typebox/common/enums.js';
import type { IdentifiedMessage, MessageOf } from '../../../src/typebox/registry.js';
import { controlTypeHarness } from '../../support/control-type-harness.js';
import { uuid } from '../support.js';

type SystemDescription = MessageOf<'FRBC.SystemDescription'>;
type ActuatorDescription = SystemDescription['actuators'][number];
type Transition = ActuatorDescription['transitions'][number];

// ---------------------------------------------------------------------------------------------
// A heat pump with a booster heater, as an RM would describe it (UUID ids, all lowercase).
// Heat pump modes: OFF ⇄ ON ⇄ BOOST (BOOST is abnormal-only), OFF ⇄ STANDBY (OFF → STANDBY is an
// abnormal-only transition); there is no ON → STANDBY. OFF → ON is blocked by MIN_OFF and starts
// MIN_ON; ON → OFF is blocked by MIN_ON and starts MIN_OFF. Booster: one mode, one timer.
// ---------------------------------------------------------------------------------------------

const HP = uuid('actuator:heat-pump');
const BOOSTER = uuid('actuator:booster');
const OFF = uuid('mode:off');
const ON = uuid('mode:on');
const BOOST = uuid('mode:boost');
const STANDBY = uuid('mode:standby');
const BOOSTER_ON = uuid('mode:booster-on');
const MIN_ON = uuid('timer:min-on');
const MIN_OFF = uuid('timer:min-off');
const BOOSTER_TIMER = uuid('timer:booster');

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

/** Throws unless the message is schema-valid S2 with UUID ids and passes the intra-message rules. */
function valid<M extends IdentifiedMessage>(m: M): M {
  const result = decode(JSON.stringify(m), { ids: 'uuid' });
  if (!result.ok) throw new Error(`test message is not valid S2: ${JSON.stringify(result.error.problems)}`);
  return m;
}

function mode(id: string, watts: number, abnormalOnly = false): ActuatorDescription['operation_modes'][number] {
  return {
    id,
    elements: [
      {
        fill_level_range: { start_of_range: 20, end_of_range: 60 },
        fill_rate: { start_of_range: 0, end_of_range: watts / 100_000 },
        power_ranges: [{ start_of_range: watts / 2, end_of_range: watts, commodity_quantity: 'ELECTRIC.POWER.L1' }],
      },
    ],
    abnormal_condition_only: abnormalOnly,
  };
}

function transition(
  from: string,
  to: string,
  options: Partial<Pick<Transition, 'start_timers' | 'blocking_timers' | 'abnormal_condition_only'>> = {},
): Transition {
  return {
    id: uuid(`transition:${from}:${to}:${JSON.stringify(options)}`),
    from,
    to,
    start_timers: [],
    blocking_timers: [],
    abnormal_condition_only: false,
    ...options,
  };
}

function heatPump(): ActuatorDescription {
  return {
    id: HP,
    diagnostic_label: 'heat pump',
    supported_commodities: ['ELECTRICITY'],
    operation_modes: [mode(OFF, 0), mode(ON, 2000), mode(BOOST, 3500, true), mode(STANDBY, 20)],
    transitions: [
      transition(OFF, ON, { blocking_timers: [MIN_OFF], start_timers: [MIN_ON] }),
      transition(ON, OFF, { blocking_timers: [MIN_ON], start_timers: [MIN_OFF] }),
      transition(ON, BOOST),
      transition(BOOST, ON),
      transition(OFF, STANDBY, { abnormal_condition_only: true }),
      transition(STANDBY, OFF),
    ],
    timers: [
      { id: MIN_ON, diagnostic_label: 'minimum run time', duration: 600_000 },
      { id: MIN_OFF, diagnostic_label: 'minimum off time', duration: 300_000 },
    ],
  };
}

function booster(): ActuatorDescription {
  return {
    id: BOOSTER,
    diagnostic_label: 'booster heater',
    supported_commodities: ['ELECTRICITY'],
    operation_modes: [mode(BOOSTER_ON, 1000)],
    transitions: [],
    timers: [{ id: BOOSTER_TIMER, duration: 60_000 }],
  };
}

function description(actuators: ActuatorDescription[] = [heatPump(), booster()], provides = false): SystemDescription {
  return valid({
    message_type: 'FRBC.SystemDescription',
    message_id: randomUUID(),
    valid_from: at(0),
    actuators,
    storage: {
      diagnostic_label: 'hot water tank',
      fill_level_label: '°C',
      provides_leakage_behaviour: provides,
      provides_fill_level_target_profile: provides,
      provides_usage_forecast: provides,
      fill_level_range: { start_of_range: 20, end_of_range: 60 },
    },
  });
}

function actuatorStatus(
  actuatorId: string,
  active: string,
  extra: Partial<MessageOf<'FRBC.ActuatorStatus'>> = {},
): MessageOf<'FRBC.ActuatorStatus'> {
  return valid({
    message_type: 'FRBC.ActuatorStatus',
    message_id: randomUUID(),
    actuator_id: actuatorId,
    active_operation_mode_id: active,
    operation_mode_factor: 0.5,
    ...extra,
  });
}

function timerStatus(actuatorId: string, timerId: string, finishedAt: string): MessageOf<'FRBC.TimerStatus'> {
  return valid({
    message_type: 'FRBC.TimerStatus',
    message_id: randomUUID(),
    actuator_id: actuatorId,
    timer_id: timerId,
    finished_at: finishedAt,
  });
}

function instruction(
  actuatorId: string,
  operationMode: string,
  extra: Partial<MessageOf<'FRBC.Instruction'>> = {},
): MessageOf<'FRBC.Instruction'> {
  return valid({
    message_type: 'FRBC.Instruction',
    message_id: randomUUID(),
    id: randomUUID(),
    actuator_id: actuatorId,
    operation_mode: operationMode,
    operation_mode_factor: 1,
    execution_time: at(60),
    abnormal_condition: false,
    ...extra,
  });
}

function statusUpdate(instructionId: string, status: InstructionStatus): MessageOf<'InstructionStatusUpdate'> {
  return valid({
    message_type: 'InstructionStatusUpdate',
    message_id: randomUUID(),
    instruction_id: instructionId,
    status_type: status,
    timestamp: at(1),
  });
}

function revoke(objectType: RevokableObjects, objectId: string): MessageOf<'RevokeObject'> {
  return valid({ message_type: 'RevokeObject', message_id: randomUUID(), object_type: objectType, object_id: objectId });
}

const storageStatus = () => valid({ message_type: 'FRBC.StorageStatus', message_id: randomUUID(), present_fill_level: 41.5 } as const);
/** The three storage messages R74 ties to the storage's provides_* flags. */
const storageProfiles = (): IdentifiedMessage[] => [
  valid({
    message_type: 'FRBC.LeakageBehaviour',
    message_id: randomUUID(),
    valid_from: at(0),
    elements: [{ fill_level_range: { start_of_range: 20, end_of_range: 60 }, leakage_rate: 0.0001 }],
  }),
  valid({
    message_type: 'FRBC.UsageForecast',
    message_id: randomUUID(),
    start_time: at(0),
    elements: [{ duration: 3_600_000, usage_rate_expected: 0.002 }],
  }),
  valid({
    message_type: 'FRBC.FillLevelTargetProfile',
    message_id: randomUUID(),
    start_time: at(0),
    elements: [{ duration: 3_600_000, fill_level_range: { start_of_range: 50, end_of_range: 60 } }],
  }),
];

// ---------------------------------------------------------------------------------------------

const rules = frbcRules;

/** The knowledge after these messages, each of which must pass `refusal` first. */
function know(...messages: IdentifiedMessage[]): FrbcKnowledge {
  return messages.reduce((k, m) => {
    expect(rules.refusal(k, m), `${m.message_type} should be accepted`).toBeUndefined();
    return rules.learn(k, m);
  }, rules.empty());
}

describe('frbcRules: descriptions, references and revocation (pure functions)', () => {
  it('[R39] empty knowledge is not described and holds no object', () => {
    const k = rules.empty();
    expect(rules.described(k)).toBe(false);
    expect(rules.hasObject(k, 'FRBC.SystemDescription', randomUUID())).toBe(false);
  });

  it('[R39] [R54] [R56] [Q10] a description makes the knowledge described and revocable by its message_id', () => {
    const d = description();
    const k = know(d);
    expect(rules.described(k)).toBe(true);
    expect(k.current).toBe(d);
    expect(rules.hasObject(k, 'FRBC.SystemDescription', d.message_id)).toBe(true);
    expect(rules.hasObject(k, 'FRBC.Instruction', d.message_id)).toBe(false);
  });

  it('[R62] [R59] accepts an ActuatorStatus naming an actuator and one of its modes, and learns the active mode', () => {
    const s = actuatorStatus(HP, ON, { previous_operation_mode_id: OFF, transition_timestamp: at(-5) });
    const k = know(description(), s);
    expect(k.statuses.get(HP)).toBe(s);
  });

  it('[R62] refuses an ActuatorStatus for an unknown actuator, an unknown mode, or a mode of another actuator', () => {
    const k = know(description());
    expect(rules.refusal(k, actuatorStatus(randomUUID(), ON))).toMatch(/unknown actuator_id .*\(R62, R72\)/);
    expect(rules.refusal(k, actuatorStatus(HP, randomUUID()))).toMatch(/unknown operation mode .*\(R62\)/);
    expect(rules.refusal(k, actuatorStatus(HP, BOOSTER_ON))).toMatch(/not a mode of actuator .*\(R62\)/);
  });

  it('[R62] [R72] [R58] previous_operation_mode_id may name a mode of a superseded or revoked description, not an unknown one', () => {
    const first = description();
    const reduced = heatPump();
    reduced.operation_modes = reduced.operation_modes.filter((m) => m.id !== BOOST);
    reduced.transitions = reduced.transitions.filter((t) => t.to !== BOOST && t.from !== BOOST);
    const second = description([reduced]);
    const k = know(first, second);
    const fromBoost = actuatorStatus(HP, ON, { previous_operation_mode_id: BOOST, transition_timestamp: at(-1) });
    expect(rules.refusal(k, fromBoost)).toBeUndefined();
    const k2 = rules.learn(
      rules.revoke(rules.revoke(k, 'FRBC.SystemDescription', first.message_id), 'FRBC.SystemDescription', second.message_id),
      description([reduced]),
    );
    expect(rules.refusal(k2, fromBoost)).toBeUndefined();
    expect(rules.refusal(k, actuatorStatus(HP, ON, { previous_operation_mode_id: randomUUID(), transition_timestamp: at(-1) }))).toMatch(
      /unknown previous_operation_mode_id .*\(R62\)/,
    );
    // Mode ids are per actuator (R69): the booster's mode is no previous mode of the heat pump.
    expect(rules.refusal(k, actuatorStatus(HP, ON, { previous_operation_mode_id: BOOSTER_ON, transition_timestamp: at(-1) }))).toMatch(
      /R62/,
    );
  });

  it('[R71] accepts a TimerStatus of a timer of that actuator and learns finished_at; refuses unknown actuators and timers', () => {
    const k = know(description(), timerStatus(HP, MIN_ON, at(10)));
    expect(k.timers.get(HP)?.get(MIN_ON)).toBe(T0 + 600_000);
    expect(rules.refusal(k, timerStatus(randomUUID(), MIN_ON, at(1)))).toMatch(/unknown actuator_id .*\(R71, R72\)/);
    expect(rules.refusal(k, timerStatus(HP, randomUUID(), at(1)))).toMatch(/unknown timer .*\(R71\)/);
    expect(rules.refusal(k, timerStatus(HP, BOOSTER_TIMER, at(1)))).toMatch(/not a timer of actuator .*\(R71\)/);
  });

  it('[R75] accepts an instruction naming an actuator and one of its modes; refuses unknown actuators and modes', () => {
    const k = know(description());
    expect(rules.refusal(k, instruction(HP, ON))).toBeUndefined();
    expect(rules.refusal(k, instruction(BOOSTER, BOOSTER_ON))).toBeUndefined();
    expect(rules.refusal(k, instruction(randomUUID(), ON))).toMatch(/unknown actuator_id .*\(R75, R72\)/);
    expect(rules.refusal(k, instruction(HP, randomUUID()))).toMatch(/unknown operation mode .*\(R75\)/);
    expect(rules.refusal(k, instruction(BOOSTER, ON))).toMatch(/not a mode of actuator .*\(R75\)/);
  });

  it('[R39] [R73] refuses statuses, storage messages and instructions while no description is in force', () => {
    const k = rules.empty();
    for (const m of [actuatorStatus(HP, ON), timerStatus(HP, MIN_ON, at(1)), instruction(HP, ON), storageStatus(), ...storageProfiles()]) {
      expect(rules.refusal(k, m), m.message_type).toMatch(/R39/);
    }
    expect(rules.refusal(k, storageStatus())).toMatch(/no storage is described \(R39, R73\)/);
  });

  it('[R73] [R74] accepts StorageStatus and the storage profiles once described, whatever the provides_* flags say', () => {
    for (const provides of [true, false]) {
      const k = know(description(undefined, provides));
      for (const m of [storageStatus(), ...storageProfiles()])
        expect(rules.refusal(k, m), `${m.message_type}, provides ${provides}`).toBeUndefined();
    }
  });

  it('[R4] compares ids case-insensitively', () => {
    const d = description();
    const k = know(d, actuatorStatus(HP.toUpperCase(), ON.toUpperCase()), timerStatus(HP, MIN_ON.toUpperCase(), at(5)));
    expect(rules.hasObject(k, 'FRBC.SystemDescription', d.message_id.toUpperCase())).toBe(true);
    expect(rules.refusal(k, instruction(HP.toUpperCase(), OFF.toUpperCase()))).toBeUndefined();
    expect(k.statuses.has(HP)).toBe(true);
    expect(k.timers.get(HP)?.get(MIN_ON)).toBe(T0 + 300_000);
  });

  it('[R72] a new description supersedes the previous one: references resolve against the latest only', () => {
    const first = description();
    const second = description([heatPump()]);
    const k = know(first, second);
    expect(k.current).toBe(second);
    expect(rules.refusal(k, instruction(BOOSTER, BOOSTER_ON))).toMatch(/unknown actuator_id .*\(R75, R72\)/);
    expect(rules.refusal(k, actuatorStatus(BOOSTER, BOOSTER_ON))).toMatch(/R62/);
    expect(rules.refusal(k, instruction(HP, ON))).toBeUndefined();
  });

  it('[R72] [R62] [R71] statuses and timers survive a new description only where its actuator, mode and timer still exist', () => {
    const reduced = heatPump();
    reduced.operation_modes = reduced.operation_modes.filter((m) => m.id !== BOOST);
    reduced.transitions = reduced.transitions.filter((t) => t.to !== BOOST && t.from !== BOOST && t.blocking_timers.length === 0);
    reduced.timers = reduced.timers.filter((t) => t.id === MIN_ON);
    const before = know(
      description(),
      actuatorStatus(HP, BOOST, { operation_mode_factor: 1 }),
      actuatorStatus(BOOSTER, BOOSTER_ON),
      timerStatus(HP, MIN_ON, at(5)),
      timerStatus(HP, MIN_OFF, at(5)),
    );
    const after = rules.learn(before, description([reduced]));
    expect([...after.statuses.keys()]).toEqual([]); // BOOST is gone from the heat pump, the booster is gone
    expect([...(after.timers.get(HP)?.keys() ?? [])]).toEqual([MIN_ON]);
    const kept = rules.learn(know(description(), actuatorStatus(HP, ON)), description());
    expect(kept.statuses.get(HP)?.active_operation_mode_id).toBe(ON);
  });

  it('[R54] [R58] [R72] revoking a superseded description keeps the latest in force', () => {
    const first = description();
    const second = description();
    const k = rules.revoke(know(first, second), 'FRBC.SystemDescription', first.message_id);
    expect(k.current).toBe(second);
    expect(rules.described(k)).toBe(true);
    expect(rules.hasObject(k, 'FRBC.SystemDescription', first.message_id)).toBe(false);
    expect(rules.hasObject(k, 'FRBC.SystemDescription', second.message_id)).toBe(true);
  });

  it('[R58] [R72] revoking the description in force leaves none in force: a superseded one is not revived', () => {
    const first = description();
    const second = description([heatPump()]);
    const k = rules.revoke(know(first, second, actuatorStatus(HP, ON)), 'FRBC.SystemDescription', second.message_id);
    expect(rules.described(k)).toBe(false);
    expect(k.statuses.size).toBe(0);
    expect(rules.refusal(k, instruction(BOOSTER, BOOSTER_ON))).toMatch(/R39/);
    // The superseded one was sent and not revoked: it can still be revoked (R54), and then nothing is left.
    expect(rules.hasObject(k, 'FRBC.SystemDescription', first.message_id)).toBe(true);
    expect(rules.revoke(k, 'FRBC.SystemDescription', first.message_id).sent.size).toBe(0);
  });

  it('[R54] [R16] revoke, learn and refusal leave the knowledge they are given untouched', () => {
    const d = description();
    const k = know(d);
    const snapshot = { sent: [...k.sent], statuses: [...k.statuses], timers: [...k.timers] };
    expect(rules.revoke(k, 'FRBC.SystemDescription', randomUUID())).toBe(k);
    expect(rules.revoke(k, 'FRBC.Instruction', d.message_id)).toBe(k);
    rules.learn(k, actuatorStatus(HP, ON));
    rules.learn(k, timerStatus(HP, MIN_ON, at(3)));
    rules.learn(k, description());
    rules.revoke(k, 'FRBC.SystemDescription', d.message_id);
    expect({ sent: [...k.sent], statuses: [...k.statuses], timers: [...k.timers] }).toEqual(snapshot);
    expect(k.current).toBe(d);
    // A sent status naming nothing known (sent messages skip `refusal`) is not learnt.
    expect(rules.learn(k, actuatorStatus(HP, BOOSTER_ON))).toBe(k);
    expect(rules.learn(k, timerStatus(BOOSTER, MIN_ON, at(3)))).toBe(k);
  });
});

describe('frbcRules.rejection (RM side: well referenced, but not to be carried out)', () => {
  const reject = (k: FrbcKnowledge, m: IdentifiedMessage) => rules.rejection!(k, m);

  it('[R50] [Q14] rejects an abnormal-only mode without abnormal_condition; accepts it with abnormal_condition: true', () => {
    const k = know(description(), actuatorStatus(HP, ON));
    expect(reject(k, instruction(HP, BOOST))).toMatch(/abnormal conditions only .*\(R50\)/);
    expect(reject(k, instruction(HP, BOOST, { abnormal_condition: true }))).toBeUndefined();
    // Without a known active mode R63/R64 cannot be judged, but R50 still can.
    expect(reject(know(description()), instruction(HP, BOOST))).toMatch(/R50/);
  });

  it('[R63] does not reject a mode change while no ActuatorStatus is known for the actuator', () => {
    const k = know(description(), actuatorStatus(BOOSTER, BOOSTER_ON));
    expect(reject(k, instruction(HP, STANDBY))).toBeUndefined();
  });

  it('[R63] rejects a mode with no transition from the active mode, judged from the latest ActuatorStatus', () => {
    const k = know(description(), actuatorStatus(HP, ON));
    expect(reject(k, instruction(HP, STANDBY))).toBe(`actuator ${HP} has no transition from its active mode ${ON} to ${STANDBY} (R63)`);
    expect(reject(k, instruction(HP, OFF))).toBeUndefined();
    const later = rules.learn(k, actuatorStatus(HP, STANDBY, { previous_operation_mode_id: OFF, transition_timestamp: at(2) }));
    expect(reject(later, instruction(HP, OFF))).toBeUndefined();
    expect(reject(later, instruction(HP, ON))).toMatch(/no transition from its active mode .*\(R63\)/);
  });

  it('[R63] [R67] accepts the active mode with another factor without any transition', () => {
    const k = know(description(), actuatorStatus(HP, STANDBY), actuatorStatus(BOOSTER, BOOSTER_ON));
    expect(reject(k, instruction(HP, STANDBY, { operation_mode_factor: 0.2 }))).toBeUndefined();
    expect(reject(k, instruction(BOOSTER, BOOSTER_ON, { operation_mode_factor: 0 }))).toBeUndefined();
  });

  it('[R50] [R63] rejects when every transition to the mode is abnormal-only, unless abnormal_condition is true', () => {
    const k = know(description(), actuatorStatus(HP, OFF));
    expect(reject(k, instruction(HP, STANDBY))).toMatch(/every transition .* abnormal conditions only .*\(R50, R63\)/);
    expect(reject(k, instruction(HP, STANDBY, { abnormal_condition: true }))).toBeUndefined();
  });

  it('[R64] rejects while a blocking timer runs at execution_time; accepts once it has finished by then', () => {
    const k = know(description(), actuatorStatus(HP, OFF), timerStatus(HP, MIN_OFF, at(30)));
    expect(reject(k, instruction(HP, ON, { execution_time: at(10) }))).toMatch(
      new RegExp(`blocked by timer ${MIN_OFF} until ${at(30).replace(/\./g, '\\.')} \\(R64\\)`),
    );
    expect(reject(k, instruction(HP, ON, { execution_time: at(30) }))).toBeUndefined();
    expect(reject(k, instruction(HP, ON, { execution_time: at(45) }))).toBeUndefined();
    // Start timers do not block: MIN_ON running does not stop OFF → ON.
    expect(reject(rules.learn(k, timerStatus(HP, MIN_ON, at(90))), instruction(HP, ON, { execution_time: at(40) }))).toBeUndefined();
  });

  it('[R64] [R71] a blocking timer with no TimerStatus does not block', () => {
    const k = know(description(), actuatorStatus(HP, ON));
    expect(reject(k, instruction(HP, OFF, { execution_time: at(0) }))).toBeUndefined();
  });

  it('[R64] one free transition suffices when several lead to the target', () => {
    const hp = heatPump();
    hp.transitions.push(transition(OFF, ON, { blocking_timers: [] }));
    const k = know(description([hp]), actuatorStatus(HP, OFF), timerStatus(HP, MIN_OFF, at(30)));
    expect(reject(k, instruction(HP, ON, { execution_time: at(10) }))).toBeUndefined();
  });

  it('[R43] [R64] frbcRejection judges a past execution_time at the given now', () => {
    const k = know(description(), actuatorStatus(HP, OFF), timerStatus(HP, MIN_OFF, at(30)));
    const late = instruction(HP, ON, { execution_time: at(10) });
    expect(frbcRejection(k, late)).toMatch(/R64/);
    expect(frbcRejection(k, late, T0 + 31 * 60_000)).toBeUndefined();
    expect(frbcRejection(k, late, T0 + 20 * 60_000)).toMatch(/R64/);
  });

  it('[R75] [Q14] leaves unknown references to refusal and ignores other messages', () => {
    const k = know(description(), actuatorStatus(HP, ON));
    expect(reject(k, instruction(randomUUID(), ON))).toBeUndefined();
    expect(reject(k, instruction(HP, randomUUID()))).toBeUndefined();
    expect(reject(k, actuatorStatus(HP, BOOST))).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// The real activation statechart, run by the harness for both roles.
// ---------------------------------------------------------------------------------------------

const harnesses: ReturnType<typeof controlTypeHarness>[] = [];
afterEach(() => {
  for (const h of harnesses.splice(0)) h.stop();
});

function open(role: SessionRole) {
  const h = controlTypeHarness(frbcRules, role, { now: T0 });
  harnesses.push(h);
  return h;
}

const knowledge = (h: ReturnType<typeof open>) => h.context.knowledge as FrbcKnowledge;

function expectAccepted(replies: ControlTypeReply[], message: IdentifiedMessage): void {
  expect(replies[0]).toEqual({ type: 'ct.accepted', message });
}

function expectRefused(replies: ControlTypeReply[], message: IdentifiedMessage, ...ruleIds: string[]): void {
  expect(replies).toHaveLength(1);
  expect(replies[0]).toMatchObject({ type: 'ct.refused', message });
  const reason = replies[0]?.type === 'ct.refused' ? replies[0].reason : '';
  for (const id of ruleIds) expect(reason).toMatch(new RegExp(`\\b${id}\\b`));
}

const notices = (replies: ControlTypeReply[]) => replies.flatMap((r) => (r.type === 'ct.notice' ? [r.notice] : []));

describe('FRBC statechart, CEM side (the RM’s messages arrive `in`)', () => {
  it('[R39] [R73] [R62] [R71] accepts the description first, then actuator, storage and timer statuses', () => {
    const h = open('CEM');
    expect(h.state).toBe('awaitingDescription');
    const d = description();
    expectAccepted(h.send('in', d), d);
    expect(h.state).toBe('described');
    for (const m of [
      actuatorStatus(HP, ON),
      actuatorStatus(BOOSTER, BOOSTER_ON),
      storageStatus(),
      timerStatus(HP, MIN_ON, at(10)),
      ...storageProfiles(),
    ]) {
      expect(h.send('in', m)).toEqual([{ type: 'ct.accepted', message: m }]);
    }
    expect(knowledge(h).statuses.get(HP)?.active_operation_mode_id).toBe(ON);
    expect(h.state).toBe('described');
  });

  it('[R39] [R62] [R73] refuses statuses before any description and stays awaitingDescription', () => {
    const h = open('CEM');
    for (const m of [actuatorStatus(HP, ON), storageStatus(), timerStatus(HP, MIN_ON, at(1))]) expectRefused(h.send('in', m), m, 'R39');
    expect(h.state).toBe('awaitingDescription');
    expect(knowledge(h)).toEqual(frbcRules.empty());
  });

  it('[R62] [R71] [R16] refuses every unknown reference with the rule in the reason, and learns nothing from it', () => {
    const h = open('CEM');
    h.send('in', description());
    const cases: [IdentifiedMessage, string][] = [
      [actuatorStatus(randomUUID(), ON), 'R62'],
      [actuatorStatus(HP, randomUUID()), 'R62'],
      [actuatorStatus(HP, BOOSTER_ON), 'R62'],
      [actuatorStatus(HP, ON, { previous_operation_mode_id: randomUUID(), transition_timestamp: at(-1) }), 'R62'],
      [timerStatus(randomUUID(), MIN_ON, at(1)), 'R71'],
      [timerStatus(HP, randomUUID(), at(1)), 'R71'],
      [timerStatus(BOOSTER, MIN_ON, at(1)), 'R71'],
    ];
    for (const [m, rule] of cases) expectRefused(h.send('in', m), m, rule);
    expect(knowledge(h).statuses.size).toBe(0);
    expect(knowledge(h).timers.size).toBe(0);
  });

  it('[R72] [R62] after a new description, statuses naming only the superseded one’s actuators are refused', () => {
    const h = open('CEM');
    h.send('in', description());
    h.send('in', description([heatPump()]));
    const m = actuatorStatus(BOOSTER, BOOSTER_ON);
    expectRefused(h.send('in', m), m, 'R62', 'R72');
    expect(h.state).toBe('described');
  });

  it('[R54] [R56] [R58] [Q10] the RM revokes its descriptions by message_id; with none left, statuses are refused again', () => {
    const h = open('CEM');
    const first = description();
    const second = description();
    h.send('in', first);
    h.send('in', second);
    const r1 = revoke('FRBC.SystemDescription', first.message_id);
    expectAccepted(h.send('in', r1), r1);
    expect(h.state).toBe('described');
    const r2 = revoke('FRBC.SystemDescription', second.message_id.toUpperCase());
    expectAccepted(h.send('in', r2), r2);
    expect(h.state).toBe('awaitingDescription');
    const s = actuatorStatus(HP, ON);
    expectRefused(h.send('in', s), s, 'R39');
    const again = revoke('FRBC.SystemDescription', second.message_id);
    expectRefused(h.send('in', again), again, 'R54');
    const d = description();
    h.send('in', d);
    expect(h.state).toBe('described');
  });

  it('[R54] [R55] [R57] refuses revoking an unknown description, an instruction (by the RM), or another control type’s object', () => {
    const h = open('CEM');
    h.send('in', description());
    const ins = instruction(HP, ON);
    h.send('out', ins);
    const cases: [IdentifiedMessage, string][] = [
      [revoke('FRBC.SystemDescription', randomUUID()), 'R54'],
      [revoke('FRBC.Instruction', ins.id), 'R55'],
      [revoke('OMBC.SystemDescription', randomUUID()), 'R57'],
    ];
    for (const [m, rule] of cases) expectRefused(h.send('in', m), m, rule);
    expect(h.state).toBe('described');
  });

  it('[R45] refuses an InstructionStatusUpdate for an instruction the CEM never sent (nor by its message_id)', () => {
    const h = open('CEM');
    h.send('in', description());
    const ins = instruction(HP, ON);
    h.send('out', ins);
    for (const id of [randomUUID(), ins.message_id]) {
      const u = statusUpdate(id, 'ACCEPTED');
      expectRefused(h.send('in', u), u, 'R45');
    }
  });

  it('[R44] [R46] follows an instruction through its statuses; refuses an illegal transition and any status after a final one', () => {
    const h = open('CEM');
    h.send('in', description());
    const ins = instruction(HP, ON);
    expect(h.send('out', ins)).toEqual([]);
    for (const status of ['NEW', 'ACCEPTED', 'STARTED'] as const) {
      const u = statusUpdate(ins.id, status);
      const replies = h.send('in', u);
      expectAccepted(replies, u);
      expect(notices(replies)).toEqual([{ kind: 'status', instructionId: ins.id, status }]);
    }
    const back = statusUpdate(ins.id, 'ACCEPTED');
    expectRefused(h.send('in', back), back, 'R46');
    const rejected = statusUpdate(ins.id, 'REJECTED');
    expectRefused(h.send('in', rejected), rejected, 'R46');
    expect(h.context.instructions.get(ins.id)?.status).toBe('STARTED');
    const done = statusUpdate(ins.id, 'SUCCEEDED');
    expectAccepted(h.send('in', done), done);
    const after = statusUpdate(ins.id, 'ABORTED');
    expectRefused(h.send('in', after), after, 'R44', 'R46');
    expect(h.context.instructions.get(ins.id)?.status).toBe('SUCCEEDED');
  });

  it('[R55] [R58] [Q13] the CEM revokes its started instruction; the RM’s REVOKED is accepted and final', () => {
    const h = open('CEM');
    h.send('in', description());
    const ins = instruction(HP, ON);
    h.send('out', ins);
    h.send('in', statusUpdate(ins.id, 'STARTED'));
    expect(h.send('out', revoke('FRBC.Instruction', ins.id))).toEqual([]);
    const u = statusUpdate(ins.id, 'REVOKED');
    expectAccepted(h.send('in', u), u);
    expect(h.context.instructions.get(ins.id)?.status).toBe('REVOKED');
    const late = statusUpdate(ins.id, 'SUCCEEDED');
    expectRefused(h.send('in', late), late, 'R46');
  });

  it('[R58] [Q12] an instruction outlives a revoked description: its statuses are still accepted', () => {
    const h = open('CEM');
    const d = description();
    h.send('in', d);
    const ins = instruction(HP, ON);
    h.send('out', ins);
    h.send('in', revoke('FRBC.SystemDescription', d.message_id));
    expect(h.state).toBe('awaitingDescription');
    const u = statusUpdate(ins.id, 'ABORTED');
    expectAccepted(h.send('in', u), u);
    expect(h.context.instructions.get(ins.id)?.status).toBe('ABORTED');
  });
});

describe('FRBC statechart, RM side (instructions arrive `in`, the RM’s own messages go `out`)', () => {
  /** An RM that described itself (and optionally reported statuses), as the application would send. */
  function described(...statuses: IdentifiedMessage[]) {
    const h = open('RM');
    const d = description();
    expect(h.send('out', d)).toEqual([]);
    for (const s of statuses) expect(h.send('out', s)).toEqual([]);
    return { h, d };
  }

  it('[R39] refuses an instruction before the RM sent its description', () => {
    const h = open('RM');
    const ins = instruction(HP, ON);
    expectRefused(h.send('in', ins), ins, 'R39');
    expect(h.context.instructions.size).toBe(0);
  });

  it('[R39] [R75] accepts an instruction once described and hands it to the application without rejection', () => {
    const { h } = described();
    expect(h.state).toBe('described');
    const ins = instruction(HP, ON);
    const replies = h.send('in', ins);
    expectAccepted(replies, ins);
    expect(notices(replies)).toEqual([{ kind: 'instruction', instruction: ins, rejection: undefined }]);
    expect(h.context.instructions.get(ins.id)).toEqual({ messageType: 'FRBC.Instruction', status: undefined, revoked: false });
  });

  it('[R75] [R49] refuses instructions naming an unknown actuator, an unknown mode or another actuator’s mode', () => {
    const { h } = described();
    for (const ins of [
      instruction(randomUUID(), ON),
      instruction(HP, randomUUID()),
      instruction(HP, BOOSTER_ON),
      instruction(BOOSTER, OFF),
    ]) {
      expectRefused(h.send('in', ins), ins, 'R75');
    }
    expect(h.context.instructions.size).toBe(0);
  });

  it('[R42] refuses a second instruction with an id already used in the session', () => {
    const { h } = described();
    const first = instruction(HP, ON);
    h.send('in', first);
    const again = instruction(HP, OFF, { id: first.id.toUpperCase() });
    expectRefused(h.send('in', again), again, 'R42');
  });

  it('[R54] [R56] [R58] [R72] once the RM revokes its (last) description, instructions against it are refused', () => {
    const { h, d } = described();
    const newer = description([heatPump()]);
    h.send('out', newer);
    const old = instruction(BOOSTER, BOOSTER_ON);
    expectRefused(h.send('in', old), old, 'R75', 'R72');
    h.send('out', revoke('FRBC.SystemDescription', newer.message_id));
    expect(h.state).toBe('awaitingDescription');
    expect(frbcRules.hasObject(knowledge(h), 'FRBC.SystemDescription', d.message_id)).toBe(true);
    const ins = instruction(HP, ON);
    expectRefused(h.send('in', ins), ins, 'R39');
    h.send('out', description());
    expect(h.state).toBe('described');
    expectAccepted(h.send('in', ins), ins);
  });

  it('[R44] [R46] the RM reports an instruction’s lifecycle (`out`): each legal status becomes a notice, an illegal one changes nothing', () => {
    const { h } = described();
    const ins = instruction(HP, ON);
    h.send('in', ins);
    expect(notices(h.send('out', statusUpdate(ins.id, 'ACCEPTED')))).toEqual([
      { kind: 'status', instructionId: ins.id, status: 'ACCEPTED' },
    ]);
    // The roles layer refuses to send an illegal status (statusTransitionRefusal); should one reach the statechart, it is ignored.
    expect(h.send('out', statusUpdate(ins.id, 'NEW'))).toEqual([]);
    expect(h.context.instructions.get(ins.id)?.status).toBe('ACCEPTED');
    expect(notices(h.send('out', statusUpdate(ins.id, 'STARTED')))).toEqual([{ kind: 'status', instructionId: ins.id, status: 'STARTED' }]);
    expect(notices(h.send('out', statusUpdate(ins.id, 'SUCCEEDED')))).toEqual([
      { kind: 'status', instructionId: ins.id, status: 'SUCCEEDED' },
    ]);
    expect(h.context.instructions.get(ins.id)?.status).toBe('SUCCEEDED');
    // A status after the final one: the guard the roles layer applies before sending refuses it.
    expect(controlTypeRefusal(frbcRules as ControlTypeRules<unknown>, h.context, statusUpdate(ins.id, 'ABORTED'), 'RM')).toMatch(
      /already final \(SUCCEEDED\) \(R44, R46\)/,
    );
  });

  it('[R55] [R58] the CEM revokes an instruction: accepted with a `revoked` notice, then the RM reports REVOKED', () => {
    const { h } = described();
    const ins = instruction(HP, ON);
    h.send('in', ins);
    h.send('out', statusUpdate(ins.id, 'ACCEPTED'));
    const r = revoke('FRBC.Instruction', ins.id);
    const replies = h.send('in', r);
    expectAccepted(replies, r);
    expect(notices(replies)).toEqual([{ kind: 'revoked', instructionId: ins.id }]);
    expect(notices(h.send('out', statusUpdate(ins.id, 'REVOKED')))).toEqual([{ kind: 'status', instructionId: ins.id, status: 'REVOKED' }]);
    const twice = revoke('FRBC.Instruction', ins.id);
    expectRefused(h.send('in', twice), twice, 'R54');
  });

  it('[R54] [R55] refuses the CEM revoking the RM’s description or an instruction it never sent', () => {
    const { h, d } = described();
    const cases: [IdentifiedMessage, string][] = [
      [revoke('FRBC.SystemDescription', d.message_id), 'R55'],
      [revoke('FRBC.Instruction', randomUUID()), 'R54'],
    ];
    for (const [m, rule] of cases) expectRefused(h.send('in', m), m, rule);
    expect(h.state).toBe('described');
  });

  it('[R50] [Q14] an abnormal-only mode without abnormal_condition is accepted, and the notice carries the rejection', () => {
    const { h } = described(actuatorStatus(HP, ON));
    const ins = instruction(HP, BOOST);
    const replies = h.send('in', ins);
    expectAccepted(replies, ins);
    expect(notices(replies)).toEqual([{ kind: 'instruction', instruction: ins, rejection: expect.stringMatching(/R50/) as unknown }]);
  });

  it('[R63] [Q14] a mode the active mode (from the RM’s own ActuatorStatus) has no transition to carries a rejection', () => {
    const { h } = described(actuatorStatus(HP, ON));
    const ins = instruction(HP, STANDBY);
    const replies = h.send('in', ins);
    expectAccepted(replies, ins);
    expect(notices(replies)[0]).toMatchObject({
      kind: 'instruction',
      rejection: expect.stringMatching(/no transition from its active mode .*\(R63\)/) as unknown,
    });
  });

  it('[R63] [Q14] without any ActuatorStatus the same instruction carries no rejection', () => {
    const { h } = described();
    expect(notices(h.send('in', instruction(HP, STANDBY)))[0]).toMatchObject({ kind: 'instruction', rejection: undefined });
  });

  it('[R64] [Q14] a transition blocked by a running timer (from the RM’s own TimerStatus) carries a rejection; a finished one does not', () => {
    const { h } = described(actuatorStatus(HP, OFF), timerStatus(HP, MIN_OFF, at(30)));
    const early = instruction(HP, ON, { execution_time: at(10) });
    expect(notices(h.send('in', early))[0]).toMatchObject({
      kind: 'instruction',
      rejection: expect.stringMatching(/blocked by timer .*\(R64\)/) as unknown,
    });
    const later = instruction(HP, ON, { execution_time: at(31) });
    expect(notices(h.send('in', later))[0]).toMatchObject({ kind: 'instruction', rejection: undefined });
  });
});
