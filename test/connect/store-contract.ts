import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_TOMBSTONE_TTL_MS,
  PairingStoreError,
  type PairingRecord,
  type PairingStore,
  type PairingStoreOptions,
} from '../../src/connect/store/index.js';

/** Makes a fresh, empty store with the given options (each call a new one; the suite closes them). */
export type StoreFactory = (options: PairingStoreOptions) => PairingStore | Promise<PairingStore>;

export const LOCAL = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
export const REMOTE = '6fa459ea-ee8a-3ca4-894e-db77e160355e';
export const OTHER = '16fd2706-8baf-433b-82eb-8c7fada847da';

export function record(localNodeId = LOCAL, remoteNodeId = REMOTE, extra: Partial<PairingRecord> = {}): PairingRecord {
  return {
    localNodeId,
    remoteNodeId,
    localRole: 'CEM',
    remoteNode: { id: remoteNodeId, brand: 'Acme', type: 'battery', modelName: 'B-1', role: 'RM' },
    remoteEndpoint: { name: 'acme cloud', deployment: 'LAN' },
    communicationRole: 'server',
    pairedAt: '2026-07-01T12:00:00.000Z',
    remoteMessageVersions: ['0.0.2-beta'],
    ...extra,
  };
}

/** A fresh random token, base64 of 32 bytes like an access token. */
export function token(): string {
  return randomBytes(32).toString('base64');
}

/** A hand-driven clock: the stores read time only through it. */
export function clock(start = 1_750_000_000_000): { now: () => number; set: (t: number) => void; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => (t = v), advance: (ms) => (t += ms) };
}

/**
 * The behaviour every PairingStore must have. Both shipped stores run it; a future shared (multi-process) store
 * should too.
 */
