/**
 * The kit's test models and what is generated from them: the paths reach every model state and
 * take every model transition; the scenario sets per role and control type; the report formats.
 */
import fs from 'node:fs';
import { createActor, type AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { nextStatuses } from '../../src/rules/instruction-status.js';
import {
  CEM_ROLE_EVENTS,
  RM_ROLE_EVENTS,
  cemControlTypeModel,
  cemScenarios,
  cemSessionModel,
  coveringPaths,
  instructionModel,
  rmControlTypeModel,
  rmScenarios,
  rmSessionModel,
  toJUnitXml,
  xmlEscape,
  type ConformanceReport,
} from '../../src/testing/index.js';
import { leafOf } from '../../src/testing/paths.js';

const MODELS: [string, AnyStateMachine, Record<string, unknown>][] = [
  ['rmSession (active, NOT_CONTROLABLE)', rmSessionModel({ active: true, notControllable: true }), RM_ROLE_EVENTS],
  ['rmSession (NOT_CONTROLABLE only)', rmSessionModel({ active: false, notControllable: true }), RM_ROLE_EVENTS],
  ['rmControlType', rmControlTypeModel(), RM_ROLE_EVENTS],
  ['cemSession', cemSessionModel(), CEM_ROLE_EVENTS],
  ['cemControlType (FRBC…)', cemControlTypeModel({ statusEarly: true, statusUnknown: true }), CEM_ROLE_EVENTS],
  ['cemControlType (PEBC)', cemControlTypeModel({ statusEarly: false, statusUnknown: false }), CEM_ROLE_EVENTS],
  ['instruction', instructionModel(), CEM_ROLE_EVENTS],
];

/** The (state, event) steps a path takes and the states it visits, replayed on the model. */
function replay(machine: AnyStateMachine, events: readonly string[]): { steps: string[]; visited: string[] } {
  const actor = createActor(machine).start();
  const visited = [leafOf(actor.getSnapshot().value)];
  const steps = events.map((type) => {
    const from = leafOf(actor.getSnapshot().value);
    expect(actor.getSnapshot().can({ type }), `${from} handles ${type}`).toBe(true);
    actor.send({ type });
    visited.push(leafOf(actor.getSnapshot().value));
    return `${from} ${type}`;
  });
  actor.stop();
  return { steps, visited };
}

/** Every leaf state of the model, and every (state, event) transition it defines. */
function defined(machine: AnyStateMachine): { leaves: string[]; edges: string[] } {
  const leaves: string[] = [];
  const edges: string[] = [];
  const walk = (node: AnyStateMachine['root'], prefix: string) => {
    const children = Object.entries(node.states);
    if (!children.length) {
      leaves.push(prefix);
      for (const event of node.transitions.keys()) edges.push(`${prefix} ${event}`);
    }
    for (const [k, child] of children) walk(child, prefix ? `${prefix}.${k}` : k);
  };
  walk(machine.root, '');
  return { leaves: leaves.sort(), edges: edges.sort() };
}

describe('the conformance kit’s test models', () => {
  for (const [name, machine, events] of MODELS) {
    it(`${name}: the generated paths take every model transition and reach every model state`, () => {
      const { paths } = coveringPaths(machine, Object.keys(events));
      const runs = paths.map((p) => replay(machine, p.events));
      const { leaves, edges } = defined(machine);
      const taken = new Set(runs.flatMap((r) => r.steps));
      expect(
        edges.filter((e) => !taken.has(e)),
        'model transitions no path takes',
      ).toEqual([]);
      const reached = new Set(runs.flatMap((r) => r.visited));
      expect(
        leaves.filter((l) => !reached.has(l)),
        'model states no path reaches',
      ).toEqual([]);
      // No path is a prefix of another (it would check nothing more).
      for (const a of paths)
        for (const b of paths)
          if (a !== b) expect(a.events.every((e, i) => b.events[i] === e) && a.events.length <= b.events.length).toBe(false);
    });
  }

  it('[R46] the instruction model allows exactly what R46 allows', () => {
    const m = instructionModel();
    for (const from of [undefined, 'NEW', 'ACCEPTED', 'STARTED'] as const) {
      const allowed = nextStatuses(from);
      for (const to of ['NEW', 'ACCEPTED', 'STARTED', 'SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED'] as const) {
        const actor = createActor(m).start();
        if (from) actor.send({ type: `STATUS_${from}` });
        const before = leafOf(actor.getSnapshot().value);
        actor.send({ type: `STATUS_${to}` });
        expect(leafOf(actor.getSnapshot().value), `${from ?? 'received'} → ${to}`).toBe(allowed.includes(to) ? to : before);
        actor.stop();
      }
    }
  });

  it('scenarios: RM 25 session + 10 per control type; CEM 25 session + 10 per type (PEBC 8) + 25 instruction', () => {
    const rm = rmScenarios({ types: ['FRBC', 'OMBC'], notControllable: false });
    expect(rm.filter((s) => s.model === 'session')).toHaveLength(25);
    expect(rm.filter((s) => s.controlType === 'OMBC' && s.model === 'control-type')).toHaveLength(10);
    expect(rmScenarios({ types: [], notControllable: true })).toHaveLength(21);
    const cem = cemScenarios(['FRBC', 'PPBC', 'OMBC', 'PEBC', 'DDBC']);
    expect(cem).toHaveLength(25 + 48 + 25);
    expect(new Set(cem.map((s) => s.id)).size).toBe(cem.length);
    for (const s of [...rm, ...cem]) {
      expect(s.rules.length, s.id).toBeGreaterThan(0);
      expect(
        s.rules.every((r) => /^[RQ]\d+$/.test(r)),
        s.id,
      ).toBe(true);
    }
  });
});

describe('JUnit XML', () => {
  it('escapes markup and drops characters XML cannot carry', () => {
    expect(xmlEscape(`<a href="x">'&'</a>\u0001\uD800`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;\uFFFD\uFFFD');
  });

  it('writes a failure with its rules, expected and observed frames; one testcase per scenario', () => {
    const scenario = cemScenarios(['FRBC'])[0]!;
    const report: ConformanceReport = {
      role: 'CEM',
      target: 'ws://127.0.0.1:1',
      mode: 'dial',
      version: '1.0.0-beta',
      results: [
        {
          scenario,
          outcome: 'fail',
          durationMs: 12,
          failures: [{ rules: ['R11', 'R20'], step: 'INVALID_JSON', expected: 'ReceptionStatus <INVALID_DATA>', observed: ['→ {"a":1}'] }],
        },
        { scenario: { ...scenario, id: 'cem.session.99' }, outcome: 'skip', durationMs: 1, failures: [], note: 'n/a "because"' },
      ],
      counts: { total: 2, passed: 0, failed: 1, skipped: 1, errors: 0 },
      durationMs: 20,
    };
    const xml = toJUnitXml(report);
    expect(xml).toContain(
      '<testsuites name="s2 conformance: CEM at ws://127.0.0.1:1 in S2 1.0.0-beta" tests="2" failures="1" errors="0" skipped="1"',
    );
    expect(xml).toContain('<failure type="R11, R20" message="R11, R20: ReceptionStatus &lt;INVALID_DATA&gt;">');
    expect(xml).toContain('→ {&quot;a&quot;:1}');
    expect(xml).toContain('<skipped message="n/a &quot;because&quot;"/>');
    expect(xml.match(/<testcase /g)).toHaveLength(2);
  });
});

describe('the s2-engine/testing entry point', () => {
  it('is exported from the package and points at built files', () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, { types: string; import: string }>;
    };
    expect(pkg.exports['./testing']).toEqual({
      types: './dist/testing/index.d.ts',
      import: './dist/testing/index.js',
      default: './dist/testing/index.js',
    });
    expect(fs.existsSync(new URL('../../dist/testing/index.js', import.meta.url))).toBe(true);
  });
});
