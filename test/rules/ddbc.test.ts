import { describe, expect, it } from 'vitest';
import type { MessageOf } from '../../src/typebox/registry.js';
import { expectAccepted, expectRejected, ruleProblems, uuid } from './support.js';

type SystemDescription = MessageOf<'DDBC.SystemDescription'>;
type Actuator = SystemDescription['actuators'][number];

/** A hot-water system: a heat pump actuator and an electric boiler actuator meeting a heat demand. */
function actuator(name: string): Actuator {
  const id = (s: string): string => uuid(`ddbc:${name}:${s}`);
  return {
    id: id('actuator'),
    diagnostic_label: name,
    supported_commodites: ['ELECTRICITY', 'HEAT'],
    operation_modes: [
      {
        Id: id('mode:off'),
        power_ranges: [{ start_of_range: 0, end_of_range: 0, commodity_quantity: 'ELECTRIC.POWER.L1' }],
        supply_range: { start_of_range: 0, end_of_range: 0 },
        abnormal_condition_only: false,
      },
      {
        Id: id('mode:on'),
        power_ranges: [
          { start_of_range: 800, end_of_range: 2400, commodity_quantity: 'ELECTRIC.POWER.L1' },
          { start_of_range: 2500, end_of_range: 8000, commodity_quantity: 'HEAT.THERMAL_POWER' },
        ],
        supply_range: { start_of_range: 0.02, end_of_range: 0.08 },
        running_costs: { start_of_range: 0, end_of_range: 0.0001 },
        abnormal_condition_only: false,
      },
    ],
    transitions: [
      {
        id: id('t:on'),
        from: id('mode:off'),
        to: id('mode:on'),
        start_timers: [id('timer:run')],
        blocking_timers: [id('timer:rest')],
        abnormal_condition_only: false,
      },
      {
        id: id('t:off'),
        from: id('mode:on'),
        to: id('mode:off'),
        start_timers: [id('timer:rest')],
        blocking_timers: [id('timer:run')],
        abnormal_condition_only: false,
      },
    ],
    timers: [
      { id: id('timer:run'), duration: 600_000 },
      { id: id('timer:rest'), duration: 300_000 },
    ],
  };
}

function description(): SystemDescription {
  return {
    message_type: 'DDBC.SystemDescription',
    message_id: uuid('ddbc:description'),
    valid_from: '2025-01-01T00:00:00Z',
    actuators: [actuator('heat-pump'), actuator('boiler')],
    present_demand_rate: { start_of_range: 0.03, end_of_range: 0.05 },
    provides_average_demand_rate_forecast: false,
  };
}

describe('DDBC.SystemDescription', () => {
  it('[R68] [R69] [R70] [R82] accepts two actuators with unique ids, valid references and distinct commodities', () => {
    const m = description();
    expect(ruleProblems(m)).toEqual([]);
    expectAccepted(m);
  });

  it('[R69] accepts the same mode Ids, transition and timer ids in two different actuators', () => {
    const m = description();
    const copy = structuredClone(m.actuators[0]!);
    copy.id = uuid('ddbc:third:actuator');
    m.actuators.push(copy);
    expectAccepted(m);
  });

  it('[R69] rejects a duplicate actuator id and a duplicate mode Id within an actuator', () => {
    const m = description();
    m.actuators[1]!.id = m.actuators[0]!.id;
    const modes = m.actuators[1]!.operation_modes;
    modes[1]!.Id = modes[0]!.Id;
    const problems = expectRejected(m, 'R69');
    expect(problems.map((p) => p.path)).toEqual(['$.actuators[1].id', '$.actuators[1].operation_modes[1].Id']);
    expect(problems[1]?.message).toContain('operation mode id');
  });

  it('[R70] rejects a transition to a mode of another actuator', () => {
    const m = description();
    m.actuators[1]!.transitions[0]!.to = m.actuators[0]!.operation_modes[1]!.Id;
    const [p] = expectRejected(m, 'R70', '$.actuators[1].transitions[0].to');
    expect(p?.message).toContain(`which is not an operation mode of actuator '${m.actuators[1]!.id}'`);
  });

  it('[R70] rejects a blocking timer that does not exist', () => {
    const m = description();
    m.actuators[0]!.transitions[1]!.blocking_timers.push(uuid('ddbc:timer:missing'));
    expectRejected(m, 'R70', '$.actuators[0].transitions[1].blocking_timers[1]');
  });

  it('[R68] rejects two power ranges for the same commodity quantity in a mode', () => {
    const m = description();
    m.actuators[0]!.operation_modes[1]!.power_ranges[1]!.commodity_quantity = 'ELECTRIC.POWER.L1';
    expectRejected(m, 'R68', '$.actuators[0].operation_modes[1].power_ranges[1].commodity_quantity');
  });

  it('[R82] rejects a duplicate commodity in supported_commodites', () => {
    const m = description();
    m.actuators[0]!.supported_commodites = ['HEAT', 'ELECTRICITY', 'HEAT'];
    const [p] = expectRejected(m, 'R82', '$.actuators[0].supported_commodites[2]');
    expect(p?.message).toContain("commodity 'HEAT' is used twice in the supported_commodites of actuator");
  });
});

describe('DDBC.Instruction and DDBC.ActuatorStatus', () => {
  const instruction = (f: number): MessageOf<'DDBC.Instruction'> => ({
    message_type: 'DDBC.Instruction',
    message_id: uuid(`ddbc:instruction-msg:${f}`),
    id: uuid(`ddbc:instruction:${f}`),
    execution_time: '2025-01-01T12:00:00Z',
    abnormal_condition: false,
    actuator_id: uuid('ddbc:heat-pump:actuator'),
    operation_mode_id: uuid('ddbc:heat-pump:mode:on'),
    operation_mode_factor: f,
  });
  const status = (f: number): MessageOf<'DDBC.ActuatorStatus'> => ({
    message_type: 'DDBC.ActuatorStatus',
    message_id: uuid(`ddbc:status:${f}`),
    actuator_id: uuid('ddbc:heat-pump:actuator'),
    active_operation_mode_id: uuid('ddbc:heat-pump:mode:on'),
    operation_mode_factor: f,
    previous_operation_mode_id: uuid('ddbc:heat-pump:mode:off'),
    transition_timestamp: '2025-01-01T11:59:00Z',
  });

  it('[R67] accepts factors within [0, 1]', () => {
    expectAccepted(instruction(0.75));
    expectAccepted(status(1));
  });

  it('[R67] rejects factors outside [0, 1]', () => {
    expectRejected(instruction(1.01), 'R67', '$.operation_mode_factor');
    expectRejected(status(-0.5), 'R67', '$.operation_mode_factor');
  });
});
