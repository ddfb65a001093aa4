import { createActor, fromPromise, toPromise } from 'xstate';
import type { SessionClock } from '../roles/types.js';
import { connectWs, type WsClientOptions } from '../transport/ws-client.js';
import type { Transport } from '../transport/transport.js';
import { DEFAULT_VERSIONS } from '../typebox/versions.js';
import {
  CLIENT_CHALLENGE_BYTES,
  MIN_PAIRING_TOKEN_BYTES,
  challengesEquivalent,
  constantTimeEqual,
  encodeBase64,
  hashToken,
  hmacResponse,
  parsePairingCode,
  randomChallenge,
} from './crypto.js';
import { bindsLeafCertificate, communicationRoleOf, remoteDeploymentOf } from './deployment.js';
import { S2ConnectError } from './errors.js';
import { httpCall, type HttpAnswer } from './http/https-client.js';
import { fetchPinnedRoot, lookupWith, tlsOptionsFor, type HostResolver, type TlsTrust } from './http/tls-trust.js';
import {
  pairingClientAttemptMachine,
  seal,
  tokenClientMachine,
  type DetailsCallInput,
  type InitiateAnswer,
  type PairingClientPersistInput,
  type PairingOffer,
  type Sealed,
  type StoredTokens,
  type StoreTokensResult,
  type WebSocketDetails,
} from './machines/index.js';
import type { PairingRecord, PairingStore } from './store/pairing-store.js';
import {
  HMAC_SHA256,
  WEBSOCKET,
  errorFromResponse,
  readBody,
  writeBody,
  type BodyKind,
  type BodyValues,
  type ConnectionDetails,
  type Deployment,
  type EndpointDescription,
  type NodeDescription,
} from './wire/index.js';

/** What every S2 Connect client call needs besides its own arguments. */
export interface S2ConnectClientOptions {
  readonly store: PairingStore;
  /** Extra trusted roots (PEM) for WAN servers, on top of the public ones: tests and development. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined;
  /** Host names resolved without DNS/mDNS (tests; hosts without an mDNS resolver). */
  readonly resolve?: HostResolver | undefined;
  /** Per HTTPS call; default 10 s. */
  readonly timeoutMs?: number | undefined;
  /** S2 message versions offered, preferred first; default by this node's role, as for sessions (`DEFAULT_VERSIONS`: a CEM both, newest first; an RM 0.0.2-beta). */
  readonly messageVersions?: readonly string[] | undefined;
  /** XState clock of the attempt machines (tests). */
  readonly clock?: SessionClock | undefined;
  readonly now?: (() => number) | undefined;
}

export interface PairOptions extends S2ConnectClientOptions {
  /** The pairing code the user typed: `token` or `alias-token` (S2 Connect §3.2). */
  readonly code: string;
  /** The pairing server's base URL, e.g. `https://battery.local:8443/`. */
  readonly pairingUrl: string;
  /** This node. */
  readonly node: NodeDescription;
  /** This endpoint; `deployment` decides who serves the sessions (S2 Connect §1). */
  readonly endpoint: EndpointDescription & { readonly deployment: Deployment };
  /** The target node's id when known (from a node list); else the code's alias or the endpoint's only node. */
  readonly nodeId?: string | undefined;
  /**
   * Needed when this node becomes the communication server (S2 Connect §3.5b): what to post, from
   * this node's own S2 Connect server (`server.newConnectionDetails()`).
   */
  readonly ownConnectionDetails?: ConnectionDetails | undefined;
}

export interface ConnectPairedOptions extends S2ConnectClientOptions {
  /** Which pairing; default the only one in the store in which this node is the communication client. */
  readonly localNodeId?: string | undefined;
  readonly remoteNodeId?: string | undefined;
  /** Updated descriptions sent along with `initiateSession` (absent: the server keeps what it has). */
  readonly node?: NodeDescription | undefined;
  readonly endpoint?: EndpointDescription | undefined;
  /** WebSocket limits of the session (frame size, heartbeat …). */
  readonly websocket?:
    | Pick<
        WsClientOptions,
        | 'maxFrameBytes'
        | 'heartbeatMs'
        | 'pongTimeoutMs'
        | 'sendHighWaterMark'
        | 'closeTimeoutMs'
        | 'handshakeTimeoutMs'
        | 'perMessageDeflate'
        | 'receiveBudget'
      >
    | undefined;
}