export function pairingStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name} — PairingStore contract`, () => {
    const opened: PairingStore[] = [];
    const make = async (options: PairingStoreOptions = {}) => {
      const store = await factory(options);
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    describe('pairings', () => {
      it('put, get and list: records and tokens come back as stored, list is sorted and holds no tokens', async () => {
        const store = await make();
        const a = token();
        const b1 = token();
        const b2 = token();
        await store.put(record(LOCAL, REMOTE), [a]);
        await store.put(
          record(LOCAL, OTHER, { communicationRole: 'client', initiateSessionUrl: 'https://cs.local:8000', rootPin: 'cGlu' }),
          [b1, b2],
        );

        const got = await store.get(LOCAL, REMOTE);
        expect(got?.record).toEqual(record(LOCAL, REMOTE));
        expect(got?.tokens.tokens).toEqual([a]);
        expect(Number.isSafeInteger(got?.tokens.version)).toBe(true);

        const other = await store.get(LOCAL, OTHER);
        expect(other?.tokens.tokens).toEqual([b1, b2]);
        expect(other?.record.initiateSessionUrl).toBe('https://cs.local:8000');
        expect(other?.record.rootPin).toBe('cGlu');

        const list = await store.list();
        expect(list.map((r) => r.remoteNodeId)).toEqual([OTHER, REMOTE].sort());
        for (const secret of [a, b1, b2]) expect(JSON.stringify(list)).not.toContain(secret);

        expect(await store.get(LOCAL, '00000000-0000-0000-0000-000000000000')).toBeUndefined();
        expect(await store.get(REMOTE, LOCAL)).toBeUndefined(); // the key is ordered: (local, remote)
      });

      it('absent optional fields stay absent after a round trip', async () => {
        const store = await make();
        const { remoteMessageVersions: _dropped, ...bare } = record();
        await store.put(bare, [token()]);
        const got = await store.get(LOCAL, REMOTE);
        expect(got?.record).toEqual(bare);
        expect(got && 'rootPin' in got.record).toBe(false);
        expect(got && 'remoteMessageVersions' in got.record).toBe(false);
      });

      it('copies in and out: mutating what was put or what was got does not change the store', async () => {
        const store = await make();
        const t = token();
        const input = { ...record(), remoteNode: { ...record().remoteNode } };
        const tokens = [t];
        await store.put(input, tokens);
        input.remoteNode.brand = 'changed';
        tokens[0] = 'changed';
        const got = await store.get(LOCAL, REMOTE);
        (got?.tokens.tokens as string[]).push('extra');
        (got?.record.remoteNode as { brand: string }).brand = 'changed too';
        const again = await store.get(LOCAL, REMOTE);
        expect(again?.record.remoteNode.brand).toBe('Acme');
        expect(again?.tokens.tokens).toEqual([t]);
      });

      it('put refuses what cannot be a pairing, with a PairingStoreError that quotes no token', async () => {
        const store = await make();
        const secret = token();
        await expect(store.put(record(), [])).rejects.toBeInstanceOf(PairingStoreError);
        await expect(store.put(record(), [secret, secret, secret])).rejects.toBeInstanceOf(PairingStoreError);
        await expect(store.put(record(), [''])).rejects.toBeInstanceOf(PairingStoreError);
        await expect(store.put(record('', REMOTE), [secret])).rejects.toBeInstanceOf(PairingStoreError);
        await expect(store.put({ ...record(), localRole: 'XX' } as unknown as PairingRecord, [secret])).rejects.toThrow(/localRole/);
        const error = await store.put(record(), [secret, secret, secret]).catch((e: unknown) => e);
        expect(`${String(error)} ${inspect(error, { depth: 5 })}`).not.toContain(secret);
        expect(await store.list()).toEqual([]);
      });

      it('put over an existing pairing replaces record and tokens and raises the version', async () => {
        const store = await make();
        await store.put(record(), [token()]);
        const first = await store.get(LOCAL, REMOTE);
        const t = token();
        await store.put(record(LOCAL, REMOTE, { localRole: 'RM', communicationRole: 'client' }), [t]);
        const second = await store.get(LOCAL, REMOTE);
        expect(second?.record.localRole).toBe('RM');
        expect(second?.tokens.tokens).toEqual([t]);
        expect(second!.tokens.version).toBeGreaterThan(first!.tokens.version);
        expect(await store.list()).toHaveLength(1);
        // A token swap authorised under the replaced pairing is stale.
        expect(await store.swapTokens(LOCAL, REMOTE, first!.tokens.version, [token()])).toBe(false);
      });

      it('put clears a tombstone of the same pair and continues its version numbering', async () => {
        const store = await make();
        await store.put(record(), [token()]);
        const before = await store.get(LOCAL, REMOTE);
        expect(await store.remove(LOCAL, REMOTE, { tombstone: true })).toBe(true);
        expect(await store.isTombstoned(LOCAL, REMOTE)).toBe(true);
        await store.put(record(), [token()]);
        expect(await store.isTombstoned(LOCAL, REMOTE)).toBe(false);
        const after = await store.get(LOCAL, REMOTE);
        expect(after!.tokens.version).toBeGreaterThan(before!.tokens.version);
      });
    });

    describe('swapTokens (compare-and-swap)', () => {
      it('replaces the tokens iff the version matches, and each swap raises the version', async () => {
        const store = await make();
        const a = token();
        const b = token();
        const c = token();
        await store.put(record(), [a]);
        const v1 = (await store.get(LOCAL, REMOTE))!.tokens.version;

        expect(await store.swapTokens(LOCAL, REMOTE, v1, [a, b])).toBe(true);
        const v2 = (await store.get(LOCAL, REMOTE))!.tokens;
        expect(v2.tokens).toEqual([a, b]);
        expect(v2.version).toBeGreaterThan(v1);

        expect(await store.swapTokens(LOCAL, REMOTE, v1, [c])).toBe(false); // stale
        expect((await store.get(LOCAL, REMOTE))!.tokens).toEqual(v2);

        expect(await store.swapTokens(LOCAL, REMOTE, v2.version, [b])).toBe(true);
        expect((await store.get(LOCAL, REMOTE))!.tokens.tokens).toEqual([b]);
        expect((await store.get(LOCAL, REMOTE))!.record).toEqual(record()); // the record is untouched
      });

      it('answers false for an unknown, removed or tombstoned pairing', async () => {
        const store = await make();
        expect(await store.swapTokens(LOCAL, REMOTE, 1, [token()])).toBe(false);
        await store.put(record(), [token()]);
        const v = (await store.get(LOCAL, REMOTE))!.tokens.version;
        await store.remove(LOCAL, REMOTE, { tombstone: true });
        expect(await store.swapTokens(LOCAL, REMOTE, v, [token()])).toBe(false);
        expect(await store.get(LOCAL, REMOTE)).toBeUndefined();
      });

      it('of concurrent swaps from the same version exactly one wins, and its tokens are stored', async () => {
        const store = await make();
        await store.put(record(), [token()]);
        const v = (await store.get(LOCAL, REMOTE))!.tokens.version;
        const candidates = Array.from({ length: 12 }, () => [token()]);
        const results = await Promise.all(candidates.map((t) => store.swapTokens(LOCAL, REMOTE, v, t)));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = candidates[results.indexOf(true)];
        const stored = (await store.get(LOCAL, REMOTE))!.tokens;
        expect(stored.tokens).toEqual(winner);
        expect(stored.version).toBeGreaterThan(v);
      });

      it('concurrent read-swap loops on one pairing lose no update', async () => {
        const store = await make();
        await store.put(record(), ['t0']);
        const v0 = (await store.get(LOCAL, REMOTE))!.tokens.version;
        const writers = 6;
        const rounds = 5;
        const worker = async (w: number) => {
          for (let r = 0; r < rounds; r++) {
            for (;;) {
              const current = (await store.get(LOCAL, REMOTE))!.tokens;
              if (await store.swapTokens(LOCAL, REMOTE, current.version, [`w${w}r${r}`])) break;
            }
          }
        };
        await Promise.all(Array.from({ length: writers }, (_, w) => worker(w)));
        expect((await store.get(LOCAL, REMOTE))!.tokens.version).toBe(v0 + writers * rounds);
      });

      it('refuses token lists that are not 1 or 2 non-empty strings without changing anything', async () => {
        const store = await make();
        const t = token();
        await store.put(record(), [t]);
        const v = (await store.get(LOCAL, REMOTE))!.tokens.version;
        await expect(store.swapTokens(LOCAL, REMOTE, v, [])).rejects.toBeInstanceOf(PairingStoreError);
        await expect(store.swapTokens(LOCAL, REMOTE, v, ['a', 'b', 'c'])).rejects.toBeInstanceOf(PairingStoreError);
        expect((await store.get(LOCAL, REMOTE))!.tokens).toEqual({ tokens: [t], version: v });
      });
    });

    describe('remove and tombstones', () => {
      it('remove without tombstone forgets the pairing; true only if it existed', async () => {
        const store = await make();
        await store.put(record(), [token()]);
        await store.put(record(LOCAL, OTHER), [token()]);
        expect(await store.remove(LOCAL, REMOTE)).toBe(true);
        expect(await store.get(LOCAL, REMOTE)).toBeUndefined();
        expect(await store.isTombstoned(LOCAL, REMOTE)).toBe(false);
        expect(await store.remove(LOCAL, REMOTE)).toBe(false);
        expect((await store.list()).map((r) => r.remoteNodeId)).toEqual([OTHER]);
      });

      it('remove with tombstone remembers the unpairing; the pairing is gone from get and list', async () => {
        const store = await make();
        await store.put(record(), [token()]);
        expect(await store.remove(LOCAL, REMOTE, { tombstone: true })).toBe(true);
        expect(await store.isTombstoned(LOCAL, REMOTE)).toBe(true);
        expect(await store.isTombstoned(REMOTE, LOCAL)).toBe(false);
        expect(await store.get(LOCAL, REMOTE)).toBeUndefined();
        expect(await store.list()).toEqual([]);
        expect(await store.remove(LOCAL, REMOTE, { tombstone: true })).toBe(false); // already unpaired
        expect(await store.isTombstoned(LOCAL, REMOTE)).toBe(true);
      });

      it('a pair that was never paired gets no tombstone', async () => {
        const store = await make();
        expect(await store.remove(LOCAL, REMOTE, { tombstone: true })).toBe(false);
        expect(await store.isTombstoned(LOCAL, REMOTE)).toBe(false);
      });

      it('remove without tombstone of an unpaired pair forgets its tombstone too', async () => {
        const store = await make();
        await store.put(record(), [token()]);
        await store.remove(LOCAL, REMOTE, { tombstone: true });
        expect(await store.remove(LOCAL, REMOTE)).toBe(false);
        expect(await store.isTombstoned(LOCAL, REMOTE)).toBe(false);
      });

      it('a tombstone expires after tombstoneTtlMs', async () => {
        const c = clock();
        const store = await make({ now: c.now, tombstoneTtlMs: 60_000 });
        await store.put(record(), [token()]);
        await store.remove(LOCAL, REMOTE, { tombstone: true });
        c.advance(59_999);
        expect(await store.isTombstoned(LOCAL, REMOTE)).toBe(true);
        c.advance(1);
        expect(await store.isTombstoned(LOCAL, REMOTE)).toBe(false);
        c.set(c.now() - 30_000); // once expired it is gone, even if the clock steps back
        expect(await store.isTombstoned(LOCAL, REMOTE)).toBe(false);
      });

      it('the default tombstone lifetime is 30 days', async () => {
        expect(DEFAULT_TOMBSTONE_TTL_MS).toBe(30 * 24 * 3600 * 1000);
        const c = clock();
        const store = await make({ now: c.now });
        await store.put(record(), [token()]);
        await store.remove(LOCAL, REMOTE, { tombstone: true });
        c.advance(DEFAULT_TOMBSTONE_TTL_MS - 1);
        expect(await store.isTombstoned(LOCAL, REMOTE)).toBe(true);
        c.advance(1);
        expect(await store.isTombstoned(LOCAL, REMOTE)).toBe(false);
      });
    });

    describe('one-time secrets', () => {
      const payload = { localNodeId: LOCAL, remoteNodeId: REMOTE, authorizedByVersion: 3, messageVersion: '0.0.2-beta' };

      it('put then take returns the payload once; a second take gets nothing', async () => {
        const c = clock();
        const store = await make({ now: c.now });
        const h = token();
        await store.putOneTime('pending-access', h, payload, c.now() + 15_000);
        expect(await store.takeOneTime('pending-access', h, c.now())).toEqual(payload);
        expect(await store.takeOneTime('pending-access', h, c.now())).toBeUndefined();
      });

      it('kinds are separate namespaces', async () => {
        const c = clock();
        const store = await make({ now: c.now });
        const h = token();
        await store.putOneTime('websocket', h, payload, c.now() + 30_000);
        expect(await store.takeOneTime('pending-access', h, c.now())).toBeUndefined();
        expect(await store.takeOneTime('websocket', h, c.now())).toEqual(payload);
      });

      it('a secret is live strictly before expiresAt; an expired one is gone for good', async () => {
        const c = clock();
        const store = await make({ now: c.now });
        const live = token();
        const late = token();
        const t0 = c.now();
        await store.putOneTime('websocket', live, payload, t0 + 30_000);
        await store.putOneTime('websocket', late, payload, t0 + 30_000);
        expect(await store.takeOneTime('websocket', live, t0 + 29_999)).toEqual(payload);
        expect(await store.takeOneTime('websocket', late, t0 + 30_000)).toBeUndefined();
        expect(await store.takeOneTime('websocket', late, t0)).toBeUndefined();
      });

      it('a new secret in the same slot makes the previous one untakable; other slots and kinds are untouched', async () => {
        const c = clock();
        const store = await make({ now: c.now });
        const [old, fresh, elsewhere, ws] = [token(), token(), token(), token()];
        await store.putOneTime('pending-access', old, payload, c.now() + 15_000, 'pairing-1');
        await store.putOneTime('pending-access', elsewhere, payload, c.now() + 15_000, 'pairing-2');
        await store.putOneTime('websocket', ws, payload, c.now() + 30_000, 'pairing-1');
        await store.putOneTime('pending-access', fresh, { ...payload, authorizedByVersion: 4 }, c.now() + 15_000, 'pairing-1');
        expect(await store.takeOneTime('pending-access', old, c.now())).toBeUndefined();
        expect(await store.takeOneTime('pending-access', fresh, c.now())).toEqual({ ...payload, authorizedByVersion: 4 });
        expect(await store.takeOneTime('pending-access', elsewhere, c.now())).toEqual(payload);
        expect(await store.takeOneTime('websocket', ws, c.now())).toEqual(payload);
      });

      it('taking the slot holder frees the slot: a later secret in it does not disturb anything', async () => {
        const c = clock();
        const store = await make({ now: c.now });
        const [first, second] = [token(), token()];
        await store.putOneTime('pending-access', first, payload, c.now() + 15_000, 's');
        expect(await store.takeOneTime('pending-access', first, c.now())).toEqual(payload);
        await store.putOneTime('pending-access', second, payload, c.now() + 15_000, 's');
        expect(await store.takeOneTime('pending-access', second, c.now())).toEqual(payload);
      });

      it('concurrent takes of one secret: exactly one gets it', async () => {
        const c = clock();
        const store = await make({ now: c.now });
        const h = token();
        await store.putOneTime('websocket', h, payload, c.now() + 30_000);
        const results = await Promise.all(Array.from({ length: 8 }, () => store.takeOneTime('websocket', h, c.now())));
        expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      });

      it('removing a pairing voids its one-time secrets (a pending or WebSocket token of an unpaired pair is useless)', async () => {
        const c = clock();
        const store = await make({ now: c.now });
        await store.put(record(), [token()]);
        await store.put(record(LOCAL, OTHER), [token()]);
        const [pending, ws, kept] = [token(), token(), token()];
        await store.putOneTime('pending-access', pending, payload, c.now() + 15_000, 'p');
        await store.putOneTime('websocket', ws, payload, c.now() + 30_000);
        await store.putOneTime('websocket', kept, { localNodeId: LOCAL, remoteNodeId: OTHER }, c.now() + 30_000);
        await store.remove(LOCAL, REMOTE, { tombstone: true });
        expect(await store.takeOneTime('pending-access', pending, c.now())).toBeUndefined();
        expect(await store.takeOneTime('websocket', ws, c.now())).toBeUndefined();
        expect(await store.takeOneTime('websocket', kept, c.now())).toEqual({ localNodeId: LOCAL, remoteNodeId: OTHER });
      });

      it('refuses a one-time secret without hash, pair or finite expiry', async () => {
        const c = clock();
        const store = await make({ now: c.now });
        await expect(store.putOneTime('websocket', '', payload, c.now() + 1)).rejects.toBeInstanceOf(PairingStoreError);
        await expect(store.putOneTime('websocket', token(), { localNodeId: '', remoteNodeId: REMOTE }, c.now() + 1)).rejects.toBeInstanceOf(
          PairingStoreError,
        );
        await expect(store.putOneTime('websocket', token(), payload, Number.NaN)).rejects.toBeInstanceOf(PairingStoreError);
        await expect(store.putOneTime('other' as 'websocket', token(), payload, c.now() + 1)).rejects.toBeInstanceOf(PairingStoreError);
      });
    });

    describe('close and secrecy', () => {
      it('close lets running operations finish, then every call rejects with a PairingStoreError', async () => {
        const store = await make();
        const t = token();
        const running = store.put(record(), [t]);
        await store.close();
        await expect(running).resolves.toBeUndefined();
        await expect(store.get(LOCAL, REMOTE)).rejects.toBeInstanceOf(PairingStoreError);
        await expect(store.list()).rejects.toThrow(/closed/);
        await expect(store.put(record(), [t])).rejects.toBeInstanceOf(PairingStoreError);
        await expect(store.takeOneTime('websocket', t, 0)).rejects.toBeInstanceOf(PairingStoreError);
        await expect(store.close()).resolves.toBeUndefined(); // closing twice is harmless
      });

      it('no token or secret hash shows in String(), JSON.stringify() or util.inspect() of the store', async () => {
        const c = clock();
        const store = await make({ now: c.now });
        const [access, clientOld, clientNew, pendingHash, wsHash] = [token(), token(), token(), token(), token()];
        await store.put(record(), [access]);
        await store.put(record(LOCAL, OTHER, { communicationRole: 'client' }), [clientOld, clientNew]);
        await store.putOneTime('pending-access', pendingHash, { localNodeId: LOCAL, remoteNodeId: REMOTE }, c.now() + 15_000, 'slot');
        await store.putOneTime('websocket', wsHash, { localNodeId: LOCAL, remoteNodeId: REMOTE }, c.now() + 30_000);
        const shown = [
          // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the PairingStore type declares no toString on purpose; what String() shows of each implementation is what is under test
          String(store),
          `${store as unknown as string}`,
          JSON.stringify(store),
          JSON.stringify({ store }),
          inspect(store),
          inspect(store, { showHidden: true, depth: Infinity, getters: true }),
          inspect({ nested: [store] }, { depth: Infinity }),
        ].join('\n');
        for (const secret of [access, clientOld, clientNew, pendingHash, wsHash]) expect(shown).not.toContain(secret);
        expect(shown).toMatch(/PairingStore/);
      });
    });
  });
}
