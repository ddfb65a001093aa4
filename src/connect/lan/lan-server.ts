import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { createActor, type Actor } from 'xstate';
import type { SessionClock } from '../../roles/types.js';
import { ONE_TIME_TOKEN_BYTES, parsePairingCode } from '../crypto.js';
import { S2ConnectError } from '../errors.js';
import type { Route, RouteAnswer, RouteRequest } from '../http/https-server.js';
import { preparedPairingMachine } from '../machines/prepared-pairing.js';
import {
  readBody,
  writeBody,
  type Deployment,
  type EndpointDescription,
  type NodeDescription,
  type WaitForPairingAction,
  type WaitForPairingError,
  type WaitForPairingResponseItem,
} from '../wire/index.js';

/**
 * The LAN-only extensions of an S2 Connect server (digest §2, §3.9, §8 rows 5, 6, 10, 17, §9): `GET /v1/endpoint`,
 * `GET /v1/nodes`, `POST /v1/preparePairing`, `POST /v1/cancelPreparePairing` and the `POST /v1/waitForPairing`
 * long poll, with the registry of polling client nodes (one `preparedPairingMachine` actor each), their
 * queued actions, the held polls, and the pairing codes the user typed for them. server.ts mounts the routes and
 * asks this module, in `requestPairing`, which node and token a client node's code was offered for.
 */

/** The `lan` option of an S2 Connect server. */
export interface LanServerOptions {
  /** Serve `POST /v1/waitForPairing`; default true when the endpoint's deployment is LAN. false ⇒ 400 (not available). */
  readonly longPolling?: boolean | undefined;
  /** How long a poll is held before 204; default 25 000 ms (digest §3.8). Runs on the server's `clock`. */
  readonly holdMs?: number | undefined;
  /**
   * Which source addresses are on the LAN (others get 401); default {@link isLocalAddress}: loopback, link-local,
   * RFC 1918, unique-local IPv6, and their IPv4-mapped forms.
   */
  readonly isLocalAddress?: ((address: string) => boolean) | undefined;
  /** Polls held at once; one more is answered 503; default 64. */
  readonly maxPollers?: number | undefined;
}

/** A client node that polls `waitForPairing` (or did within the last 2 × holdMs). */
export interface WaitingClient {
  readonly clientNodeId: string;
  /** Its descriptions, once a poll carried them (after `sendNodeDescription`). */
  readonly node?: NodeDescription | undefined;
  readonly endpoint?: EndpointDescription | undefined;
  /** A poll of it is held right now. */
  readonly polling: boolean;
  /** When its last poll arrived (ms, the server's `now`). */
  readonly lastPollAt: number;
  /**
   * Its `preparedPairingMachine` state inside `live` (`idle`, `describing`, `prepared`, `requested`, `paired`,
   * `failed`, `cancelled`), or `gone`.
   */
  readonly state: string;
  readonly errorMessage?: WaitForPairingError | undefined;
}

/** What the LAN extensions tell the application (members of `S2ConnectServerEvent`). */
export type LanServerEvent =
  /** The first poll of a client node, and again when its descriptions arrive. */
  | { readonly type: 'client-waiting'; readonly client: WaitingClient }
  /** No poll of it for 2 × holdMs: a requested pairing of it failed. */
  | { readonly type: 'client-gone'; readonly clientNodeId: string }
  /** `POST /v1/preparePairing` for a node of this endpoint: show the user that this client wants to pair. */
  | {
      readonly type: 'prepare-pairing';
      readonly clientNode: NodeDescription;
      readonly clientEndpoint: EndpointDescription;
      readonly serverNodeId: string;
    }
  | { readonly type: 'cancel-prepare-pairing'; readonly clientNodeId: string; readonly serverNodeId: string }
  /** A poll item carried `errorMessage` (reported once, until a poll item comes without it). */
  | { readonly type: 'client-error'; readonly clientNodeId: string; readonly errorMessage: WaitForPairingError };

