/**
 * S2 Connect full flows over real HTTPS + WSS on 127.0.0.1: both pairing directions, LAN and WAN and the mixed
 * deployments, the communication-server decision of digest §1 as the stores record it, sessions with token
 * rotation, unpairing, the LAN/WAN HMAC binding, and restarts of either process between every two steps
 * (DirectoryPairingStore in temp directories).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificates, type GeneratedCertificates } from '../../src/connect/certificates.js';
import { connectPaired, pair, unpair } from '../../src/connect/client.js';
import { hashToken } from '../../src/connect/crypto.js';
import { DirectoryPairingStore, MemoryPairingStore, type PairingStore } from '../../src/connect/store/index.js';
import type { Deployment, NodeDescription } from '../../src/connect/wire/index.js';
import {
  CEM,
  Cleanup,
  RM,
  WallClock,
  call,
  eventually,
  expectNoSecret,
  handshake,
  resolve,
  startNode,
  type TestNode,
} from './connect-harness.js';

const certs = new Map<string, GeneratedCertificates>();
const hostOf = (node: NodeDescription, deployment: Deployment): string =>
  `${node.role.toLowerCase()}.${deployment === 'LAN' ? 'local' : 'example.test'}`;
const certsOf = (host: string): GeneratedCertificates => certs.get(host)!;
let wanRoots: string[];
let tmp: string;

beforeAll(async () => {
  for (const host of ['cem.local', 'rm.local', 'cem.example.test', 'rm.example.test']) {
    certs.set(host, await generateCertificates({ hostname: host, altNames: host === 'cem.local' ? ['cem.example.test'] : [] }));
  }
  wanRoots = [certsOf('cem.example.test').rootPem, certsOf('rm.example.test').rootPem, certsOf('cem.local').rootPem];
  tmp = await mkdtemp(join(tmpdir(), 's2c-flows-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function nodeServer(
  node: NodeDescription,
  deployment: Deployment,
  options: { store?: PairingStore; port?: number; clock?: WallClock } = {},
): Promise<TestNode> {
  const host = hostOf(node, deployment);
  return startNode(
    {
      node,
      alias: 'A0',
      deployment,
      certs: certsOf(host),
      hostname: host,
      ...(options.store ? { store: options.store } : {}),
      ...(options.port ? { port: options.port } : {}),
      ...(options.clock ? { now: options.clock.now } : {}),
    },
    cleanup,
  );
}

interface Combination {
  readonly pc: NodeDescription;
  readonly pcDeployment: Deployment;
  readonly ps: NodeDescription;
  readonly psDeployment: Deployment;
  /** Digest §1 table: which side becomes communication server. */
  readonly cs: 'PS' | 'PC';
}

const COMBINATIONS: readonly Combination[] = [
  { pc: RM, pcDeployment: 'LAN', ps: CEM, psDeployment: 'LAN', cs: 'PS' },
  { pc: CEM, pcDeployment: 'LAN', ps: RM, psDeployment: 'LAN', cs: 'PC' },
  { pc: RM, pcDeployment: 'WAN', ps: CEM, psDeployment: 'WAN', cs: 'PS' },
  { pc: CEM, pcDeployment: 'WAN', ps: RM, psDeployment: 'WAN', cs: 'PC' },
  // Different deployments: the WAN side serves, whatever the roles.
  { pc: CEM, pcDeployment: 'LAN', ps: RM, psDeployment: 'WAN', cs: 'PS' },
  { pc: RM, pcDeployment: 'WAN', ps: CEM, psDeployment: 'LAN', cs: 'PC' },
];

