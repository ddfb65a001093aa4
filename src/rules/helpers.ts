import type { Commodity, CommodityQuantity } from '../typebox/common/enums.js';
import type { NumberRange } from '../typebox/common/primitives.js';
import { showValue, type Problem } from '../typebox/problem.js';

/**
 * Small building blocks shared by the intra-message rules. They run on every received message, so
 * each one has a cheap "all fine" path that allocates nothing and builds no strings; JSONPaths and
 * sentences are only made once something is wrong.
 */

/** A Problem tagged with its rule id, carrying the offending value as (truncated) JSON. */
export function problem(rule: string, path: string, message: string, value: unknown): Problem {
  return { path, message, value: showValue(value), rule };
}

/** Pairs `[repeat, first]`: the index of a repeated value and the index where it first occurred. */
export type DuplicatePairs = Array<readonly [repeat: number, first: number]>;

/** Up to this many items a nested loop is cheaper than building a Map. */
const SMALL = 12;

function valueAt(items: readonly unknown[], i: number, key: string | undefined): unknown {
  const item = items[i];
  return key === undefined ? item : (item as Record<string, unknown>)[key];
}

/**
 * Finds values that occur more than once, either the items themselves (`key` omitted) or their
 * `key` property. Returns undefined — without allocating — when all are distinct.
 */
export function findDuplicates(values: readonly string[]): DuplicatePairs | undefined;
export function findDuplicates<K extends string>(items: readonly { readonly [P in K]: string }[], key: K): DuplicatePairs | undefined;
export function findDuplicates(items: readonly unknown[], key?: string): DuplicatePairs | undefined {
  return duplicatesOf(items, key);
}

function duplicatesOf(items: readonly unknown[], key: string | undefined): DuplicatePairs | undefined {
  const n = items.length;
  if (n < 2) return undefined;
  let out: DuplicatePairs | undefined;
  if (n <= SMALL) {
    for (let i = 1; i < n; i++) {
      const v = valueAt(items, i, key);
      for (let j = 0; j < i; j++) {
        if (valueAt(items, j, key) === v) {
          (out ??= []).push([i, j]);
          break;
        }
      }
    }
    return out;
  }
  const first = new Map<unknown, number>();
  for (let i = 0; i < n; i++) {
    const v = valueAt(items, i, key);
    const j = first.get(v);
    if (j === undefined) first.set(v, i);
    else (out ??= []).push([i, j]);
  }
  return out;
}

/**
 * Pushes one problem per repeat found by {@link findDuplicates}, e.g. "operation mode id 'x' is used
 * twice in actuator 'a' (first at $.actuators[0].operation_modes[0].id)". `arrayPath` is the JSONPath
 * of the array; `scope` completes the sentence ("in actuator 'a'").
 */
export function reportDuplicates(
  out: Problem[],
  rule: string,
  pairs: DuplicatePairs,
  items: readonly unknown[],
  key: string | undefined,
  arrayPath: string,
  what: string,
  scope: string,
): void {
  const suffix = key === undefined ? '' : `.${key}`;
  for (let p = 0; p < pairs.length; p++) {
    const [i, j] = pairs[p]!;
    let occurrence = 2;
    for (let q = 0; q < p; q++) if (pairs[q]![1] === j) occurrence++;
    const v = valueAt(items, i, key);
    const times = occurrence === 2 ? 'twice' : `${occurrence} times`;
    out.push(
      problem(
        rule,
        `${arrayPath}[${i}]${suffix}`,
        `${what} '${String(v)}' is used ${times} ${scope} (first at ${arrayPath}[${j}]${suffix})`,
        v,
      ),
    );
  }
}

/**
 * Finds and reports repeated values in one step: `items` is the array at `${parentPath}.${field}`
 * (the path is only built when something is reported).
 */
export function checkUnique(
  out: Problem[],
  rule: string,
  items: readonly unknown[],
  key: string | undefined,
  parentPath: string,
  field: string,
  what: string,
  scope: string,
): void {
  if (items.length < 2) return;
  const pairs = duplicatesOf(items, key);
  if (pairs) reportDuplicates(out, rule, pairs, items, key, `${parentPath}.${field}`, what, scope);
}

/** Ids of `items` as a Set when the list is long enough for lookups to pay off, else undefined. */
export function idSet(items: readonly unknown[], key: string): Set<unknown> | undefined {
  if (items.length <= SMALL) return undefined;
  const set = new Set<unknown>();
  for (let i = 0; i < items.length; i++) set.add(valueAt(items, i, key));
  return set;
}

/** Whether some item's `key` equals `id`; uses `set` (from {@link idSet}) when there is one. */
export function hasId(items: readonly unknown[], key: string, set: Set<unknown> | undefined, id: string): boolean {
  if (set) return set.has(id);
  for (let i = 0; i < items.length; i++) if (valueAt(items, i, key) === id) return true;
  return false;
}

