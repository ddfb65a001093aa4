import { createActor, fromPromise, toPromise } from 'xstate';
import { asConnectError, pair, read, type S2ConnectClientOptions } from '../client.js';
import { MIN_PAIRING_TOKEN_BYTES, formatPairingCode, parsePairingCode } from '../crypto.js';
import { bindsLeafCertificate } from '../deployment.js';
import { S2ConnectError } from '../errors.js';
import { httpCall, type HttpAnswer } from '../http/https-client.js';
import type { HostResolver, TlsTrust } from '../http/tls-trust.js';
import { longPollClientMachine, type LongPollAnswer, type LongPollItem } from '../machines/long-poll-client.js';
import type { LongPollClientState, LongPollOutcome } from './long-poll-types.js';
import type { PairingRecord } from '../store/pairing-store.js';
import {
  errorFromResponse,
  writeBody,
  type ConnectionDetails,
  type Deployment,
  type EndpointDescription,
  type NodeDescription,
  type WaitForPairingAction,
  type WaitForPairingRequestItem,
} from '../wire/index.js';

/**
 * The client side of the LAN-only part of S2 Connect (digest §2, §3.9): the endpoint and node lists a browser
 * shows after discovery, the `preparePairing` hint, and the long poll by which a node without a user interface
 * (an RM with a printed pairing token) waits until the other endpoint's user asks for it.
 *
 * Every URL here is a base URL as discovery gives it (`pairingUrl` / `longpollingUrl`, no `v1/`). On a `.local`
 * host the server's certificate is accepted on first use, as `pair()` does for its first call: nothing these calls
 * send is secret, and the pairing that follows binds the certificate into its HMAC.
 */

