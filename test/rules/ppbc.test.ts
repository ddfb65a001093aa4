import { describe, expect, it } from 'vitest';
import type { MessageOf } from '../../src/typebox/registry.js';
import { expectAccepted, expectRejected, ruleProblems, uuid } from './support.js';

type Definition = MessageOf<'PPBC.PowerProfileDefinition'>;
type Container = Definition['power_sequences_containers'][number];

/** A washing machine: containers (prewash, wash, spin), each with an eco and a quick alternative. */
function container(name: string, sequences = ['eco', 'quick']): Container {
  return {
    id: uuid(`ppbc:container:${name}`),
    power_sequences: sequences.map((s) => ({
      id: uuid(`ppbc:sequence:${s}`), // the same sequence ids in every container: ids are scoped per container (R101)
      elements: [
        { duration: 600_000, power_values: [{ commodity_quantity: 'ELECTRIC.POWER.L1', value_expected: s === 'eco' ? 300 : 900 }] },
        { duration: 300_000, power_values: [{ commodity_quantity: 'ELECTRIC.POWER.L1', value_expected: 150, value_upper_limit: 200 }] },
      ],
      is_interruptible: s === 'eco',
      max_pause_before: 3_600_000,
      abnormal_condition_only: false,
    })),
  };
}

function definition(containers: Container[] = [container('prewash'), container('wash'), container('spin')]): Definition {
  return {
    message_type: 'PPBC.PowerProfileDefinition',
    message_id: uuid('ppbc:definition-msg'),
    id: uuid('ppbc:definition'),
    start_time: '2025-03-01T09:00:00+01:00',
    end_time: '2025-03-01T17:00:00+01:00',
    power_sequences_containers: containers,
  };
}

describe('PPBC.PowerProfileDefinition', () => {
  it('[R101] [R103] accepts unique container ids and the same sequence ids in different containers', () => {
    const m = definition();
    expect(ruleProblems(m)).toEqual([]);
    expectAccepted(m);
  });

  it('[R101] rejects a duplicate container id within the definition', () => {
    const m = definition([container('wash'), container('spin'), container('wash')]);
    const [p] = expectRejected(m, 'R101', '$.power_sequences_containers[2].id');
    expect(p?.message).toBe(
      `sequence container id '${uuid('ppbc:container:wash')}' is used twice in this power profile definition (first at $.power_sequences_containers[0].id)`,
    );
  });

  it('[R101] rejects a duplicate sequence id within a container', () => {
    const m = definition([container('prewash'), container('wash', ['eco', 'quick', 'eco'])]);
    const [p] = expectRejected(m, 'R101', '$.power_sequences_containers[1].power_sequences[2].id');
    expect(p?.message).toContain(`in sequence container '${uuid('ppbc:container:wash')}'`);
  });

  it('[R101] finds duplicates among many containers', () => {
    const containers = Array.from({ length: 40 }, (_, i) => container(`step${i}`, ['eco']));
    containers[33]!.id = containers[7]!.id;
    expectAccepted(definition(containers.slice(0, 30)));
    expectRejected(definition(containers), 'R101', '$.power_sequences_containers[33].id');
  });

  it('[R103] accepts an end_time equal to start_time', () => {
    const m = definition();
    m.end_time = '2025-03-01T08:00:00Z';
    expectAccepted(m);
  });

  it('[R103] rejects an end_time before start_time', () => {
    const m = definition();
    m.end_time = '2025-03-01T08:59:00+01:00';
    const [p] = expectRejected(m, 'R103', '$.end_time');
    expect(p?.message).toBe('end_time 2025-03-01T08:59:00+01:00 is before start_time 2025-03-01T09:00:00+01:00');
  });
});
