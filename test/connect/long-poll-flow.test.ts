/**
 * The long-poll pairing flow end to end (digest §3.9) over real HTTPS and WSS on 127.0.0.1, the REAL S2 Connect
 * server on the CEM side and the real long-poll client on the RM side: an RM with a printed token polls the CEM's
 * `waitForPairing`; the CEM sees it waiting, asks for its description, and its user "enters the token"
 * (`requestPairingFrom`); the RM's poller pairs with `pair()`, and an S2 session then runs over the S2 Connect
 * WebSocket up to an active control type. Also a gateway endpoint polling for three RM nodes with one poller, all
 * three paired to one CEM. The time from "user enters the token" to the active session is printed.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCemHost, createRmClient, type CemHost, type RmClient } from '../../src/roles/index.js';
import type { S2Session } from '../../src/roles/session.js';
import { generateCertificates, type GeneratedCertificates } from '../../src/connect/certificates.js';
import { connectPaired, pair } from '../../src/connect/client.js';
import { ONE_TIME_TOKEN_BYTES, formatPairingCode, randomChallenge } from '../../src/connect/crypto.js';
import { waitForPairing, type LongPollClient } from '../../src/connect/lan/lan-client.js';
import type { WaitingClient } from '../../src/connect/lan/lan-server.js';
import { MemoryPairingStore, type PairingRecord, type PairingStore } from '../../src/connect/store/index.js';
import type { NodeDescription } from '../../src/connect/wire/index.js';
import { CEM, Cleanup, eventually, resolve, rmDetails, startNode, type TestNode } from './connect-harness.js';

let certs: GeneratedCertificates;
let gatewayCerts: GeneratedCertificates;
beforeAll(async () => {
  certs = await generateCertificates({ hostname: 'cem.local' });
  gatewayCerts = await generateCertificates({ hostname: 'gateway.local' });
});
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** "User enters the token" → active session, per pairing (ms). */
const measured: number[] = [];
afterAll(() => {
  if (measured.length === 0) return;
  const sorted = [...measured].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  console.log(
    `long-poll flow: token entered → active S2 session: median ${median.toFixed(1)} ms over ${sorted.length} pairings (min ${sorted[0]!.toFixed(1)}, max ${sorted[sorted.length - 1]!.toFixed(1)})`,
  );
});

const ACTIVE = 'connected.active.FRBC';
/** RM details offering FRBC: the CEM's default policy selects it, so the session reaches an active control type. */
const frbcDetails = (id: string) => ({ ...rmDetails(id), available_control_types: ['FILL_RATE_BASED_CONTROL' as const] });
const rmNode = (name: string): NodeDescription => ({ id: randomUUID(), brand: 's2-engine', type: 'battery', modelName: name, role: 'RM' });
/** The token printed on the device (9 random bytes, base64), as a user would type it. */
const printedCode = (): string => formatPairingCode(undefined, randomChallenge(ONE_TIME_TOKEN_BYTES));

/** A promise that resolves when `session` reaches `state` (or already is there). */
function reaches(session: S2Session, state: string): Promise<void> {
  return new Promise((ok) => {
    if (session.state === state) return ok();
    session.on('state', (e) => e.state === state && ok());
  });
}

/** The CEM: its S2 Connect server, its sessions by RM resource id, and "active" promises per RM. */
async function startCem(): Promise<{ node: TestNode; host: CemHost; activeBy: (rmId: string) => Promise<void> }> {
  const waiters = new Map<string, () => void>();
  const active = new Map<string, Promise<void>>();
  const activeBy = (rmId: string): Promise<void> => {
    let p = active.get(rmId);
    if (!p) {
      p = new Promise<void>((ok) => waiters.set(rmId, ok));
      active.set(rmId, p);
    }
    return p;
  };
  const host = createCemHost({
    logger: false,
    onSession: (session) =>
      session.on('state', ({ state }) => {
        const id = session.rmDetails?.resource_id;
        if (state === ACTIVE && id !== undefined) {
          void activeBy(id);
          waiters.get(id)?.();
        }
      }),
  });
  cleanup.add(() => host.close());
  const node = await startNode(
    {
      node: CEM,
      deployment: 'LAN',
      certs,
      hostname: 'cem.local',
      onConnection: (transport, info) => void host.accept(transport, { info, versions: [info.messageVersion] }),
    },
    cleanup,
  );
  return { node, host, activeBy };
}

