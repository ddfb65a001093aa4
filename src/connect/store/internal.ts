import { Type, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { PairingStoreError } from './errors.js';
import type { AccessTokens, OneTimeKind, OneTimePayload, PairingRecord } from './pairing-store.js';

// Shared by both stores so they accept and reject exactly the same inputs (one contract test suite covers both).

const NodeRoleShape = Type.Union([Type.Literal('CEM'), Type.Literal('RM')]);
const NonEmpty = Type.String({ minLength: 1 });

/** Extra properties are allowed throughout so a record written by a newer minor version still reads back. */
export const PairingRecordShape = Type.Object({
  localNodeId: NonEmpty,
  remoteNodeId: NonEmpty,
  localRole: NodeRoleShape,
  remoteNode: Type.Object({
    id: Type.String(),
    brand: Type.String(),
    type: Type.String(),
    modelName: Type.String(),
    role: NodeRoleShape,
    logoUrl: Type.Optional(Type.String()),
    userDefinedName: Type.Optional(Type.String()),
  }),
  remoteEndpoint: Type.Object({
    name: Type.Optional(Type.String()),
    logoUrl: Type.Optional(Type.String()),
    deployment: Type.Optional(Type.Union([Type.Literal('LAN'), Type.Literal('WAN')])),
  }),
  communicationRole: Type.Union([Type.Literal('server'), Type.Literal('client')]),
  pairedAt: Type.String(),
  remoteMessageVersions: Type.Optional(Type.Array(Type.String())),
  initiateSessionUrl: Type.Optional(Type.String()),
  rootPin: Type.Optional(Type.String()),
});

/** CS: one hash; CC: old and new raw token between initiateSession and confirmAccessToken. */
export const TokensShape = Type.Array(NonEmpty, { minItems: 1, maxItems: 2 });

/**
 * Where `value` first fails `schema`, as a JSON pointer plus TypeBox's description of the expectation. Values are
 * never quoted: they may be tokens.
 */
export function firstProblem(schema: TSchema, value: unknown): string | undefined {
  const first = Value.Errors(schema, value).First();
  return first === undefined ? undefined : `${first.path || '/'}: ${first.message}`;
}

export function checkKey(localNodeId: unknown, remoteNodeId: unknown): void {
  if (typeof localNodeId !== 'string' || localNodeId === '' || typeof remoteNodeId !== 'string' || remoteNodeId === '') {
    throw new PairingStoreError('a pairing is keyed by two non-empty node ids');
  }
}

export function checkRecord(record: PairingRecord): void {
  const problem = firstProblem(PairingRecordShape, record);
  if (problem !== undefined) throw new PairingStoreError(`not a valid pairing record (${problem})`);
}

export function checkTokens(tokens: readonly string[]): void {
  if (!Value.Check(TokensShape, tokens)) {
    const n = Array.isArray(tokens) ? tokens.length : 'no array';
    throw new PairingStoreError(`a pairing holds 1 or 2 non-empty tokens (got ${n})`);
  }
}

export function checkVersion(expectedVersion: number): void {
  if (!Number.isSafeInteger(expectedVersion)) throw new PairingStoreError('expectedVersion must be an integer');
}

export function checkTtl(ttlMs: number): void {
  if (!(ttlMs >= 0) || !Number.isFinite(ttlMs)) throw new PairingStoreError('tombstoneTtlMs must be a finite number ≥ 0');
}

/** The map key of a node pair; JSON so that no choice of ids can make two pairs collide. */
export function pairKey(localNodeId: string, remoteNodeId: string): string {
  return JSON.stringify([localNodeId, remoteNodeId]);
}

/** list() order: by local node id, then remote node id, so output is stable across runs and stores. */
export function byKey(a: PairingRecord, b: PairingRecord): number {
  if (a.localNodeId !== b.localNodeId) return a.localNodeId < b.localNodeId ? -1 : 1;
  return a.remoteNodeId < b.remoteNodeId ? -1 : a.remoteNodeId > b.remoteNodeId ? 1 : 0;
}

export function cloneRecord(record: PairingRecord): PairingRecord {
  return structuredClone(record);
}

export function cloneTokens(tokens: readonly string[], version: number): AccessTokens {
  return { tokens: [...tokens], version };
}

interface OneTimeEntry {
  readonly payload: OneTimePayload;
  readonly expiresAt: number;
  readonly slotKey: string | undefined;
}

/**
 * One-time secrets (pending access tokens ≤ 15 s, WebSocket tokens ≤ 30 s) of one process. Every method is
 * synchronous, so take-once is atomic on the event loop without a lock. Slots are per kind: a new WebSocket
 * token never evicts a pending access token that happens to use the same slot name.
 */
export class OneTimeSecrets {
  readonly #entries = new Map<string, OneTimeEntry>();
  readonly #slots = new Map<string, string>();

  put(kind: OneTimeKind, hash: string, payload: OneTimePayload, expiresAt: number, slot: string | undefined, now: number): void {
    if (kind !== 'pending-access' && kind !== 'websocket') throw new PairingStoreError('unknown one-time secret kind');
    if (typeof hash !== 'string' || hash === '') throw new PairingStoreError('a one-time secret needs its hash');
    if (!Number.isFinite(expiresAt)) throw new PairingStoreError('a one-time secret needs a finite expiry');
    checkKey(payload?.localNodeId, payload?.remoteNodeId);
    if (slot !== undefined && (typeof slot !== 'string' || slot === '')) throw new PairingStoreError('a slot is a non-empty string');
    this.prune(now);
    const key = `${kind}\n${hash}`;
    this.#delete(key);
    const slotKey = slot === undefined ? undefined : `${kind}\n${slot}`;
    if (slotKey !== undefined) {
      const previous = this.#slots.get(slotKey);
      if (previous !== undefined) this.#delete(previous);
      this.#slots.set(slotKey, key);
    }
    this.#entries.set(key, { payload: { ...payload }, expiresAt, slotKey });
  }

  take(kind: OneTimeKind, hash: string, now: number): OneTimePayload | undefined {
    const key = `${kind}\n${hash}`;
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    // Removed whether live or expired: an expired secret must not linger, a live one is used up by this take.
    this.#delete(key);
    return now < entry.expiresAt ? { ...entry.payload } : undefined;
  }

  /** Forgets every secret of a pair (its pairing is gone: neither a pending token nor a WebSocket token may be used). */
  dropPair(localNodeId: string, remoteNodeId: string): void {
    for (const [key, entry] of this.#entries) {
      if (entry.payload.localNodeId === localNodeId && entry.payload.remoteNodeId === remoteNodeId) this.#delete(key);
    }
  }

  /** Bounds memory: expired secrets are dropped whenever a new one arrives. */
  prune(now: number): void {
    for (const [key, entry] of this.#entries) if (now >= entry.expiresAt) this.#delete(key);
  }

  clear(): void {
    this.#entries.clear();
    this.#slots.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    if (entry.slotKey !== undefined && this.#slots.get(entry.slotKey) === key) this.#slots.delete(entry.slotKey);
  }
}

/**
 * Serialises async work per key: each run starts after the previous one on the same key has settled. This is what
 * makes read-compare-write (compare-and-swap) atomic within one process; different keys run concurrently.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/**
 * Open/closed bookkeeping: calls after close() reject, and close() waits for the calls already running so that no
 * write is cut off half-way by a caller that closes and exits.
 */
export class Lifecycle {
  readonly #name: string;
  #closed = false;
  readonly #running = new Set<Promise<unknown>>();

  constructor(name: string) {
    this.#name = name;
  }

  run<T>(work: () => T | Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new PairingStoreError(`${this.#name} is closed`));
    // The promise executor turns a synchronous throw of `work` (a malformed key or record) into a rejection, so a
    // store call fails the same way whether its work is synchronous (the memory store) or not.
    const p = new Promise<T>((resolve) => resolve(work()));
    this.#running.add(p);
    const forget = () => this.#running.delete(p);
    p.then(forget, forget);
    return p;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#running]);
  }
}
