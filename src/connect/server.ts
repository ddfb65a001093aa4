import { createActor, fromPromise, waitFor, type Actor } from 'xstate';
import type { SessionClock } from '../roles/types.js';
import type http from 'node:http';
import { createWsServer, type ConnectionInfo, type UpgradeVerdict, type WsServer, type WsServerOptions } from '../transport/ws-server.js';
import type { Transport } from '../transport/transport.js';
import { bearerOf } from '../transport/upgrade-auth.js';
import { CloseCode } from '../machines/close-codes.js';
import { S2_VERSION } from '../machines/session-setup.js';
import { DEFAULT_VERSIONS } from '../typebox/versions.js';
import {
  SECRET_BYTES,
  SERVER_CHALLENGE_BYTES,
  challengesEquivalent,
  constantTimeEqual,
  decodeBase64Strict,
  encodeBase64,
  formatPairingCode,
  hashToken,
  hmacResponse,
  ONE_TIME_TOKEN_BYTES,
  LONG_LIVED_TOKEN_BYTES,
  pemCertificates,
  randomChallenge,
  randomToken,
  sha256,
} from './crypto.js';
import { expectedStep } from './deployment.js';
import { S2ConnectError } from './errors.js';
import { createConnectHttpServer, type Route, type RouteAnswer, type RouteRequest, type ThrottleOptions } from './http/https-server.js';
import { createLanServer, type AskableAction, type LanServerEvent, type LanServerOptions, type WaitingClient } from './lan/lan-server.js';
import {
  pairingServerAttemptMachine,
  tokenServerMachine,
  seal,
  type PairingToPersist,
  type Sealed,
  type ServerReply,
} from './machines/index.js';
import type { PairingRecord, PairingStore } from './store/pairing-store.js';
import {
  HMAC_SHA256,
  WEBSOCKET,
  readBody,
  writeBody,
  type BodyKind,
  type BodyValues,
  type ConnectionDetails,
  type Deployment,
  type EndpointDescription,
  type NodeDescription,
  type NodeRole,
} from './wire/index.js';

/** A node this endpoint represents (S2 Connect §1): its description and the alias users type in pairing codes. */
export interface S2ConnectNode {
  readonly description: NodeDescription;
  /** `nodeIdAlias` (`^[0-9a-zA-Z]+$`), the part before `-` in a pairing code. Optional for the only node of an endpoint. */
  readonly alias?: string | undefined;
}

export interface S2ConnectServerOptions {
  /** The node(s) of this endpoint. A single node is also the default target of a `requestPairing` naming none. */
  readonly nodes: readonly S2ConnectNode[];
  /** This endpoint; `deployment` decides the HMAC binding and the LAN trust model. */
  readonly endpoint: EndpointDescription & { readonly deployment: Deployment };
  /** Certificate chain (leaf first; on a LAN the root last, S2 Connect §1) and key, PEM. */
  readonly tls: { readonly cert: string; readonly key: string };
  readonly store: PairingStore;
  /** Interface to listen on; default 127.0.0.1. */
  readonly host?: string | undefined;
  /** Default 0 (a free port). */
  readonly port?: number | undefined;
  /**
   * The base URL peers reach this endpoint at, ending in `/` (`https://battery.local:8443/`). It is
   * the pairing URL and the initiate URL handed out. Default: `https://<hostname>:<port>/` with the
   * bound port.
   */
  readonly publicUrl?: string | undefined;
  /** The host name in the default public URL (`battery.local` on a LAN); default the bound address. */
  readonly hostname?: string | undefined;
  /**
   * S2 message versions the nodes speak, preferred first; default by each node's role, as for sessions
   * (`DEFAULT_VERSIONS`: a CEM both, newest first; an RM 0.0.2-beta). `initiateSession` selects the
   * first of the client's list found here.
   */
  readonly messageVersions?: readonly string[] | undefined;
  /** Per-source budget of failed credentials before 429; default 10 per minute. */
  readonly throttle?: ThrottleOptions | undefined;
  readonly maxBodyBytes?: number | undefined;
  /** Limit on an HTTP request head, default 16 KiB; larger ⇒ 431 Request Header Fields Too Large. */
  readonly maxHeaderBytes?: number | undefined;
  /** Wall clock for token expiry (ms); default Date.now. */
  readonly now?: (() => number) | undefined;
  /** XState clock of the attempt and token machines (tests inject a SimulatedClock). */
  readonly clock?: SessionClock | undefined;
  /** WebSocket limits of the S2 sessions (frame size, heartbeat …). */
  readonly websocket?:
    | Pick<
        WsServerOptions,
        'maxFrameBytes' | 'heartbeatMs' | 'pongTimeoutMs' | 'sendHighWaterMark' | 'closeTimeoutMs' | 'perMessageDeflate' | 'receiveBudget'
      >
    | undefined;
  /**
   * An authenticated WebSocket of a paired node: run an S2 session on it (`connectSession`, or a CEM
   * server's `accept`). `messageVersion` is the version agreed in `initiateSession`.
   */
  readonly onConnection: (transport: Transport, info: S2ConnectConnectionInfo) => void;
  /**
   * How often the pairings of open sessions are looked up in the store, so that a pairing removed
   * by another process (`s2 unpair`) closes its session; default 5000 ms, 0 disables.
   */
  readonly watchMs?: number | undefined;
  /**
   * The LAN-only extensions (S2 Connect §3.9): `GET v1/endpoint`, `GET v1/nodes`, `preparePairing`,
   * `cancelPreparePairing` and the `waitForPairing` long poll. Served on a LAN endpoint to LAN sources (others: 401);
   * a WAN endpoint answers them 404.
   */
  readonly lan?: LanServerOptions | undefined;
  /** Something happened that an operator wants to see (never carries a secret). */
  readonly onEvent?: ((event: S2ConnectServerEvent) => void) | undefined;
  readonly onError?: ((err: unknown) => void) | undefined;
}