/** The RM side of one paired node: an RM client that dials with connectPaired; resolves when its session is active. */
function startRm(store: PairingStore, record: PairingRecord): { client: RmClient; active: Promise<void> } {
  let activeNow!: () => void;
  const active = new Promise<void>((ok) => (activeNow = ok));
  const client = createRmClient({
    details: frbcDetails(record.localNodeId),
    logger: false,
    reconnect: false,
    connect: async () => {
      const c = await connectPaired({ store, resolve, localNodeId: record.localNodeId, remoteNodeId: record.remoteNodeId });
      return { transport: c.transport, versions: [c.messageVersion] };
    },
    onSession: (session) => void reaches(session, ACTIVE).then(activeNow),
  });
  cleanup.add(() => client.stop());
  return { client, active };
}

function waitingOf(node: TestNode, id: string): WaitingClient | undefined {
  return node.server.waitingClients().find((c) => c.clientNodeId === id);
}

describe('S2 Connect long-poll pairing flow (§3.9), real server and client', () => {
  it('[S2C §3.9, §3, §4] an RM with a printed token polls; the CEM asks its description, its user enters the token; paired on both sides; the S2 session becomes active', async () => {
    const cem = await startCem();
    for (let round = 0; round < 5; round++) {
      const rm = rmNode(`printed-token RM ${round}`);
      const code = printedCode();
      const store = new MemoryPairingStore();
      const paired: PairingRecord[] = [];
      const sessions: Array<{ client: RmClient; active: Promise<void> }> = [];
      const errors: unknown[] = [];
      const poller: LongPollClient = waitForPairing({
        store,
        resolve,
        longpollingUrl: cem.node.server.url,
        endpoint: { name: 'battery', deployment: 'LAN' },
        nodes: [{ node: rm, code }],
        onPaired: (record) => {
          paired.push(record);
          sessions.push(startRm(store, record));
        },
        onError: (err) => errors.push(err),
      });
      cleanup.add(() => poller.stop());

      // The CEM sees the RM waiting (no description yet), and asks for it.
      await eventually(() => cem.node.events.some((e) => e.type === 'client-waiting' && e.client.clientNodeId === rm.id));
      expect(waitingOf(cem.node, rm.id)?.node).toBeUndefined();
      cem.node.server.askClient(rm.id, 'sendNodeDescription');
      await eventually(() => waitingOf(cem.node, rm.id)?.node !== undefined);
      expect(waitingOf(cem.node, rm.id)).toMatchObject({ node: rm, endpoint: { name: 'battery', deployment: 'LAN' } });
      // The description arrived on a poll; the next one is held again.
      await eventually(() => waitingOf(cem.node, rm.id)?.polling === true);

      // The user types the printed token into the CEM.
      const t0 = performance.now();
      cem.node.server.requestPairingFrom(rm.id, code);
      await eventually(() => sessions.length === 1, 5_000);
      await Promise.all([sessions[0]!.active, cem.activeBy(rm.id)]);
      const ms = performance.now() - t0;
      measured.push(ms);
      console.log(`round ${round}: token entered → active session in ${ms.toFixed(1)} ms`);

      expect(paired).toEqual([expect.objectContaining({ localNodeId: rm.id, remoteNodeId: CEM.id, communicationRole: 'client' })]);
      expect((await cem.node.store.get(CEM.id, rm.id))?.record.communicationRole).toBe('server');
      expect(cem.node.events).toContainEqual(expect.objectContaining({ type: 'paired' }));
      expect(errors).toEqual([]);
      // The RM keeps polling while paired (§3.9).
      await eventually(() => waitingOf(cem.node, rm.id)?.polling === true);
      expect(poller.state().value).toBe('polling');
      await poller.stop();
      await expect(poller.done).resolves.toEqual({ reason: 'stopped' });
    }
    expect(cem.host.sessions.size).toBe(5);
  });

  it('[S2C §3.9, §3, §4] a gateway polls for three RM nodes with one poller; the CEM user enters three tokens; all three pair with the one CEM and get active sessions', async () => {
    const cem = await startCem();
    const nodes = [rmNode('gateway RM a'), rmNode('gateway RM b'), rmNode('gateway RM c')];
    const codes = nodes.map(() => printedCode());
    const store = new MemoryPairingStore();
    const sessions = new Map<string, { client: RmClient; active: Promise<void> }>();
    const errors: unknown[] = [];
    const poller = waitForPairing({
      store,
      resolve,
      longpollingUrl: cem.node.server.url,
      endpoint: { name: 'gateway', deployment: 'LAN' },
      nodes: nodes.map((node, i) => ({ node, code: codes[i] })),
      onPaired: (record) => sessions.set(record.localNodeId, startRm(store, record)),
      onError: (err) => errors.push(err),
    });
    cleanup.add(() => poller.stop());

    await eventually(() => nodes.every((n) => waitingOf(cem.node, n.id)?.polling === true));
    for (const n of nodes) cem.node.server.askClient(n.id, 'sendNodeDescription');
    await eventually(() => nodes.every((n) => waitingOf(cem.node, n.id)?.node !== undefined));
    expect(nodes.map((n) => waitingOf(cem.node, n.id)?.node)).toEqual(nodes);

    // The user enters the three printed tokens, one after the other.
    const started = new Map<string, number>();
    for (const [i, n] of nodes.entries()) {
      started.set(n.id, performance.now());
      cem.node.server.requestPairingFrom(n.id, codes[i]!);
    }
    await eventually(() => sessions.size === 3, 10_000);
    await Promise.all(
      nodes.map(async (n) => {
        await Promise.all([sessions.get(n.id)!.active, cem.activeBy(n.id)]);
        const ms = performance.now() - started.get(n.id)!;
        measured.push(ms);
        console.log(`gateway node ${n.modelName}: token entered → active session in ${ms.toFixed(1)} ms`);
      }),
    );
    expect(errors).toEqual([]);
    expect((await store.list()).map((p) => p.localNodeId).sort()).toEqual(nodes.map((n) => n.id).sort());
    for (const n of nodes) expect((await cem.node.store.get(CEM.id, n.id))?.record.communicationRole).toBe('server');
    expect(cem.host.sessions.size).toBe(3);
    expect(new Set([...cem.host.sessions].map((s) => s.rmDetails?.resource_id))).toEqual(new Set(nodes.map((n) => n.id)));
    await poller.stop();
  });

  it('[S2C §1, §3.3] a gateway endpoint on one HTTPS port hosts three RM nodes, each with its own id, alias and code; one CEM pairs with all three by their codes and serves their sessions', async () => {
    const cem = await startCem();
    const nodes = [rmNode('gateway RM a'), rmNode('gateway RM b'), rmNode('gateway RM c')];
    const gwStore = new MemoryPairingStore();
    const gateway = await startNode(
      {
        nodes: nodes.map((description, i) => ({ description, alias: `rm${i + 1}` })),
        deployment: 'LAN',
        certs: gatewayCerts,
        hostname: 'gateway.local',
        store: gwStore,
      },
      cleanup,
    );
    // Each node shows its own code; the alias before "-" tells the endpoint which node is meant.
    const codes = nodes.map((n) => gateway.server.allowPairingOnce(n.id).code);
    expect(codes.map((c) => c.split('-')[0])).toEqual(['rm1', 'rm2', 'rm3']);
    // The user types them at the CEM in another order; a LAN CEM serves the sessions, so it posts its details.
    for (const i of [2, 0, 1]) {
      const record = await pair({
        code: codes[i]!,
        pairingUrl: gateway.server.url,
        node: CEM,
        endpoint: { name: 'cem', deployment: 'LAN' },
        store: cem.node.store,
        resolve,
        ownConnectionDetails: cem.node.server.newConnectionDetails(),
      });
      expect(record).toMatchObject({ remoteNodeId: nodes[i]!.id, communicationRole: 'server' });
    }
    // Every node of the gateway now holds its own pairing with the CEM, and each dials its own session.
    const rms = await Promise.all(
      nodes.map(async (n) => {
        const found = await gwStore.get(n.id, CEM.id);
        expect(found?.record).toMatchObject({ localNodeId: n.id, communicationRole: 'client' });
        return startRm(gwStore, found!.record);
      }),
    );
    await Promise.all([...rms.map((r) => r.active), ...nodes.map((n) => cem.activeBy(n.id))]);
    expect(new Set([...cem.host.sessions].map((s) => s.rmDetails?.resource_id))).toEqual(new Set(nodes.map((n) => n.id)));
    // A code is used up by its pairing: typing it again is refused.
    await expect(
      pair({ code: codes[0]!, pairingUrl: gateway.server.url, node: CEM, endpoint: { deployment: 'LAN' }, store: cem.node.store, resolve }),
    ).rejects.toMatchObject({ errorMessage: 'NoValidPairingTokenOnPairingServer' });
  });
});
