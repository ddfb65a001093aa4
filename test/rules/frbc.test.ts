import { describe, expect, it } from 'vitest';
import type { MessageOf } from '../../src/typebox/registry.js';
import { expectAccepted, expectRejected, fixture, ruleProblems, uuid } from './support.js';

type SystemDescription = MessageOf<'FRBC.SystemDescription'>;
type Actuator = SystemDescription['actuators'][number];
type Element = Actuator['operation_modes'][number]['elements'][number];

/** The fixture heat pump (test/fixtures/): one actuator, modes off / on / boost, three transitions, two timers. */
const description = (): SystemDescription => fixture('FRBC.SystemDescription', 'FRBC.SystemDescription.json');
const actuator = (m: SystemDescription): Actuator => m.actuators[0]!;

function element(
  from: number,
  to: number,
  ranges: Element['power_ranges'] = [{ start_of_range: 0, end_of_range: 3000, commodity_quantity: 'ELECTRIC.POWER.L1' }],
): Element {
  return {
    fill_level_range: { start_of_range: from, end_of_range: to },
    fill_rate: { start_of_range: 0, end_of_range: 0.01 },
    power_ranges: ranges,
  };
}

describe('FRBC.SystemDescription', () => {
  it('[R68] [R69] [R70] [R76] [R82] accepts the bench descriptions (small and large)', () => {
    for (const file of ['FRBC.SystemDescription.json', 'FRBC.SystemDescription.large.json']) {
      const m = fixture('FRBC.SystemDescription', file);
      expect(ruleProblems(m)).toEqual([]);
      expectAccepted(m);
    }
  });

  it('[R69] accepts the same mode, transition and timer ids in two different actuators', () => {
    const m = description();
    m.actuators.push({ ...structuredClone(actuator(m)), id: uuid('actuator:second') });
    expectAccepted(m);
  });

  it('[R69] rejects a duplicate actuator id within a system description', () => {
    const m = description();
    m.actuators.push(structuredClone(actuator(m)));
    const [p] = expectRejected(m, 'R69', '$.actuators[1].id');
    expect(p?.message).toBe(`actuator id '${actuator(m).id}' is used twice in this system description (first at $.actuators[0].id)`);
  });

  it('[R69] rejects a duplicate operation mode id within an actuator', () => {
    const m = description();
    const a = actuator(m);
    a.operation_modes[1]!.id = a.operation_modes[0]!.id;
    a.transitions = [];
    const [p] = expectRejected(m, 'R69', '$.actuators[0].operation_modes[1].id');
    expect(p?.message).toBe(
      `operation mode id '${a.operation_modes[0]!.id}' is used twice in actuator '${a.id}' (first at $.actuators[0].operation_modes[0].id)`,
    );
    expect(p?.value).toBe(JSON.stringify(a.operation_modes[0]!.id));
  });

  it('[R69] rejects duplicate transition and timer ids within an actuator', () => {
    const m = description();
    const a = actuator(m);
    a.transitions[1]!.id = a.transitions[0]!.id;
    a.timers[1]!.id = a.timers[0]!.id;
    const problems = expectRejected(m, 'R69');
    expect(problems.map((p) => p.path)).toEqual(['$.actuators[0].transitions[1].id', '$.actuators[0].timers[1].id']);
  });

  it('[R70] accepts transitions whose modes and timers belong to their actuator', () => {
    const m = description();
    expect(actuator(m).transitions[0]!.start_timers).toHaveLength(1);
    expect(ruleProblems(m)).toEqual([]);
  });

  it('[R70] rejects a transition to an unknown operation mode', () => {
    const m = description();
    const a = actuator(m);
    a.transitions[0]!.to = uuid('mode:nowhere');
    const [p] = expectRejected(m, 'R70', '$.actuators[0].transitions[0].to');
    expect(p?.message).toBe(
      `transition '${a.transitions[0]!.id}' leads to operation mode '${uuid('mode:nowhere')}', which is not an operation mode of actuator '${a.id}'`,
    );
  });

  it('[R70] rejects start and blocking timers that are not timers of the same actuator', () => {
    const m = description();
    const second = { ...structuredClone(actuator(m)), id: uuid('actuator:second') };
    second.timers = [{ id: uuid('timer:second-only'), duration: 60_000 }];
    second.transitions = [];
    m.actuators.push(second);
    const t = actuator(m).transitions[1]!;
    t.start_timers.push(uuid('timer:second-only'));
    t.blocking_timers = [uuid('timer:unknown')];
    const problems = expectRejected(m, 'R70');
    expect(problems.map((p) => p.path)).toEqual([
      '$.actuators[0].transitions[1].start_timers[1]',
      '$.actuators[0].transitions[1].blocking_timers[0]',
    ]);
    expect(problems[1]?.message).toContain('in blocking_timers, which is not a timer of actuator');
  });

  it('[R70] checks references with a lookup set when an actuator has many modes', () => {
    const m = description();
    const a = actuator(m);
    const template = a.operation_modes[1]!;
    for (let i = 0; i < 20; i++) a.operation_modes.push({ ...structuredClone(template), id: uuid(`mode:extra${i}`) });
    const at =
      a.transitions.push({
        id: uuid('transition:extra'),
        from: uuid('mode:extra19'),
        to: uuid('mode:extra20'),
        start_timers: [],
        blocking_timers: [],
        abnormal_condition_only: false,
      }) - 1;
    expectRejected(m, 'R70', `$.actuators[0].transitions[${at}].to`);
  });

  it('[R68] accepts one power range for each of three phases in an element', () => {
    const m = description();
    actuator(m).operation_modes[0]!.elements[0]!.power_ranges = [
      { start_of_range: 500, end_of_range: 2000, commodity_quantity: 'ELECTRIC.POWER.L1' },
      { start_of_range: 500, end_of_range: 2000, commodity_quantity: 'ELECTRIC.POWER.L2' },
      { start_of_range: 500, end_of_range: 2000, commodity_quantity: 'ELECTRIC.POWER.L3' },
    ];
    expectAccepted(m);
  });

  it('[R68] rejects two power ranges for the same commodity quantity in an element', () => {
    const m = description();
    actuator(m).operation_modes[0]!.elements[0]!.power_ranges.push({
      start_of_range: 0,
      end_of_range: 100,
      commodity_quantity: 'ELECTRIC.POWER.L1',
    });
    const [p] = expectRejected(m, 'R68', '$.actuators[0].operation_modes[0].elements[0].power_ranges[1].commodity_quantity');
    expect(p?.message).toContain("commodity_quantity 'ELECTRIC.POWER.L1' is used twice in element 0 of operation mode");
  });

  it('[R76] accepts contiguous fill-level ranges listed in any order', () => {
    const m = description();
    actuator(m).operation_modes[0]!.elements = [element(55, 100), element(0, 45), element(45, 55)];
    expectAccepted(m);
  });

  it('[R76] rejects an element whose fill_level_range start is not below its end', () => {
    const m = description();
    actuator(m).operation_modes[0]!.elements = [element(0, 50), element(50, 50)];
    const [p] = expectRejected(m, 'R76', '$.actuators[0].operation_modes[0].elements[1].fill_level_range');
    expect(p?.message).toContain('start 50 must be smaller than its end 50');
    expect(p?.value).toBe('{"start_of_range":50,"end_of_range":50}');
  });

  it('[R76] rejects a gap and an overlap between element fill-level ranges', () => {
    const m = description();
    const modes = actuator(m).operation_modes;
    modes[0]!.elements = [element(0, 40), element(50, 100)];
    modes[1]!.elements = [element(0, 60), element(50, 100)];
    const problems = expectRejected(m, 'R76');
    expect(problems.map((p) => p.path)).toEqual([
      '$.actuators[0].operation_modes[0].elements[1].fill_level_range',
      '$.actuators[0].operation_modes[1].elements[1].fill_level_range',
    ]);
    expect(problems[0]?.message).toContain('leaves a gap after the fill_level_range [0, 40) of element 0');
    expect(problems[1]?.message).toContain('overlaps the fill_level_range [0, 60) of element 0');
  });

  it('[R82] accepts power ranges covering exactly ELECTRICITY and HEAT (hydrogen ignored, Q20)', () => {
    const m = description();
    const a = actuator(m);
    a.supported_commodities = ['ELECTRICITY', 'HEAT'];
    for (const mode of a.operation_modes) {
      mode.elements[0]!.power_ranges = [
        { start_of_range: 0, end_of_range: 1000, commodity_quantity: 'ELECTRIC.POWER.L1' },
        { start_of_range: 0, end_of_range: 1000, commodity_quantity: 'ELECTRIC.POWER.L2' },
        { start_of_range: 0, end_of_range: 4000, commodity_quantity: 'HEAT.THERMAL_POWER' },
        { start_of_range: 0, end_of_range: 0, commodity_quantity: 'HYDROGEN.FLOW_RATE' },
      ];
    }
    expectAccepted(m);
  });

  it('[R82] rejects an element without a power range for a supported commodity', () => {
    const m = description();
    actuator(m).supported_commodities = ['ELECTRICITY', 'GAS'];
    const problems = expectRejected(m, 'R82', '$.actuators[0].operation_modes[0].elements[0].power_ranges');
    expect(problems).toHaveLength(actuator(m).operation_modes.length); // one per mode
    expect(problems[0]?.message).toContain('has no power range for GAS (NATURAL_GAS.FLOW_RATE)');
    expect(problems[0]?.value).toBe('["ELECTRIC.POWER.L1"]');
  });

  it('[R82] rejects a power range for a commodity the actuator does not list', () => {
    const m = description();
    actuator(m).operation_modes[1]!.elements[0]!.power_ranges.push({
      start_of_range: 0,
      end_of_range: 0,
      commodity_quantity: 'OIL.FLOW_RATE',
    });
    const [p] = expectRejected(m, 'R82', '$.actuators[0].operation_modes[1].elements[0].power_ranges[1].commodity_quantity');
    expect(p?.message).toContain('belongs to commodity OIL, which actuator');
  });

  it('[R82] rejects a duplicate commodity in supported_commodities', () => {
    const m = description();
    actuator(m).supported_commodities = ['ELECTRICITY', 'ELECTRICITY'];
    expectRejected(m, 'R82', '$.actuators[0].supported_commodities[1]');
  });
});

