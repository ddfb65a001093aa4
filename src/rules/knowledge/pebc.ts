import type { PEBCEnergyConstraint } from '../../typebox/pebc/energy-constraint.js';
import type { PEBCInstruction, PEBCPowerEnvelope } from '../../typebox/pebc/instruction.js';
import type { PEBCAllowedLimitRange, PEBCPowerConstraints, PEBCPowerEnvelopeLimitType } from '../../typebox/pebc/power-constraints.js';
import type { IdentifiedMessage } from '../../typebox/registry.js';
import { emptyMap, emptySet } from './shared-empty.js';
import type { ControlTypeRules } from './types.js';

/**
 * What a PEBC activation knows. Ids are keyed lowercase (R4: UUIDs compare case-insensitively,
 * as the control-type statechart already does for instruction ids).
 */
export interface PebcKnowledge {
  /** Every non-revoked PowerConstraints by id (Q21: several may coexist; the same id replaces, R56). */
  readonly powerConstraints: ReadonlyMap<string, PEBCPowerConstraints>;
  /** Every non-revoked EnergyConstraint by id (R91: optional; never a reference target of an instruction). */
  readonly energyConstraints: ReadonlyMap<string, PEBCEnergyConstraint>;
  /** PowerConstraints ids revoked in this activation, only to name R58 in a refusal instead of "unknown". */
  readonly revokedConstraints: ReadonlySet<string>;
  /** Every power envelope id an accepted instruction used (R98: unique in the RM for the session). */
  readonly envelopeIds: ReadonlySet<string>;
}

const key = (id: string) => id.toLowerCase();

function withEntry<V>(map: ReadonlyMap<string, V>, id: string, value: V | undefined): ReadonlyMap<string, V> {
  const next = new Map(map);
  if (value === undefined) next.delete(key(id));
  else next.set(key(id), value);
  return next;
}

function withMember(set: ReadonlySet<string>, id: string, present: boolean): ReadonlySet<string> {
  const next = new Set(set);
  if (present) next.add(key(id));
  else next.delete(key(id));
  return next;
}

const rangeText = (r: PEBCAllowedLimitRange) =>
  `${r.range_boundary.start_of_range}..${r.range_boundary.end_of_range}${r.abnormal_condition_only ? ' (abnormal only)' : ''}`;

/**
 * Why one limit of one element cannot be used (R97, R50), or undefined. `ranges` are the
 * constraints' ranges of the envelope's commodity quantity. Ranges are closed intervals
 * (NumberRange), ordered start ≤ end by R93 (checked by the codec).
 */
function limitRejection(
  ranges: readonly PEBCAllowedLimitRange[],
  limitType: PEBCPowerEnvelopeLimitType,
  value: number,
  abnormal: boolean,
  where: string,
): string | undefined {
  const ofType = ranges.filter((r) => r.limit_type === limitType);
  const field = limitType === 'UPPER_LIMIT' ? 'upper_limit' : 'lower_limit';
  const holding = ofType.filter((r) => r.range_boundary.start_of_range <= value && value <= r.range_boundary.end_of_range);
  if (holding.length === 0) {
    const allowed = ofType.length ? ofType.map(rangeText).join(', ') : 'none';
    return `${where}: ${field} ${value} lies in no ${limitType} allowed limit range (allowed: ${allowed}) (R97)`;
  }
  // R50: abnormal-only ranges need an explicitly declared abnormal condition.
  if (!abnormal && holding.every((r) => r.abnormal_condition_only)) {
    return `${where}: ${field} ${value} lies only in abnormal_condition_only ${limitType} ranges (${holding.map(rangeText).join(', ')}) but abnormal_condition is false (R50, R97)`;
  }
  return undefined;
}

/** R97 for one envelope against the referenced constraints. */
function envelopeRejection(c: PEBCPowerConstraints, envelope: PEBCPowerEnvelope, abnormal: boolean): string | undefined {
  const cq = envelope.commodity_quantity;
  const ranges = c.allowed_limit_ranges.filter((r) => r.commodity_quantity === cq);
  if (ranges.length === 0) return `power envelope ${envelope.id}: PEBC.PowerConstraints ${c.id} allows no limit ranges for ${cq} (R97)`;
  for (const [i, el] of envelope.power_envelope_elements.entries()) {
    const where = `power envelope ${envelope.id} (${cq}) element ${i}`;
    const why =
      limitRejection(ranges, 'UPPER_LIMIT', el.upper_limit, abnormal, where) ??
      limitRejection(ranges, 'LOWER_LIMIT', el.lower_limit, abnormal, where);
    if (why) return why;
  }
  return undefined;
}

/**
 * R96 "valid" (I): the envelopes must run inside the constraints' validity window (R94: no
 * valid_until = no planned end). Time is taken from the instruction, not from a clock: the rules
 * are pure and the envelopes are what the constraints must cover.
 */