describe('S2 Connect full flows, both directions, LAN, WAN and mixed', () => {
  for (const c of COMBINATIONS) {
    const title = `${c.pc.role} ${c.pcDeployment} pairs with ${c.ps.role} ${c.psDeployment}`;
    it(`[S2C §1, §3, §4] ${title}: the ${c.cs === 'PS' ? 'pairing server' : 'pairing client'} becomes CS; sessions rotate the token; unpair`, async () => {
      const ps = await nodeServer(c.ps, c.psDeployment);
      // Every pairing client runs its own server and offers its connection details: whether they are used
      // must follow from the table, not from their presence.
      const pc = await nodeServer(c.pc, c.pcDeployment);
      const { code } = ps.server.allowPairingOnce();
      const own = pc.server.newConnectionDetails();
      const record = await pair({
        code,
        pairingUrl: ps.server.url,
        node: c.pc,
        endpoint: { deployment: c.pcDeployment },
        store: pc.store,
        resolve,
        ca: wanRoots,
        ownConnectionDetails: own,
      });

      const [csNode, ccNode] = c.cs === 'PS' ? [ps, pc] : [pc, ps];
      const [csId, ccId] = c.cs === 'PS' ? [c.ps.id, c.pc.id] : [c.pc.id, c.ps.id];
      expect(record.communicationRole).toBe(c.cs === 'PC' ? 'server' : 'client');
      const csSide = (await csNode.store.get(csId, ccId))!;
      const ccSide = (await ccNode.store.get(ccId, csId))!;
      expect(csSide.record).toMatchObject({ communicationRole: 'server', localRole: c.cs === 'PS' ? c.ps.role : c.pc.role });
      // Only a CS that was the pairing server heard the other side's versions (in requestPairing).
      // Versions default by role (DEFAULT_VERSIONS): a CEM offers both, newest first; an RM 0.0.2-beta.
      expect(csSide.record.remoteMessageVersions).toEqual(
        c.cs === 'PS' ? (c.pc.role === 'CEM' ? ['1.0.0-beta', '0.0.2-beta'] : ['0.0.2-beta']) : undefined,
      );
      expect(csSide.record.initiateSessionUrl).toBeUndefined();
      expect(ccSide.record).toMatchObject({ communicationRole: 'client', initiateSessionUrl: csNode.server.url });
      // A LAN CS is pinned by its root; a WAN CS is trusted through WebPKI (the test roots in `ca`).
      const csDeployment = c.cs === 'PS' ? c.psDeployment : c.pcDeployment;
      const csCerts = certsOf(hostOf(c.cs === 'PS' ? c.ps : c.pc, csDeployment));
      expect(ccSide.record.rootPin).toBe(csDeployment === 'LAN' ? csCerts.rootPin : undefined);
      // The CS keeps only the hash of the CC's token.
      expect(ccSide.tokens.tokens).toHaveLength(1);
      expect(csSide.tokens.tokens).toEqual([hashToken(ccSide.tokens.tokens[0]!)]);
      if (c.cs === 'PC') expect(ccSide.tokens.tokens[0]).toBe(own.accessToken);
      expect(ps.events.some((e) => e.type === 'paired')).toBe(true);

      // Two sessions: each rotates the token; the S2 handshake runs over the socket with the agreed version.
      const tokensSeen = [ccSide.tokens.tokens[0]!];
      for (let i = 0; i < 2; i++) {
        const connection = await connectPaired({ store: ccNode.store, resolve, ca: wanRoots });
        expect(connection.pairing.remoteNodeId).toBe(csId);
        await eventually(() => csNode.transports.length === i + 1);
        const ccRole = ccNode === ps ? c.ps.role : c.pc.role;
        const sessions = await handshake(
          connection.transport,
          ccRole,
          csNode.transports[i]!,
          c.pc.role === 'RM' ? c.pc.id : c.ps.id,
          connection.messageVersion,
        );
        const now = (await ccNode.store.get(ccId, csId))!.tokens.tokens;
        expect(now).toHaveLength(1);
        expect(tokensSeen).not.toContain(now[0]);
        tokensSeen.push(now[0]!);
        expect((await csNode.store.get(csId, ccId))!.tokens.tokens).toEqual([hashToken(now[0]!)]);
        await sessions.client.close(1000, 'test done');
      }
      // No event of either server carries any token ever used.
      expectNoSecret([...ps.events, ...pc.events], [...tokensSeen, code.split('-')[1]]);

      const result = await unpair({ store: ccNode.store, resolve, ca: wanRoots });
      expect(result.confirmed).toBe(true);
      expect(await ccNode.store.get(ccId, csId)).toBeUndefined();
      expect(await csNode.store.get(csId, ccId)).toBeUndefined();
      expect(await csNode.store.isTombstoned(csId, ccId)).toBe(true);
      expect(csNode.events).toContainEqual({ type: 'unpaired', localNodeId: csId, remoteNodeId: ccId, by: 'peer' });
    });
  }
});

