/**
 * DDBC under S2 JSON 1.0.0-beta (docs/rules.md#R112): the description has no present_demand_rate and
 * DDBC.PresentDemandStatus (RM → CEM) carries it. The knowledge and the activation statechart are
 * one for both versions; here every DDBC rule is run against a 1.0.0-beta description, and the
 * present demand is followed through both versions' messages. (Which shape a session accepts at
 * all is the codec's business: test/e2e/versions-ddbc.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ControlTypeReply } from '../../../src/machines/control-type.js';
import type { SessionRole } from '../../../src/machines/events.js';
import { ddbcRejection, ddbcRules, type DdbcKnowledge } from '../../../src/rules/knowledge/ddbc.js';
import type { ControlTypeRules } from '../../../src/rules/knowledge/types.js';
import type { NumberRange } from '../../../src/typebox/common/primitives.js';
import type { DDBCActuatorDescription } from '../../../src/typebox/ddbc/system-description.js';
import type { IdentifiedMessage, MessageIn, MessageOf } from '../../../src/typebox/registry.js';
import { controlTypeHarness } from '../../support/control-type-harness.js';
import { uuid } from '../support.js';

type DescriptionV1 = MessageIn<'1.0.0-beta', 'DDBC.SystemDescription'>;
type DescriptionV0 = MessageIn<'0.0.2-beta', 'DDBC.SystemDescription'>;

/** The harness' default clock: 2026-01-01T00:00:00Z. */
const NOW = '2026-01-01T00:00:00Z';
const IN_5_MIN = '2026-01-01T00:05:00Z';
const IN_10_MIN = '2026-01-01T00:10:00Z';

let counter = 0;
const mid = (): string => uuid(`ddbc-v1:message:${counter++}`);

const A = {
  actuator: uuid('ddbc-v1:actuator'),
  off: uuid('ddbc-v1:mode:off'),
  on: uuid('ddbc-v1:mode:on'),
  boost: uuid('ddbc-v1:mode:boost'),
  toOn: uuid('ddbc-v1:t:off-on'),
  toBoost: uuid('ddbc-v1:t:on-boost'),
  rest: uuid('ddbc-v1:timer:rest'),
};

/** A heat pump: off → on (blocked by the rest timer), on → boost (boost for abnormal conditions only). */
function actuator(): DDBCActuatorDescription {
  const mode = (Id: string, supply: number, abnormal = false) => ({
    Id,
    power_ranges: [{ start_of_range: supply / 3, end_of_range: supply / 3, commodity_quantity: 'ELECTRIC.POWER.L1' as const }],
    supply_range: { start_of_range: 0, end_of_range: supply },
    abnormal_condition_only: abnormal,
  });
  return {
    id: A.actuator,
    supported_commodites: ['ELECTRICITY'],
    operation_modes: [mode(A.off, 0), mode(A.on, 6000), mode(A.boost, 9000, true)],
    transitions: [
      { id: A.toOn, from: A.off, to: A.on, start_timers: [], blocking_timers: [A.rest], abnormal_condition_only: false },
      { id: A.toBoost, from: A.on, to: A.boost, start_timers: [], blocking_timers: [], abnormal_condition_only: false },
    ],
    timers: [{ id: A.rest, duration: 300_000 }],
  };
}

function descriptionV1(messageId = mid()): DescriptionV1 {
  return {
    message_type: 'DDBC.SystemDescription',
    message_id: messageId,
    valid_from: NOW,
    actuators: [actuator()],
    provides_average_demand_rate_forecast: true,
  };
}

function descriptionV0(demand: NumberRange): DescriptionV0 {
  return { ...descriptionV1(), present_demand_rate: demand };
}

function presentDemand(start: number, end = start): MessageOf<'DDBC.PresentDemandStatus'> {
  return { message_type: 'DDBC.PresentDemandStatus', message_id: mid(), present_demand_rate: { start_of_range: start, end_of_range: end } };
}

function actuatorStatus(active: string, previous?: string): MessageOf<'DDBC.ActuatorStatus'> {
  const base = {
    message_type: 'DDBC.ActuatorStatus' as const,
    message_id: mid(),
    actuator_id: A.actuator,
    active_operation_mode_id: active,
    operation_mode_factor: 0.5,
  };
  return previous === undefined ? base : { ...base, previous_operation_mode_id: previous, transition_timestamp: NOW };
}

function timerStatus(timerId: string, finishedAt: string): MessageOf<'DDBC.TimerStatus'> {
  return { message_type: 'DDBC.TimerStatus', message_id: mid(), actuator_id: A.actuator, timer_id: timerId, finished_at: finishedAt };
}

function forecast(): MessageOf<'DDBC.AverageDemandRateForecast'> {
  return {
    message_type: 'DDBC.AverageDemandRateForecast',
    message_id: mid(),
    start_time: NOW,
    elements: [{ duration: 60_000, demand_rate_expected: 4000 }],
  };
}