function windowRejection(c: PEBCPowerConstraints, m: PEBCInstruction): string | undefined {
  const start = Date.parse(m.execution_time);
  if (start < Date.parse(c.valid_from)) {
    return `execution_time ${m.execution_time} is before valid_from ${c.valid_from} of PEBC.PowerConstraints ${c.id} (R96)`;
  }
  if (c.valid_until === undefined) return undefined;
  const longest = Math.max(...m.power_envelopes.map((e) => e.power_envelope_elements.reduce((sum, el) => sum + el.duration, 0)));
  const end = start + longest;
  if (end > Date.parse(c.valid_until)) {
    return `the power envelopes run until ${new Date(end).toISOString()}, after valid_until ${c.valid_until} of PEBC.PowerConstraints ${c.id} (R96, R94)`;
  }
  return undefined;
}

/** What an activation knows before any PEBC message: one frozen value for all (copy-on-write). */
const EMPTY: PebcKnowledge = Object.freeze({
  powerConstraints: emptyMap<string, PEBCPowerConstraints>(),
  energyConstraints: emptyMap<string, PEBCEnergyConstraint>(),
  revokedConstraints: emptySet<string>(),
  envelopeIds: emptySet<string>(),
});

/**
 * PEBC (docs/rules.md#pebc): PowerConstraints describe the flexibility (R91), instructions name
 * one of them and place their envelopes inside its allowed limit ranges.
 *
 * Refused (INVALID_CONTENT, nothing changes; R49, Q14) — the instruction refers to something
 * that does not exist:
 * - R96/R58: power_constraints_id names no known, non-revoked PowerConstraints.
 * - R98 (session part): a power envelope id already used by an earlier instruction — an identity
 *   clash like R42, not a matter of the RM's willingness.
 * Rejected (RM side: OK, then REJECTED; Q14, R48) — the references hold, but the RM cannot carry
 * the instruction out as asked:
 * - R97: a commodity quantity without allowed ranges, a limit outside every range of its type.
 * - R50: a limit usable only through abnormal_condition_only ranges without abnormal_condition.
 * - R96 (validity, I): envelopes outside the constraints' valid_from..valid_until.
 * Codec-checked already (src/rules/pebc.ts): R92–R95, R97 one envelope per commodity quantity and
 * lower ≤ upper, R98 ids unique within one instruction.
 * Not checked: R95's energy room (a CEM planning duty over all its envelopes, not a property of
 * one instruction).
 */
export const pebcRules: ControlTypeRules<PebcKnowledge> = {
  area: 'PEBC',
  descriptions: new Set(['PEBC.PowerConstraints']),
  instructions: new Set(['PEBC.Instruction']),
  // Shared by every activation (bench/RESULTS.md §5.6 B): `learn` and `revoke` never write into k.
  empty: () => EMPTY,
  // R91, R39: PowerConstraints are what the CEM instructs against; an EnergyConstraint alone is not enough.
  described: (k) => k.powerConstraints.size > 0,
  refusal(k, m: IdentifiedMessage) {
    if (m.message_type !== 'PEBC.Instruction') return undefined;
    const id = m.power_constraints_id;
    if (k.revokedConstraints.has(key(id)) && !k.powerConstraints.has(key(id))) {
      return `power_constraints_id ${id} names a revoked PEBC.PowerConstraints (R96, R58)`;
    }
    if (!k.powerConstraints.has(key(id))) return `unknown power_constraints_id ${id}: no PEBC.PowerConstraints with that id (R96)`;
    for (const e of m.power_envelopes) {
      if (k.envelopeIds.has(key(e.id))) return `power envelope id ${e.id} was already used in this session (R98)`;
    }
    return undefined;
  },
  learn(k, m) {
    switch (m.message_type) {
      case 'PEBC.PowerConstraints':
        // Q21: keyed by id; a new message with the same id replaces the old one (and un-revokes the id).
        return {
          ...k,
          powerConstraints: withEntry(k.powerConstraints, m.id, m),
          revokedConstraints: withMember(k.revokedConstraints, m.id, false),
        };
      case 'PEBC.EnergyConstraint':
        return { ...k, energyConstraints: withEntry(k.energyConstraints, m.id, m) };
      case 'PEBC.Instruction':
        return { ...k, envelopeIds: m.power_envelopes.reduce((ids, e) => withMember(ids, e.id, true), k.envelopeIds) };
      default:
        return k;
    }
  },
  // R56: both constraint messages carry an `id`, which is what RevokeObject names (not the message_id).
  hasObject(k, type, id) {
    if (type === 'PEBC.PowerConstraints') return k.powerConstraints.has(key(id));
    if (type === 'PEBC.EnergyConstraint') return k.energyConstraints.has(key(id));
    return false;
  },
  revoke(k, type, id) {
    // R58: later instructions naming a revoked PowerConstraints are refused (see `refusal`).
    if (type === 'PEBC.PowerConstraints') {
      return {
        ...k,
        powerConstraints: withEntry(k.powerConstraints, id, undefined),
        revokedConstraints: withMember(k.revokedConstraints, id, true),
      };
    }
    if (type === 'PEBC.EnergyConstraint') return { ...k, energyConstraints: withEntry(k.energyConstraints, id, undefined) };
    return k;
  },
  rejection(k, m) {
    if (m.message_type !== 'PEBC.Instruction') return undefined;
    const c = k.powerConstraints.get(key(m.power_constraints_id));
    if (!c) return undefined; // already refused (R96)
    for (const e of m.power_envelopes) {
      const why = envelopeRejection(c, e, m.abnormal_condition);
      if (why) return why;
    }
    return windowRejection(c, m);
  },
};
