/**
 * `s2-engine/machines`: the session statecharts live in their own entry point, so that `s2-engine`
 * and the per-control-type entry points never load xstate's declarations (they do not compile with
 * skipLibCheck false under exactOptionalPropertyTypes; scripts/check-package.mjs checks the
 * installed package for that).
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as root from '../../src/index.js';
import { cemSessionMachine as cemInternal } from '../../src/machines/cem-session.js';
import * as machines from '../../src/machines/index.js';
import { rmSessionMachine as rmInternal } from '../../src/machines/rm-session.js';

type ExportsMap = Record<string, { types: string; import: string; default: string } | string>;
const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: ExportsMap; files: string[] };

describe('the s2-engine/machines entry point', () => {
  it('exports the two session machines, the very objects every S2Session runs', () => {
    expect(Object.keys(machines).sort()).toEqual(['cemSessionMachine', 'rmSessionMachine']);
    expect(machines.cemSessionMachine).toBe(cemInternal);
    expect(machines.rmSessionMachine).toBe(rmInternal);
    expect([machines.cemSessionMachine.id, machines.rmSessionMachine.id]).toEqual(['cemSession', 'rmSession']);
  });

  it('s2-engine no longer exports them, but still the constants and policy that came with them', () => {
    expect('cemSessionMachine' in root).toBe(false);
    expect('rmSessionMachine' in root).toBe(false);
    expect(root.S2_VERSION).toBe('0.0.2-beta');
    const details: root.ResourceManagerDetails = {
      message_type: 'ResourceManagerDetails',
      message_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c002',
      resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
      roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
      instruction_processing_delay: 100,
      available_control_types: ['OPERATION_MODE_BASED_CONTROL', 'FILL_RATE_BASED_CONTROL'],
      provides_forecast: false,
      provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
    };
    expect(root.defaultControlTypePolicy(details, 'NO_SELECTION')).toBe('FILL_RATE_BASED_CONTROL');
  });

  it('is in the exports map, pointing at built files that the package ships', () => {
    expect(pkg.exports['./machines']).toEqual({
      types: './dist/machines/index.d.ts',
      import: './dist/machines/index.js',
      default: './dist/machines/index.js',
    });
    expect(pkg.files).toContain('dist');
    for (const f of ['index.js', 'index.d.ts']) expect(fs.existsSync(new URL(`../../dist/machines/${f}`, import.meta.url))).toBe(true);
  });
});
