import { afterEach, describe, expect, it } from 'vitest';
import { controlTypeRefusal, type ControlTypeReply } from '../../../src/machines/control-type.js';
import type { SessionRole } from '../../../src/machines/events.js';
import { ddbcRejection, ddbcRules, type DdbcKnowledge } from '../../../src/rules/knowledge/ddbc.js';
import type { ControlTypeRules } from '../../../src/rules/knowledge/types.js';
import type { InstructionStatus, RevokableObjects } from '../../../src/typebox/common/enums.js';
import type { IdentifiedMessage, MessageOf } from '../../../src/typebox/registry.js';
import { controlTypeHarness } from '../../support/control-type-harness.js';
import { uuid } from '../support.js';

type SystemDescription = MessageOf<'DDBC.SystemDescription'>;
type Actuator = SystemDescription['actuators'][number];
type Instruction = MessageOf<'DDBC.Instruction'>;

/** The harness' default clock: 2026-01-01T00:00:00Z. */
const NOW = '2026-01-01T00:00:00Z';
const IN_5_MIN = '2026-01-01T00:05:00Z';
const IN_10_MIN = '2026-01-01T00:10:00Z';
const IN_15_MIN = '2026-01-01T00:15:00Z';

let counter = 0;
/** A fresh message_id per message (R2). */
const mid = (): string => uuid(`ddbc-knowledge:message:${counter++}`);

/** Ids of one actuator of a hot-water system (every id a lowercase UUID, R3/R4). */
function ids(name: string) {
  const id = (s: string): string => uuid(`ddbc-knowledge:${name}:${s}`);
  return {
    actuator: id('actuator'),
    off: id('mode:off'),
    on: id('mode:on'),
    boost: id('mode:boost'),
    toOn: id('t:off-on'),
    toOff: id('t:on-off'),
    toBoost: id('t:on-boost'),
    emergencyBoost: id('t:off-boost'),
    run: id('timer:run'),
    rest: id('timer:rest'),
  };
}
const HP = ids('heat-pump');
const BOILER = ids('boiler');

/**
 * A heat pump or boiler: off ⇄ on guarded by minimum run/rest timers (off→on is blocked by `rest`
 * and starts `run`; on→off the reverse), on → boost (an abnormal-only mode) and an abnormal-only
 * emergency transition off → boost.
 */
function actuator(i: typeof HP): Actuator {
  return {
    id: i.actuator,
    diagnostic_label: 'hot water',
    supported_commodites: ['ELECTRICITY', 'HEAT'],
    operation_modes: [
      {
        Id: i.off,
        power_ranges: [{ start_of_range: 0, end_of_range: 0, commodity_quantity: 'ELECTRIC.POWER.L1' }],
        supply_range: { start_of_range: 0, end_of_range: 0 },
        abnormal_condition_only: false,
      },
      {
        Id: i.on,
        power_ranges: [
          { start_of_range: 800, end_of_range: 2400, commodity_quantity: 'ELECTRIC.POWER.L1' },
          { start_of_range: 2500, end_of_range: 8000, commodity_quantity: 'HEAT.THERMAL_POWER' },
        ],
        supply_range: { start_of_range: 0.02, end_of_range: 0.08 },
        running_costs: { start_of_range: 0, end_of_range: 0.0001 },
        abnormal_condition_only: false,
      },
      {
        Id: i.boost,
        power_ranges: [{ start_of_range: 3000, end_of_range: 3000, commodity_quantity: 'ELECTRIC.POWER.L1' }],
        supply_range: { start_of_range: 0.1, end_of_range: 0.1 },
        abnormal_condition_only: true,
      },
    ],
    transitions: [
      { id: i.toOn, from: i.off, to: i.on, start_timers: [i.run], blocking_timers: [i.rest], abnormal_condition_only: false },
      { id: i.toOff, from: i.on, to: i.off, start_timers: [i.rest], blocking_timers: [i.run], abnormal_condition_only: false },
      { id: i.toBoost, from: i.on, to: i.boost, start_timers: [], blocking_timers: [], abnormal_condition_only: false },
      {
        id: i.emergencyBoost,
        from: i.off,
        to: i.boost,
        start_timers: [],
        blocking_timers: [],
        abnormal_condition_only: true,
        transition_duration: 30_000,
      },
    ],
    timers: [
      { id: i.run, duration: 600_000 },
      { id: i.rest, duration: 300_000 },
    ],
  };
}

function description(
  actuators: Actuator[] = [actuator(HP), actuator(BOILER)],
  messageId = mid(),
  providesForecast = false,
): SystemDescription {
  return {
    message_type: 'DDBC.SystemDescription',
    message_id: messageId,
    valid_from: NOW,
    actuators,
    present_demand_rate: { start_of_range: 0.03, end_of_range: 0.05 },
    provides_average_demand_rate_forecast: providesForecast,
  };
}

function actuatorStatus(actuatorId: string, active: string, previous?: string): MessageOf<'DDBC.ActuatorStatus'> {
  const base = {
    message_type: 'DDBC.ActuatorStatus' as const,
    message_id: mid(),
    actuator_id: actuatorId,
    active_operation_mode_id: active,
    operation_mode_factor: 0.5,
  };
  return previous === undefined ? base : { ...base, previous_operation_mode_id: previous, transition_timestamp: NOW };
}

