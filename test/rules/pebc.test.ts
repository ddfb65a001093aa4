import { describe, expect, it } from 'vitest';
import type { MessageOf } from '../../src/typebox/registry.js';
import { expectAccepted, expectRejected, ruleProblems, uuid } from './support.js';

type PowerConstraints = MessageOf<'PEBC.PowerConstraints'>;
type Range = PowerConstraints['allowed_limit_ranges'][number];

/** The PV inverter of the official example: production only, may be curtailed to 0 W. */
function constraints(ranges?: Range[]): PowerConstraints {
  return {
    message_type: 'PEBC.PowerConstraints',
    message_id: uuid('pebc:constraints-msg'),
    id: uuid('pebc:constraints'),
    valid_from: '2025-06-01T08:00:00Z',
    valid_until: '2025-06-01T20:00:00Z',
    consequence_type: 'VANISH',
    allowed_limit_ranges: ranges ?? [
      {
        commodity_quantity: 'ELECTRIC.POWER.L1',
        limit_type: 'UPPER_LIMIT',
        range_boundary: { start_of_range: 0, end_of_range: 0 },
        abnormal_condition_only: false,
      },
      {
        commodity_quantity: 'ELECTRIC.POWER.L1',
        limit_type: 'LOWER_LIMIT',
        range_boundary: { start_of_range: -4000, end_of_range: 0 },
        abnormal_condition_only: false,
      },
    ],
  };
}

const range = (cq: Range['commodity_quantity'], limit: Range['limit_type'], start: number, end: number): Range => ({
  commodity_quantity: cq,
  limit_type: limit,
  range_boundary: { start_of_range: start, end_of_range: end },
  abnormal_condition_only: false,
});

describe('PEBC.PowerConstraints', () => {
  it('[R92] [R93] [R94] accepts the PV example with a -4000..0 lower limit (Q17)', () => {
    const m = constraints();
    expect(ruleProblems(m)).toEqual([]);
    expectAccepted(m);
  });

  it('[R92] accepts one UPPER_LIMIT and one LOWER_LIMIT for different commodity quantities (overall, not per quantity)', () => {
    expectAccepted(constraints([range('ELECTRIC.POWER.L1', 'UPPER_LIMIT', 0, 3000), range('ELECTRIC.POWER.L2', 'LOWER_LIMIT', -3000, 0)]));
  });

  it('[R92] rejects allowed_limit_ranges without a LOWER_LIMIT range', () => {
    const m = constraints([range('ELECTRIC.POWER.L1', 'UPPER_LIMIT', 0, 3000), range('ELECTRIC.POWER.L2', 'UPPER_LIMIT', 0, 3000)]);
    const [p] = expectRejected(m, 'R92', '$.allowed_limit_ranges');
    expect(p?.message).toContain('has no LOWER_LIMIT range');
    expect(p?.value).toBe('["UPPER_LIMIT","UPPER_LIMIT"]');
  });

  it('[R93] rejects a range_boundary written from high to low', () => {
    const m = constraints();
    m.allowed_limit_ranges[1]!.range_boundary = { start_of_range: 0, end_of_range: -4000 };
    const [p] = expectRejected(m, 'R93', '$.allowed_limit_ranges[1].range_boundary');
    expect(p?.message).toContain('start 0 is greater than its end -4000');
  });

  it('[R94] accepts a missing valid_until and one equal to valid_from (other offset)', () => {
    const open = constraints();
    delete open.valid_until;
    expectAccepted(open);
    const instant = constraints();
    instant.valid_until = '2025-06-01T10:00:00+02:00';
    expectAccepted(instant);
  });

  it('[R94] rejects a valid_until before valid_from', () => {
    const m = constraints();
    m.valid_until = '2025-06-01T07:59:59.999Z';
    const [p] = expectRejected(m, 'R94', '$.valid_until');
    expect(p?.message).toBe('valid_until 2025-06-01T07:59:59.999Z is before valid_from 2025-06-01T08:00:00Z');
  });
});

function energy(upper: number, lower: number, until = '2025-01-01T07:00:00Z'): MessageOf<'PEBC.EnergyConstraint'> {
  return {
    message_type: 'PEBC.EnergyConstraint',
    message_id: uuid(`pebc:energy-msg:${upper}:${lower}:${until}`),
    id: uuid('pebc:energy'),
    valid_from: '2025-01-01T00:00:00Z',
    valid_until: until,
    upper_average_power: upper,
    lower_average_power: lower,
    commodity_quantity: 'ELECTRIC.POWER.3_PHASE_SYMMETRIC',
  };
}

describe('PEBC.EnergyConstraint', () => {
  it('[R95] accepts upper ≥ lower average power, also for production (negative values)', () => {
    expectAccepted(energy(7000, 3000));
    expectAccepted(energy(-500, -2000));
    expectAccepted(energy(1000, 1000));
  });

  it('[R95] rejects an upper_average_power below lower_average_power', () => {
    const [p] = expectRejected(energy(1000, 2000), 'R95', '$.upper_average_power');
    expect(p?.message).toBe('upper_average_power 1000 is smaller than lower_average_power 2000');
  });

  it('[R95] rejects a valid_until before valid_from', () => {
    expectRejected(energy(7000, 3000, '2024-12-31T23:00:00Z'), 'R95', '$.valid_until');
  });
});

type Instruction = MessageOf<'PEBC.Instruction'>;

function instruction(): Instruction {
  const element = (lower: number, upper: number) => ({ duration: 900_000, lower_limit: lower, upper_limit: upper });
  return {
    message_type: 'PEBC.Instruction',
    message_id: uuid('pebc:instruction-msg'),
    id: uuid('pebc:instruction'),
    execution_time: '2025-06-01T12:00:00Z',
    abnormal_condition: false,
    power_constraints_id: uuid('pebc:constraints'),
    power_envelopes: [
      {
        id: uuid('pebc:envelope:l1'),
        commodity_quantity: 'ELECTRIC.POWER.L1',
        power_envelope_elements: [element(-4000, 0), element(-1500, 0), element(0, 0)],
      },
      { id: uuid('pebc:envelope:l2'), commodity_quantity: 'ELECTRIC.POWER.L2', power_envelope_elements: [element(-2000, -500)] },
    ],
  };
}

describe('PEBC.Instruction', () => {
  it('[R97] [R98] accepts envelopes with distinct quantities and ids, lower ≤ upper (equal allowed)', () => {
    const m = instruction();
    expect(ruleProblems(m)).toEqual([]);
    expectAccepted(m);
  });

  it('[R97] rejects two envelopes for the same commodity quantity', () => {
    const m = instruction();
    m.power_envelopes[1]!.commodity_quantity = 'ELECTRIC.POWER.L1';
    const [p] = expectRejected(m, 'R97', '$.power_envelopes[1].commodity_quantity');
    expect(p?.message).toContain('is used twice by the power envelopes of this instruction');
  });

  it('[R97] rejects an envelope element whose lower_limit exceeds its upper_limit', () => {
    const m = instruction();
    m.power_envelopes[0]!.power_envelope_elements[1] = { duration: 900_000, lower_limit: 0, upper_limit: -1500 };
    const [p] = expectRejected(m, 'R97', '$.power_envelopes[0].power_envelope_elements[1]');
    expect(p?.message).toContain('lower_limit 0 is greater than upper_limit -1500 in element 1');
  });

  it('[R98] rejects two envelopes with the same id', () => {
    const m = instruction();
    m.power_envelopes[1]!.id = m.power_envelopes[0]!.id;
    expectRejected(m, 'R98', '$.power_envelopes[1].id');
  });
});
