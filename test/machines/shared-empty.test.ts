/**
 * The control-type knowledge and an activation's instruction bookkeeping start as ONE shared,
 * read-only empty value per control type (bench/RESULTS.md §5.6 B; src/rules/knowledge/shared-empty.ts).
 * That is only sound if nothing ever writes into it: a write would carry one session's state into
 * every other session. These tests run two activations per control type side by side — one
 * described, instructed, its instruction finished and its description revoked; the other given
 * its own, different messages — and check that neither sees the other's state and that the shared
 * empties are still empty afterwards.
 */
import { describe, expect, it } from 'vitest';
import { CONTROL_TYPE_RULES } from '../../src/machines/control-types.js';
import { emptyMap, emptySet, shareEmpty } from '../../src/rules/knowledge/shared-empty.js';
import type { ControlTypeShort } from '../../src/typebox/message-spec.js';
import { controlTypeHarness } from '../support/control-type-harness.js';
import { BASE_MS, MESSAGE_SETS, revokeObject, statusUpdate, uuidFor } from '../support/control-type-messages.js';
import { SHORTS } from './session-models.js';

const HOUR = 3_600_000;

/** Every Map, Set and array directly in `value` is empty. */
function expectAllEmpty(value: object): void {
  for (const [field, v] of Object.entries(value)) {
    if (v instanceof Map || v instanceof Set) expect(v.size, field).toBe(0);
    else if (Array.isArray(v)) expect(v.length, field).toBe(0);
  }
}

/** Drives one CEM-side activation: description n, status, instruction (ACCEPTED then SUCCEEDED), a second instruction left open. */
function drive(short: ControlTypeShort, label: string, n: number) {
  const set = MESSAGE_SETS[short];
  const ct = controlTypeHarness(CONTROL_TYPE_RULES[short], 'CEM', { now: BASE_MS });
  const id = (what: string) => uuidFor(`shared-empty:${short}:${label}:${what}`);
  const description = set.describe(id('description'), n);
  const first = { id: id('instruction-1'), executionMs: BASE_MS + HOUR, n, slot: 0 };
  const second = { id: id('instruction-2'), executionMs: BASE_MS + HOUR, n, slot: 1 };
  const answers = [
    ...ct.send('in', description),
    ...ct.send('in', set.status(id('status'), n)),
    ...ct.send('out', set.instruction(id('instruction-message-1'), first)),
    ...ct.send('in', statusUpdate(id('isu-accepted'), first.id, 'ACCEPTED', BASE_MS)),
    ...ct.send('in', statusUpdate(id('isu-succeeded'), first.id, 'SUCCEEDED', BASE_MS)),
    ...ct.send('out', set.instruction(id('instruction-message-2'), second)),
  ];
  return { ct, set, description, first, second, answers };
}