function instruction(
  modeId: string,
  options: { actuatorId?: string; abnormal?: boolean; at?: string } = {},
): MessageOf<'DDBC.Instruction'> {
  return {
    message_type: 'DDBC.Instruction',
    message_id: mid(),
    id: uuid(`ddbc-v1:instruction:${counter++}`),
    execution_time: options.at ?? IN_5_MIN,
    abnormal_condition: options.abnormal ?? false,
    actuator_id: options.actuatorId ?? A.actuator,
    operation_mode_id: modeId,
    operation_mode_factor: 1,
  };
}

function revoke(objectId: string): MessageOf<'RevokeObject'> {
  return { message_type: 'RevokeObject', message_id: mid(), object_type: 'DDBC.SystemDescription', object_id: objectId };
}

const know = (...messages: IdentifiedMessage[]): DdbcKnowledge => messages.reduce((k, m) => ddbcRules.learn(k, m), ddbcRules.empty());
const range = (start: number, end = start): NumberRange => ({ start_of_range: start, end_of_range: end });

describe('ddbcRules with S2 JSON 1.0.0-beta messages (unit)', () => {
  it('[R39, R112] a 1.0.0-beta description describes DDBC but carries no present demand', () => {
    const k = know(descriptionV1());
    expect(ddbcRules.described(k)).toBe(true);
    expect(k.presentDemand).toBeUndefined();
  });

  it('[R39, R112] refuses a DDBC.PresentDemandStatus before any description; accepts it once one is in force', () => {
    expect(ddbcRules.refusal(ddbcRules.empty(), presentDemand(4000))).toMatch(
      /DDBC.PresentDemandStatus before any DDBC.SystemDescription \(R39, R112\)/,
    );
    expect(ddbcRules.refusal(know(descriptionV1()), presentDemand(4000))).toBeUndefined();
  });

  it('[R112] the latest DDBC.PresentDemandStatus is the present demand; a new 1.0.0-beta description keeps it', () => {
    let k = know(descriptionV1(), presentDemand(3600, 4400));
    expect(k.presentDemand).toEqual(range(3600, 4400));
    k = ddbcRules.learn(k, presentDemand(5000));
    expect(k.presentDemand).toEqual(range(5000));
    // The demand is the house's, not the actuators': re-describing them does not forget it.
    k = ddbcRules.learn(k, descriptionV1());
    expect(k.presentDemand).toEqual(range(5000));
  });

  it('[R112] a 0.0.2-beta description sets the present demand too, and whichever came last counts', () => {
    let k = know(descriptionV0(range(3000, 3500)));
    expect(k.presentDemand).toEqual(range(3000, 3500));
    k = ddbcRules.learn(k, presentDemand(4200));
    expect(k.presentDemand).toEqual(range(4200));
    k = ddbcRules.learn(k, descriptionV0(range(1000, 1200)));
    expect(k.presentDemand).toEqual(range(1000, 1200));
  });

  it('[R39, R16] a DDBC.PresentDemandStatus without a description in force teaches nothing (a sent one skips refusal)', () => {
    expect(know(presentDemand(4000)).presentDemand).toBeUndefined();
    const d = descriptionV1();
    const k = ddbcRules.revoke(know(d), 'DDBC.SystemDescription', d.message_id);
    expect(ddbcRules.learn(k, presentDemand(4000)).presentDemand).toBeUndefined();
  });

  it('[R87, R88] instructions against a 1.0.0-beta description: the actuator and one of its modes (by Id)', () => {
    const k = know(descriptionV1());
    expect(ddbcRules.refusal(k, instruction(A.on))).toBeUndefined();
    expect(ddbcRules.refusal(k, instruction(A.on, { actuatorId: uuid('ddbc-v1:nobody') }))).toMatch(/unknown actuator_id .*\(R87, R72\)/);
    expect(ddbcRules.refusal(k, instruction(A.toOn))).toMatch(/unknown operation mode .*\(R87, R88\)/);
  });

  it('[R62, R71, R86] statuses, timers and forecasts against a 1.0.0-beta description', () => {
    const k = know(descriptionV1());
    expect(ddbcRules.refusal(k, actuatorStatus(A.on, A.off))).toBeUndefined();
    expect(ddbcRules.refusal(k, actuatorStatus(uuid('ddbc-v1:no-mode')))).toMatch(/\(R62, R88\)/);
    expect(ddbcRules.refusal(k, timerStatus(A.rest, IN_10_MIN))).toBeUndefined();
    expect(ddbcRules.refusal(k, timerStatus(uuid('ddbc-v1:no-timer'), IN_10_MIN))).toMatch(/unknown timer .*\(R71\)/);
    expect(ddbcRules.refusal(k, forecast())).toBeUndefined();
    expect(ddbcRules.refusal(ddbcRules.empty(), forecast())).toMatch(/\(R39, R86\)/);
  });

  it('[R50, R63, R64] rejections against a 1.0.0-beta description', () => {
    const k = know(descriptionV1(), actuatorStatus(A.off), timerStatus(A.rest, IN_10_MIN));
    expect(ddbcRejection(k, instruction(A.on, { at: IN_5_MIN }))).toMatch(/blocked by timer .*\(R64\)/);
    expect(ddbcRejection(k, instruction(A.on, { at: IN_10_MIN }))).toBeUndefined();
    expect(ddbcRejection(k, instruction(A.boost, { abnormal: true }))).toMatch(/no transition .*\(R63\)/);
    const on = ddbcRules.learn(k, actuatorStatus(A.on, A.off));
    expect(ddbcRejection(on, instruction(A.boost))).toMatch(/abnormal conditions only .*\(R50\)/);
    expect(ddbcRejection(on, instruction(A.boost, { abnormal: true }))).toBeUndefined();
  });

  it('[R54, R58, R72] revoking the 1.0.0-beta description in force leaves none; a superseded one stays revocable', () => {
    const first = descriptionV1();
    const second = descriptionV1();
    const k = know(first, presentDemand(4000), second);
    expect(ddbcRules.hasObject(k, 'DDBC.SystemDescription', first.message_id)).toBe(true);
    const revoked = ddbcRules.revoke(k, 'DDBC.SystemDescription', second.message_id);
    expect(ddbcRules.described(revoked)).toBe(false);
    expect(ddbcRules.refusal(revoked, presentDemand(4000))).toMatch(/\(R39, R112\)/);
  });
});