export interface S2ConnectConnectionInfo extends ConnectionInfo {
  readonly pairing: PairingRecord;
  readonly messageVersion: string;
}

export type S2ConnectServerEvent =
  | LanServerEvent
  | { readonly type: 'paired'; readonly pairing: PairingRecord }
  | { readonly type: 'pairing-failed'; readonly nodeId: string; readonly outcome: string }
  | { readonly type: 'session-initiated'; readonly pairing: PairingRecord; readonly messageVersion: string }
  | { readonly type: 'unpaired'; readonly localNodeId: string; readonly remoteNodeId: string; readonly by: 'peer' | 'local' }
  | {
      readonly type: 'refused';
      readonly path: string;
      readonly status: number;
      readonly errorMessage?: string | undefined;
      readonly remoteAddress: string;
    };

/** A pairing code to show the user, and until when it works. */
export interface PairingCodeOffer {
  readonly code: string;
  /** ms since the epoch; undefined for a long-lived token. */
  readonly expiresAt: number | undefined;
}

export interface S2ConnectServer {
  /** The public base URL (pairing URL and initiate URL). */
  readonly url: string;
  readonly port: number;
  readonly httpsServer: http.Server;
  /** Accept one pairing with a fresh one-time token, valid 15 min (S2 Connect §3.2). Replaces any earlier one-time token of that node. */
  allowPairingOnce(nodeId?: string): PairingCodeOffer;
  /** Accept pairings with a long-lived token (given as base64, or a fresh 12-byte one) until disallowed. */
  allowPairingRepeated(token?: string, nodeId?: string): PairingCodeOffer;
  /** No more pairing for that node (or all nodes). */
  disallowPairing(nodeId?: string): void;
  /**
   * Connection details for a pairing in which this endpoint will be the communication server while
   * being the pairing CLIENT (S2 Connect §3.5b): a fresh access token, this server's initiate URL and
   * root fingerprint. Pass them to `pair()` as `ownConnectionDetails`.
   */
  newConnectionDetails(): ConnectionDetails;
  /** Local unpairing as communication server: delete with a tombstone (peer then gets NoLongerPaired), close its sockets. */
  unpair(localNodeId: string, remoteNodeId: string): Promise<boolean>;
  /** Client nodes that poll waitForPairing (or did within the last 2 × holdMs), with their descriptions once sent. */
  waitingClients(): readonly WaitingClient[];
  /** Deliver an action to a polling client node on its current poll (answered at once) or its next one. */
  askClient(clientNodeId: string, action: AskableAction): void;
  /**
   * The user typed the client's pairing code: accept ONE pairing with that token on `serverNodeId` (default: the
   * endpoint's only node), for 15 min, and tell the client node to call requestPairing. A requestPairing from
   * that client node that names no node then targets `serverNodeId` even on a multi-node endpoint.
   */
  requestPairingFrom(clientNodeId: string, code: string, serverNodeId?: string): PairingCodeOffer;
  /** Long polling on or off at run time (initially `lan.longPolling`); off answers held polls 400 (S2 Connect §3.9). */
  setLongPolling(enabled: boolean): void;
  close(): Promise<void>;
}

/** S2 Connect §3.8 timings. */
export const S2_CONNECT_TIMEOUTS = {
  attemptLifetimeMs: 15_000,
  oneTimeTokenMs: 15 * 60_000,
  pendingAccessTokenMs: 15_000,
  websocketTokenMs: 15_000,
  /** After a failed attempt (or a refused `requestPairing`) for a node, its next one waits this long (503 before). */
  attemptSpacingMs: 1_000,
} as const;

/** The WebSocket endpoint below the base URL. */
export const WEBSOCKET_PATH = 'v1/websocket';

interface NodeEntry {
  readonly node: S2ConnectNode;
  token: { readonly bytes: Uint8Array; readonly expiresAt: number | undefined } | undefined;
  liveAttempt: boolean;
  /** After a failed attempt or refused request for this node, none before this time (ms). */
  blockedUntil: number;
}