describe('S2 Connect HMAC binding: LAN over T‖F, WAN over T only', () => {
  it('[S2C §3.4] a LAN client (.local URL) against a WAN server fails the R_c check; nothing is stored on either side', async () => {
    // A WAN-deployed server reached at a .local name: the client binds the leaf, the server does not.
    const cem = await startNode({ node: CEM, alias: 'A0', deployment: 'WAN', certs: certsOf('cem.local'), hostname: 'cem.local' }, cleanup);
    const rmStore = new MemoryPairingStore();
    const { code } = cem.server.allowPairingOnce();
    await expect(
      pair({ code, pairingUrl: cem.server.url, node: RM, endpoint: { deployment: 'LAN' }, store: rmStore, resolve }),
    ).rejects.toMatchObject({ errorMessage: 'HmacMismatch' });
    expect(await rmStore.list()).toEqual([]);
    expect(await cem.store.list()).toEqual([]);
    // The client cancelled the attempt (finalizePairing{false}).
    await eventually(() => cem.events.some((e) => e.type === 'pairing-failed' && e.outcome === 'cancelled'));
  });

  it('[S2C §3.4] a WAN client (public name) against a LAN server fails the R_c check; nothing is stored on either side', async () => {
    // The LAN server's leaf is also valid for cem.example.test, so the WAN client's WebPKI check (test root) passes.
    const cem = await startNode(
      { node: CEM, alias: 'A0', deployment: 'LAN', certs: certsOf('cem.local'), hostname: 'cem.example.test' },
      cleanup,
    );
    const rmStore = new MemoryPairingStore();
    const { code } = cem.server.allowPairingOnce();
    await expect(
      pair({ code, pairingUrl: cem.server.url, node: RM, endpoint: { deployment: 'WAN' }, store: rmStore, resolve, ca: wanRoots }),
    ).rejects.toMatchObject({ errorMessage: 'HmacMismatch' });
    expect(await rmStore.list()).toEqual([]);
    expect(await cem.store.list()).toEqual([]);
  });

  it('[S2C §3.4] the same WAN server paired with the WAN formula succeeds (control for the two cases above)', async () => {
    const cem = await startNode(
      { node: CEM, alias: 'A0', deployment: 'WAN', certs: certsOf('cem.example.test'), hostname: 'cem.example.test' },
      cleanup,
    );
    const rmStore = new MemoryPairingStore();
    const record = await pair({
      code: cem.server.allowPairingOnce().code,
      pairingUrl: cem.server.url,
      node: RM,
      endpoint: { deployment: 'WAN' },
      store: rmStore,
      resolve,
      ca: wanRoots,
    });
    expect(record.communicationRole).toBe('client');
  });
});