function timerStatus(actuatorId: string, timerId: string, finishedAt: string): MessageOf<'DDBC.TimerStatus'> {
  return { message_type: 'DDBC.TimerStatus', message_id: mid(), actuator_id: actuatorId, timer_id: timerId, finished_at: finishedAt };
}

function forecast(): MessageOf<'DDBC.AverageDemandRateForecast'> {
  return {
    message_type: 'DDBC.AverageDemandRateForecast',
    message_id: mid(),
    start_time: NOW,
    elements: [{ duration: 3_600_000, demand_rate_expected: 0.04, demand_rate_lower_68PPR: 0.03, demand_rate_upper_68PPR: 0.05 }],
  };
}

function instruction(actuatorId: string, modeId: string, options: { id?: string; abnormal?: boolean; at?: string } = {}): Instruction {
  return {
    message_type: 'DDBC.Instruction',
    message_id: mid(),
    id: options.id ?? uuid(`ddbc-knowledge:instruction:${counter++}`),
    execution_time: options.at ?? IN_5_MIN,
    abnormal_condition: options.abnormal ?? false,
    actuator_id: actuatorId,
    operation_mode_id: modeId,
    operation_mode_factor: 0.75,
  };
}

function statusUpdate(instructionId: string, status: InstructionStatus): MessageOf<'InstructionStatusUpdate'> {
  return { message_type: 'InstructionStatusUpdate', message_id: mid(), instruction_id: instructionId, status_type: status, timestamp: NOW };
}

function revoke(objectType: RevokableObjects, objectId: string): MessageOf<'RevokeObject'> {
  return { message_type: 'RevokeObject', message_id: mid(), object_type: objectType, object_id: objectId };
}

/** Knowledge after learning `messages` in order (as accepted messages would be). */
function know(...messages: IdentifiedMessage[]): DdbcKnowledge {
  return messages.reduce((k, m) => ddbcRules.learn(k, m), ddbcRules.empty());
}

const rules = ddbcRules as ControlTypeRules<unknown>;

function refusedReason(replies: ControlTypeReply[]): string {
  expect(replies.map((r) => r.type)).toEqual(['ct.refused']);
  return (replies[0] as Extract<ControlTypeReply, { type: 'ct.refused' }>).reason;
}

function expectAcceptedOnly(replies: ControlTypeReply[]): void {
  expect(replies.map((r) => r.type)).toEqual(['ct.accepted']);
}

/** The `ct.notice` payloads among `replies`. */
function notices(replies: ControlTypeReply[]) {
  return replies.flatMap((r) => (r.type === 'ct.notice' ? [r.notice] : []));
}

/** The rejection the RM side's instruction notice carries. */
function rejectionOf(replies: ControlTypeReply[]): string | undefined {
  expect(replies[0]?.type).toBe('ct.accepted');
  const notice = notices(replies).find((n) => n.kind === 'instruction');
  expect(notice).toBeDefined();
  return notice?.kind === 'instruction' ? notice.rejection : undefined;
}