/** The actions `askClient` may queue (`requestPairing` comes only with a code, through `requestPairingFrom`). */
export type AskableAction = Exclude<WaitForPairingAction, 'requestPairing'>;

/** Timings of the LAN extensions (digest §3.8). */
export const LAN_TIMEOUTS = {
  holdMs: 25_000,
  /** How long a client has to answer `sendNodeDescription` (RS: 5 s + 5 s slack). */
  answerMs: 10_000,
  /** A prepared pairing, and a code typed for a client node, stay valid this long (a one-time token's lifetime). */
  prepareMs: 15 * 60_000,
  offerMs: 15 * 60_000,
  maxPollers: 64,
  /** Client nodes known at once (polling, or polled within 2 × holdMs); more ⇒ 503. */
  maxClients: 1024,
} as const;

// ---- the default LAN address check ----

/** Loopback, private and link-local ranges (Node's own matcher; IPv4-mapped IPv6 addresses meet the IPv4 rules). */
const LAN_RANGES = new BlockList();
for (const [base, bits] of [
  ['127.0.0.0', 8], // loopback
  ['10.0.0.0', 8], // RFC 1918
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['169.254.0.0', 16], // link-local
] as const)
  LAN_RANGES.addSubnet(base, bits, 'ipv4');
for (const [base, bits] of [
  ['::1', 128], // loopback
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
] as const)
  LAN_RANGES.addSubnet(base, bits, 'ipv6');

/**
 * The default "is this source on the LAN" check (digest §3.9 leaves it to the implementation): IPv4 loopback
 * (127/8), RFC 1918 (10/8, 172.16/12, 192.168/16) and link-local (169.254/16); IPv6 loopback (::1), unique-local
 * (fc00::/7) and link-local (fe80::/10, zone id allowed); IPv4-mapped (::ffff:a.b.c.d) by their IPv4 address.
 * Anything else — public addresses, shared address space (100.64/10), text that is no address — is not.
 */
export function isLocalAddress(address: string): boolean {
  const bare = address.replace(/%[^%]*$/, ''); // fe80::1%eth0: the zone id names an interface
  const family = isIPv4(bare) ? 'ipv4' : isIPv6(bare) ? 'ipv6' : undefined;
  return family !== undefined && LAN_RANGES.check(bare, family);
}

// ---- the registry ----

/** What the LAN extensions need from the server they are part of. */
export interface LanServerDeps {
  readonly endpoint: EndpointDescription & { readonly deployment: Deployment };
  /** The nodes of this endpoint. */
  readonly nodes: readonly NodeDescription[];
  readonly options: LanServerOptions | undefined;
  /** Timers of the hold, the silence and the machines (tests: a SimulatedClock). */
  readonly clock: SessionClock | undefined;
  readonly now: () => number;
  readonly event: (event: LanServerEvent) => void;
  readonly onError?: ((err: unknown) => void) | undefined;
}

/** A code the user typed for a client node: accepted for one pairing of that client node on `serverNodeId`. */
interface Offer {
  readonly serverNodeId: string;
  readonly token: Uint8Array;
  readonly expiresAt: number;
}

interface ClientEntry {
  readonly clientNodeId: string;
  readonly actor: Actor<typeof preparedPairingMachine>;
  readonly queue: WaitForPairingAction[];
  lastPollAt: number;
  /** Timer of "no poll for 2 × holdMs", running while no poll is held. */
  silence: unknown;
  offer: Offer | undefined;
}

interface HeldPoll {
  readonly ids: readonly string[];
  /** Answer the RS way: one object, one action (digest §8 row 5). */
  readonly single: boolean;
  readonly answer: (answer: RouteAnswer) => void;
  timer: unknown;
  drop: (() => void) | undefined;
}

