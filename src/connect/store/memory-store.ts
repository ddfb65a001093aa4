import { inspect } from 'node:util';
import {
  DEFAULT_TOMBSTONE_TTL_MS,
  type AccessTokens,
  type OneTimeKind,
  type OneTimePayload,
  type PairingRecord,
  type PairingStore,
  type PairingStoreOptions,
} from './pairing-store.js';
import {
  byKey,
  checkKey,
  checkRecord,
  checkTokens,
  checkTtl,
  checkVersion,
  cloneRecord,
  cloneTokens,
  Lifecycle,
  OneTimeSecrets,
  pairKey,
} from './internal.js';

interface Entry {
  readonly record: PairingRecord;
  readonly tokens: readonly string[];
  readonly version: number;
}

interface Tombstone {
  readonly unpairedAt: number;
  /** The removed pairing's last version, so that a re-pairing continues the numbering (see put). */
  readonly version: number;
}

/**
 * A PairingStore in memory: for tests and for nodes that pair anew on every start. Every operation completes
 * within one turn of the event loop after its arguments are checked, so compare-and-swap and take-once are atomic
 * without a lock. Records and token lists are copied in and out: a caller mutating what it got cannot change the
 * store.
 */
export class MemoryPairingStore implements PairingStore {
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #pairings = new Map<string, Entry>();
  readonly #tombstones = new Map<string, Tombstone>();
  readonly #oneTime = new OneTimeSecrets();
  readonly #life = new Lifecycle('MemoryPairingStore');

  constructor(options: PairingStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.tombstoneTtlMs ?? DEFAULT_TOMBSTONE_TTL_MS;
    checkTtl(this.#ttlMs);
  }

  list(): Promise<PairingRecord[]> {
    return this.#life.run(() => [...this.#pairings.values()].map((e) => cloneRecord(e.record)).sort(byKey));
  }

  get(localNodeId: string, remoteNodeId: string): Promise<{ record: PairingRecord; tokens: AccessTokens } | undefined> {
    return this.#life.run(() => {
      checkKey(localNodeId, remoteNodeId);
      const entry = this.#pairings.get(pairKey(localNodeId, remoteNodeId));
      return entry === undefined ? undefined : { record: cloneRecord(entry.record), tokens: cloneTokens(entry.tokens, entry.version) };
    });
  }

  put(record: PairingRecord, tokens: readonly string[]): Promise<void> {
    return this.#life.run(() => {
      checkRecord(record);
      checkTokens(tokens);
      const key = pairKey(record.localNodeId, record.remoteNodeId);
      // A replaced pairing gets a higher version than anything issued under the old one, so a pending token
      // authorised by the old pairing can never win a compare-and-swap against the new one.
      const previous = this.#pairings.get(key)?.version ?? this.#tombstones.get(key)?.version ?? 0;
      // Numbering restarts only when nothing of an old pairing is known: then no one-time secret of it may survive.
      if (previous === 0) this.#oneTime.dropPair(record.localNodeId, record.remoteNodeId);
      this.#pairings.set(key, { record: cloneRecord(record), tokens: [...tokens], version: previous + 1 });
      this.#tombstones.delete(key);
    });
  }

  swapTokens(localNodeId: string, remoteNodeId: string, expectedVersion: number, tokens: readonly string[]): Promise<boolean> {
    return this.#life.run(() => {
      checkKey(localNodeId, remoteNodeId);
      checkVersion(expectedVersion);
      checkTokens(tokens);
      const key = pairKey(localNodeId, remoteNodeId);
      const entry = this.#pairings.get(key);
      if (entry === undefined || entry.version !== expectedVersion) return false;
      this.#pairings.set(key, { record: entry.record, tokens: [...tokens], version: entry.version + 1 });
      return true;
    });
  }

  remove(localNodeId: string, remoteNodeId: string, options: { tombstone?: boolean } = {}): Promise<boolean> {
    return this.#life.run(() => {
      checkKey(localNodeId, remoteNodeId);
      const key = pairKey(localNodeId, remoteNodeId);
      const entry = this.#pairings.get(key);
      this.#pairings.delete(key);
      this.#oneTime.dropPair(localNodeId, remoteNodeId);
      if (entry === undefined) {
        // Nothing to unpair. Without tombstone the call means "forget this pair entirely", so an old tombstone goes.
        if (options.tombstone !== true) this.#tombstones.delete(key);
        return false;
      }
      if (options.tombstone === true) this.#tombstones.set(key, { unpairedAt: this.#now(), version: entry.version });
      else this.#tombstones.delete(key);
      return true;
    });
  }

  isTombstoned(localNodeId: string, remoteNodeId: string): Promise<boolean> {
    return this.#life.run(() => {
      checkKey(localNodeId, remoteNodeId);
      const key = pairKey(localNodeId, remoteNodeId);
      const tombstone = this.#tombstones.get(key);
      if (tombstone === undefined) return false;
      if (this.#now() < tombstone.unpairedAt + this.#ttlMs) return true;
      this.#tombstones.delete(key);
      return false;
    });
  }

  putOneTime(kind: OneTimeKind, hash: string, payload: OneTimePayload, expiresAt: number, slot?: string): Promise<void> {
    return this.#life.run(() => this.#oneTime.put(kind, hash, payload, expiresAt, slot, this.#now()));
  }

  takeOneTime(kind: OneTimeKind, hash: string, now: number): Promise<OneTimePayload | undefined> {
    return this.#life.run(() => this.#oneTime.take(kind, hash, now));
  }

  async close(): Promise<void> {
    await this.#life.close();
    this.#oneTime.clear();
  }

  // What a log line, console.log or JSON.stringify of the store shows: counts only, never a token or hash.
  toString(): string {
    return `MemoryPairingStore(${this.#pairings.size} pairings)`;
  }

  toJSON(): { store: string; pairings: number } {
    return { store: 'MemoryPairingStore', pairings: this.#pairings.size };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