export interface PairedConnection {
  readonly transport: Transport;
  /** The S2 message version agreed in `initiateSession`: the Handshake must select it. */
  readonly messageVersion: string;
  readonly pairing: PairingRecord;
}

const API = { pairing: 'pairing', session: 'session' } as const;

/** A failed call as the machines read it: S2ConnectError with the HTTP status and the OpenAPI error name. */
function failure(api: 'pairing' | 'session', answer: HttpAnswer): S2ConnectError {
  return errorFromResponse(api, answer.status, answer.json);
}

/** The body of an answer as `kind`, or S2ConnectError `UnexpectedResponse` naming the call (`what`) and the problems. */
export function read<K extends BodyKind>(kind: K, answer: HttpAnswer, what = `the ${kind} body`): BodyValues[K] {
  const result = readBody(kind, answer.json);
  if (!result.ok)
    throw new S2ConnectError('UnexpectedResponse', {
      httpStatus: answer.status,
      problems: result.problems,
      additionalInfo: `${what} does not read as ${kind}`,
    });
  return result.value;
}

/**
 * The versioned base of a server (S2 Connect §3.1): `GET <base>` lists the API versions; `v1` must be
 * among them. A server that does not serve the list (404) is assumed to speak `v1` (§8 row 7).
 */
async function apiBase(baseUrl: string, call: (url: URL) => Promise<HttpAnswer>): Promise<URL> {
  const base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const answer = await asConnectError('GET of the API versions failed', () => call(base));
  if (answer.status === 200) {
    const versions = readBody('ApiVersions', answer.json);
    if (!versions.ok || !versions.value.includes('v1'))
      throw new S2ConnectError('UnsupportedSelection', { additionalInfo: 'the server does not speak S2 Connect API v1' });
  } else if (answer.status !== 404) {
    throw S2ConnectError.ofStatus(answer.status, 'GET of the API versions failed');
  }
  return new URL('v1/', base);
}

/**
 * Runs a step that happens before the machines do (TLS pin fetch, version probe): whatever it rejects with
 * becomes the S2ConnectError the API promises (`TransportFailed` unless it already is one, e.g. the pin's
 * `InvalidCertificate`), the original kept as `cause`.
 */
export async function asConnectError<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof S2ConnectError) throw err;
    throw new S2ConnectError('TransportFailed', { additionalInfo: what, cause: err });
  }
}

/** The S2ConnectError a failed machine output stands for. */
function errorOfFailure(f: { reason: string; httpStatus?: number; errorMessage?: string; cause?: unknown }, what: string): S2ConnectError {
  if (f.cause instanceof S2ConnectError) return f.cause;
  const name =
    f.reason === 'wrong-server-response' ? 'HmacMismatch' : f.reason === 'persist-failed' ? 'StorageFailed' : 'UnsupportedSelection';
  return new S2ConnectError(f.reason.startsWith('http-') || f.reason === 'request-failed' ? 'TransportFailed' : name, {
    ...(f.httpStatus === undefined ? {} : { httpStatus: f.httpStatus }),
    additionalInfo: `${what}: ${f.reason}`,
    ...(f.cause === undefined ? {} : { cause: f.cause }),
  });
}

/**
 * Pairs this node with the node behind `pairingUrl` using the pairing code the user typed (S2 Connect §3),
 * stores the pairing and resolves with it. On a `.local` URL the server's certificate is trusted on first
 * use and bound into the HMAC; afterwards its root is pinned. Rejects with an S2ConnectError whose
 * `errorMessage` is the OpenAPI error name the server answered (e.g. `NoValidPairingTokenOnPairingServer`).
 */