interface AttemptEntry {
  readonly actor: Actor<typeof pairingServerAttemptMachine>;
  readonly nodeId: string;
  readonly serverChallenge: Uint8Array;
  /** Everything needed to mint the pairing at the detail call. */
  readonly client: { readonly node: NodeDescription; readonly endpoint: EndpointDescription; readonly versions: readonly string[] };
}

const pairKey = (local: string, remote: string): string => `${local}/${remote}`;

function pairingError(name: Parameters<typeof S2ConnectError.pairing>[0], info?: string): RouteAnswer {
  return { status: 400, body: S2ConnectError.pairing(name, info).toBody('pairing') };
}

function sessionError(name: Parameters<typeof S2ConnectError.session>[0], info?: string): RouteAnswer {
  return { status: 400, body: S2ConnectError.session(name, info).toBody('session') };
}

const UNAUTHORIZED: RouteAnswer = { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="s2connect"' }, authFailed: true };

/** Reads a body or answers 400 ParsingError (problems name paths, never values). */
function parse<K extends BodyKind>(kind: K, body: unknown, api: 'pairing' | 'session'): { value: BodyValues[K] } | { answer: RouteAnswer } {
  const result = readBody(kind, body);
  if (result.ok) return { value: result.value };
  return { answer: { status: 400, body: S2ConnectError.parsing(result.problems).toBody(api) } };
}

function replyAnswer(reply: ServerReply | undefined, bodyKind?: BodyKind): RouteAnswer {
  if (reply === undefined) return { status: 500 };
  if (reply.errorMessage !== undefined) return { status: reply.status, body: { errorMessage: reply.errorMessage } };
  const authFailed = reply.status === 401 || reply.status === 403;
  if (reply.body !== undefined && bodyKind !== undefined) {
    return { status: reply.status, body: writeBody(bodyKind, reply.body.reveal() as never), authFailed };
  }
  return { status: reply.status, authFailed };
}

/**
 * An S2 Connect endpoint over one HTTPS port: the pairing API (server side), the session-initiation API
 * (communication server side), unpairing, and the WebSocket the S2 sessions run on. Pairing attempts and
 * token rotation are statecharts (src/connect/machines); this file routes requests to them and to the store.
 */
export async function createS2ConnectServer(options: S2ConnectServerOptions): Promise<S2ConnectServer> {
  if (options.nodes.length === 0)
    throw new S2ConnectError('InvalidOutgoingBody', { additionalInfo: 'an S2 Connect server needs at least one node' });
  const now = options.now ?? Date.now;
  const store = options.store;
  const deployment = options.endpoint.deployment;
  const versionsOf = (role: NodeRole): readonly string[] => options.messageVersions ?? DEFAULT_VERSIONS[role];
  const chain = pemCertificates(options.tls.cert);
  const leaf = chain[0];
  if (leaf === undefined) throw new S2ConnectError('InvalidCertificate', { additionalInfo: 'tls.cert holds no certificate' });
  // F of the HMAC (S2 Connect §3.4): bound only on a LAN, where trust is first-use.
  const leafFingerprint = deployment === 'LAN' ? sha256(leaf) : undefined;
  const root = chain.length > 1 ? chain[chain.length - 1] : undefined;
  const rootFingerprint = deployment === 'LAN' && root !== undefined ? sha256(root) : undefined;
  if (deployment === 'LAN' && rootFingerprint === undefined) {
    throw new S2ConnectError('InvalidCertificate', {
      additionalInfo: 'a LAN endpoint must present its full chain, root included (tls.cert: leaf then root)',
    });
  }
  const actorOptions = options.clock === undefined ? {} : { clock: options.clock };
  const event = (e: S2ConnectServerEvent): void => options.onEvent?.(e);

  const nodes = new Map<string, NodeEntry>();
  for (const node of options.nodes) {
    nodes.set(node.description.id.toLowerCase(), { node, token: undefined, liveAttempt: false, blockedUntil: -Infinity });
  }
  const attempts = new Map<string, AttemptEntry>();
  const lan = createLanServer({
    endpoint: options.endpoint,
    nodes: options.nodes.map((n) => n.description),
    options: options.lan,
    clock: options.clock,
    now,
    event,
    onError: options.onError,
  });
  const tokenServers = new Map<string, Actor<typeof tokenServerMachine>>();
  const sockets = new Map<string, Set<Transport>>();
  // Set once the HTTPS server below is listening (to its bound address unless options.publicUrl says otherwise).
  let publicUrl = options.publicUrl;

  const entryOf = (nodeId: string | undefined): NodeEntry => {
    const entry = nodes.get((nodeId ?? (nodes.size === 1 ? [...nodes.keys()][0]! : '')).toLowerCase());
    if (entry === undefined) throw new S2ConnectError('NodeNotFound', { additionalInfo: 'no such node on this endpoint' });
    return entry;
  };
  const baseUrl = (): string => {
    if (publicUrl === undefined) throw new Error('S2 Connect server is not listening yet');
    return publicUrl;
  };

  // ---- pairing (S2 Connect §3.3–3.6) ----

  const requestPairing = (req: RouteRequest): RouteAnswer => {
    const parsed = parse('RequestPairingRequest', req.body, 'pairing');
    if ('answer' in parsed) return parsed.answer;
    const body = parsed.value;
    if (!body.supportedHmacHashingAlgorithms.includes(HMAC_SHA256)) return pairingError('IncompatibleHmacHashingAlgorithms');
    const clientId = body.clientNodeDescription.id;
    // A code typed here for a long-polling client names the node it was typed for (requestPairingFrom).
    const offeredNode = lan.offeredNode(clientId);
    let entry: NodeEntry | undefined;
    if (body.nodeId !== undefined) entry = nodes.get(body.nodeId);
    else if (body.nodeIdAlias !== undefined) entry = [...nodes.values()].find((n) => n.node.alias === body.nodeIdAlias);
    else if (offeredNode !== undefined) entry = nodes.get(offeredNode);
    else if (nodes.size === 1) entry = [...nodes.values()][0];
    else return pairingError('NoNodeIdProvided');
    if (entry === undefined) return pairingError('NodeNotFound');
    // One live attempt per node, and a pause after each failure (S2 Connect hostile cases): with a
    // long-lived token, parallel attempts would make this server a reflection oracle, and quick
    // retries a guessing oracle. Successful pairings follow each other without delay (a gateway
    // pairing five devices).
    if (entry.liveAttempt || now() < entry.blockedUntil) return { status: 503, headers: { 'Retry-After': '1' } };
    const server = entry.node.description;
    // The client's own code typed here is one-time too: used up by this request, whatever happens next.
    const offered = lan.takeOffer(clientId, server.id);
    const refused = (answer: RouteAnswer): RouteAnswer => {
      entry.blockedUntil = now() + S2_CONNECT_TIMEOUTS.attemptSpacingMs;
      if (offered !== undefined) lan.pairingEnded(clientId, server.id, false);
      return answer;
    };
    const token = offered !== undefined ? { bytes: offered, expiresAt: undefined } : entry.token;
    if (token === undefined || (token.expiresAt !== undefined && now() >= token.expiresAt))
      return refused(pairingError('NoValidPairingTokenOnPairingServer'));
    // A one-time token is used up by the first attempt, whatever happens next (RS order).
    if (offered === undefined && token.expiresAt !== undefined) entry.token = undefined;
    if (body.clientNodeDescription.role === server.role) return refused(pairingError('InvalidCombinationOfRoles'));
    if (!body.forcePairing) {
      if (!body.supportedCommunicationProtocols.includes(WEBSOCKET)) return refused(pairingError('IncompatibleCommunicationProtocols'));
      if (!body.supportedS2MessageVersions.some((v) => versionsOf(server.role).includes(v)))
        return refused(pairingError('IncompatibleS2MessageVersions'));
    }
    // Reflection (S2 Connect §8): a client challenge equivalent to a server challenge still out there
    // would make us compute the very response that attempt is waiting for.
    for (const attempt of attempts.values()) {
      if (challengesEquivalent(attempt.serverChallenge, body.clientHmacChallenge))
        return refused(pairingError('Other', 'challenge refused'));
    }
    let step: 'request' | 'post';
    try {
      step = expectedStep({
        clientRole: body.clientNodeDescription.role,
        clientDeployment: body.clientEndpointDescription.deployment ?? deployment,
        serverRole: server.role,
        serverDeployment: deployment,
      });
    } catch {
      return refused(pairingError('InvalidCombinationOfRoles'));
    }
    const serverChallenge = randomChallenge(SERVER_CHALLENGE_BYTES);
    const expected = hmacResponse(serverChallenge, token.bytes, leafFingerprint);
    const attemptId = randomToken(SECRET_BYTES);
    const actor = createActor(
      pairingServerAttemptMachine.provide({
        actors: {
          persistPairing: fromPromise<void, { readonly pairing: Sealed<PairingToPersist> }>(async ({ input }) => {
            const { record, tokens } = input.pairing.reveal();
            await store.put(record, tokens);
          }),
        },
      }),
      {
        ...actorOptions,
        input: {
          expectedStep: step,
          verifyResponse: (r) => constantTimeEqual(r, expected),
          lifetimeMs: S2_CONNECT_TIMEOUTS.attemptLifetimeMs,
        },
      },
    );
    const key = hashToken(attemptId);
    attempts.set(key, {
      actor,
      nodeId: server.id,
      serverChallenge,
      client: { node: body.clientNodeDescription, endpoint: body.clientEndpointDescription, versions: body.supportedS2MessageVersions },
    });
    entry.liveAttempt = true;
    actor.subscribe({
      complete: () => {
        attempts.delete(key);
        entry.liveAttempt = false;
        const output = actor.getSnapshot().output;
        if (offered !== undefined) lan.pairingEnded(clientId, server.id, output?.outcome === 'paired');
        if (output?.outcome === 'paired') {
          const pairing = actor.getSnapshot().context.pairing?.reveal().record;
          if (pairing) event({ type: 'paired', pairing });
        } else {
          entry.blockedUntil = now() + S2_CONNECT_TIMEOUTS.attemptSpacingMs;
          event({ type: 'pairing-failed', nodeId: server.id, outcome: output?.outcome ?? 'unknown' });
        }
      },
      error: (err) => options.onError?.(err),
    });
    actor.start();
    return {
      status: 200,
      body: writeBody('RequestPairingResponse', {
        pairingAttemptId: attemptId,
        serverNodeDescription: server,
        serverEndpointDescription: options.endpoint,
        selectedHmacHashingAlgorithm: HMAC_SHA256,
        clientHmacChallengeResponse: hmacResponse(body.clientHmacChallenge, token.bytes, leafFingerprint),
        serverHmacChallenge: serverChallenge,
      }),
    };
  };

  const attemptOf = (req: RouteRequest): AttemptEntry | undefined =>
    req.bearer === undefined ? undefined : attempts.get(hashToken(req.bearer));

  const recordFor = (attempt: AttemptEntry, role: 'server' | 'client', details?: ConnectionDetails): PairingRecord => {
    const local = nodes.get(attempt.nodeId)!.node.description;
    return {
      localNodeId: local.id,
      remoteNodeId: attempt.client.node.id,
      localRole: local.role,
      remoteNode: attempt.client.node,
      remoteEndpoint: attempt.client.endpoint,
      communicationRole: role,
      pairedAt: new Date(now()).toISOString(),
      ...(role === 'server' ? { remoteMessageVersions: attempt.client.versions } : {}),
      ...(details !== undefined ? { initiateSessionUrl: details.initiateSessionUrl } : {}),
      ...(details?.certificateFingerprint !== undefined ? { rootPin: encodeBase64(details.certificateFingerprint) } : {}),
    };
  };

  const newConnectionDetails = (): ConnectionDetails => ({
    initiateSessionUrl: baseUrl(),
    accessToken: randomToken(SECRET_BYTES),
    ...(rootFingerprint !== undefined ? { certificateFingerprint: rootFingerprint } : {}),
  });

  const requestConnectionDetails = (req: RouteRequest): RouteAnswer => {
    const attempt = attemptOf(req);
    if (attempt === undefined) return UNAUTHORIZED;
    const parsed = parse('RequestConnectionDetailsRequest', req.body, 'pairing');
    if ('answer' in parsed) return parsed.answer;
    const details = newConnectionDetails();
    attempt.actor.send({
      type: 'REQUEST_DETAILS',
      response: seal(parsed.value.serverHmacChallengeResponse),
      details: seal(details),
      pairing: seal({ record: recordFor(attempt, 'server'), tokens: [hashToken(details.accessToken)] }),
    });
    return replyAnswer(attempt.actor.getSnapshot().context.reply, 'ConnectionDetails');
  };

  const postConnectionDetails = (req: RouteRequest): RouteAnswer => {
    const attempt = attemptOf(req);
    if (attempt === undefined) return UNAUTHORIZED;
    const parsed = parse('PostConnectionDetailsRequest', req.body, 'pairing');
    if ('answer' in parsed) return parsed.answer;
    const { connectionDetails } = parsed.value;
    attempt.actor.send({
      type: 'POST_DETAILS',
      response: seal(parsed.value.serverHmacChallengeResponse),
      pairing: seal({ record: recordFor(attempt, 'client', connectionDetails), tokens: [connectionDetails.accessToken] }),
    });
    return replyAnswer(attempt.actor.getSnapshot().context.reply);
  };

  const finalizePairing = async (req: RouteRequest): Promise<RouteAnswer> => {
    const attempt = attemptOf(req);
    if (attempt === undefined) return UNAUTHORIZED;
    const parsed = parse('FinalizePairingRequest', req.body, 'pairing');
    if ('answer' in parsed) return parsed.answer;
    const alreadyPersisting = attempt.actor.getSnapshot().matches('persisting');
    attempt.actor.send({ type: 'FINALIZE', success: parsed.value.success });
    // Only the finalize that started persisting waits for (and answers with) its outcome; a repeated one arriving
    // meanwhile is an already finalized attempt, answered from the machine's reply (401).
    if (!alreadyPersisting && attempt.actor.getSnapshot().matches('persisting')) {
      const done = await waitFor(attempt.actor, (s) => s.status === 'done');
      return replyAnswer(done.output?.reply);
    }
    return replyAnswer(attempt.actor.getSnapshot().context.reply);
  };

  // ---- session initiation (S2 Connect §4) ----

  const tokenServerOf = (record: PairingRecord): Actor<typeof tokenServerMachine> => {
    const key = pairKey(record.localNodeId, record.remoteNodeId);
    let actor = tokenServers.get(key);
    if (actor !== undefined && actor.getSnapshot().status === 'active') return actor;
    actor = createActor(
      tokenServerMachine.provide({
        actors: {
          swapTokens: fromPromise(({ input }: { input: { expectedVersion: number; tokenHash: string } }) =>
            store.swapTokens(record.localNodeId, record.remoteNodeId, input.expectedVersion, [input.tokenHash]),
          ),
          issueWebsocketToken: fromPromise(async ({ input }: { input: { messageVersion: string } }) => {
            const token = randomToken(SECRET_BYTES);
            await store.putOneTime(
              'websocket',
              hashToken(token),
              { localNodeId: record.localNodeId, remoteNodeId: record.remoteNodeId, messageVersion: input.messageVersion },
              now() + S2_CONNECT_TIMEOUTS.websocketTokenMs,
            );
            const url = new URL(WEBSOCKET_PATH, baseUrl());
            url.protocol = 'wss:';
            return seal({ communicationProtocol: 'WebSocket' as const, websocketToken: token, websocketUrl: url.toString() });
          }),
        },
      }),
      { ...actorOptions, input: { pendingLifetimeMs: S2_CONNECT_TIMEOUTS.pendingAccessTokenMs } },
    );
    actor.subscribe({ error: (err) => options.onError?.(err) });
    actor.start();
    tokenServers.set(key, actor);
    return actor;
  };

  /** The pairing a session-API call is about, authenticated by its bearer access token. */
  const authenticate = async (
    req: RouteRequest,
    localNodeId: string,
    remoteNodeId: string,
  ): Promise<{ record: PairingRecord; version: number } | RouteAnswer> => {
    if (req.bearer === undefined) return UNAUTHORIZED;
    const found = await store.get(localNodeId, remoteNodeId);
    if (found === undefined || found.record.communicationRole !== 'server') {
      // RS answers NoLongerPaired before looking at the token: the tombstone is no secret.
      if (await store.isTombstoned(localNodeId, remoteNodeId)) return sessionError('NoLongerPaired');
      return UNAUTHORIZED;
    }
    const stored = found.tokens.tokens[0];
    if (stored === undefined || !constantTimeEqual(hashToken(req.bearer), stored)) return UNAUTHORIZED;
    return { record: found.record, version: found.tokens.version };
  };

  const initiateSession = async (req: RouteRequest): Promise<RouteAnswer> => {
    if (req.bearer === undefined) return UNAUTHORIZED;
    const parsed = parse('InitiateSessionRequest', req.body, 'session');
    if ('answer' in parsed) return parsed.answer;
    const body = parsed.value;
    const auth = await authenticate(req, body.serverNodeId, body.clientNodeId);
    if ('status' in auth) return auth;
    let { record, version } = auth;
    if (!body.supportedCommunicationProtocols.includes(WEBSOCKET)) return sessionError('IncompatibleCommunicationProtocols');
    // The client's order decides (S2 Connect §4.1).
    const messageVersion = body.supportedS2MessageVersions.find((v) => versionsOf(record.localRole).includes(v));
    if (messageVersion === undefined) return sessionError('IncompatibleS2MessageVersions');
    // An update may change how the client node describes itself, never who (id) or what (role) it is: the stored
    // record would contradict its own key, and a CEM–CEM "pairing" could be made out of a CEM–RM one.
    if (body.clientNodeDescription !== undefined && body.clientNodeDescription.id !== record.remoteNodeId) {
      return {
        status: 400,
        body: S2ConnectError.parsing([{ path: '$.clientNodeDescription.id', message: 'must equal clientNodeId' }]).toBody('session'),
      };
    }
    if (body.clientNodeDescription !== undefined && body.clientNodeDescription.role !== record.remoteNode.role)
      return sessionError('Other', 'a node cannot change its role');
    if (body.clientNodeDescription !== undefined || body.clientEndpointDescription !== undefined) {
      // Updated descriptions replace the stored ones; done before minting so the CAS expects the new version.
      const updated: PairingRecord = {
        ...record,
        remoteNode: body.clientNodeDescription ?? record.remoteNode,
        remoteEndpoint: body.clientEndpointDescription ?? record.remoteEndpoint,
      };
      const current = await store.get(record.localNodeId, record.remoteNodeId);
      if (current === undefined || current.tokens.version !== version) return UNAUTHORIZED;
      await store.put(updated, current.tokens.tokens);
      const after = await store.get(record.localNodeId, record.remoteNodeId);
      if (after === undefined) return UNAUTHORIZED;
      record = after.record;
      version = after.tokens.version;
    }
    const accessToken = randomToken(SECRET_BYTES);
    const tokenHash = hashToken(accessToken);
    const local = nodes.get(record.localNodeId);
    const actor = tokenServerOf(record);
    actor.send({
      type: 'INITIATE',
      pending: { tokenHash, authorizedByVersion: version, messageVersion },
      answer: seal({
        selectedCommunicationProtocol: WEBSOCKET,
        selectedS2MessageVersion: messageVersion,
        accessToken,
        ...(local ? { serverNodeDescription: local.node.description } : {}),
        serverEndpointDescription: options.endpoint,
      }),
    });
    const reply = actor.getSnapshot().context.reply;
    if (reply?.status === 200) {
      await store.putOneTime(
        'pending-access',
        tokenHash,
        { localNodeId: record.localNodeId, remoteNodeId: record.remoteNodeId, authorizedByVersion: version, messageVersion },
        now() + S2_CONNECT_TIMEOUTS.pendingAccessTokenMs,
        pairKey(record.localNodeId, record.remoteNodeId),
      );
      event({ type: 'session-initiated', pairing: record, messageVersion });
    }
    return replyAnswer(reply, 'InitiateSessionResponse');
  };

  const confirmAccessToken = async (req: RouteRequest): Promise<RouteAnswer> => {
    if (req.bearer === undefined) return UNAUTHORIZED;
    const tokenHash = hashToken(req.bearer);
    const pending = await store.takeOneTime('pending-access', tokenHash, now());
    if (pending === undefined) return UNAUTHORIZED;
    const found = await store.get(pending.localNodeId, pending.remoteNodeId);
    if (found === undefined) return UNAUTHORIZED;
    const actor = tokenServerOf(found.record);
    actor.send({ type: 'CONFIRM', tokenHash });
    const settled = await waitFor(actor, (s) => !s.matches('swapping') && !s.matches('issuing'));
    return replyAnswer(settled.context.reply, 'CommunicationDetails');
  };

  const closeSockets = (local: string, remote: string): void => {
    const set = sockets.get(pairKey(local, remote));
    for (const transport of set ?? []) transport.close(CloseCode.NORMAL, 'unpaired');
  };

  const removePairing = async (local: string, remote: string, by: 'peer' | 'local'): Promise<boolean> => {
    const removed = await store.remove(local, remote, { tombstone: true });
    tokenServers.get(pairKey(local, remote))?.send({ type: 'UNPAIR' });
    tokenServers.delete(pairKey(local, remote));
    closeSockets(local, remote);
    if (removed) event({ type: 'unpaired', localNodeId: local, remoteNodeId: remote, by });
    return removed;
  };

  const unpairRoute = async (req: RouteRequest): Promise<RouteAnswer> => {
    if (req.bearer === undefined) return UNAUTHORIZED;
    const parsed = parse('UnpairRequest', req.body, 'session');
    if ('answer' in parsed) return parsed.answer;
    const auth = await authenticate(req, parsed.value.serverNodeId, parsed.value.clientNodeId);
    // Unpair answers 401 for everything it refuses, a tombstone included (S2 Connect §4.3).
    if ('status' in auth) return auth.status === 400 ? UNAUTHORIZED : auth;
    await removePairing(auth.record.localNodeId, auth.record.remoteNodeId, 'peer');
    return { status: 204 };
  };

  const authorizeWebSocket = async (req: http.IncomingMessage): Promise<UpgradeVerdict> => {
    const bearer = bearerOf(req.headers.authorization);
    const refuse: UpgradeVerdict = { ok: false, status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="s2connect"' } };
    if (bearer === undefined) return refuse;
    const payload = await store.takeOneTime('websocket', hashToken(bearer), now());
    if (payload === undefined) return refuse;
    const found = await store.get(payload.localNodeId, payload.remoteNodeId);
    if (found === undefined) return refuse;
    return {
      ok: true,
      context: { pairing: found.record, messageVersion: payload.messageVersion ?? versionsOf(found.record.localRole)[0] ?? S2_VERSION },
    };
  };

  const routes: Route[] = [
    { method: 'POST', path: 'v1/requestPairing', handle: requestPairing },
    { method: 'POST', path: 'v1/requestConnectionDetails', handle: requestConnectionDetails },
    { method: 'POST', path: 'v1/postConnectionDetails', handle: postConnectionDetails },
    { method: 'POST', path: 'v1/finalizePairing', handle: finalizePairing },
    // Both spellings of the session path (S2 Connect §8 row 1).
    { method: 'POST', path: 'v1/initiateSession', handle: initiateSession },
    { method: 'POST', path: 'v1/initiateConnection', handle: initiateSession },
    { method: 'POST', path: 'v1/confirmAccessToken', handle: confirmAccessToken },
    { method: 'POST', path: 'v1/unpair', handle: unpairRoute },
    // LAN-only extensions (S2 Connect §3.9): gated inside (WAN ⇒ 404, off-LAN ⇒ 401).
    ...lan.routes,
    // A plain request on the WebSocket path (no upgrade: those never reach the routes) is answered 426, not
    // left to the router's 404 (digest §9: 400, 426 acceptable). RFC 9110 requires the Upgrade header with 426.
    { method: 'GET', path: WEBSOCKET_PATH, handle: (): RouteAnswer => ({ status: 426, headers: { Upgrade: 'websocket' } }) },
  ].map((route) => ({
    ...route,
    method: route.method as Route['method'],
    handle: async (req: RouteRequest) => {
      const answer = await route.handle(req);
      if (answer.status >= 400) {
        const errorMessage = (answer.body as { errorMessage?: string } | undefined)?.errorMessage;
        event({ type: 'refused', path: route.path, status: answer.status, errorMessage, remoteAddress: req.remoteAddress });
      }
      return answer;
    },
  }));

  const basePath = options.publicUrl === undefined ? '/' : new URL(options.publicUrl).pathname;
  const http = await createConnectHttpServer({
    tls: options.tls,
    host: options.host,
    port: options.port,
    basePath,
    routes,
    maxBodyBytes: options.maxBodyBytes,
    maxHeaderBytes: options.maxHeaderBytes,
    throttle: options.throttle,
    now,
    onError: options.onError,
  });
  if (publicUrl === undefined) {
    publicUrl = options.hostname === undefined ? http.boundUrl : `https://${options.hostname}:${http.port}/`;
  }

  let ws: WsServer;
  try {
    ws = await createWsServer({
      ...options.websocket,
      server: http.server,
      path: `${basePath}${WEBSOCKET_PATH}`,
      authorize: authorizeWebSocket,
      onError: options.onError,
      onConnection: (transport, info) => {
        const { pairing, messageVersion } = info.authorization as { pairing: PairingRecord; messageVersion: string };
        const key = pairKey(pairing.localNodeId, pairing.remoteNodeId);
        const set = sockets.get(key) ?? new Set<Transport>();
        sockets.set(key, set);
        set.add(transport);
        const forget = (): void => {
          set.delete(transport);
          if (set.size === 0) sockets.delete(key);
        };
        options.onConnection(withCloseHook(transport, forget), { ...info, pairing, messageVersion });
      },
    });
  } catch (err) {
    await http.close();
    throw err;
  }

  // A pairing removed behind our back (another process on the same store) ends its sessions.
  const watchMs = options.watchMs ?? 5_000;
  const watch =
    watchMs > 0
      ? setInterval(() => {
          for (const key of sockets.keys()) {
            const [local, remote] = key.split('/') as [string, string];
            store.get(local, remote).then(
              (found) => found === undefined && closeSockets(local, remote),
              (err: unknown) => options.onError?.(err),
            );
          }
        }, watchMs)
      : undefined;
  watch?.unref();

  const offer = (entry: NodeEntry, bytes: Uint8Array, expiresAt: number | undefined): PairingCodeOffer => {
    entry.token = { bytes, expiresAt };
    return { code: formatPairingCode(entry.node.alias, bytes), expiresAt };
  };

  return {
    get url() {
      return baseUrl();
    },
    port: http.port,
    httpsServer: http.server,
    allowPairingOnce(nodeId) {
      return offer(entryOf(nodeId), randomChallenge(ONE_TIME_TOKEN_BYTES), now() + S2_CONNECT_TIMEOUTS.oneTimeTokenMs);
    },
    allowPairingRepeated(token, nodeId) {
      const bytes =
        token === undefined ? randomChallenge(LONG_LIVED_TOKEN_BYTES) : decodeBase64Strict(token, { minBytes: ONE_TIME_TOKEN_BYTES });
      if (bytes === undefined)
        throw new S2ConnectError('InvalidPairingCode', {
          additionalInfo: `a pairing token is standard base64 of at least ${ONE_TIME_TOKEN_BYTES} random bytes`,
        });
      return offer(entryOf(nodeId), bytes, undefined);
    },
    disallowPairing(nodeId) {
      for (const entry of nodeId === undefined ? nodes.values() : [entryOf(nodeId)]) entry.token = undefined;
    },
    newConnectionDetails,
    unpair: (local, remote) => removePairing(local.toLowerCase(), remote.toLowerCase(), 'local'),
    waitingClients: () => lan.waitingClients(),
    askClient: (clientNodeId, action) => lan.askClient(clientNodeId, action),
    requestPairingFrom(clientNodeId, code, serverNodeId) {
      if (serverNodeId === undefined && nodes.size > 1)
        throw new S2ConnectError('NoNodeIdProvided', { additionalInfo: 'name the node of this endpoint to pair the client with' });
      const { code: typed, expiresAt } = lan.requestPairingFrom(clientNodeId, code, entryOf(serverNodeId).node.description.id);
      return { code: typed, expiresAt };
    },
    setLongPolling: (enabled) => lan.setLongPolling(enabled),
    async close() {
      clearInterval(watch);
      lan.close();
      for (const attempt of attempts.values()) attempt.actor.stop();
      for (const actor of tokenServers.values()) actor.stop();
      await ws.close();
      await http.close();
    },
  };
}

/** The transport, with the server's bookkeeping run when it closes (before the session hears of it). */
function withCloseHook(transport: Transport, hook: () => void): Transport {
  return {
    get peer() {
      return transport.peer;
    },
    get isOpen() {
      return transport.isOpen;
    },
    send: (text) => transport.send(text),
    close: (code, reason) => transport.close(code, reason),
    start: (handlers) =>
      transport.start({
        ...handlers,
        close: (code, reason) => {
          hook();
          handlers.close(code, reason);
        },
      }),
  };
}