describe('ddbcRules (unit)', () => {
  describe('descriptions', () => {
    it('[R39] knows nothing and is not described before a DDBC.SystemDescription', () => {
      const k = ddbcRules.empty();
      expect(ddbcRules.described(k)).toBe(false);
      expect(ddbcRules.hasObject(k, 'DDBC.SystemDescription', uuid('anything'))).toBe(false);
    });

    it('[R39, R56, Q10] is described after a DDBC.SystemDescription, which is known by its message_id', () => {
      const d = description();
      const k = know(d);
      expect(ddbcRules.described(k)).toBe(true);
      expect(ddbcRules.hasObject(k, 'DDBC.SystemDescription', d.message_id)).toBe(true);
      expect(ddbcRules.hasObject(k, 'DDBC.SystemDescription', d.message_id.toUpperCase())).toBe(true); // R4
      expect(ddbcRules.hasObject(k, 'DDBC.Instruction', d.message_id)).toBe(false);
      expect(ddbcRules.hasObject(k, 'FRBC.SystemDescription', d.message_id)).toBe(false);
    });

    it('[R88] indexes operation modes by their wire key `Id`', () => {
      const k = know(description());
      expect([...k.actuators.get(HP.actuator)!.modes.keys()]).toEqual([HP.off, HP.on, HP.boost]);
    });

    it('[R72] a newer DDBC.SystemDescription supersedes the previous one; both stay revocable (R54)', () => {
      const first = description([actuator(HP), actuator(BOILER)]);
      const second = description([actuator(HP)]);
      const k = know(first, second);
      expect(k.current).toBe(second);
      expect(ddbcRules.refusal(k, instruction(BOILER.actuator, BOILER.on))).toMatch(/unknown actuator_id .*\(R87, R72\)/);
      expect(ddbcRules.refusal(k, instruction(HP.actuator, HP.on))).toBeUndefined();
      expect(ddbcRules.hasObject(k, 'DDBC.SystemDescription', first.message_id)).toBe(true);
      expect(ddbcRules.hasObject(k, 'DDBC.SystemDescription', second.message_id)).toBe(true);
    });

    it('[R72, R62, R71] drops statuses of actuators, modes and timers the new description no longer has', () => {
      const reduced = {
        ...actuator(HP),
        operation_modes: actuator(HP).operation_modes.filter((m) => m.Id !== HP.on),
        transitions: [],
        timers: [],
      };
      const k = know(
        description(),
        actuatorStatus(HP.actuator, HP.on),
        actuatorStatus(BOILER.actuator, BOILER.off),
        timerStatus(HP.actuator, HP.rest, IN_10_MIN),
        description([reduced, actuator(BOILER)]),
      );
      expect([...k.statuses.keys()]).toEqual([BOILER.actuator]);
      expect(k.timers.get(HP.actuator)?.size).toBe(0);
    });

    it('[R58, R72] revoking a superseded description changes nothing in force; revoking the one in force leaves none', () => {
      const first = description([actuator(HP), actuator(BOILER)]);
      const second = description([actuator(HP)]);
      const k = know(first, second);
      const withoutFirst = ddbcRules.revoke(k, 'DDBC.SystemDescription', first.message_id);
      expect(withoutFirst.current).toBe(second);
      expect(ddbcRules.hasObject(withoutFirst, 'DDBC.SystemDescription', first.message_id)).toBe(false);
      // The superseded first description is not revived (R72): nothing is in force any more.
      const withoutSecond = ddbcRules.revoke(k, 'DDBC.SystemDescription', second.message_id);
      expect(ddbcRules.described(withoutSecond)).toBe(false);
      expect(ddbcRules.hasObject(withoutSecond, 'DDBC.SystemDescription', first.message_id)).toBe(true);
      expect(ddbcRules.refusal(withoutSecond, instruction(BOILER.actuator, BOILER.on))).toMatch(/\(R39, R87\)/);
    });

    it('[R58, R39] revoking the last description leaves nothing described (compares ids case-insensitively, R4)', () => {
      const d = description();
      const k = ddbcRules.revoke(know(d, actuatorStatus(HP.actuator, HP.on)), 'DDBC.SystemDescription', d.message_id.toUpperCase());
      expect(ddbcRules.described(k)).toBe(false);
      expect(k.actuators.size).toBe(0);
      expect(k.statuses.size).toBe(0);
      expect(ddbcRules.refusal(k, actuatorStatus(HP.actuator, HP.on))).toMatch(/\(R39, R62\)/);
    });

    it('[R54] revoke leaves the knowledge untouched for an unknown id or another object type', () => {
      const d = description();
      const k = know(d);
      expect(ddbcRules.revoke(k, 'DDBC.SystemDescription', uuid('never-sent'))).toBe(k);
      expect(ddbcRules.revoke(k, 'DDBC.Instruction', d.message_id)).toBe(k);
    });

    it('[R60, R71, R16] learns statuses immutably (a refused message can change nothing); instructions teach nothing', () => {
      const k0 = know(description());
      const k1 = ddbcRules.learn(k0, actuatorStatus(HP.actuator, HP.on));
      const k2 = ddbcRules.learn(k1, timerStatus(HP.actuator, HP.run, IN_10_MIN));
      expect(k0.statuses.size).toBe(0);
      expect(k1.timers.size).toBe(0);
      expect(k2.timers.get(HP.actuator)?.get(HP.run)).toBe(Date.parse(IN_10_MIN));
      expect(ddbcRules.learn(k2, instruction(HP.actuator, HP.off))).toBe(k2);
    });

    it('[R62, R71] does not learn statuses that name nothing in force (sent messages skip refusal in the statechart)', () => {
      const k = know(description());
      expect(ddbcRules.learn(k, actuatorStatus(HP.actuator, BOILER.on))).toBe(k);
      expect(ddbcRules.learn(k, actuatorStatus(uuid('no-actuator'), HP.on))).toBe(k);
      expect(ddbcRules.learn(k, timerStatus(HP.actuator, BOILER.run, IN_10_MIN))).toBe(k);
      expect(ddbcRules.learn(ddbcRules.empty(), timerStatus(HP.actuator, HP.run, IN_10_MIN)).timers.size).toBe(0);
    });
  });

  describe('refusal', () => {
    const k = know(description());

    it('[R87] accepts a DDBC.Instruction naming an actuator and one of its modes', () => {
      expect(ddbcRules.refusal(k, instruction(HP.actuator, HP.on))).toBeUndefined();
      expect(ddbcRules.refusal(k, instruction(HP.actuator.toUpperCase(), HP.on.toUpperCase()))).toBeUndefined(); // R4
    });

    it('[R87] refuses a DDBC.Instruction naming an unknown actuator', () => {
      expect(ddbcRules.refusal(k, instruction(uuid('no-actuator'), HP.on))).toMatch(/unknown actuator_id .*\(R87, R72\)/);
    });

    it('[R87, R88] refuses a DDBC.Instruction naming an unknown mode, a mode of another actuator or a transition id', () => {
      expect(ddbcRules.refusal(k, instruction(HP.actuator, uuid('no-mode')))).toMatch(/unknown operation mode .*\(R87, R88\)/);
      expect(ddbcRules.refusal(k, instruction(HP.actuator, BOILER.on))).toMatch(/unknown operation mode .*\(R87, R88\)/);
      expect(ddbcRules.refusal(k, instruction(HP.actuator, HP.toOn))).toMatch(/\(R87, R88\)/);
    });

    it('[R39, R87] refuses a DDBC.Instruction when no description is in force', () => {
      expect(ddbcRules.refusal(ddbcRules.empty(), instruction(HP.actuator, HP.on))).toMatch(/\(R39, R87\)/);
    });

    it('[R62] accepts a DDBC.ActuatorStatus whose active and previous modes are modes of the actuator', () => {
      expect(ddbcRules.refusal(k, actuatorStatus(HP.actuator, HP.on, HP.off))).toBeUndefined();
    });

    it('[R62] refuses a DDBC.ActuatorStatus with an unknown actuator, active mode or previous mode', () => {
      expect(ddbcRules.refusal(k, actuatorStatus(uuid('no-actuator'), HP.on))).toMatch(/unknown actuator_id .*\(R62, R72\)/);
      expect(ddbcRules.refusal(k, actuatorStatus(HP.actuator, BOILER.on))).toMatch(/unknown operation mode .*\(R62, R88\)/);
      expect(ddbcRules.refusal(k, actuatorStatus(HP.actuator, HP.on, uuid('no-mode')))).toMatch(
        /unknown previous_operation_mode_id .*\(R62, R88\)/,
      );
      expect(ddbcRules.refusal(k, actuatorStatus(HP.actuator, HP.on, BOILER.off))).toMatch(
        /unknown previous_operation_mode_id .*\(R62, R88\)/,
      );
    });

    it('[R62, R72] accepts a previous mode that only a superseded, unrevoked description has', () => {
      const first = description();
      const withoutBoost = {
        ...actuator(HP),
        operation_modes: actuator(HP).operation_modes.filter((m) => m.Id !== HP.boost),
        transitions: [],
      };
      const k = know(first, description([withoutBoost]));
      expect(ddbcRules.refusal(k, actuatorStatus(HP.actuator, HP.on, HP.boost))).toBeUndefined();
      expect(ddbcRules.refusal(k, actuatorStatus(HP.actuator, HP.boost))).toMatch(/unknown operation mode .*\(R62, R88\)/);
      const revoked = ddbcRules.revoke(k, 'DDBC.SystemDescription', first.message_id);
      expect(ddbcRules.refusal(revoked, actuatorStatus(HP.actuator, HP.on, HP.boost))).toMatch(
        /unknown previous_operation_mode_id .*\(R62, R88\)/,
      );
    });

    it('[R71] accepts a DDBC.TimerStatus for a timer of the actuator', () => {
      expect(ddbcRules.refusal(k, timerStatus(HP.actuator, HP.run, IN_10_MIN))).toBeUndefined();
    });

    it('[R71] refuses a DDBC.TimerStatus with an unknown actuator, an unknown timer or a timer of another actuator', () => {
      expect(ddbcRules.refusal(k, timerStatus(uuid('no-actuator'), HP.run, IN_10_MIN))).toMatch(/unknown actuator_id .*\(R71, R72\)/);
      expect(ddbcRules.refusal(k, timerStatus(HP.actuator, uuid('no-timer'), IN_10_MIN))).toMatch(/unknown timer .*\(R71\)/);
      expect(ddbcRules.refusal(k, timerStatus(HP.actuator, BOILER.run, IN_10_MIN))).toMatch(/unknown timer .*\(R71\)/);
    });

    it('[R39, R86] refuses a DDBC.AverageDemandRateForecast before any description', () => {
      expect(ddbcRules.refusal(ddbcRules.empty(), forecast())).toMatch(/\(R39, R86\)/);
    });

    it('[R86] accepts a DDBC.AverageDemandRateForecast after a description, whatever provides_average_demand_rate_forecast says (SHOULD, not enforced)', () => {
      expect(ddbcRules.refusal(know(description(undefined, undefined, true)), forecast())).toBeUndefined();
      expect(ddbcRules.refusal(know(description(undefined, undefined, false)), forecast())).toBeUndefined();
    });

    it('[R39, R56] a DDBC.SystemDescription refers to nothing and is never refused by the knowledge', () => {
      expect(ddbcRules.refusal(ddbcRules.empty(), description())).toBeUndefined();
    });
  });

  describe('rejection (RM side)', () => {
    const base = know(description());
    const reject = ddbcRules.rejection!.bind(ddbcRules);

    it('[R50] rejects an abnormal-only mode without abnormal_condition, accepts it with', () => {
      expect(reject(base, instruction(HP.actuator, HP.boost))).toMatch(/abnormal conditions only .*\(R50\)/);
      expect(reject(base, instruction(HP.actuator, HP.boost, { abnormal: true }))).toBeUndefined();
    });

    it('[R63, R64] does not reject when no DDBC.ActuatorStatus is known (the current mode is unknown)', () => {
      const k = ddbcRules.learn(base, timerStatus(HP.actuator, HP.rest, IN_10_MIN));
      expect(reject(k, instruction(HP.actuator, HP.on))).toBeUndefined();
    });

    it('[R63] needs no transition to stay in the current mode with another factor', () => {
      const k = ddbcRules.learn(base, actuatorStatus(HP.actuator, HP.on));
      expect(reject(k, instruction(HP.actuator, HP.on))).toBeUndefined();
    });

    it('[R63] rejects a mode with no transition from the current one, accepts one with', () => {
      const k = ddbcRules.learn(base, actuatorStatus(HP.actuator, HP.boost));
      expect(reject(k, instruction(HP.actuator, HP.off))).toMatch(/no transition from its current mode .*\(R63\)/);
      const on = ddbcRules.learn(base, actuatorStatus(HP.actuator, HP.on));
      expect(reject(on, instruction(HP.actuator, HP.off))).toBeUndefined();
    });

    it('[R50, R63] rejects a transition for abnormal conditions only without abnormal_condition', () => {
      const off = ddbcRules.learn(base, actuatorStatus(HP.actuator, HP.off));
      // off → boost exists only as an abnormal-only transition (and boost itself is abnormal-only).
      expect(reject(off, instruction(HP.actuator, HP.boost, { abnormal: true }))).toBeUndefined();
      const plainBoost = {
        ...actuator(HP),
        operation_modes: actuator(HP).operation_modes.map((m) => ({ ...m, abnormal_condition_only: false })),
      };
      const k = know(description([plainBoost]), actuatorStatus(HP.actuator, HP.off));
      expect(reject(k, instruction(HP.actuator, HP.boost))).toMatch(/every transition .* abnormal conditions only .*\(R50, R63\)/);
    });

    it('[R64] rejects a transition whose blocking timer is still running at execution_time', () => {
      const k = know(description(), actuatorStatus(HP.actuator, HP.off), timerStatus(HP.actuator, HP.rest, IN_10_MIN));
      expect(reject(k, instruction(HP.actuator, HP.on, { at: IN_5_MIN }))).toMatch(
        new RegExp(`blocked by timer ${HP.rest} until 2026-01-01T00:10:00.000Z \\(R64\\)`),
      );
    });

    it('[R64] accepts once the blocking timer has finished by execution_time, and ignores timers that do not block', () => {
      const k = know(
        description(),
        actuatorStatus(HP.actuator, HP.off),
        timerStatus(HP.actuator, HP.rest, IN_10_MIN),
        timerStatus(HP.actuator, HP.run, IN_15_MIN),
      );
      expect(reject(k, instruction(HP.actuator, HP.on, { at: IN_15_MIN }))).toBeUndefined();
      // `run` only blocks on → off; the heat pump is off.
      expect(
        reject(
          know(description(), actuatorStatus(HP.actuator, HP.off), timerStatus(HP.actuator, HP.run, IN_15_MIN)),
          instruction(HP.actuator, HP.on),
        ),
      ).toBeUndefined();
    });

    it('[R64, R43] judges a past execution_time at `now` when ddbcRejection is given the clock', () => {
      const k = know(description(), actuatorStatus(HP.actuator, HP.off), timerStatus(HP.actuator, HP.rest, IN_5_MIN));
      const late = instruction(HP.actuator, HP.on, { at: NOW });
      expect(ddbcRejection(k, late)).toMatch(/\(R64\)/);
      expect(ddbcRejection(k, late, Date.parse(IN_10_MIN))).toBeUndefined();
    });

    it('[R64] accepts when another transition to the mode is not blocked', () => {
      const hp = actuator(HP);
      const withBypass = {
        ...hp,
        transitions: [
          ...hp.transitions,
          { id: uuid('t:bypass'), from: HP.off, to: HP.on, start_timers: [], blocking_timers: [], abnormal_condition_only: false },
        ],
      };
      const k = know(description([withBypass]), actuatorStatus(HP.actuator, HP.off), timerStatus(HP.actuator, HP.rest, IN_10_MIN));
      expect(reject(k, instruction(HP.actuator, HP.on))).toBeUndefined();
    });

    it('[R63, R64] uses the latest statuses and judges each actuator on its own', () => {
      const k = know(
        description(),
        actuatorStatus(HP.actuator, HP.off),
        timerStatus(HP.actuator, HP.rest, IN_10_MIN),
        actuatorStatus(HP.actuator, HP.on, HP.off),
        actuatorStatus(BOILER.actuator, BOILER.off),
      );
      expect(reject(k, instruction(HP.actuator, HP.on))).toBeUndefined(); // now on: no transition needed
      expect(reject(k, instruction(BOILER.actuator, BOILER.on))).toBeUndefined(); // the heat pump's rest timer does not block the boiler
      const later = ddbcRules.learn(k, timerStatus(HP.actuator, HP.rest, NOW));
      expect(reject(ddbcRules.learn(later, actuatorStatus(HP.actuator, HP.off, HP.on)), instruction(HP.actuator, HP.on))).toBeUndefined();
    });

    it("[Q14, R49] judges only well-referenced DDBC.Instructions (unknown references are refusal's)", () => {
      expect(reject(base, actuatorStatus(HP.actuator, HP.boost))).toBeUndefined();
      expect(reject(base, instruction(uuid('no-actuator'), HP.boost))).toBeUndefined();
    });
  });
});

