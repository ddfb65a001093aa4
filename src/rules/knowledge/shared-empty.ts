/** Every write to a shared empty value throws this. */
function readOnly(kind: 'Map' | 'Set'): never {
  throw new TypeError(`the shared empty ${kind} of the control-type knowledge is read only (copy it first)`);
}

/**
 * A Map that refuses every write. Knowledge is copy-on-write (each change builds a new Map or Set
 * from the old one), so one empty instance can stand for "nothing known" in every session: an
 * activation that has learnt nothing yet then costs no hash tables of its own
 * (bench/RESULTS.md §5.6 B). A write reaching the shared value would leak one session's state into
 * every other session, so it throws instead of passing silently.
 */
class SealedEmptyMap<K, V> extends Map<K, V> {
  override set(): this {
    return readOnly('Map');
  }
  override delete(): boolean {
    return readOnly('Map');
  }
  override clear(): void {
    return readOnly('Map');
  }
}

/** The Set counterpart of {@link SealedEmptyMap}. */
class SealedEmptySet<T> extends Set<T> {
  override add(): this {
    return readOnly('Set');
  }
  override delete(): boolean {
    return readOnly('Set');
  }
  override clear(): void {
    return readOnly('Set');
  }
}

const EMPTY_MAP: ReadonlyMap<never, never> = Object.freeze(new SealedEmptyMap<never, never>());
const EMPTY_SET: ReadonlySet<never> = Object.freeze(new SealedEmptySet<never>());

/** The one shared empty Map, read only (a write throws): for knowledge and other copy-on-write state. */
export const emptyMap = <K, V>(): ReadonlyMap<K, V> => EMPTY_MAP;

/** The one shared empty Set, read only (a write throws). */
export const emptySet = <T>(): ReadonlySet<T> => EMPTY_SET;

/** `map`, or the shared empty Map when it has no entries (so an empty result holds no hash table of its own). */
export const shareEmpty = <K, V>(map: ReadonlyMap<K, V>): ReadonlyMap<K, V> => (map.size === 0 ? EMPTY_MAP : map);
