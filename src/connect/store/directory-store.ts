import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { Type } from '@sinclair/typebox';
import { PairingStoreError } from './errors.js';
import {
  byKey,
  checkKey,
  checkRecord,
  checkTokens,
  checkTtl,
  checkVersion,
  cloneTokens,
  firstProblem,
  KeyedMutex,
  Lifecycle,
  OneTimeSecrets,
  PairingRecordShape,
  pairKey,
  TokensShape,
} from './internal.js';
import {
  DEFAULT_TOMBSTONE_TTL_MS,
  type AccessTokens,
  type OneTimeKind,
  type OneTimePayload,
  type PairingRecord,
  type PairingStore,
  type PairingStoreOptions,
} from './pairing-store.js';

/** The on-disk format this code writes and reads. A file with another `format` is refused, never guessed at. */
export const PAIRING_FILE_FORMAT = 1;

const PairingFileShape = Type.Object({
  format: Type.Literal(PAIRING_FILE_FORMAT),
  kind: Type.Literal('pairing'),
  record: PairingRecordShape,
  tokens: TokensShape,
  version: Type.Integer({ minimum: 1 }),
});

const TombstoneFileShape = Type.Object({
  format: Type.Literal(PAIRING_FILE_FORMAT),
  kind: Type.Literal('tombstone'),
  localNodeId: Type.String({ minLength: 1 }),
  remoteNodeId: Type.String({ minLength: 1 }),
  /** ISO date of the unpairing. */
  unpairedAt: Type.String(),
  /** The removed pairing's last version, so that a re-pairing continues the numbering. */
  version: Type.Integer({ minimum: 0 }),
});

interface PairingFile {
  format: typeof PAIRING_FILE_FORMAT;
  kind: 'pairing';
  record: PairingRecord;
  tokens: string[];
  version: number;
}

interface TombstoneFile {
  format: typeof PAIRING_FILE_FORMAT;
  kind: 'tombstone';
  localNodeId: string;
  remoteNodeId: string;
  unpairedAt: string;
  version: number;
}

type StoredFile = PairingFile | TombstoneFile;

const FILE_NAME = /^pairing-[0-9a-f]{64}\.json$/;
const TEMP_PREFIX = '.tmp-';

/** Errors that mean "this file's content is unusable" (as opposed to an I/O failure): put/remove may overwrite it. */
const corruptErrors = new WeakSet<PairingStoreError>();

/**
 * The durable PairingStore: one directory, one JSON file per node pair (`pairing-<sha256 of the pair>.json`,
 * holding either the pairing with its tokens or the tombstone of its unpairing), so a write never touches another
 * pairing.
 *
 * Durability: every write goes to a temporary file in the same directory, is fsynced, renamed over the pairing
 * file and the directory is fsynced. A crash (kill -9, power loss on a file system that honours fsync) therefore
 * leaves each pairing file either wholly old or wholly new; a temporary file left behind is ignored by readers and
 * deleted when a store next opens the directory. The directory is made 0700 and files are created 0600: a CC's
 * files hold its raw access tokens.
 *
 * Corruption (a file that is not JSON, not format 1, or not a valid pairing) is reported as a PairingStoreError
 * naming the file by every read that meets it; put() and remove() of that pair overwrite/delete it, which is how
 * an operator repairs it (pair again or unpair).
 *
 * Concurrency: within one process every write of a pair runs under a per-pair lock, so swapTokens is a real
 * compare-and-swap. Across processes there is no lock: use one DirectoryPairingStore per directory at a time.
 * Several processes serving the same nodes need a store with a shared compare-and-swap (see PairingStore).
 *
 * One-time secrets (pending access tokens ≤ 15 s, WebSocket tokens ≤ 30 s) live in memory only. They are shorter
 * lived than any restart, and losing them is harmless by the protocol's design: the CC still holds its old access
 * token next to the pending one until confirmation, so after a restart its confirmAccessToken gets 401 and its
 * next initiateSession with the old token succeeds. Keeping them off disk also saves two fsyncs per session
 * initiation and keeps even their hashes out of backups.
 */