describe('FRBC.Instruction and FRBC.ActuatorStatus', () => {
  it('[R67] accepts operation_mode_factor 0, 0.5 and 1', () => {
    for (const f of [0, 0.5, 1]) {
      const i = fixture('FRBC.Instruction', 'FRBC.Instruction.json');
      i.operation_mode_factor = f;
      expectAccepted(i);
      const s = fixture('FRBC.ActuatorStatus', 'FRBC.ActuatorStatus.json');
      s.operation_mode_factor = f;
      expectAccepted(s);
    }
  });

  it('[R67] rejects an instruction factor above 1 and a status factor below 0', () => {
    const i = fixture('FRBC.Instruction', 'FRBC.Instruction.json');
    i.operation_mode_factor = 1.5;
    const [p] = expectRejected(i, 'R67', '$.operation_mode_factor');
    expect(p?.value).toBe('1.5');
    expect(p?.message).toContain('outside [0, 1]');
    const s = fixture('FRBC.ActuatorStatus', 'FRBC.ActuatorStatus.json');
    s.operation_mode_factor = -0.01;
    expectRejected(s, 'R67', '$.operation_mode_factor');
  });
});

function leakage(bands: Array<[number, number]>): MessageOf<'FRBC.LeakageBehaviour'> {
  return {
    message_type: 'FRBC.LeakageBehaviour',
    message_id: uuid('leakage'),
    valid_from: '2025-01-01T00:00:00Z',
    elements: bands.map(([from, to]) => ({ fill_level_range: { start_of_range: from, end_of_range: to }, leakage_rate: 0.0001 })),
  };
}

