/**
 * NaN and Infinity in a message built in code: JSON has neither (JSON.stringify writes null), so
 * `encode` and `session.send` must name them at their path instead of complaining about a null.
 */
import { describe, expect, it } from 'vitest';
import { encode } from '../../src/codec/index.js';
import { S2Error } from '../../src/typebox/errors.js';
import type { S2Message } from '../../src/typebox/registry.js';

const measurement = (value: number, second = 1): S2Message => ({
  message_type: 'PowerMeasurement',
  message_id: '11111111-1111-4111-8111-111111111111',
  measurement_timestamp: '2025-01-01T12:00:00.000Z',
  values: [
    { commodity_quantity: 'ELECTRIC.POWER.L1', value: second },
    { commodity_quantity: 'ELECTRIC.POWER.L2', value },
  ],
});

function encodeError(message: S2Message): S2Error {
  try {
    encode(message);
  } catch (err) {
    expect(err).toBeInstanceOf(S2Error);
    return err as S2Error;
  }
  throw new Error('encode accepted the message');
}

describe('encode of non-finite numbers', () => {
  it.each([
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
  ])('[R6] %s is "not a finite number" at its path, not "got null" (JSON.stringify would send null)', (value, shown) => {
    const e = encodeError(measurement(value));
    expect(e.code).toBe('INVALID_OUTGOING_MESSAGE');
    expect(e.problems[0]).toEqual({
      path: '$.values[1].value',
      message: 'not a finite number (JSON has no NaN or Infinity)',
      value: shown,
    });
    expect(e.message).toContain(`$.values[1].value not a finite number (JSON has no NaN or Infinity) (got ${shown})`);
    expect(e.message).not.toContain('got null');
  });

  it('[R6] every non-finite number is named once, and other problems of the message are kept', () => {
    const bad = { ...measurement(Number.NaN, Number.POSITIVE_INFINITY), measurement_timestamp: 'yesterday' } as S2Message;
    const e = encodeError(bad);
    expect(e.problems.map((p) => p.path)).toEqual(['$.values[0].value', '$.values[1].value', '$.measurement_timestamp']);
  });

  it('a finite value still encodes (and a cyclic object does not hang the search)', () => {
    expect(JSON.parse(encode(measurement(1.5)))).toMatchObject({ values: [{ value: 1 }, { value: 1.5 }] });
    const cyclic = { ...measurement(Number.NaN) } as Record<string, unknown>;
    cyclic.self = cyclic;
    expect(encodeError(cyclic as S2Message).problems[0]?.path).toBe('$.values[1].value');
  });
});