/** Bit per Commodity, to compare sets of commodities without allocating. */
export const COMMODITY_BIT: Readonly<Record<Commodity, number>> = { ELECTRICITY: 1, HEAT: 2, GAS: 4, OIL: 8 };

/**
 * The Commodity a CommodityQuantity measures (as s2-python maps them): ELECTRIC.POWER.* is
 * ELECTRICITY, HEAT.* is HEAT, NATURAL_GAS.FLOW_RATE is GAS, OIL.FLOW_RATE is OIL. HYDROGEN.FLOW_RATE
 * has no Commodity value in the schema (Q20), hence undefined.
 */
export const COMMODITY_OF: Readonly<Record<CommodityQuantity, Commodity | undefined>> = {
  'ELECTRIC.POWER.L1': 'ELECTRICITY',
  'ELECTRIC.POWER.L2': 'ELECTRICITY',
  'ELECTRIC.POWER.L3': 'ELECTRICITY',
  'ELECTRIC.POWER.3_PHASE_SYMMETRIC': 'ELECTRICITY',
  'NATURAL_GAS.FLOW_RATE': 'GAS',
  'HYDROGEN.FLOW_RATE': undefined,
  'HEAT.TEMPERATURE': 'HEAT',
  'HEAT.FLOW_RATE': 'HEAT',
  'HEAT.THERMAL_POWER': 'HEAT',
  'OIL.FLOW_RATE': 'OIL',
};

/**
 * Pushes a problem when date-time `later` lies before `earlier` (millisecond precision). Values
 * Date.parse cannot read (e.g. a leap second, which the RFC 3339 format allows) are not judged.
 */
export function checkNotBefore(out: Problem[], rule: string, earlier: string, earlierName: string, later: string, laterName: string): void {
  const a = Date.parse(earlier);
  const b = Date.parse(later);
  if (!(b < a)) return; // also true when either is NaN
  out.push(problem(rule, `$.${laterName}`, `${laterName} ${later} is before ${earlierName} ${earlier}`, later));
}

/** One element of a list of fill-level bands (FRBC operation mode elements, leakage elements). */
interface Banded {
  readonly fill_level_range: NumberRange;
}

/**
 * R76/R77 fast path: true when every fill_level_range has start < end and the ranges, in list
 * order, follow each other exactly (end == next start). False means "look closer": the ranges may
 * still be contiguous in another order, which {@link reportBands} sorts out.
 */
export function bandsInOrder(elements: readonly Banded[]): boolean {
  let prev: NumberRange | undefined;
  for (let i = 0; i < elements.length; i++) {
    const r = elements[i]!.fill_level_range;
    if (!(r.start_of_range < r.end_of_range)) return false;
    if (prev && prev.end_of_range !== r.start_of_range) return false;
    prev = r;
  }
  return true;
}

/**
 * R76/R77: reports bands whose start is not below their end, and — when all bands are proper —
 * gaps and overlaps between them after sorting by start (Q19: bands are [start, end), the last one
 * closed, so contiguous means end == next start exactly, as s2-python checks).
 */
export function reportBands(out: Problem[], rule: string, elements: readonly Banded[], arrayPath: string, scope: string): void {
  let proper = true;
  for (let i = 0; i < elements.length; i++) {
    const r = elements[i]!.fill_level_range;
    if (r.start_of_range < r.end_of_range) continue;
    proper = false;
    out.push(
      problem(
        rule,
        `${arrayPath}[${i}].fill_level_range`,
        `fill_level_range start ${r.start_of_range} must be smaller than its end ${r.end_of_range} ${scope}`,
        r,
      ),
    );
  }
  if (!proper || elements.length < 2) return;
  const order = elements
    .map((_, i) => i)
    .sort((x, y) => elements[x]!.fill_level_range.start_of_range - elements[y]!.fill_level_range.start_of_range);
  for (let k = 1; k < order.length; k++) {
    const pi = order[k - 1]!;
    const ci = order[k]!;
    const p = elements[pi]!.fill_level_range;
    const c = elements[ci]!.fill_level_range;
    if (p.end_of_range === c.start_of_range) continue;
    const relation =
      c.start_of_range < p.end_of_range
        ? `overlaps the fill_level_range [${p.start_of_range}, ${p.end_of_range}) of element ${pi}`
        : `leaves a gap after the fill_level_range [${p.start_of_range}, ${p.end_of_range}) of element ${pi}`;
    out.push(
      problem(
        rule,
        `${arrayPath}[${ci}].fill_level_range`,
        `fill_level_range [${c.start_of_range}, ${c.end_of_range}) ${relation}: the ranges ${scope} must be contiguous (each end equal to the next start)`,
        c,
      ),
    );
  }
}