describe('shared empty knowledge and instruction bookkeeping (bench/RESULTS.md §5.6 B)', () => {
  it('the shared empty Map and Set refuse every write, and shareEmpty hands out the shared one only for an empty map', () => {
    const map = emptyMap<string, number>() as Map<string, number>;
    const set = emptySet<string>() as Set<string>;
    expect(() => map.set('a', 1)).toThrow(/read only/);
    expect(() => map.delete('a')).toThrow(/read only/);
    expect(() => map.clear()).toThrow(/read only/);
    expect(() => set.add('a')).toThrow(/read only/);
    expect(() => set.delete('a')).toThrow(/read only/);
    expect(() => set.clear()).toThrow(/read only/);
    expect(map.size + set.size).toBe(0);
    expect(new Map(map).set('a', 1).get('a')).toBe(1); // a copy is an ordinary Map
    expect(shareEmpty(new Map())).toBe(emptyMap());
    const full = new Map([['a', 1]]);
    expect(shareEmpty(full)).toBe(full);
  });

  for (const short of SHORTS) {
    it(`[R39, R42, R44, R54] ${short}: two activations share no state after descriptions, instructions, statuses and a revocation`, () => {
      const rules = CONTROL_TYPE_RULES[short];
      const empty = rules.empty();
      expect(rules.empty()).toBe(empty); // one value for all activations
      expect(Object.isFrozen(empty)).toBe(true);

      const idle = controlTypeHarness(rules, 'CEM', { now: BASE_MS });
      const a = drive(short, 'a', 1);
      expect(a.answers.filter((r) => r.type === 'ct.refused')).toEqual([]);
      expect(a.ct.state).toBe('described');

      // An activation that saw nothing still holds the shared empties, untouched by a's messages.
      expect(idle.context.knowledge).toBe(empty);
      expect(idle.context.instructions.size + idle.context.finished.size + idle.context.actors.size).toBe(0);
      expectAllEmpty(empty as object);

      // a owns its bookkeeping: an open and a finished instruction.
      expect(a.ct.context.knowledge).not.toBe(empty);
      expect(a.ct.context.instructions.get(a.first.id.toLowerCase())?.status).toBe('SUCCEEDED');
      expect(a.ct.context.instructions.get(a.second.id.toLowerCase())?.status).toBeUndefined();
      expect([...a.ct.context.finished]).toEqual([a.first.id.toLowerCase()]);
      expect([...a.ct.context.actors.keys()]).toEqual([a.second.id.toLowerCase()]);

      // A second, independent activation with other ids (description 2): it must not know a's.
      const b = drive(short, 'b', 2);
      expect(b.answers.filter((r) => r.type === 'ct.refused')).toEqual([]);
      expect([...b.ct.context.instructions.keys()].sort()).toEqual([b.first.id, b.second.id].map((x) => x.toLowerCase()).sort());
      expect(b.ct.context.instructions).not.toBe(a.ct.context.instructions);
      expect(b.ct.context.finished).not.toBe(a.ct.context.finished);
      expect(b.ct.context.actors).not.toBe(a.ct.context.actors);
      expect(b.ct.context.freeSlots).not.toBe(a.ct.context.freeSlots);
      expect(rules.hasObject(b.ct.context.knowledge, a.set.descriptionType, a.set.objectIdOf(a.description))).toBe(false);
      expect(rules.hasObject(a.ct.context.knowledge, b.set.descriptionType, b.set.objectIdOf(b.description))).toBe(false);

      // Revoking a's description (R54) changes a only.
      const revoke = revokeObject(uuidFor(`shared-empty:${short}:a:revoke`), a.set.descriptionType, a.set.objectIdOf(a.description));
      expect(a.ct.send('in', revoke).map((r) => r.type)).toEqual(['ct.accepted']);
      expect(rules.hasObject(a.ct.context.knowledge, a.set.descriptionType, a.set.objectIdOf(a.description))).toBe(false);
      expect(rules.hasObject(b.ct.context.knowledge, b.set.descriptionType, b.set.objectIdOf(b.description))).toBe(true);
      expect(b.ct.state).toBe('described');

      // R42: b's instruction ids are unknown to a, and vice versa (a status for them is refused, R45).
      const stray = statusUpdate(uuidFor(`shared-empty:${short}:a:stray`), b.second.id, 'ACCEPTED', BASE_MS);
      expect(a.ct.send('in', stray).map((r) => r.type)).toEqual(['ct.refused']);

      // A third activation after all that still starts from the untouched shared empties.
      const late = controlTypeHarness(rules, 'CEM', { now: BASE_MS });
      expect(late.context.knowledge).toBe(empty);
      expect(late.context.instructions).toBe(idle.context.instructions);
      expect(late.context.instructions.size + late.context.finished.size + late.context.actors.size + late.context.freeSlots.length).toBe(
        0,
      );
      expectAllEmpty(empty as object);
      for (const h of [idle, a.ct, b.ct, late]) h.stop();
    });
  }
});