export class DirectoryPairingStore implements PairingStore {
  readonly #dir: string;
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #locks = new KeyedMutex();
  readonly #oneTime = new OneTimeSecrets();
  readonly #life = new Lifecycle('DirectoryPairingStore');
  #ready: Promise<void> | undefined;

  constructor(dir: string, options: PairingStoreOptions = {}) {
    if (typeof dir !== 'string' || dir === '') throw new PairingStoreError('DirectoryPairingStore needs a directory');
    this.#dir = resolve(dir);
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.tombstoneTtlMs ?? DEFAULT_TOMBSTONE_TTL_MS;
    checkTtl(this.#ttlMs);
  }

  /** The absolute directory this store keeps its files in. */
  get dir(): string {
    return this.#dir;
  }

  list(): Promise<PairingRecord[]> {
    return this.#run(async () => {
      const records: PairingRecord[] = [];
      for (const name of await this.#names()) {
        const file = join(this.#dir, name);
        const stored = await this.#read(file);
        if (stored?.kind === 'pairing') records.push(stored.record);
        else if (stored?.kind === 'tombstone' && !this.#live(stored)) await this.#pruneTombstone(stored.localNodeId, stored.remoteNodeId);
      }
      return records.sort(byKey);
    });
  }

  get(localNodeId: string, remoteNodeId: string): Promise<{ record: PairingRecord; tokens: AccessTokens } | undefined> {
    return this.#run(async () => {
      checkKey(localNodeId, remoteNodeId);
      // No lock: rename is atomic, so a read sees the file before or after any concurrent write, never between.
      const stored = await this.#read(this.#fileOf(localNodeId, remoteNodeId));
      return stored?.kind === 'pairing' ? { record: stored.record, tokens: cloneTokens(stored.tokens, stored.version) } : undefined;
    });
  }

  put(record: PairingRecord, tokens: readonly string[]): Promise<void> {
    return this.#run(async () => {
      checkRecord(record);
      checkTokens(tokens);
      const file = this.#fileOf(record.localNodeId, record.remoteNodeId);
      await this.#locks.run(file, async () => {
        // A replaced pairing (or a re-pairing after a tombstone) continues the version numbering, so a pending
        // token authorised under the old pairing never wins a compare-and-swap against the new one.
        const previous = await this.#readOrRepair(file);
        const previousVersion = previous === undefined || previous === 'corrupt' ? 0 : previous.version;
        // Numbering restarts only when nothing of the old pairing is known: then no one-time secret of it may survive.
        if (previousVersion === 0) this.#oneTime.dropPair(record.localNodeId, record.remoteNodeId);
        const content: PairingFile = {
          format: PAIRING_FILE_FORMAT,
          kind: 'pairing',
          record: JSON.parse(JSON.stringify(record)) as PairingRecord,
          tokens: [...tokens],
          version: previousVersion + 1,
        };
        await this.#write(file, content);
      });
    });
  }

  swapTokens(localNodeId: string, remoteNodeId: string, expectedVersion: number, tokens: readonly string[]): Promise<boolean> {
    return this.#run(async () => {
      checkKey(localNodeId, remoteNodeId);
      checkVersion(expectedVersion);
      checkTokens(tokens);
      const file = this.#fileOf(localNodeId, remoteNodeId);
      return this.#locks.run(file, async () => {
        const stored = await this.#read(file);
        if (stored?.kind !== 'pairing' || stored.version !== expectedVersion) return false;
        await this.#write(file, { ...stored, tokens: [...tokens], version: stored.version + 1 });
        return true;
      });
    });
  }

  remove(localNodeId: string, remoteNodeId: string, options: { tombstone?: boolean } = {}): Promise<boolean> {
    return this.#run(async () => {
      checkKey(localNodeId, remoteNodeId);
      const file = this.#fileOf(localNodeId, remoteNodeId);
      return this.#locks.run(file, async () => {
        this.#oneTime.dropPair(localNodeId, remoteNodeId);
        const stored = await this.#readOrRepair(file);
        // A corrupted file most likely held a pairing: unpairing it counts as removing one (and is how it is repaired).
        const existed = stored === 'corrupt' || stored?.kind === 'pairing';
        if (options.tombstone !== true) {
          // Without tombstone the pair is forgotten entirely, an earlier tombstone included.
          await this.#unlink(file);
        } else if (existed) {
          // Only a real unpairing leaves a tombstone; an existing one is kept as it is (its clock is not restarted).
          const tombstone: TombstoneFile = {
            format: PAIRING_FILE_FORMAT,
            kind: 'tombstone',
            localNodeId,
            remoteNodeId,
            unpairedAt: new Date(this.#now()).toISOString(),
            version: stored === 'corrupt' ? 0 : stored.version,
          };
          await this.#write(file, tombstone);
        }
        return existed;
      });
    });
  }

  isTombstoned(localNodeId: string, remoteNodeId: string): Promise<boolean> {
    return this.#run(async () => {
      checkKey(localNodeId, remoteNodeId);
      const stored = await this.#read(this.#fileOf(localNodeId, remoteNodeId));
      if (stored?.kind !== 'tombstone') return false;
      if (this.#live(stored)) return true;
      await this.#pruneTombstone(localNodeId, remoteNodeId);
      return false;
    });
  }

  putOneTime(kind: OneTimeKind, hash: string, payload: OneTimePayload, expiresAt: number, slot?: string): Promise<void> {
    return this.#run(() => this.#oneTime.put(kind, hash, payload, expiresAt, slot, this.#now()));
  }

  takeOneTime(kind: OneTimeKind, hash: string, now: number): Promise<OneTimePayload | undefined> {
    return this.#run(() => this.#oneTime.take(kind, hash, now));
  }

  /** Waits for the operations in progress (so no write is abandoned half-way by the caller), then refuses new ones. */
  async close(): Promise<void> {
    await this.#life.close();
    this.#oneTime.clear();
  }

  // What a log line, console.log or JSON.stringify of the store shows: the directory, never a token or hash.
  toString(): string {
    return `DirectoryPairingStore(${this.#dir})`;
  }

  toJSON(): { store: string; dir: string } {
    return { store: 'DirectoryPairingStore', dir: this.#dir };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  #run<T>(work: () => T | Promise<T>): Promise<T> {
    return this.#life.run(async () => {
      await this.#open();
      return work();
    });
  }

  /** Creates the directory 0700 (tightening an existing one), and deletes temporary files of interrupted writes. */
  #open(): Promise<void> {
    this.#ready ??= (async () => {
      try {
        await mkdir(this.#dir, { recursive: true, mode: 0o700 });
        await chmod(this.#dir, 0o700);
        let removed = 0;
        for (const name of await readdir(this.#dir)) {
          if (!name.startsWith(TEMP_PREFIX)) continue;
          await unlink(join(this.#dir, name)).catch(ignoreMissing);
          removed++;
        }
        if (removed > 0) await this.#syncDir();
      } catch (cause) {
        this.#ready = undefined; // let a later call retry (e.g. the directory's file system was not mounted yet)
        throw new PairingStoreError(`cannot open pairing store directory ${this.#dir}`, { file: this.#dir, cause });
      }
    })();
    return this.#ready;
  }

  async #names(): Promise<string[]> {
    try {
      return (await readdir(this.#dir)).filter((name) => FILE_NAME.test(name));
    } catch (cause) {
      throw new PairingStoreError(`cannot list pairing store directory ${this.#dir}`, { file: this.#dir, cause });
    }
  }

  #fileOf(localNodeId: string, remoteNodeId: string): string {
    const digest = createHash('sha256').update(pairKey(localNodeId, remoteNodeId)).digest('hex');
    return join(this.#dir, `pairing-${digest}.json`);
  }

  #live(tombstone: TombstoneFile): boolean {
    return this.#now() < Date.parse(tombstone.unpairedAt) + this.#ttlMs;
  }

  /** Undefined if the file does not exist; throws a PairingStoreError naming the file if it is unusable. */
  async #read(file: string): Promise<StoredFile | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      if (isMissing(cause)) return undefined;
      throw new PairingStoreError(`cannot read pairing file ${file}`, { file, cause });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // The SyntaxError is not kept as cause: V8 quotes the offending text in it, and that text may be a token.
      throw corrupt(file, 'is not valid JSON');
    }
    const format = typeof parsed === 'object' && parsed !== null ? (parsed as { format?: unknown }).format : undefined;
    if (typeof format !== 'number') throw corrupt(file, 'has no format number');
    if (format !== PAIRING_FILE_FORMAT) throw corrupt(file, `is in format ${format}; this version reads format ${PAIRING_FILE_FORMAT}`);
    const kind = (parsed as { kind?: unknown }).kind;
    const shape = kind === 'tombstone' ? TombstoneFileShape : PairingFileShape;
    const problem = firstProblem(shape, parsed);
    if (problem !== undefined) throw corrupt(file, `is not a valid ${kind === 'tombstone' ? 'tombstone' : 'pairing'} (${problem})`);
    const stored = parsed as StoredFile;
    const [local, remote] =
      stored.kind === 'pairing' ? [stored.record.localNodeId, stored.record.remoteNodeId] : [stored.localNodeId, stored.remoteNodeId];
    if (this.#fileOf(local, remote) !== file) throw corrupt(file, 'holds the pairing of another node pair than its name says');
    if (stored.kind === 'tombstone' && Number.isNaN(Date.parse(stored.unpairedAt))) throw corrupt(file, 'has an unreadable unpairing date');
    return stored;
  }

  /** For writers that replace or delete the file anyway (this is the repair path): unusable content is 'corrupt'. */
  async #readOrRepair(file: string): Promise<StoredFile | 'corrupt' | undefined> {
    try {
      return await this.#read(file);
    } catch (error) {
      if (error instanceof PairingStoreError && corruptErrors.has(error)) return 'corrupt';
      throw error;
    }
  }

  async #pruneTombstone(localNodeId: string, remoteNodeId: string): Promise<void> {
    const file = this.#fileOf(localNodeId, remoteNodeId);
    await this.#locks.run(file, async () => {
      // Re-read under the lock: a put may have replaced the tombstone since it was seen expired.
      const stored = await this.#read(file);
      if (stored?.kind === 'tombstone' && !this.#live(stored)) await this.#unlink(file);
    });
  }

  /** write temp (0600, same directory) → fsync → rename over `file` → fsync directory. */
  async #write(file: string, content: StoredFile): Promise<void> {
    const temp = join(this.#dir, `${TEMP_PREFIX}${basename(file)}-${randomBytes(8).toString('hex')}`);
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(content, null, 2)}\n`, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
      await this.#syncDir();
    } catch (cause) {
      await unlink(temp).catch(() => undefined);
      throw new PairingStoreError(`cannot write pairing file ${file}`, { file, cause });
    }
  }

  async #unlink(file: string): Promise<void> {
    try {
      await unlink(file);
      await this.#syncDir();
    } catch (cause) {
      if (isMissing(cause)) return;
      throw new PairingStoreError(`cannot delete pairing file ${file}`, { file, cause });
    }
  }

  /** Makes a rename or unlink durable: the directory entry itself must reach the disk. */
  async #syncDir(): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(this.#dir, 'r');
    } catch (cause) {
      // Some platforms (Windows) cannot open a directory; there rename is as durable as it gets.
      if (isCode(cause, 'EISDIR') || isCode(cause, 'EPERM')) return;
      throw cause;
    }
    try {
      await handle.sync();
    } catch (cause) {
      if (!isCode(cause, 'EINVAL')) throw cause;
    } finally {
      await handle.close();
    }
  }
}

function corrupt(file: string, what: string): PairingStoreError {
  const error = new PairingStoreError(`pairing file ${file} ${what}`, { file });
  corruptErrors.add(error);
  return error;
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function isMissing(error: unknown): boolean {
  return isCode(error, 'ENOENT');
}

function ignoreMissing(error: unknown): void {
  if (!isMissing(error)) throw error;
}