export async function pair(options: PairOptions): Promise<PairingRecord> {
  const { alias, token } = parsePairingCode(options.code, { minTokenBytes: MIN_PAIRING_TOKEN_BYTES });
  const versions: readonly string[] = options.messageVersions ?? DEFAULT_VERSIONS[options.node.role];
  const lan = bindsLeafCertificate(options.pairingUrl);
  const challenge = randomChallenge(CLIENT_CHALLENGE_BYTES);
  const webpki: TlsTrust = { kind: 'webpki', ca: options.ca };
  // LAN: first use for the version probe and requestPairing (nothing secret in them), then the root
  // and leaf seen there are pinned for the calls that carry the attempt id.
  let pinned: TlsTrust | undefined;
  const common = { resolve: options.resolve, timeoutMs: options.timeoutMs };
  const get = (url: URL): Promise<HttpAnswer> => httpCall({ ...common, url, method: 'GET', trust: lan ? { kind: 'first-use' } : webpki });
  const base = await apiBase(options.pairingUrl, get);
  const post = (path: string, body: unknown, bearer?: Sealed<string>): Promise<HttpAnswer> =>
    httpCall({ ...common, url: new URL(path, base), method: 'POST', body, bearer: bearer?.reveal(), trust: pinned ?? webpki });

  const actors = {
    requestPairing: fromPromise<PairingOffer, void>(async () => {
      const body = writeBody('RequestPairingRequest', {
        clientNodeDescription: options.node,
        clientEndpointDescription: options.endpoint,
        ...(options.nodeId !== undefined ? { nodeId: options.nodeId } : alias !== undefined ? { nodeIdAlias: alias } : {}),
        supportedCommunicationProtocols: [WEBSOCKET],
        supportedS2MessageVersions: [...versions],
        supportedHmacHashingAlgorithms: [HMAC_SHA256],
        clientHmacChallenge: challenge,
        forcePairing: false,
      });
      const answer = await httpCall({
        ...common,
        url: new URL('requestPairing', base),
        method: 'POST',
        body,
        trust: lan ? { kind: 'first-use' } : webpki,
      });
      if (answer.status !== 200) throw failure(API.pairing, answer);
      const offer = read('RequestPairingResponse', answer);
      const chain = answer.chain;
      if (lan) {
        if (chain === undefined) throw new S2ConnectError('InvalidCertificate', { additionalInfo: 'no certificate chain seen' });
        pinned = { kind: 'pinned', rootPin: chain.rootPin, rootPem: chain.rootPem, leafFingerprint: chain.leafFingerprint };
      }
      return {
        attemptId: seal(offer.pairingAttemptId),
        serverNode: offer.serverNodeDescription,
        serverEndpoint: offer.serverEndpointDescription,
        selectedHmacHashingAlgorithm: offer.selectedHmacHashingAlgorithm,
        clientHmacChallengeResponse: seal(offer.clientHmacChallengeResponse),
        serverHmacChallenge: offer.serverHmacChallenge,
        ...(lan && chain ? { leafFingerprint: chain.leafFingerprint, rootFingerprint: Buffer.from(chain.rootPin, 'base64') } : {}),
      };
    }),
    requestConnectionDetails: fromPromise<Sealed<ConnectionDetails>, DetailsCallInput>(async ({ input }) => {
      const answer = await post(
        'requestConnectionDetails',
        writeBody('RequestConnectionDetailsRequest', { serverHmacChallengeResponse: input.serverHmacChallengeResponse.reveal() }),
        input.attemptId,
      );
      if (answer.status !== 200) throw failure(API.pairing, answer);
      return seal(read('ConnectionDetails', answer));
    }),
    postConnectionDetails: fromPromise<void, DetailsCallInput & { readonly connectionDetails: Sealed<ConnectionDetails> }>(
      async ({ input }) => {
        const body = writeBody('PostConnectionDetailsRequest', {
          serverHmacChallengeResponse: input.serverHmacChallengeResponse.reveal(),
          connectionDetails: input.connectionDetails.reveal(),
        });
        const answer = await post('postConnectionDetails', body, input.attemptId);
        if (answer.status !== 204 && answer.status !== 200) throw failure(API.pairing, answer);
      },
    ),
    finalize: fromPromise<void, { readonly attemptId: Sealed<string>; readonly success: boolean }>(async ({ input }) => {
      const answer = await post('finalizePairing', writeBody('FinalizePairingRequest', { success: input.success }), input.attemptId);
      if (answer.status !== 204 && answer.status !== 200) throw failure(API.pairing, answer);
    }),
    persist: fromPromise<PairingRecord, PairingClientPersistInput>(async ({ input }) => {
      const details = input.connectionDetails.reveal();
      const server = input.communicationRole === 'server';
      const pin = details.certificateFingerprint ?? (bindsLeafCertificate(details.initiateSessionUrl) ? input.rootFingerprint : undefined);
      const record: PairingRecord = {
        localNodeId: options.node.id,
        remoteNodeId: input.serverNode.id,
        localRole: options.node.role,
        remoteNode: input.serverNode,
        remoteEndpoint: input.serverEndpoint,
        communicationRole: input.communicationRole,
        pairedAt: new Date((options.now ?? Date.now)()).toISOString(),
        // As CS we do not learn the pairing server's message versions (requestPairing's answer has none), so
        // remoteMessageVersions stays absent rather than holding our own list.
        ...(server ? {} : { initiateSessionUrl: details.initiateSessionUrl }),
        ...(!server && pin !== undefined ? { rootPin: encodeBase64(pin) } : {}),
      };
      await options.store.put(record, [server ? hashToken(details.accessToken) : details.accessToken]);
      return record;
    }),
    discard: fromPromise<void, { readonly record: PairingRecord }>(async ({ input }) => {
      await options.store.remove(input.record.localNodeId, input.record.remoteNodeId);
    }),
  };

  const actor = createActor(pairingClientAttemptMachine.provide({ actors }), {
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    input: {
      ownRole: options.node.role,
      offeredHmacAlgorithms: [HMAC_SHA256],
      hmac: {
        verifyClientChallengeResponse: (response, leaf) => constantTimeEqual(response, hmacResponse(challenge, token, leaf)),
        isOwnChallenge: (serverChallenge) => challengesEquivalent(serverChallenge, challenge),
        respond: (serverChallenge, leaf) => hmacResponse(serverChallenge, token, leaf),
      },
      communicationRoleWith: (serverNode, serverEndpoint) =>
        communicationRoleOf('pairingClient', {
          clientRole: options.node.role,
          clientDeployment: options.endpoint.deployment,
          serverRole: serverNode.role,
          serverDeployment: remoteDeploymentOf(serverEndpoint, options.pairingUrl) ?? 'WAN',
        }),
      ...(options.ownConnectionDetails === undefined ? {} : { ownConnectionDetails: seal(options.ownConnectionDetails) }),
    },
  });
  actor.start();
  const output = await toPromise(actor);
  if (output.outcome === 'paired') return output.record;
  throw errorOfFailure(output, `pairing failed at ${output.step}`);
}

