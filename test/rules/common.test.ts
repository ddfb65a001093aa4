import { describe, expect, it } from 'vitest';
import type { MessageOf } from '../../src/typebox/registry.js';
import { expectAccepted, expectRejected, fixture, ruleProblems, uuid } from './support.js';

function forecast(): MessageOf<'PowerForecast'> {
  return {
    message_type: 'PowerForecast',
    message_id: uuid('forecast'),
    start_time: '2025-01-01T00:00:00Z',
    elements: [
      {
        duration: 900_000,
        power_values: [
          { commodity_quantity: 'ELECTRIC.POWER.L1', value_expected: 1200, value_upper_limit: 1500, value_lower_limit: 0 },
          { commodity_quantity: 'HEAT.THERMAL_POWER', value_expected: 3600 },
        ],
      },
      { duration: 900_000, power_values: [{ commodity_quantity: 'ELECTRIC.POWER.L1', value_expected: 800 }] },
    ],
  };
}

/** The fixture measurement (single phase, L1) measured on all three phases. */
function threePhase(): MessageOf<'PowerMeasurement'> {
  const m = fixture('PowerMeasurement', 'PowerMeasurement.json');
  m.values = [
    { commodity_quantity: 'ELECTRIC.POWER.L1', value: 1235.5 },
    { commodity_quantity: 'ELECTRIC.POWER.L2', value: 1236.5 },
    { commodity_quantity: 'ELECTRIC.POWER.L3', value: 1237.5 },
  ];
  return m;
}

describe('PowerMeasurement', () => {
  it('[R107] accepts one value for each of the three phases', () => {
    const m = threePhase();
    expect(m.values).toHaveLength(3);
    expect(ruleProblems(m)).toEqual([]);
    expectAccepted(m);
  });

  it('[R107] rejects two values for the same commodity quantity', () => {
    const m = threePhase();
    m.values[2] = { commodity_quantity: 'ELECTRIC.POWER.L1', value: 1237.5 };
    const [p] = expectRejected(m, 'R107', '$.values[2].commodity_quantity');
    expect(p?.message).toBe(
      "commodity_quantity 'ELECTRIC.POWER.L1' is used twice in this measurement (first at $.values[0].commodity_quantity)",
    );
    expect(p?.value).toBe('"ELECTRIC.POWER.L1"');
  });

  it('[R107] reports a third occurrence as such', () => {
    const m = threePhase();
    for (const v of m.values) v.commodity_quantity = 'ELECTRIC.POWER.L2';
    const problems = expectRejected(m, 'R107');
    expect(problems.map((p) => p.path)).toEqual(['$.values[1].commodity_quantity', '$.values[2].commodity_quantity']);
    expect(problems[1]?.message).toContain('is used 3 times');
  });
});

describe('PowerForecast', () => {
  it('[R109] accepts elements that each give one value per commodity quantity', () => {
    const m = forecast();
    expect(ruleProblems(m)).toEqual([]);
    expectAccepted(m);
  });

  it('[R109] rejects an element with two values for the same commodity quantity', () => {
    const m = forecast();
    m.elements[1]!.power_values.push({ commodity_quantity: 'ELECTRIC.POWER.L1', value_expected: 900 });
    const [p] = expectRejected(m, 'R109', '$.elements[1].power_values[1].commodity_quantity');
    expect(p?.message).toContain('in forecast element 1');
    expect(p?.message).toContain('(first at $.elements[1].power_values[0].commodity_quantity)');
  });
});
