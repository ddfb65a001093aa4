/**
 * The set of instruction ids a session has used (R42: an id is never reused within the session).
 * It holds one entry per instruction for the whole session, so its size per id is what a long
 * session costs per finished instruction (issue 15). A `Set<string>` of UUIDs costs about
 * 80–100 bytes per id (the string and its hash-table entry); here a UUID is kept as its 128 bits
 * in an open-addressing table, about 22–45 bytes per id. Ids that are not UUIDs (the S2 `ID`
 * pattern allows other strings) go to an ordinary Set.
 *
 * Ids compare case-insensitively (R4), like everywhere else in the engine.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const WORDS = 4;
const INITIAL_SLOTS = 16;

/** Writes the 128 bits of a UUID into `out` as four unsigned 32-bit words; false for any other string. */
function uuidWords(id: string, out: Uint32Array): boolean {
  if (id.length !== 36 || !UUID.test(id)) return false;
  out[0] = parseInt(id.slice(0, 8), 16);
  out[1] = parseInt(id.slice(9, 13) + id.slice(14, 18), 16);
  out[2] = parseInt(id.slice(19, 23) + id.slice(24, 28), 16);
  out[3] = parseInt(id.slice(28, 36), 16);
  return true;
}

/** Mixes all four words, so UUIDs that differ in a few bits only (time-based ones) still spread. */
function hash(w: Uint32Array): number {
  let h = Math.imul(w[0]! ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ w[1]! ^ (h >>> 15), 0xc2b2ae35);
  h = Math.imul(h ^ w[2]! ^ (h >>> 13), 0x85ebca6b);
  h = Math.imul(h ^ w[3]! ^ (h >>> 16), 0xc2b2ae35);
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * A grow-only set of ids (no delete: a used instruction id stays used for the whole session).
 * `has` and `add` take any string; UUIDs are stored compactly.
 */
export class IdSet {
  /** WORDS words per slot; a slot is in use when its `full` byte is 1 (the nil UUID is a valid id). */
  #words = new Uint32Array(INITIAL_SLOTS * WORDS);
  #full = new Uint8Array(INITIAL_SLOTS);
  #uuids = 0;
  readonly #others = new Set<string>();
  readonly #probe = new Uint32Array(WORDS);

  /** How many ids the set holds. */
  get size(): number {
    return this.#uuids + this.#others.size;
  }

  has(id: string): boolean {
    if (!uuidWords(id, this.#probe)) return this.#others.has(id.toLowerCase());
    return this.#full[this.#slotOf(this.#probe)] === 1;
  }

  add(id: string): this {
    if (!uuidWords(id, this.#probe)) {
      this.#others.add(id.toLowerCase());
      return this;
    }
    const slot = this.#slotOf(this.#probe);
    if (this.#full[slot] === 1) return this;
    this.#words.set(this.#probe, slot * WORDS);
    this.#full[slot] = 1;
    // At most 3/4 full, so that a probe stays short.
    if (++this.#uuids * 4 > this.#full.length * 3) this.#grow();
    return this;
  }

  /** The slot holding these words, or the empty slot where they would go (linear probing). */
  #slotOf(w: Uint32Array): number {
    const words = this.#words;
    const full = this.#full;
    const mask = full.length - 1;
    for (let slot = hash(w) & mask; ; slot = (slot + 1) & mask) {
      if (full[slot] !== 1) return slot;
      const at = slot * WORDS;
      if (words[at] === w[0] && words[at + 1] === w[1] && words[at + 2] === w[2] && words[at + 3] === w[3]) return slot;
    }
  }

  #grow(): void {
    const oldWords = this.#words;
    const oldFull = this.#full;
    this.#words = new Uint32Array(oldWords.length * 2);
    this.#full = new Uint8Array(oldFull.length * 2);
    const w = new Uint32Array(WORDS);
    for (let slot = 0; slot < oldFull.length; slot++) {
      if (oldFull[slot] !== 1) continue;
      w.set(oldWords.subarray(slot * WORDS, slot * WORDS + WORDS));
      const to = this.#slotOf(w);
      this.#words.set(w, to * WORDS);
      this.#full[to] = 1;
    }
  }
}