export interface LanServer {
  /** The five LAN-only routes, gated: WAN endpoint ⇒ 404, off-LAN source ⇒ 401. */
  readonly routes: readonly Route[];
  waitingClients(): readonly WaitingClient[];
  askClient(clientNodeId: string, action: AskableAction): void;
  /** Accepts `code` for one pairing of `clientNodeId` on `serverNodeId` and tells the client to call requestPairing. */
  requestPairingFrom(clientNodeId: string, code: string, serverNodeId: string): { readonly code: string; readonly expiresAt: number };
  /** The node a live offer for this client node names (requestPairing naming no node targets it). */
  offeredNode(clientNodeId: string): string | undefined;
  /** The offered token for this client node on `serverNodeId`, used up by this call (one pairing). */
  takeOffer(clientNodeId: string, serverNodeId: string): Uint8Array | undefined;
  /** A pairing attempt of `clientNodeId` on `serverNodeId` ended (or its requestPairing was refused). */
  pairingEnded(clientNodeId: string, serverNodeId: string, paired: boolean): void;
  /** Switches long polling on or off; off answers the held polls 400 (digest §3.9). */
  setLongPolling(enabled: boolean): void;
  /** Answers the held polls 503 (try later) and stops the machines. */
  close(): void;
}

const realClock: SessionClock = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

const stateOf = (actor: Actor<typeof preparedPairingMachine>): string => {
  const value = actor.getSnapshot().value;
  return typeof value === 'string' ? value : value.live;
};

/** A 400 without S2 Connect error body (digest §8 row 11: ParsingError bodies only on the pairing calls). */
const BAD_REQUEST: RouteAnswer = { status: 400 };

