import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFRBCCodec, FRBC_MESSAGES, type FRBCRmHandler } from '../../src/frbc.js';
import { createOMBCCodec } from '../../src/ombc.js';
import { fixtureText } from '../support/fixtures.js';

describe('per-control-type entry points (s2-engine/frbc …)', () => {
  it('[R1, R37] the FRBC codec knows the common and FRBC messages only', () => {
    const codec = createFRBCCodec();
    expect(Object.keys(FRBC_MESSAGES).every((t) => t.startsWith('FRBC.'))).toBe(true);
    expect(codec.decode(fixtureText('FRBC.SystemDescription')).ok).toBe(true);
    expect(codec.decode(fixtureText('PowerMeasurement')).ok).toBe(true);
    const ombc = JSON.stringify({
      message_type: 'OMBC.TimerStatus',
      message_id: '0f4b1d0e-7a51-4c52-9a0e-3f1e2d3c4b5a',
      timer_id: 't1',
      finished_at: '2026-01-01T00:00:00Z',
    });
    const r = codec.decode(ombc);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.status).toBe('INVALID_MESSAGE');
    expect(createOMBCCodec().decode(ombc).ok).toBe(true);
  });

  it('types keep an FRBC handler to FRBC and common RM messages', () => {
    const handler: FRBCRmHandler = {
      async activate(ctx) {
        await ctx.send({ message_type: 'FRBC.StorageStatus', present_fill_level: 1 });
        // @ts-expect-error an OMBC message is not an FRBC RM's to send
        await ctx.send({ message_type: 'OMBC.TimerStatus', timer_id: 't', finished_at: '2026-01-01T00:00:00Z' });
        await ctx.send({
          // @ts-expect-error an instruction is the CEM's to send
          message_type: 'FRBC.Instruction',
          id: 'i1',
          actuator_id: 'a1',
          operation_mode: 'm1',
          operation_mode_factor: 0,
          execution_time: '2026-01-01T00:00:00Z',
          abnormal_condition: false,
        });
      },
    };
    expect(typeof handler.activate).toBe('function');
  });

  it('each entry is exported from the package (exports map points at built files)', () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, { import: string }>;
    };
    for (const t of ['frbc', 'ppbc', 'ombc', 'pebc', 'ddbc']) {
      expect(pkg.exports[`./${t}`]?.import).toBe(`./dist/${t}.js`);
      expect(fs.existsSync(new URL(`../../dist/${t}.js`, import.meta.url))).toBe(true);
    }
  });
});