/** The one pairing of the store this call is about. */
async function pairingOf(
  options: S2ConnectClientOptions & { localNodeId?: string | undefined; remoteNodeId?: string | undefined },
  role?: 'client',
): Promise<PairingRecord> {
  const all = (await options.store.list()).filter(
    (p) =>
      (role === undefined || p.communicationRole === role) &&
      (options.localNodeId === undefined || p.localNodeId === options.localNodeId) &&
      (options.remoteNodeId === undefined || p.remoteNodeId === options.remoteNodeId),
  );
  if (all.length === 1) return all[0]!;
  throw new S2ConnectError('NotPaired', {
    additionalInfo: all.length === 0 ? 'no matching pairing in the store' : `${all.length} pairings match: name the remote node`,
  });
}

/** How this client trusts the communication server of `record`: its pinned root (fetched once), or WebPKI. */
async function trustFor(record: PairingRecord, options: S2ConnectClientOptions): Promise<TlsTrust> {
  const rootPin = record.rootPin;
  if (rootPin === undefined) return { kind: 'webpki', ca: options.ca };
  const url = new URL(record.initiateSessionUrl ?? '');
  const host = url.hostname;
  const rootPem = await asConnectError('TLS connection to the communication server failed', () =>
    fetchPinnedRoot({
      host,
      port: Number(url.port || 443),
      servername: host,
      rootPin,
      lookup: lookupWith(options.resolve),
      timeoutMs: options.timeoutMs,
    }),
  );
  return { kind: 'pinned', rootPin, rootPem };
}