describe('DDBC control-type statechart', () => {
  let harness: ReturnType<typeof controlTypeHarness> | undefined;
  const start = (role: SessionRole) => (harness = controlTypeHarness(rules, role));
  const knowledge = () => harness!.context.knowledge as DdbcKnowledge;
  afterEach(() => harness?.stop());

  describe("role 'CEM' (receives the RM's messages)", () => {
    it('[R39, R86, R60] accepts the description first, then actuator and timer statuses and a forecast', () => {
      const h = start('CEM');
      expect(h.state).toBe('awaitingDescription');
      expectAcceptedOnly(h.send('in', description(undefined, undefined, true)));
      expect(h.state).toBe('described');
      expectAcceptedOnly(h.send('in', actuatorStatus(HP.actuator, HP.off)));
      expectAcceptedOnly(h.send('in', actuatorStatus(BOILER.actuator, BOILER.on, BOILER.off)));
      expectAcceptedOnly(h.send('in', timerStatus(HP.actuator, HP.rest, IN_10_MIN)));
      expectAcceptedOnly(h.send('in', forecast()));
      expect(knowledge().statuses.get(BOILER.actuator)?.active_operation_mode_id).toBe(BOILER.on);
      expect(knowledge().timers.get(HP.actuator)?.get(HP.rest)).toBe(Date.parse(IN_10_MIN));
    });

    it('[R39] refuses statuses and forecasts before any description, and stays awaitingDescription', () => {
      const h = start('CEM');
      expect(refusedReason(h.send('in', actuatorStatus(HP.actuator, HP.off)))).toMatch(/\(R39, R62\)/);
      expect(refusedReason(h.send('in', timerStatus(HP.actuator, HP.rest, IN_10_MIN)))).toMatch(/\(R39, R71\)/);
      expect(refusedReason(h.send('in', forecast()))).toMatch(/\(R39, R86\)/);
      expect(h.state).toBe('awaitingDescription');
    });

    it('[R62, R71, R16] refuses every unknown reference with a reason naming the rule, and changes nothing', () => {
      const h = start('CEM');
      h.send('in', description());
      expect(refusedReason(h.send('in', actuatorStatus(uuid('no-actuator'), HP.off)))).toMatch(/unknown actuator_id .*\(R62, R72\)/);
      expect(refusedReason(h.send('in', actuatorStatus(HP.actuator, uuid('no-mode'))))).toMatch(/unknown operation mode .*\(R62, R88\)/);
      expect(refusedReason(h.send('in', actuatorStatus(HP.actuator, HP.off, BOILER.on)))).toMatch(
        /unknown previous_operation_mode_id .*\(R62, R88\)/,
      );
      expect(refusedReason(h.send('in', timerStatus(uuid('no-actuator'), HP.rest, IN_10_MIN)))).toMatch(
        /unknown actuator_id .*\(R71, R72\)/,
      );
      expect(refusedReason(h.send('in', timerStatus(HP.actuator, BOILER.rest, IN_10_MIN)))).toMatch(/unknown timer .*\(R71\)/);
      expect(knowledge().statuses.size).toBe(0);
      expect(knowledge().timers.size).toBe(0);
    });

    it("[R39, R87] the CEM's own instruction is checked by the same refusal before it is sent", () => {
      const h = start('CEM');
      const refusal = (m: IdentifiedMessage) => controlTypeRefusal(rules, h.context, m, 'CEM');
      expect(refusal(instruction(HP.actuator, HP.on))).toMatch(/before the RM described its flexibility \(R39\)/);
      h.send('in', description());
      expect(refusal(instruction(HP.actuator, HP.on))).toBeUndefined();
      expect(refusal(instruction(uuid('no-actuator'), HP.on))).toMatch(/\(R87, R72\)/);
      expect(refusal(instruction(BOILER.actuator, HP.on))).toMatch(/\(R87, R88\)/);
    });

    it('[R54, R56, R58, Q10] the RM revokes its description by message_id: back to awaitingDescription, later messages against it refused', () => {
      const h = start('CEM');
      const d = description();
      h.send('in', d);
      const instr = instruction(HP.actuator, HP.on);
      expect(h.send('out', instr)).toEqual([]);
      expectAcceptedOnly(h.send('in', revoke('DDBC.SystemDescription', d.message_id)));
      expect(h.state).toBe('awaitingDescription');
      expect(refusedReason(h.send('in', actuatorStatus(HP.actuator, HP.on)))).toMatch(/\(R39, R62\)/);
      expect(controlTypeRefusal(rules, h.context, instruction(HP.actuator, HP.on), 'CEM')).toMatch(/\(R39\)/);
      // Revoked once: a second revocation names nothing (R54).
      expect(refusedReason(h.send('in', revoke('DDBC.SystemDescription', d.message_id)))).toMatch(
        /no DDBC.SystemDescription with id .*\(R54, R56\)/,
      );
      // The instruction given before outlives its description: the RM still reports on it.
      expectAcceptedOnly(h.send('in', statusUpdate(instr.id, 'REVOKED')).filter((r) => r.type !== 'ct.notice'));
    });

    it('[R58, R72] revoking a superseded description keeps the state described; revoking the one in force does not revive it', () => {
      const h = start('CEM');
      const first = description();
      const second = description([actuator(HP)]);
      const third = description([actuator(BOILER)]);
      h.send('in', first);
      h.send('in', second);
      expectAcceptedOnly(h.send('in', revoke('DDBC.SystemDescription', first.message_id)));
      expect(h.state).toBe('described');
      expectAcceptedOnly(h.send('in', actuatorStatus(HP.actuator, HP.off)));
      h.send('in', third);
      expectAcceptedOnly(h.send('in', revoke('DDBC.SystemDescription', third.message_id)));
      // `second` is superseded, not revoked: still revocable (R54), but not in force again.
      expect(h.state).toBe('awaitingDescription');
      expectAcceptedOnly(h.send('in', revoke('DDBC.SystemDescription', second.message_id)));
      expect(h.state).toBe('awaitingDescription');
    });

    it('[R54, R55, R57] refuses revoking an unknown description, an instruction (the RM does not own it) and another control type', () => {
      const h = start('CEM');
      const d = description();
      h.send('in', d);
      const instr = instruction(HP.actuator, HP.on);
      h.send('out', instr);
      expect(refusedReason(h.send('in', revoke('DDBC.SystemDescription', uuid('never-sent'))))).toMatch(/\(R54, R56\)/);
      expect(refusedReason(h.send('in', revoke('DDBC.Instruction', instr.id)))).toMatch(/\(R55\)/);
      expect(refusedReason(h.send('in', revoke('FRBC.SystemDescription', d.message_id)))).toMatch(/\(R57\)/);
      expect(h.state).toBe('described');
    });

    it('[R44, R45, R46] follows an instruction through InstructionStatusUpdates; refuses an illegal transition and any status after final', () => {
      const h = start('CEM');
      h.send('in', description());
      const instr = instruction(HP.actuator, HP.on);
      h.send('out', instr);
      expect(refusedReason(h.send('in', statusUpdate(uuid('never-instructed'), 'ACCEPTED')))).toMatch(/unknown instruction_id .*\(R45\)/);
      let replies = h.send('in', statusUpdate(instr.id, 'ACCEPTED'));
      expect(replies.map((r) => r.type).sort()).toEqual(['ct.accepted', 'ct.notice']);
      expect(notices(replies)).toEqual([{ kind: 'status', instructionId: instr.id, status: 'ACCEPTED' }]);
      replies = h.send('in', statusUpdate(instr.id, 'STARTED'));
      expect(notices(replies)).toEqual([{ kind: 'status', instructionId: instr.id, status: 'STARTED' }]);
      // Backwards (STARTED → NEW) and REJECTED after ACCEPTED are not allowed.
      expect(refusedReason(h.send('in', statusUpdate(instr.id, 'NEW')))).toMatch(/NEW may not follow STARTED \(R46/);
      expect(refusedReason(h.send('in', statusUpdate(instr.id, 'REJECTED')))).toMatch(/\(R46/);
      expect(h.context.instructions.get(instr.id)?.status).toBe('STARTED');
      replies = h.send('in', statusUpdate(instr.id, 'SUCCEEDED'));
      expect(replies.map((r) => r.type).sort()).toEqual(['ct.accepted', 'ct.notice']);
      expect(refusedReason(h.send('in', statusUpdate(instr.id, 'ABORTED')))).toMatch(/already final \(SUCCEEDED\) \(R44, R46\)/);
    });
  });

  describe("role 'RM' (receives the CEM's instructions, sends its own messages)", () => {
    /** An RM that has described itself and reported the heat pump off with its rest timer running until 00:10. */
    function described(): ReturnType<typeof controlTypeHarness> {
      const h = start('RM');
      expect(h.send('out', description())).toEqual([]);
      h.send('out', actuatorStatus(HP.actuator, HP.off));
      h.send('out', timerStatus(HP.actuator, HP.rest, IN_10_MIN));
      return h;
    }

    it('[R39, R87] accepts an instruction after its own description, with no rejection', () => {
      const h = described();
      expect(h.state).toBe('described');
      const instr = instruction(HP.actuator, HP.on, { at: IN_15_MIN });
      const replies = h.send('in', instr);
      expect(replies.map((r) => r.type)).toEqual(['ct.accepted', 'ct.notice']);
      expect(notices(replies)).toEqual([{ kind: 'instruction', instruction: instr, rejection: undefined }]);
      expect(h.context.instructions.get(instr.id)).toEqual({ messageType: 'DDBC.Instruction', status: undefined, revoked: false });
    });

    it('[R39] refuses an instruction before any description', () => {
      const h = start('RM');
      expect(refusedReason(h.send('in', instruction(HP.actuator, HP.on)))).toMatch(
        /DDBC.Instruction before the RM described its flexibility \(R39\)/,
      );
      expect(h.context.instructions.size).toBe(0);
    });

    it('[R87, R42, R49] refuses unknown actuators and modes and a reused instruction id; no instruction is recorded', () => {
      const h = described();
      expect(refusedReason(h.send('in', instruction(uuid('no-actuator'), HP.on)))).toMatch(/unknown actuator_id .*\(R87, R72\)/);
      expect(refusedReason(h.send('in', instruction(HP.actuator, uuid('no-mode'))))).toMatch(/unknown operation mode .*\(R87, R88\)/);
      expect(refusedReason(h.send('in', instruction(HP.actuator, BOILER.off)))).toMatch(/unknown operation mode .*\(R87, R88\)/);
      expect(h.context.instructions.size).toBe(0);
      const first = instruction(HP.actuator, HP.off);
      h.send('in', first);
      expect(refusedReason(h.send('in', instruction(HP.actuator, HP.off, { id: first.id })))).toMatch(
        /already used in this session \(R42\)/,
      );
    });

    it('[R54, R56, R58] after the RM revokes its descriptions, instructions against them are refused', () => {
      const h = start('RM');
      const first = description();
      const second = description([actuator(HP)]);
      h.send('out', first);
      h.send('out', second);
      expect(refusedReason(h.send('in', instruction(BOILER.actuator, BOILER.on)))).toMatch(/\(R87, R72\)/); // superseded
      h.send('out', revoke('DDBC.SystemDescription', first.message_id));
      expect(h.state).toBe('described');
      expect(h.send('in', instruction(HP.actuator, HP.on))[0]?.type).toBe('ct.accepted');
      h.send('out', revoke('DDBC.SystemDescription', second.message_id));
      expect(h.state).toBe('awaitingDescription');
      expect(refusedReason(h.send('in', instruction(HP.actuator, HP.on)))).toMatch(/\(R39\)/);
      expect(knowledge().descriptions.size).toBe(0);
    });

    it("[R55] refuses a CEM revoking the RM's description", () => {
      const h = start('RM');
      const d = description();
      h.send('out', d);
      expect(refusedReason(h.send('in', revoke('DDBC.SystemDescription', d.message_id)))).toMatch(/\(R55\)/);
      expect(h.state).toBe('described');
    });

    it('[R44, R46] an instruction goes through the statuses the RM sends until final; a status after final is refused to the RM', () => {
      const h = described();
      const instr = instruction(HP.actuator, HP.on, { at: IN_15_MIN });
      h.send('in', instr);
      expect(notices(h.send('out', statusUpdate(instr.id, 'NEW')))).toEqual([{ kind: 'status', instructionId: instr.id, status: 'NEW' }]);
      expect(notices(h.send('out', statusUpdate(instr.id, 'ACCEPTED')))).toEqual([
        { kind: 'status', instructionId: instr.id, status: 'ACCEPTED' },
      ]);
      // An illegal status the RM would send (REJECTED after ACCEPTED) changes nothing; the roles layer refuses it before sending.
      expect(h.send('out', statusUpdate(instr.id, 'REJECTED'))).toEqual([]);
      expect(h.context.instructions.get(instr.id)?.status).toBe('ACCEPTED');
      expect(notices(h.send('out', statusUpdate(instr.id, 'STARTED')))).toEqual([
        { kind: 'status', instructionId: instr.id, status: 'STARTED' },
      ]);
      expect(notices(h.send('out', statusUpdate(instr.id, 'SUCCEEDED')))).toEqual([
        { kind: 'status', instructionId: instr.id, status: 'SUCCEEDED' },
      ]);
      expect(controlTypeRefusal(rules, h.context, statusUpdate(instr.id, 'ABORTED'), 'RM')).toMatch(
        /already final \(SUCCEEDED\) \(R44, R46\)/,
      );
    });

    it('[R54, R55, R58] the CEM revokes an instruction: accepted with a `revoked` notice; the RM reports REVOKED; revoking again is refused', () => {
      const h = described();
      const instr = instruction(HP.actuator, HP.on, { at: IN_15_MIN });
      h.send('in', instr);
      h.send('out', statusUpdate(instr.id, 'ACCEPTED'));
      const replies = h.send('in', revoke('DDBC.Instruction', instr.id));
      expect(replies.map((r) => r.type)).toEqual(['ct.accepted', 'ct.notice']);
      expect(notices(replies)).toEqual([{ kind: 'revoked', instructionId: instr.id }]);
      expect(notices(h.send('out', statusUpdate(instr.id, 'REVOKED')))).toEqual([
        { kind: 'status', instructionId: instr.id, status: 'REVOKED' },
      ]);
      expect(refusedReason(h.send('in', revoke('DDBC.Instruction', instr.id)))).toMatch(/already final \(REVOKED\) \(R54\)/);
      expect(refusedReason(h.send('in', revoke('DDBC.Instruction', uuid('never-instructed'))))).toMatch(/\(R54\)/);
    });

    it('[R50, Q14] an abnormal-only mode without abnormal_condition is accepted (OK) with a rejection', () => {
      const h = described();
      expect(rejectionOf(h.send('in', instruction(HP.actuator, HP.boost)))).toMatch(/\(R50\)/);
      expect(rejectionOf(h.send('in', instruction(HP.actuator, HP.boost, { abnormal: true })))).toBeUndefined();
    });

    it('[R63, Q14] a mode with no transition from the current one is accepted (OK) with a rejection', () => {
      const h = described();
      h.send('out', actuatorStatus(HP.actuator, HP.boost, HP.on));
      expect(rejectionOf(h.send('in', instruction(HP.actuator, HP.off)))).toMatch(/no transition from its current mode .*\(R63\)/);
    });

    it('[R64, Q14] a transition blocked by a running timer is rejected; once the RM reports it finished, it is not', () => {
      const h = described();
      expect(rejectionOf(h.send('in', instruction(HP.actuator, HP.on, { at: IN_5_MIN })))).toMatch(/blocked by timer .*\(R64\)/);
      expect(rejectionOf(h.send('in', instruction(HP.actuator, HP.on, { at: IN_15_MIN })))).toBeUndefined();
      h.send('out', timerStatus(HP.actuator, HP.rest, NOW));
      expect(rejectionOf(h.send('in', instruction(HP.actuator, HP.on, { at: IN_5_MIN })))).toBeUndefined();
    });

    it('[R63, R64] without any ActuatorStatus the RM does not reject', () => {
      const h = start('RM');
      h.send('out', description());
      h.send('out', timerStatus(HP.actuator, HP.rest, IN_10_MIN));
      expect(rejectionOf(h.send('in', instruction(HP.actuator, HP.on)))).toBeUndefined();
    });
  });
});