describe('FRBC.LeakageBehaviour', () => {
  it('[R77] accepts contiguous leakage bands', () => {
    expectAccepted(
      leakage([
        [20, 50],
        [50, 90],
      ]),
    );
    expectAccepted(leakage([[20, 90]]));
  });

  it('[R77] rejects an inverted band and a gap between bands', () => {
    expectRejected(leakage([[50, 20]]), 'R77', '$.elements[0].fill_level_range');
    const [p] = expectRejected(
      leakage([
        [50, 90],
        [20, 45],
      ]),
      'R77',
      '$.elements[0].fill_level_range',
    );
    expect(p?.message).toContain('[50, 90) leaves a gap after the fill_level_range [20, 45) of element 1');
  });
});

function target(from: number, to: number): MessageOf<'FRBC.FillLevelTargetProfile'> {
  return {
    message_type: 'FRBC.FillLevelTargetProfile',
    message_id: uuid('target'),
    start_time: '2025-01-01T06:00:00Z',
    elements: [
      { duration: 3_600_000, fill_level_range: { start_of_range: 0, end_of_range: 100 } },
      { duration: 1_800_000, fill_level_range: { start_of_range: from, end_of_range: to } },
    ],
  };
}

describe('FRBC.FillLevelTargetProfile', () => {
  it('[R78] accepts a target range with start equal to end', () => {
    expectAccepted(target(80, 80));
  });

  it('[R78] rejects a target range whose start exceeds its end', () => {
    const [p] = expectRejected(target(90, 80), 'R78', '$.elements[1].fill_level_range');
    expect(p?.message).toBe('target fill_level_range start 90 is greater than its end 80');
  });
});