/**
 * Opens an S2 session's WebSocket with a stored pairing (S2 Connect §4): `initiateSession` with the
 * stored access token(s), durable storage of old and new token before `confirmAccessToken`, then the
 * WebSocket with the one-time token. Every call rotates the access token. Rejects with an
 * S2ConnectError: `NotPaired` when every stored token was refused (the pairing is kept: surface it),
 * `NoLongerPaired` when the server unpaired (the pairing is then removed here too).
 */
export async function connectPaired(options: ConnectPairedOptions): Promise<PairedConnection> {
  const record = await pairingOf(options, 'client');
  if (record.initiateSessionUrl === undefined)
    throw new S2ConnectError('NotPaired', { additionalInfo: 'the stored pairing has no initiate URL' });
  const trust = await trustFor(record, options);
  const common = { resolve: options.resolve, timeoutMs: options.timeoutMs, trust };
  const base = await apiBase(record.initiateSessionUrl, (url) => httpCall({ ...common, url, method: 'GET' }));
  const versions: readonly string[] = options.messageVersions ?? DEFAULT_VERSIONS[record.localRole];
  const { localNodeId, remoteNodeId } = record;

  const actors = {
    loadTokens: fromPromise<StoredTokens | undefined, void>(async () => {
      const found = await options.store.get(localNodeId, remoteNodeId);
      return found === undefined ? undefined : { tokens: seal(found.tokens.tokens), version: found.tokens.version };
    }),
    initiateSession: fromPromise<InitiateAnswer, { readonly token: Sealed<string>; readonly index: number }>(async ({ input }) => {
      const body = writeBody('InitiateSessionRequest', {
        clientNodeId: localNodeId,
        serverNodeId: remoteNodeId,
        supportedS2MessageVersions: [...versions],
        supportedCommunicationProtocols: [WEBSOCKET],
        ...(options.node ? { clientNodeDescription: options.node } : {}),
        ...(options.endpoint ? { clientEndpointDescription: options.endpoint } : {}),
      });
      const call = (path: string): Promise<HttpAnswer> =>
        httpCall({ ...common, url: new URL(path, base), method: 'POST', body, bearer: input.token.reveal() });
      let answer = await call('initiateSession');
      // The maintainers' Rust implementation serves the older name (S2 Connect §8 row 1).
      if (answer.status === 404) answer = await call('initiateConnection');
      if (answer.status !== 200) throw failure(API.session, answer);
      const value = read('InitiateSessionResponse', answer);
      return {
        selectedS2MessageVersion: value.selectedS2MessageVersion,
        selectedCommunicationProtocol: value.selectedCommunicationProtocol,
        accessToken: seal(value.accessToken),
        ...(value.serverNodeDescription ? { serverNode: value.serverNodeDescription } : {}),
        ...(value.serverEndpointDescription ? { serverEndpoint: value.serverEndpointDescription } : {}),
      };
    }),
    storeTokens: fromPromise<StoreTokensResult, { readonly expectedVersion: number; readonly tokens: Sealed<readonly string[]> }>(
      async ({ input }) => {
        const swapped = await options.store.swapTokens(localNodeId, remoteNodeId, input.expectedVersion, input.tokens.reveal());
        return swapped ? { swapped: true, version: input.expectedVersion + 1 } : { swapped: false };
      },
    ),
    confirmAccessToken: fromPromise<WebSocketDetails, { readonly token: Sealed<string> }>(async ({ input }) => {
      const answer = await httpCall({ ...common, url: new URL('confirmAccessToken', base), method: 'POST', bearer: input.token.reveal() });
      if (answer.status !== 200) throw failure(API.session, answer);
      const details = read('CommunicationDetails', answer);
      return { websocketUrl: details.websocketUrl, websocketToken: seal(details.websocketToken) };
    }),
    openWebSocket: fromPromise<unknown, WebSocketDetails & { readonly messageVersion: string }>(async ({ input }) => {
      const url = new URL(input.websocketUrl);
      const lookup = lookupWith(options.resolve);
      return connectWs(input.websocketUrl, {
        ...options.websocket,
        token: input.websocketToken.reveal(),
        tls: { ...tlsOptionsFor(trust, url.hostname), ...(lookup ? { lookup } : {}) },
      });
    }),
  };
  const actor = createActor(tokenClientMachine.provide({ actors }), {
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    input: { versions, protocols: [WEBSOCKET] },
  });
  actor.start();
  const output = await toPromise(actor);
  switch (output.outcome) {
    case 'connected':
      return { transport: output.connection as Transport, messageVersion: output.messageVersion, pairing: record };
    case 'notPaired':
      throw new S2ConnectError('NotPaired', {
        httpStatus: 401,
        additionalInfo: `the server refused all ${output.tried} stored access token(s): unpaired there, or a token was used by someone else`,
      });
    case 'unpaired':
      await options.store.remove(localNodeId, remoteNodeId);
      throw S2ConnectError.session('NoLongerPaired', 'the server has unpaired; the pairing was removed here');
    case 'failed':
      throw errorOfFailure(output, `session initiation failed at ${output.step}`);
  }
}