export function createLanServer(deps: LanServerDeps): LanServer {
  const { endpoint, now } = deps;
  const options = deps.options ?? {};
  const clock = deps.clock ?? realClock;
  const holdMs = options.holdMs ?? LAN_TIMEOUTS.holdMs;
  const maxPollers = options.maxPollers ?? LAN_TIMEOUTS.maxPollers;
  const isLocal = options.isLocalAddress ?? isLocalAddress;
  let longPolling = options.longPolling ?? endpoint.deployment === 'LAN';
  const actorOptions = deps.clock === undefined ? {} : { clock: deps.clock };
  const nodeById = new Map(deps.nodes.map((n) => [n.id.toLowerCase(), n]));

  const clients = new Map<string, ClientEntry>();
  const held = new Map<string, HeldPoll>();
  const polls = new Set<HeldPoll>();

  const snapshotOf = (entry: ClientEntry): WaitingClient => {
    const context = entry.actor.getSnapshot().context;
    return {
      clientNodeId: entry.clientNodeId,
      ...(context.node === undefined ? {} : { node: context.node }),
      ...(context.endpoint === undefined ? {} : { endpoint: context.endpoint }),
      polling: held.has(entry.clientNodeId),
      lastPollAt: entry.lastPollAt,
      state: stateOf(entry.actor),
      ...(context.errorMessage === undefined ? {} : { errorMessage: context.errorMessage }),
    };
  };

  const forget = (entry: ClientEntry): void => {
    clock.clearTimeout(entry.silence);
    clients.delete(entry.clientNodeId);
    entry.offer = undefined;
    deps.event({ type: 'client-gone', clientNodeId: entry.clientNodeId });
  };

  const entryFor = (clientNodeId: string): { entry: ClientEntry; created: boolean } => {
    const known = clients.get(clientNodeId);
    if (known !== undefined) return { entry: known, created: false };
    const actor = createActor(preparedPairingMachine, {
      ...actorOptions,
      input: { clientNodeId, answerMs: LAN_TIMEOUTS.answerMs, prepareMs: LAN_TIMEOUTS.prepareMs, offerMs: LAN_TIMEOUTS.offerMs },
    });
    const entry: ClientEntry = { clientNodeId, actor, queue: [], lastPollAt: now(), silence: undefined, offer: undefined };
    actor.subscribe({
      next: (snapshot) => {
        // The code typed for the client works only while its pairing is requested (expiry, cancel, outcome end it),
        // and a requestPairing not yet delivered is no longer meant.
        if (!snapshot.matches({ live: 'requested' })) {
          entry.offer = undefined;
          const at = entry.queue.indexOf('requestPairing');
          if (at !== -1) entry.queue.splice(at, 1);
        }
      },
      // Done = gone (stopped by close() is not: nobody went away).
      complete: () => {
        if (actor.getSnapshot().status === 'done') forget(entry);
      },
      error: (err) => deps.onError?.(err),
    });
    actor.start();
    clients.set(clientNodeId, entry);
    return { entry, created: true };
  };

  const known = (clientNodeId: string): ClientEntry => {
    const entry = clients.get(clientNodeId.toLowerCase());
    if (entry === undefined)
      throw new S2ConnectError('NodeNotFound', { additionalInfo: 'no client node with this id polls waitForPairing' });
    return entry;
  };

  // ---- held polls ----

  /** Ends a held poll: no longer held for its ids, whose silence timers start. */
  const release = (poll: HeldPoll): void => {
    if (!polls.delete(poll)) return;
    clock.clearTimeout(poll.timer);
    poll.drop?.();
    for (const id of poll.ids) {
      if (held.get(id) === poll) held.delete(id);
      const entry = clients.get(id);
      if (entry === undefined) continue;
      clock.clearTimeout(entry.silence);
      entry.silence = clock.setTimeout(() => entry.actor.send({ type: 'GONE' }), 2 * holdMs);
    }
  };

  /** Takes the next action of each polled node (only the first node's in the single-object form). */
  const takeActions = (ids: readonly string[], single: boolean): WaitForPairingResponseItem[] => {
    const items: WaitForPairingResponseItem[] = [];
    for (const id of ids) {
      const action = clients.get(id)?.queue.shift();
      if (action === undefined) continue;
      items.push({ clientNodeId: id, action });
      if (single) break;
    }
    return items;
  };

  const actionAnswer = (items: readonly WaitForPairingResponseItem[], single: boolean): RouteAnswer => ({
    status: 200,
    body: single ? writeBody('WaitForPairingResponseItem', items[0]!) : writeBody('WaitForPairingResponse', [...items]),
  });

  /** Answers the held poll of `clientNodeId` if it has one and something is queued. */
  const deliver = (clientNodeId: string): void => {
    const poll = held.get(clientNodeId);
    if (poll === undefined) return;
    const items = takeActions(poll.ids, poll.single);
    if (items.length === 0) return;
    release(poll);
    poll.answer(actionAnswer(items, poll.single));
  };

  const queue = (entry: ClientEntry, action: WaitForPairingAction): void => {
    if (!entry.queue.includes(action)) entry.queue.push(action);
    deliver(entry.clientNodeId);
  };

  // ---- routes ----

  /** LAN-only: 404 on a WAN endpoint (digest §8 row 10), 401 for a source off the LAN. */
  const lanOnly =
    (handle: (req: RouteRequest) => RouteAnswer | Promise<RouteAnswer>) =>
    (req: RouteRequest): RouteAnswer | Promise<RouteAnswer> => {
      if (endpoint.deployment === 'WAN') return { status: 404 };
      if (!isLocal(req.remoteAddress)) return { status: 401 };
      return handle(req);
    };

  const getEndpoint = (): RouteAnswer => ({ status: 200, body: writeBody('EndpointDescription', endpoint) });
  const getNodes = (): RouteAnswer => ({ status: 200, body: writeBody('NodeList', deps.nodes.slice()) });

  const preparePairing = (req: RouteRequest): RouteAnswer => {
    const read = readBody('PreparePairingRequest', req.body);
    if (!read.ok) return { status: 400, body: S2ConnectError.parsing(read.problems).toBody('pairing') };
    const { clientNodeDescription, clientEndpointDescription, serverNodeId } = read.value;
    const server = nodeById.get(serverNodeId);
    // Unknown node: 204 all the same (digest §3.9, OAS); a hint nobody can act on.
    if (server === undefined) return { status: 204 };
    if (server.role === clientNodeDescription.role)
      return { status: 400, body: S2ConnectError.pairing('InvalidCombinationOfRoles').toBody('pairing') };
    clients.get(clientNodeDescription.id)?.actor.send({ type: 'PREPARE', by: 'client', serverNodeId: server.id });
    deps.event({
      type: 'prepare-pairing',
      clientNode: clientNodeDescription,
      clientEndpoint: clientEndpointDescription,
      serverNodeId: server.id,
    });
    return { status: 204 };
  };

  const cancelPreparePairing = (req: RouteRequest): RouteAnswer => {
    const read = readBody('CancelPreparePairingRequest', req.body);
    if (!read.ok) return BAD_REQUEST;
    const { clientNodeId, serverNodeId } = read.value;
    clients.get(clientNodeId)?.actor.send({ type: 'CANCEL', by: 'client' });
    deps.event({ type: 'cancel-prepare-pairing', clientNodeId, serverNodeId });
    return { status: 204 };
  };

  const waitForPairing = (req: RouteRequest): RouteAnswer | Promise<RouteAnswer> => {
    if (!longPolling) return BAD_REQUEST;
    const read = readBody('WaitForPairingRequest', req.body);
    if (!read.ok || read.value.length === 0) return BAD_REQUEST;
    const items = read.value;
    const ids = items.map((item) => item.clientNodeId);
    // One item per client node, and one poll per client node at a time (RS: 400 for a poll already in flight).
    if (new Set(ids).size !== ids.length || ids.some((id) => held.has(id))) return BAD_REQUEST;
    // Held polls, and client nodes remembered (each for 2 × holdMs after its last poll), are bounded: a LAN peer
    // inventing node ids must not grow this server without end.
    const fresh = ids.filter((id) => !clients.has(id)).length;
    if (polls.size >= maxPollers || clients.size + fresh > LAN_TIMEOUTS.maxClients) return { status: 503, headers: { 'Retry-After': '1' } };
    // RS clients always send the typo key, and read only a single object (digest §8 rows 5, 6).
    const single = read.compat.includes('clienNodeDescription');

    const waiting: ClientEntry[] = [];
    for (const item of items) {
      const { entry, created } = entryFor(item.clientNodeId);
      entry.lastPollAt = now();
      clock.clearTimeout(entry.silence);
      entry.silence = undefined;
      const before = entry.actor.getSnapshot().context;
      if (item.clientNodeDescription !== undefined) {
        entry.actor.send({ type: 'DESCRIBED', node: item.clientNodeDescription, endpoint: item.clientEndpointDescription });
      }
      if (item.errorMessage !== before.errorMessage) entry.actor.send({ type: 'CLIENT_ERROR', errorMessage: item.errorMessage });
      if (item.errorMessage !== undefined && before.errorMessage === undefined)
        deps.event({ type: 'client-error', clientNodeId: entry.clientNodeId, errorMessage: item.errorMessage });
      const described =
        item.clientNodeDescription !== undefined &&
        (JSON.stringify(before.node) !== JSON.stringify(item.clientNodeDescription) ||
          JSON.stringify(before.endpoint) !== JSON.stringify(item.clientEndpointDescription));
      if (created || described) waiting.push(entry);
    }

    const ready = takeActions(ids, single);
    if (ready.length > 0) {
      for (const entry of waiting) deps.event({ type: 'client-waiting', client: snapshotOf(entry) });
      return actionAnswer(ready, single);
    }
    return new Promise<RouteAnswer>((answer) => {
      const poll: HeldPoll = { ids, single, answer, timer: undefined, drop: undefined };
      polls.add(poll);
      for (const id of ids) held.set(id, poll);
      poll.timer = clock.setTimeout(() => {
        release(poll);
        answer({ status: 204 });
      }, holdMs);
      // The poller went away: drop the poll now; what is queued for it waits for its next poll.
      const onAbort = (): void => {
        release(poll);
        answer({ status: 204 }); // never sent: the router sees the aborted signal
      };
      req.signal.addEventListener('abort', onAbort, { once: true });
      poll.drop = () => req.signal.removeEventListener('abort', onAbort);
      if (req.signal.aborted) onAbort();
      // Reported once the poll is registered, so that a listener sees `polling: true` and can askClient at once.
      for (const entry of waiting) deps.event({ type: 'client-waiting', client: snapshotOf(entry) });
    });
  };

  const routes: Route[] = [
    { method: 'GET', path: 'v1/endpoint', handle: lanOnly(getEndpoint) },
    { method: 'GET', path: 'v1/nodes', handle: lanOnly(getNodes) },
    { method: 'POST', path: 'v1/preparePairing', handle: lanOnly(preparePairing) },
    { method: 'POST', path: 'v1/cancelPreparePairing', handle: lanOnly(cancelPreparePairing) },
    { method: 'POST', path: 'v1/waitForPairing', handle: lanOnly(waitForPairing) },
  ];

  const ACTION_EVENTS = {
    sendNodeDescription: { type: 'DESCRIBE' },
    preparePairing: { type: 'PREPARE', by: 'server' },
    cancelPreparePairing: { type: 'CANCEL', by: 'server' },
  } as const;

  return {
    routes,
    waitingClients: () => [...clients.values()].map(snapshotOf),
    askClient(clientNodeId, action) {
      const entry = known(clientNodeId);
      if (!(action in ACTION_EVENTS)) throw new S2ConnectError('Other', { additionalInfo: `askClient cannot ask for ${String(action)}` });
      entry.actor.send(ACTION_EVENTS[action]);
      queue(entry, action);
    },
    requestPairingFrom(clientNodeId, code, serverNodeId) {
      const entry = known(clientNodeId);
      const server = nodeById.get(serverNodeId.toLowerCase());
      if (server === undefined) throw new S2ConnectError('NodeNotFound', { additionalInfo: 'no such node on this endpoint' });
      const clientNode = entry.actor.getSnapshot().context.node;
      if (clientNode !== undefined && clientNode.role === server.role)
        throw new S2ConnectError('InvalidCombinationOfRoles', { additionalInfo: `the client node is a ${clientNode.role} too` });
      const { token } = parsePairingCode(code, { minTokenBytes: ONE_TIME_TOKEN_BYTES });
      const expiresAt = now() + LAN_TIMEOUTS.offerMs;
      // Set before the event: the machine's subscription withdraws it unless the state is `requested`.
      entry.offer = { serverNodeId: server.id, token, expiresAt };
      entry.actor.send({ type: 'REQUEST', serverNodeId: server.id });
      queue(entry, 'requestPairing');
      return { code: code.trim(), expiresAt };
    },
    offeredNode(clientNodeId) {
      const offer = clients.get(clientNodeId)?.offer;
      return offer !== undefined && now() < offer.expiresAt ? offer.serverNodeId : undefined;
    },
    takeOffer(clientNodeId, serverNodeId) {
      const entry = clients.get(clientNodeId);
      const offer = entry?.offer;
      if (entry === undefined || offer === undefined || offer.serverNodeId !== serverNodeId || now() >= offer.expiresAt) return undefined;
      entry.offer = undefined;
      return offer.token;
    },
    pairingEnded(clientNodeId, serverNodeId, paired) {
      clients.get(clientNodeId)?.actor.send({ type: paired ? 'PAIRED' : 'PAIRING_FAILED', serverNodeId });
    },
    setLongPolling(enabled) {
      longPolling = enabled;
      if (enabled) return;
      for (const poll of [...polls]) {
        release(poll);
        poll.answer(BAD_REQUEST);
      }
    },
    close() {
      for (const poll of [...polls]) {
        release(poll);
        poll.answer({ status: 503, headers: { 'Retry-After': '1' } });
      }
      for (const entry of clients.values()) {
        clock.clearTimeout(entry.silence);
        entry.actor.stop();
      }
      clients.clear();
    },
  };
}
