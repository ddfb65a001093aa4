import type { CommunicationRole, EndpointDescription, NodeDescription, NodeRole } from '../wire/index.js';

/**
 * Where a node keeps its S2 Connect pairings, their access tokens, tombstones of recent unpairings and the
 * short-lived one-time secrets of session initiation.
 *
 * Two implementations ship: MemoryPairingStore (tests, throw-away nodes) and DirectoryPairingStore (durable, one
 * process). Callers only ever see this interface, so a store shared by several processes (several CEM workers
 * behind one address) can be added without changing them: it needs a real compare-and-swap for `swapTokens`
 * (e.g. `UPDATE … SET tokens = ?, version = version + 1 WHERE … AND version = ?` in a database), an atomic
 * take for `takeOneTime` (e.g. `DELETE … RETURNING`), and the one-time secrets in the shared store too, because
 * `initiateSession` and `confirmAccessToken` may land on different processes.
 */

/** One pairing as one side keeps it. Keys: (localNodeId, remoteNodeId). */
export interface PairingRecord {
  readonly localNodeId: string;
  readonly remoteNodeId: string;
  readonly localRole: NodeRole;
  readonly remoteNode: NodeDescription;
  readonly remoteEndpoint: EndpointDescription;
  /** What WE are for this pairing. */
  readonly communicationRole: CommunicationRole;
  /** ISO date. */
  readonly pairedAt: string;
  /** CS: the message versions the remote offered at pairing (for selection). */
  readonly remoteMessageVersions?: readonly string[];
  /** CC: base URL of the CS's session-initiation API (no /v1). */
  readonly initiateSessionUrl?: string;
  /** CC: base64 SHA-256 of the CS's root certificate DER (LAN pin), absent for WebPKI. */
  readonly rootPin?: string;
}

export interface AccessTokens {
  /** CS: exactly one entry, the SHA-256 (base64) of the current access token — the CS never stores raw tokens.
   *  CC: the raw tokens to try, in order (oldest first), 1 or 2 entries. */
  readonly tokens: readonly string[];
  /** Monotonic version for compare-and-swap. */
  readonly version: number;
}

export interface OneTimePayload {
  readonly localNodeId: string;
  readonly remoteNodeId: string;
  readonly authorizedByVersion?: number;
  readonly messageVersion?: string;
}

export type OneTimeKind = 'pending-access' | 'websocket';

export interface PairingStore {
  list(): Promise<PairingRecord[]>;
  get(localNodeId: string, remoteNodeId: string): Promise<{ record: PairingRecord; tokens: AccessTokens } | undefined>;
  /** Creates or replaces a pairing with its initial tokens; clears a tombstone of the same pair. */
  put(record: PairingRecord, tokens: readonly string[]): Promise<void>;
  /** Replaces the tokens iff the stored version is `expectedVersion`; false otherwise (or if the pairing is gone). */
  swapTokens(localNodeId: string, remoteNodeId: string, expectedVersion: number, tokens: readonly string[]): Promise<boolean>;
  /** Deletes a pairing; with tombstone, remembers (until tombstoneTtl) that it was unpaired. True if it existed. */
  remove(localNodeId: string, remoteNodeId: string, options?: { tombstone?: boolean }): Promise<boolean>;
  isTombstoned(localNodeId: string, remoteNodeId: string): Promise<boolean>;
  /** One-time secrets with expiry, looked up by their SHA-256 (base64). `slot` (optional) makes at most one live
   *  secret per slot: putting a new one removes the previous (used for "one pending access token per pairing"). */
  putOneTime(kind: OneTimeKind, hash: string, payload: OneTimePayload, expiresAt: number, slot?: string): Promise<void>;
  /** Atomically removes and returns it if present and not expired at `now`. */
  takeOneTime(kind: OneTimeKind, hash: string, now: number): Promise<OneTimePayload | undefined>;
  close(): Promise<void>;
}

/** Options shared by the shipped stores. */
export interface PairingStoreOptions {
  /** Clock in ms for tombstone expiry and for pruning expired one-time secrets (default Date.now). */
  now?: (() => number) | undefined;
  /** How long an unpairing is remembered (default DEFAULT_TOMBSTONE_TTL_MS). */
  tombstoneTtlMs?: number | undefined;
}

/**
 * 30 days. A tombstone only turns a later `initiateSession` of the unpaired client from 401 ("not paired",
 * which the client should surface to a person) into 400 `NoLongerPaired` (the client drops the pairing itself).
 * Devices that were switched off over a holiday or a heating season's maintenance come back within weeks, so
 * the tombstone should outlive such gaps; it holds no secret and a few hundred bytes, so keeping it a month
 * costs nothing. After it expires the client still cannot connect (401), it just gets the less precise answer.
 */
export const DEFAULT_TOMBSTONE_TTL_MS = 30 * 24 * 60 * 60 * 1000;