/**
 * What `unpair` did: the pairing is removed here in every case; `confirmed` says whether the other
 * node knows (false: it was unreachable or refused every token — `reason` says which).
 */
export type UnpairResult =
  | { readonly pairing: PairingRecord; readonly confirmed: true }
  | { readonly pairing: PairingRecord; readonly confirmed: false; readonly reason: S2ConnectError };

export interface UnpairOptions extends S2ConnectClientOptions {
  readonly localNodeId?: string | undefined;
  readonly remoteNodeId?: string | undefined;
}

/**
 * Unpairs (S2 Connect §4.3). As communication client: `POST unpair` with each stored token until one
 * is accepted, then the pairing is removed here whatever the server said, or if it said nothing
 * (`confirmed` and `reason` tell). As
 * communication server: removed here with a tombstone, so the client hears NoLongerPaired.
 */
export async function unpair(options: UnpairOptions): Promise<UnpairResult> {
  const record = await pairingOf(options);
  const { localNodeId, remoteNodeId } = record;
  if (record.communicationRole === 'server') {
    await options.store.remove(localNodeId, remoteNodeId, { tombstone: true });
    return { pairing: record, confirmed: true };
  }
  let unconfirmed: S2ConnectError | undefined;
  try {
    const trust = await trustFor(record, options);
    const common = { resolve: options.resolve, timeoutMs: options.timeoutMs, trust };
    const base = await apiBase(record.initiateSessionUrl ?? '', (url) => httpCall({ ...common, url, method: 'GET' }));
    const tokens = (await options.store.get(localNodeId, remoteNodeId))?.tokens.tokens ?? [];
    unconfirmed = S2ConnectError.unauthorized('the other node refused every stored access token');
    for (const token of tokens) {
      const body = writeBody('UnpairRequest', { clientNodeId: localNodeId, serverNodeId: remoteNodeId });
      const answer = await httpCall({ ...common, url: new URL('unpair', base), method: 'POST', body, bearer: token });
      if (answer.status === 204 || answer.status === 200) {
        unconfirmed = undefined;
        break;
      }
    }
  } catch (err) {
    unconfirmed =
      err instanceof S2ConnectError
        ? err
        : new S2ConnectError('TransportFailed', { additionalInfo: 'could not reach the other node to unpair', cause: err });
  } finally {
    await options.store.remove(localNodeId, remoteNodeId);
  }
  return unconfirmed === undefined ? { pairing: record, confirmed: true } : { pairing: record, confirmed: false, reason: unconfirmed };
}
