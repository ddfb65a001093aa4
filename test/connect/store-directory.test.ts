import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectoryPairingStore, PAIRING_FILE_FORMAT, PairingStoreError } from '../../src/connect/store/index.js';
import { clock, LOCAL, OTHER, pairingStoreContract, record, REMOTE, token } from './store-contract.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 's2-store-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const stores: DirectoryPairingStore[] = [];
function open(dir: string, options: ConstructorParameters<typeof DirectoryPairingStore>[1] = {}): DirectoryPairingStore {
  const store = new DirectoryPairingStore(dir, options);
  stores.push(store);
  return store;
}
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

const pairingFiles = (dir: string) => readdirSync(dir).filter((n) => /^pairing-[0-9a-f]{64}\.json$/.test(n));

/** The one pairing file of a directory that holds exactly one pair. */
function onlyFile(dir: string): string {
  const files = pairingFiles(dir);
  expect(files).toHaveLength(1);
  return join(dir, files[0]!);
}

pairingStoreContract('DirectoryPairingStore', (options) => open(join(tempDir(), 'store'), options));

describe('DirectoryPairingStore: durability and files', () => {
  it('a new store on the same directory sees pairings, tokens, versions and tombstones', async () => {
    const dir = tempDir();
    const c = clock();
    const first = open(dir, { now: c.now, tombstoneTtlMs: 1000 });
    const [a, b] = [token(), token()];
    await first.put(record(), [a]);
    const v = (await first.get(LOCAL, REMOTE))!.tokens.version;
    expect(await first.swapTokens(LOCAL, REMOTE, v, [a, b])).toBe(true);
    await first.put(record(LOCAL, OTHER), [token()]);
    await first.remove(LOCAL, OTHER, { tombstone: true });
    await first.close();

    const second = open(dir, { now: c.now, tombstoneTtlMs: 1000 });
    expect(await second.get(LOCAL, REMOTE)).toEqual({ record: record(), tokens: { tokens: [a, b], version: v + 1 } });
    expect(await second.isTombstoned(LOCAL, OTHER)).toBe(true);
    expect(await second.list()).toEqual([record()]);
    c.advance(1000);
    expect(await second.isTombstoned(LOCAL, OTHER)).toBe(false);
    expect(pairingFiles(dir)).toHaveLength(1); // the expired tombstone's file is deleted
  });

  it('one versioned JSON file per pair, named by a hash of the pair (no node id or token in the name)', async () => {
    const dir = tempDir();
    const store = open(dir);
    const t = token();
    await store.put(record(), [t]);
    await store.put(record(LOCAL, OTHER), [token()]);
    await store.put(record(OTHER, REMOTE), [token()]);
    const files = pairingFiles(dir);
    expect(files).toHaveLength(3);
    expect(readdirSync(dir)).toHaveLength(3); // nothing else is left behind
    for (const name of files) for (const id of [LOCAL, REMOTE, OTHER]) expect(name).not.toContain(id);
    type Stored = { record: { localNodeId: string; remoteNodeId: string } };
    const contents = files.map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as Stored);
    const content = contents.find((f) => f.record.localNodeId === LOCAL && f.record.remoteNodeId === REMOTE);
    expect(content).toEqual({ format: PAIRING_FILE_FORMAT, kind: 'pairing', record: record(), tokens: [t], version: 1 });
    expect(PAIRING_FILE_FORMAT).toBe(1);
  });

  it('creates missing directories 0700 and files 0600, and tightens an existing directory to 0700', async () => {
    const base = tempDir();
    const nested = join(base, 'a', 'b');
    const store = open(nested);
    await store.put(record(), [token()]);
    expect(statSync(nested).mode & 0o777).toBe(0o700);
    expect(statSync(onlyFile(nested)).mode & 0o777).toBe(0o600);

    const loose = join(base, 'loose');
    mkdirSync(loose, { mode: 0o755 });
    await open(loose).list();
    expect(statSync(loose).mode & 0o777).toBe(0o700);
  });

  it('ignores leftover temporary files of interrupted writes and deletes them on open', async () => {
    const dir = tempDir();
    const store = open(dir);
    await store.put(record(), [token()]);
    await store.close();
    const name = pairingFiles(dir)[0]!;
    const garbage = `{"format":1,"kind":"pairing","tokens":["${token()}"`; // a torn write
    writeFileSync(join(dir, `.tmp-${name}-0123456789abcdef`), garbage, { mode: 0o600 });
    writeFileSync(join(dir, '.tmp-something-else'), '', { mode: 0o600 });
    writeFileSync(join(dir, 'README'), 'not a pairing'); // unrelated files are left alone
    const reopened = open(dir);
    expect(await reopened.list()).toEqual([record()]);
    expect(readdirSync(dir).sort()).toEqual(['README', name]);
  });

  it('one-time secrets live in memory: a restart forgets them (the client falls back to its old token)', async () => {
    const dir = tempDir();
    const c = clock();
    const first = open(dir, { now: c.now });
    const h = token();
    await first.putOneTime('pending-access', h, { localNodeId: LOCAL, remoteNodeId: REMOTE }, c.now() + 15_000);
    await first.close();
    expect(readdirSync(dir)).toEqual([]);
    expect(await open(dir, { now: c.now }).takeOneTime('pending-access', h, c.now())).toBeUndefined();
  });

  it('concurrent writes to different pairs and to one pair leave every file whole', async () => {
    const dir = tempDir();
    const store = open(dir);
    const ids = Array.from({ length: 8 }, (_, i) => `00000000-0000-0000-0000-00000000000${i}`);
    await Promise.all(ids.map((id) => store.put(record(LOCAL, id), [token()])));
    await Promise.all(ids.flatMap((id) => Array.from({ length: 4 }, () => store.swapTokens(LOCAL, id, 1, [token(), token()]))));
    const reopened = open(dir);
    const list = await reopened.list();
    expect(list).toHaveLength(8);
    for (const id of ids) expect((await reopened.get(LOCAL, id))!.tokens.version).toBe(2);
    expect(readdirSync(dir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });
});

describe('DirectoryPairingStore: corrupted files are reported, never dropped', () => {
  async function storeWithOnePairing() {
    const dir = tempDir();
    const store = open(dir);
    const secret = token();
    await store.put(record(), [secret]);
    await store.close();
    return { dir, file: onlyFile(dir), secret };
  }

  async function expectCorrupt(dir: string, file: string, pattern: RegExp, secret: string) {
    const store = open(dir);
    const error = await store.get(LOCAL, REMOTE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PairingStoreError);
    const e = error as PairingStoreError;
    expect(e.file).toBe(file);
    expect(e.message).toContain(file);
    expect(e.message).toMatch(pattern);
    expect(e.code).toBe('S2_CONNECT');
    expect(e.httpStatus).toBe(500);
    expect(`${String(e)} ${inspect(e, { depth: 10 })} ${JSON.stringify(e)}`).not.toContain(secret);
    await expect(store.list()).rejects.toThrow(file);
    await expect(store.isTombstoned(LOCAL, REMOTE)).rejects.toThrow(file);
    await expect(store.swapTokens(LOCAL, REMOTE, 1, [token()])).rejects.toThrow(file);
    return store;
  }

  it('truncated JSON (the text of the error quotes nothing of the file)', async () => {
    const { dir, file, secret } = await storeWithOnePairing();
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, text.indexOf(secret) + 12)); // torn in the middle of the token
    await expectCorrupt(dir, file, /not valid JSON/, secret.slice(0, 10));
  });

  it('JSON that is not a pairing names the field', async () => {
    const { dir, file, secret } = await storeWithOnePairing();
    const content = JSON.parse(readFileSync(file, 'utf8')) as { tokens: unknown };
    content.tokens = [secret, secret, secret];
    writeFileSync(file, JSON.stringify(content));
    await expectCorrupt(dir, file, /\/tokens/, secret);
  });

  it('a file of another format version is refused, not guessed at', async () => {
    const { dir, file, secret } = await storeWithOnePairing();
    const content = JSON.parse(readFileSync(file, 'utf8')) as { format: number };
    content.format = 2;
    writeFileSync(file, JSON.stringify(content));
    await expectCorrupt(dir, file, /format 2; this version reads format 1/, secret);
    writeFileSync(file, JSON.stringify([secret]));
    await expectCorrupt(dir, file, /no format number/, secret);
  });

  it('a file whose name does not match the pair inside it', async () => {
    const { dir, file, secret } = await storeWithOnePairing();
    const store = open(dir);
    await store.put(record(LOCAL, OTHER), [token()]);
    await store.close();
    const otherFile = pairingFiles(dir)
      .map((n) => join(dir, n))
      .find((f) => f !== file)!;
    renameSync(otherFile, file); // the (LOCAL, OTHER) pairing now sits where (LOCAL, REMOTE) belongs
    await expectCorrupt(dir, file, /another node pair/, secret);
  });

  it('put over a corrupted file repairs it; remove deletes it', async () => {
    const { dir, file, secret } = await storeWithOnePairing();
    writeFileSync(file, '{');
    const store = await expectCorrupt(dir, file, /not valid JSON/, secret);
    const t = token();
    await store.put(record(), [t]);
    expect((await store.get(LOCAL, REMOTE))!.tokens).toEqual({ tokens: [t], version: 1 });

    writeFileSync(file, 'garbage');
    expect(await store.remove(LOCAL, REMOTE)).toBe(true);
    expect(pairingFiles(dir)).toEqual([]);

    await store.put(record(), [t]);
    writeFileSync(file, 'garbage');
    expect(await store.remove(LOCAL, REMOTE, { tombstone: true })).toBe(true);
    expect(await store.isTombstoned(LOCAL, REMOTE)).toBe(true);
  });

  it('a repair restarts the version numbering, so it voids the one-time secrets of the broken pairing', async () => {
    const { dir, file } = await storeWithOnePairing();
    const c = clock();
    const store = open(dir, { now: c.now });
    const pending = token();
    await store.putOneTime(
      'pending-access',
      pending,
      { localNodeId: LOCAL, remoteNodeId: REMOTE, authorizedByVersion: 1 },
      c.now() + 15_000,
    );
    writeFileSync(file, '{');
    await store.put(record(), [token()]);
    expect((await store.get(LOCAL, REMOTE))!.tokens.version).toBe(1); // the same number the pending token names …
    expect(await store.takeOneTime('pending-access', pending, c.now())).toBeUndefined(); // … but it is gone
  });

  it('a directory that cannot be created is a PairingStoreError naming it', async () => {
    const base = tempDir();
    const blocker = join(base, 'file');
    writeFileSync(blocker, '');
    const store = open(join(blocker, 'store'));
    const error = await store.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PairingStoreError);
    expect((error as Error).message).toContain(join(blocker, 'store'));
  });
});