describe('DDBC control-type statechart with S2 JSON 1.0.0-beta messages', () => {
  const rules = ddbcRules as ControlTypeRules<unknown>;
  let harness: ReturnType<typeof controlTypeHarness> | undefined;
  const start = (role: SessionRole) => (harness = controlTypeHarness(rules, role));
  const knowledge = () => harness!.context.knowledge as DdbcKnowledge;
  const types = (replies: ControlTypeReply[]) => replies.map((r) => r.type);
  const reason = (replies: ControlTypeReply[]) => {
    expect(types(replies)).toEqual(['ct.refused']);
    return (replies[0] as Extract<ControlTypeReply, { type: 'ct.refused' }>).reason;
  };
  afterEach(() => harness?.stop());

  it('[R39, R112, R60] CEM: the description, then DDBC.PresentDemandStatus, statuses and a forecast; a new demand replaces the old', () => {
    const h = start('CEM');
    expect(types(h.send('in', descriptionV1()))).toEqual(['ct.accepted']);
    expect(h.state).toBe('described');
    expect(types(h.send('in', presentDemand(3600, 4400)))).toEqual(['ct.accepted']);
    expect(types(h.send('in', timerStatus(A.rest, IN_10_MIN)))).toEqual(['ct.accepted']);
    expect(types(h.send('in', actuatorStatus(A.off)))).toEqual(['ct.accepted']);
    expect(types(h.send('in', forecast()))).toEqual(['ct.accepted']);
    expect(knowledge().presentDemand).toEqual(range(3600, 4400));
    expect(types(h.send('in', presentDemand(5000)))).toEqual(['ct.accepted']);
    expect(knowledge().presentDemand).toEqual(range(5000));
  });

  it('[R39, R112, R16] CEM: DDBC.PresentDemandStatus before any description is INVALID_CONTENT and changes nothing', () => {
    const h = start('CEM');
    expect(reason(h.send('in', presentDemand(4000)))).toMatch(/before any DDBC.SystemDescription \(R39, R112\)/);
    expect(h.state).toBe('awaitingDescription');
    expect(knowledge().presentDemand).toBeUndefined();
  });

  it('[R54, R58, R112] CEM: after the RM revokes its description, a PresentDemandStatus is refused again', () => {
    const h = start('CEM');
    const d = descriptionV1();
    h.send('in', d);
    expect(types(h.send('in', revoke(d.message_id)))).toEqual(['ct.accepted']);
    expect(h.state).toBe('awaitingDescription');
    expect(reason(h.send('in', presentDemand(4000)))).toMatch(/\(R39, R112\)/);
  });

  it('[R39, R87, R112] RM: learns its own description and demand; an instruction against it is accepted', () => {
    const h = start('RM');
    expect(h.send('out', descriptionV1())).toEqual([]);
    expect(h.send('out', presentDemand(4000))).toEqual([]);
    expect(knowledge().presentDemand).toEqual(range(4000));
    const replies = h.send('in', instruction(A.on, { at: IN_10_MIN }));
    expect(types(replies)).toEqual(['ct.accepted', 'ct.notice']);
  });
});
