import { describe, expect, it } from 'vitest';
import type { MessageOf } from '../../src/typebox/registry.js';
import { expectAccepted, expectRejected, ruleProblems, uuid } from './support.js';

type SystemDescription = MessageOf<'OMBC.SystemDescription'>;

/** A CHP-like device: off, half and full load, with a minimum run timer. */
function description(): SystemDescription {
  const mode = (name: string, kw: number): SystemDescription['operation_modes'][number] => ({
    id: uuid(`ombc:mode:${name}`),
    diagnostic_label: name,
    power_ranges: [
      { start_of_range: -kw * 1000, end_of_range: -kw * 800, commodity_quantity: 'ELECTRIC.POWER.3_PHASE_SYMMETRIC' },
      { start_of_range: 0, end_of_range: kw * 0.5, commodity_quantity: 'NATURAL_GAS.FLOW_RATE' },
    ],
    abnormal_condition_only: false,
  });
  return {
    message_type: 'OMBC.SystemDescription',
    message_id: uuid('ombc:description'),
    valid_from: '2025-01-01T00:00:00Z',
    operation_modes: [mode('off', 0), mode('half', 3), mode('full', 6)],
    transitions: [
      {
        id: uuid('ombc:t:off-half'),
        from: uuid('ombc:mode:off'),
        to: uuid('ombc:mode:half'),
        start_timers: [uuid('ombc:timer:min-run')],
        blocking_timers: [],
        abnormal_condition_only: false,
      },
      {
        id: uuid('ombc:t:half-full'),
        from: uuid('ombc:mode:half'),
        to: uuid('ombc:mode:full'),
        start_timers: [],
        blocking_timers: [],
        transition_duration: 30_000,
        abnormal_condition_only: false,
      },
      {
        id: uuid('ombc:t:half-off'),
        from: uuid('ombc:mode:half'),
        to: uuid('ombc:mode:off'),
        start_timers: [],
        blocking_timers: [uuid('ombc:timer:min-run')],
        abnormal_condition_only: false,
      },
    ],
    timers: [{ id: uuid('ombc:timer:min-run'), diagnostic_label: 'minimum run time', duration: 900_000 }],
  };
}

describe('OMBC.SystemDescription', () => {
  it('[R68] [R69] [R70] accepts a description with unique ids, valid references and one range per quantity', () => {
    const m = description();
    expect(ruleProblems(m)).toEqual([]);
    expectAccepted(m);
  });

  it('[R69] rejects duplicate operation mode, transition and timer ids in the description', () => {
    const m = description();
    m.operation_modes[2]!.id = m.operation_modes[1]!.id;
    m.transitions[2]!.id = m.transitions[0]!.id;
    m.timers.push({ id: uuid('ombc:timer:min-run'), duration: 1 });
    const problems = expectRejected(m, 'R69');
    expect(problems.map((p) => p.path)).toEqual(['$.operation_modes[2].id', '$.transitions[2].id', '$.timers[1].id']);
    expect(problems[0]?.message).toBe(
      `operation mode id '${uuid('ombc:mode:half')}' is used twice in this system description (first at $.operation_modes[1].id)`,
    );
  });

  it('[R70] rejects a transition from an unknown mode and one naming an unknown timer', () => {
    const m = description();
    m.transitions[1]!.from = uuid('ombc:mode:turbo');
    m.transitions[0]!.start_timers = [uuid('ombc:timer:gone')];
    const problems = expectRejected(m, 'R70');
    expect(problems.map((p) => p.path)).toEqual(['$.transitions[0].start_timers[0]', '$.transitions[1].from']);
    expect(problems[1]?.message).toContain('which is not an operation mode of this system description');
  });

  it('[R68] rejects two power ranges for the same commodity quantity in a mode', () => {
    const m = description();
    m.operation_modes[1]!.power_ranges[1]!.commodity_quantity = 'ELECTRIC.POWER.3_PHASE_SYMMETRIC';
    expectRejected(m, 'R68', '$.operation_modes[1].power_ranges[1].commodity_quantity');
  });
});

describe('OMBC.Instruction and OMBC.Status', () => {
  const instruction = (f: number): MessageOf<'OMBC.Instruction'> => ({
    message_type: 'OMBC.Instruction',
    message_id: uuid(`ombc:instruction-msg:${f}`),
    id: uuid(`ombc:instruction:${f}`),
    execution_time: '2025-01-01T12:00:00+01:00',
    operation_mode_id: uuid('ombc:mode:half'),
    operation_mode_factor: f,
    abnormal_condition: false,
  });
  const status = (f: number): MessageOf<'OMBC.Status'> => ({
    message_type: 'OMBC.Status',
    message_id: uuid(`ombc:status:${f}`),
    active_operation_mode_id: uuid('ombc:mode:half'),
    operation_mode_factor: f,
  });

  it('[R67] accepts factors 0 and 1', () => {
    expectAccepted(instruction(0));
    expectAccepted(instruction(1));
    expectAccepted(status(0.25));
  });

  it('[R67] rejects factors outside [0, 1]', () => {
    expectRejected(instruction(-1), 'R67', '$.operation_mode_factor');
    expectRejected(status(100), 'R67', '$.operation_mode_factor');
  });
});