describe('S2 Connect across restarts (DirectoryPairingStore)', () => {
  it('[S2C §3.7, §4.1, §4.2] RM→CEM on a LAN: both processes restart between pairing, three connects and unpair; tokens survive and rotate', async () => {
    const cemDir = join(tmp, 'lan-cem');
    const rmDir = join(tmp, 'lan-rm');
    const clock = new WallClock();
    let cemStore = new DirectoryPairingStore(cemDir);
    let cem = await nodeServer(CEM, 'LAN', { store: cemStore, clock });
    const port = cem.server.port;
    let rmStore = new DirectoryPairingStore(rmDir);
    const restart = async (): Promise<void> => {
      await cem.server.close();
      await cemStore.close();
      await rmStore.close();
      cemStore = new DirectoryPairingStore(cemDir);
      rmStore = new DirectoryPairingStore(rmDir);
      cem = await nodeServer(CEM, 'LAN', { store: cemStore, port, clock });
    };
    cleanup.add(() => cemStore.close());
    cleanup.add(() => rmStore.close());

    await pair({
      code: cem.server.allowPairingOnce().code,
      pairingUrl: cem.server.url,
      node: RM,
      endpoint: { deployment: 'LAN' },
      store: rmStore,
      resolve,
    });
    let previous = (await rmStore.get(RM.id, CEM.id))!.tokens.tokens[0]!;
    for (let i = 0; i < 3; i++) {
      await restart();
      // The pairing and its token survived both restarts.
      expect((await cemStore.get(CEM.id, RM.id))!.tokens.tokens).toEqual([hashToken(previous)]);
      expect((await rmStore.get(RM.id, CEM.id))!.tokens.tokens).toEqual([previous]);
      const connection = await connectPaired({ store: rmStore, resolve });
      await eventually(() => cem.transports.length === 1);
      const sessions = await handshake(connection.transport, 'RM', cem.transports[0]!, RM.id, connection.messageVersion);
      await sessions.client.close(1000, 'test done');
      const current = (await rmStore.get(RM.id, CEM.id))!.tokens.tokens;
      expect(current).toHaveLength(1);
      expect(current[0]).not.toBe(previous);
      expect((await cemStore.get(CEM.id, RM.id))!.tokens.tokens).toEqual([hashToken(current[0]!)]);
      // The rotated-out token is refused from now on.
      const replay = await call(
        cem.server.url,
        'v1/initiateSession',
        {
          clientNodeId: RM.id,
          serverNodeId: CEM.id,
          supportedS2MessageVersions: ['0.0.2-beta'],
          supportedCommunicationProtocols: ['WebSocket'],
        },
        previous,
      );
      expect(replay.status).toBe(401);
      previous = current[0]!;
    }

    await restart();
    const copy = new MemoryPairingStore();
    const saved = (await rmStore.get(RM.id, CEM.id))!;
    await copy.put(saved.record, saved.tokens.tokens);
    expect((await unpair({ store: rmStore, resolve })).confirmed).toBe(true);
    expect(await rmStore.list()).toEqual([]);
    await restart();
    // The tombstone survived the restart: the stale copy hears NoLongerPaired and drops the pairing.
    expect(await cemStore.list()).toEqual([]);
    expect(await cemStore.isTombstoned(CEM.id, RM.id)).toBe(true);
    await expect(connectPaired({ store: copy, resolve })).rejects.toMatchObject({ errorMessage: 'NoLongerPaired' });
    expect(await copy.list()).toEqual([]);
  });

  it('[S2C §3.5b, §4.2] CEM→RM on WAN (CEM is CS): restarts of the CEM between every step; the RM reconnects and unpairs', async () => {
    const cemDir = join(tmp, 'wan-cem');
    const rmDir = join(tmp, 'wan-rm');
    let cemStore = new DirectoryPairingStore(cemDir);
    let rmStore = new DirectoryPairingStore(rmDir);
    let cem = await nodeServer(CEM, 'WAN', { store: cemStore });
    let rmNode = await nodeServer(RM, 'WAN', { store: rmStore });
    const cemPort = cem.server.port;
    const rmPort = rmNode.server.port;
    cleanup.add(() => cemStore.close());
    cleanup.add(() => rmStore.close());
    const restart = async (): Promise<void> => {
      await cem.server.close();
      await rmNode.server.close();
      await cemStore.close();
      await rmStore.close();
      cemStore = new DirectoryPairingStore(cemDir);
      rmStore = new DirectoryPairingStore(rmDir);
      cem = await nodeServer(CEM, 'WAN', { store: cemStore, port: cemPort });
      rmNode = await nodeServer(RM, 'WAN', { store: rmStore, port: rmPort });
    };

    const { code } = rmNode.server.allowPairingOnce();
    const record = await pair({
      code,
      pairingUrl: rmNode.server.url,
      node: CEM,
      endpoint: { deployment: 'WAN' },
      store: cemStore,
      resolve,
      ca: wanRoots,
      ownConnectionDetails: cem.server.newConnectionDetails(),
    });
    expect(record.communicationRole).toBe('server');
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      await restart();
      const before = (await rmStore.get(RM.id, CEM.id))!.tokens.tokens[0]!;
      seen.add(before);
      const connection = await connectPaired({ store: rmStore, resolve, ca: wanRoots });
      await eventually(() => cem.transports.length === 1);
      const sessions = await handshake(connection.transport, 'RM', cem.transports[0]!, RM.id, connection.messageVersion);
      await sessions.client.close(1000, 'test done');
      const after = (await rmStore.get(RM.id, CEM.id))!.tokens.tokens;
      expect(after).toHaveLength(1);
      expect(seen.has(after[0]!)).toBe(false);
      expect((await cemStore.get(CEM.id, RM.id))!.tokens.tokens).toEqual([hashToken(after[0]!)]);
      const replay = await call(
        cem.server.url,
        'v1/initiateSession',
        {
          clientNodeId: RM.id,
          serverNodeId: CEM.id,
          supportedS2MessageVersions: ['0.0.2-beta'],
          supportedCommunicationProtocols: ['WebSocket'],
        },
        before,
      );
      expect(replay.status).toBe(401);
    }
    await restart();
    expect((await unpair({ store: rmStore, resolve, ca: wanRoots })).confirmed).toBe(true);
    expect(await cemStore.list()).toEqual([]);
    expect(await rmStore.list()).toEqual([]);
  });
});

describe('S2 Connect unpairing while a session is open', () => {
  it('[S2C §4.3, §8 row 24] the CS unpairs locally: the open socket is closed and the CC then hears NoLongerPaired', async () => {
    const cem = await nodeServer(CEM, 'LAN');
    const rmStore = new MemoryPairingStore();
    await pair({
      code: cem.server.allowPairingOnce().code,
      pairingUrl: cem.server.url,
      node: RM,
      endpoint: { deployment: 'LAN' },
      store: rmStore,
      resolve,
    });
    const connection = await connectPaired({ store: rmStore, resolve });
    const closed = new Promise<number>((ok) => connection.transport.start({ text: () => undefined, close: (code) => ok(code) }));
    expect(await cem.server.unpair(CEM.id, RM.id)).toBe(true);
    expect(await closed).toBe(1000);
    expect(cem.events).toContainEqual({ type: 'unpaired', localNodeId: CEM.id, remoteNodeId: RM.id, by: 'local' });
    await expect(connectPaired({ store: rmStore, resolve })).rejects.toMatchObject({ errorMessage: 'NoLongerPaired' });
    expect(await rmStore.list()).toEqual([]);
  });
});