/** Options of the one-shot LAN calls. */
export interface LanCallOptions {
  /** Host names resolved without DNS/mDNS (tests; hosts without an mDNS resolver). */
  readonly resolve?: HostResolver | undefined;
  /** Whole call; default 10 s. */
  readonly timeoutMs?: number | undefined;
  /** Extra trusted roots (PEM) for a server that is not on a `.local` host. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined;
}

/** `v1/<path>` below a base URL given with or without its trailing slash. */
function v1(baseUrl: string, path: string): URL {
  return new URL(`v1/${path}`, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
}

/** First use on `.local` (LAN), WebPKI plus `ca` otherwise. */
function trustOf(url: URL, ca: LanCallOptions['ca']): TlsTrust {
  return bindsLeafCertificate(url.href) ? { kind: 'first-use' } : { kind: 'webpki', ca };
}

/** One LAN call; no answer at all becomes S2ConnectError `TransportFailed` (the cause kept). */
function lanCall(
  url: URL,
  options: LanCallOptions,
  call: { readonly method: 'GET' | 'POST'; readonly body?: unknown; readonly what: string },
): Promise<HttpAnswer> {
  return asConnectError(`${call.what} failed`, () =>
    httpCall({
      url,
      method: call.method,
      ...(call.body === undefined ? {} : { body: call.body }),
      trust: trustOf(url, options.ca),
      resolve: options.resolve,
      timeoutMs: options.timeoutMs,
    }),
  );
}

/**
 * `GET /v1/endpoint` (LAN only): the other endpoint's description. Rejects with an S2ConnectError named by the
 * status (`Unauthorized` for 401 = off-LAN, `NotFound` for 404 = WAN endpoint or not served), `TransportFailed`
 * without an answer, `UnexpectedResponse` for a body that is no EndpointDescription.
 */
export async function getEndpoint(url: string, options: LanCallOptions = {}): Promise<EndpointDescription> {
  const answer = await lanCall(v1(url, 'endpoint'), options, { method: 'GET', what: 'GET /v1/endpoint' });
  if (answer.status !== 200) throw errorFromResponse('pairing', answer.status, answer.json);
  return read('EndpointDescription', answer, 'the GET /v1/endpoint answer');
}

/** `GET /v1/nodes` (LAN only): every node of the other endpoint. Rejects as {@link getEndpoint} does. */
export async function listNodes(url: string, options: LanCallOptions = {}): Promise<NodeDescription[]> {
  const answer = await lanCall(v1(url, 'nodes'), options, { method: 'GET', what: 'GET /v1/nodes' });
  if (answer.status !== 200) throw errorFromResponse('pairing', answer.status, answer.json);
  return read('NodeList', answer, 'the GET /v1/nodes answer');
}

/**
 * `POST /v1/preparePairing` (LAN only): tells the other endpoint's user that this node is about to pair with
 * `serverNodeId`, so that it can show its token (digest §3.9: only when there is a distinct "user started" moment
 * before `requestPairing`; a pure UX hint). Resolves on 204 (also for a node the server does not know); rejects
 * with the server's error name on 400 (`InvalidCombinationOfRoles`, `ParsingError`, RS's `NodeNotFound`).
 */
export async function preparePairing(
  url: string,
  body: { readonly clientNode: NodeDescription; readonly clientEndpoint: EndpointDescription; readonly serverNodeId: string },
  options: LanCallOptions = {},
): Promise<void> {
  const json = writeBody('PreparePairingRequest', {
    clientNodeDescription: body.clientNode,
    clientEndpointDescription: body.clientEndpoint,
    serverNodeId: body.serverNodeId,
  });
  const answer = await lanCall(v1(url, 'preparePairing'), options, { method: 'POST', body: json, what: 'POST /v1/preparePairing' });
  if (answer.status !== 204 && answer.status !== 200) throw errorFromResponse('pairing', answer.status, answer.json);
}

/** `POST /v1/cancelPreparePairing` (LAN only): the user gave up before pairing. Resolves on 204. */
export async function cancelPreparePairing(
  url: string,
  body: { readonly clientNodeId: string; readonly serverNodeId: string },
  options: LanCallOptions = {},
): Promise<void> {
  const json = writeBody('CancelPreparePairingRequest', { clientNodeId: body.clientNodeId, serverNodeId: body.serverNodeId });
  const answer = await lanCall(v1(url, 'cancelPreparePairing'), options, {
    method: 'POST',
    body: json,
    what: 'POST /v1/cancelPreparePairing',
  });
  if (answer.status !== 204 && answer.status !== 200) throw errorFromResponse('pairing', answer.status, answer.json);
}

// ---------------------------------------------------------------------------------------------------------------
// The long poll.

/** One local node of a long-polling endpoint. */
export interface LongPollNodeOptions {
  readonly node: NodeDescription;
  /**
   * Its pairing code (the printed token, `token` or `alias-token`; an alias is this node's own and is not sent).
   * Absent: a `requestPairing` for this node is answered with `NoValidTokenOnPairingClient` on the next poll.
   */
  readonly code?: string | undefined;
  /** Needed when this node becomes the communication server (`pair`'s `ownConnectionDetails`), asked per pairing. */
  readonly ownConnectionDetails?: (() => ConnectionDetails) | undefined;
}

export interface WaitForPairingOptions extends S2ConnectClientOptions {
  /** Base URL on which the other endpoint serves `waitForPairing` (discovery's `longpollingUrl`). */
  readonly longpollingUrl: string;
  /** Base URL of its pairing API; default `longpollingUrl`. */
  readonly pairingUrl?: string | undefined;
  /** This endpoint; sent with the node descriptions when the server asks for them. */
  readonly endpoint: EndpointDescription & { readonly deployment: Deployment };
  readonly nodes: readonly LongPollNodeOptions[];
  /** Every action the server sent for one of the nodes, before it is handled (`preparePairing` ⇒ show the token …). */
  readonly onAction?: ((clientNodeId: string, action: WaitForPairingAction) => void) | undefined;
  /** A node was paired (the pairing is stored by then). */
  readonly onPaired?: ((pairing: PairingRecord) => void) | undefined;
  /** A failed poll (it is retried), a failed pairing, an action for a node that is not ours; polling goes on. */
  readonly onError?: ((err: unknown) => void) | undefined;
  /** Back-off after 503 and failed polls: doubled per failure; default 1 s … 30 s, on `clock`. */
  readonly backoff?: { readonly initialMs?: number | undefined; readonly maxMs?: number | undefined } | undefined;
  /** How long the server holds a poll (S2 Connect §3.9: 25 s); a poll's HTTP timeout is this plus 10 s. */
  readonly holdMs?: number | undefined;
}

/** A running poller. */
export interface LongPollClient {
  /** Its statechart's state now (`long-poll-client` in docs/statecharts). */
  state(): LongPollClientState;
  /** Stops polling (a held poll is aborted; a pairing under way is finished first); resolves once stopped. */
  stop(): Promise<void>;
  /** Resolves when polling ended, with the reason. */
  readonly done: Promise<LongPollOutcome>;
}

export const DEFAULT_LONG_POLL_HOLD_MS = 25_000;
const POLL_TIMEOUT_MARGIN_MS = 10_000;
const DEFAULT_BACKOFF = { initialMs: 1_000, maxMs: 30_000 } as const;

/**
 * Starts the long poll of this endpoint's `nodes` on the other endpoint (digest §3.9): one poller, one item per
 * node. 204 ⇒ poll again at once; 200 ⇒ each action in order (`sendNodeDescription` ⇒ the next poll carries the
 * node's and the endpoint's descriptions, under both `clientNodeDescription` and RS's `clienNodeDescription`;
 * `requestPairing` ⇒ `pair()` on `pairingUrl` with the node's token, naming no node, or `NoValidTokenOnPairingClient`
 * on the next poll when it has none; the others ⇒ `onAction` only), then poll again; 503 or no answer ⇒ back off
 * and poll again; 400 / 401 / 404 ⇒ `done` with `unavailable` / `off-lan` / `not-implemented`. It goes on polling
 * after a pairing. Throws S2ConnectError `InvalidPairingCode` at once for a code that does not read.
 */
export function waitForPairing(options: WaitForPairingOptions): LongPollClient {
  if (options.nodes.length === 0) throw new RangeError('waitForPairing: give at least one node');
  const byId = new Map<string, { readonly node: LongPollNodeOptions; readonly token: string | undefined }>();
  for (const n of options.nodes) {
    const id = n.node.id.toLowerCase();
    if (byId.has(id)) throw new RangeError(`waitForPairing: node ${id} is given twice`);
    // Only the token goes to pair(): an alias in a printed code names this node, not one of the server's.
    const token =
      n.code === undefined
        ? undefined
        : formatPairingCode(undefined, parsePairingCode(n.code, { minTokenBytes: MIN_PAIRING_TOKEN_BYTES }).token);
    byId.set(id, { node: n, token });
  }
  const url = v1(options.longpollingUrl, 'waitForPairing');
  const trust = trustOf(url, options.ca);
  const timeoutMs = (options.holdMs ?? DEFAULT_LONG_POLL_HOLD_MS) + POLL_TIMEOUT_MARGIN_MS;
  const pairingUrl = options.pairingUrl ?? options.longpollingUrl;

  const actors = {
    poll: fromPromise<LongPollAnswer, { readonly items: readonly LongPollItem[] }>(async ({ input, signal }) => {
      const items: WaitForPairingRequestItem[] = input.items.map((item) => {
        const node = byId.get(item.clientNodeId)!.node.node;
        return {
          clientNodeId: item.clientNodeId,
          ...(item.describe ? { clientNodeDescription: node, clientEndpointDescription: options.endpoint } : {}),
          ...(item.errorMessage === undefined ? {} : { errorMessage: item.errorMessage }),
        };
      });
      const answer = await httpCall({
        url,
        method: 'POST',
        body: writeBody('WaitForPairingRequest', items),
        trust,
        resolve: options.resolve,
        timeoutMs,
        signal,
      });
      if (answer.status !== 200) return { status: answer.status };
      // Both forms: the OAS array and RS's single object (digest §8 row 5).
      return { status: 200, actions: read('WaitForPairingResponse', answer, 'the POST /v1/waitForPairing answer') };
    }),
    pair: fromPromise<PairingRecord, { readonly clientNodeId: string }>(({ input }) => {
      const { node, token } = byId.get(input.clientNodeId)!;
      return pair({
        store: options.store,
        ca: options.ca,
        resolve: options.resolve,
        timeoutMs: options.timeoutMs,
        messageVersions: options.messageVersions,
        clock: options.clock,
        now: options.now,
        code: token!,
        pairingUrl,
        node: node.node,
        endpoint: options.endpoint,
        ownConnectionDetails: node.ownConnectionDetails?.(),
      });
    }),
  };

  const actor = createActor(longPollClientMachine.provide({ actors }), {
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    input: {
      nodes: [...byId.entries()].map(([clientNodeId, { token }]) => ({ clientNodeId, hasCode: token !== undefined })),
      backoff: {
        initialMs: options.backoff?.initialMs ?? DEFAULT_BACKOFF.initialMs,
        maxMs: options.backoff?.maxMs ?? DEFAULT_BACKOFF.maxMs,
      },
    },
  });
  // An application callback that throws must not stop the poller: it is reported to onError (or dropped there).
  const guarded =
    <A extends unknown[]>(f: ((...args: A) => void) | undefined) =>
    (...args: A): void => {
      try {
        f?.(...args);
      } catch (err) {
        if (f !== options.onError) guarded(options.onError)(err);
      }
    };
  const onError = guarded(options.onError);
  actor.on('action', (e) => guarded(options.onAction)(e.clientNodeId, e.action));
  actor.on('paired', (e) => guarded(options.onPaired)(e.record));
  actor.on('pairFailed', (e) => onError(e.error));
  actor.on('pollFailed', (e) =>
    onError(
      e.error instanceof S2ConnectError
        ? e.error
        : e.status !== undefined
          ? S2ConnectError.ofStatus(e.status, `waitForPairing answered ${e.status}; next poll in ${e.retryInMs} ms`)
          : new S2ConnectError('TransportFailed', {
              additionalInfo: `waitForPairing failed; next poll in ${e.retryInMs} ms`,
              cause: e.error,
            }),
    ),
  );
  actor.on('unknownNode', (e) =>
    onError(
      new S2ConnectError('UnexpectedResponse', {
        additionalInfo: `waitForPairing sent ${e.action} for node ${e.clientNodeId}, which is not polling here: ignored`,
      }),
    ),
  );
  const done = toPromise(actor);
  actor.start();
  return {
    state: () => {
      const snapshot = actor.getSnapshot();
      return { value: String(snapshot.value), status: snapshot.status, polls: snapshot.context.polls, delayMs: snapshot.context.delayMs };
    },
    done,
    stop: async () => {
      // A poller that already ended (400/401/404, or stopped before) has nothing to stop.
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'STOP' });
      await done;
    },
  };
}
