import { assign, emit, setup } from 'xstate';
import type { PairingRecord } from '../store/pairing-store.js';
import type { WaitForPairingAction, WaitForPairingError, WaitForPairingResponseItem } from '../wire/index.js';
import { notProvided } from './common.js';

/**
 * The long-poll client of a LAN endpoint that wants to be paired (digest §3.9): ONE poller for all of the
 * endpoint's local nodes. It polls `POST /v1/waitForPairing`, handles the actions of a 200 answer one by one in
 * the order they came, backs off after 503 and network failures, and stops for good on 400 (long polling not
 * available), 401 (off-LAN) and 404 (not implemented). It keeps polling after a pairing: the spec has a client
 * poll while paired too. The HTTP layer (src/connect/lan/lan-client.ts) supplies the two I/O steps (`poll`,
 * `pair`) and the clock; what it must tell the application comes out as emitted events.
 */

/** One local node of the poller. */
export interface LongPollNode {
  readonly clientNodeId: string;
  /** Whether this node holds a pairing token; without one a `requestPairing` is answered with the error item. */
  readonly hasCode: boolean;
}

export interface LongPollClientInput {
  readonly nodes: readonly LongPollNode[];
  /** Back-off after 503 and failed polls: `initialMs`, doubled per failure up to `maxMs`, reset by any 200/204. */
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
}

/** What one node's item of the next poll carries, besides its id. */
export interface LongPollItem {
  readonly clientNodeId: string;
  /** The server asked (`sendNodeDescription`): send the node's and the endpoint's descriptions. */
  readonly describe: boolean;
  /** The server asked this node to pair, but it holds no token. */
  readonly errorMessage?: WaitForPairingError | undefined;
}

/** The HTTP answer to one poll, as the `poll` actor reports it (a 200 already read into its actions). */
export interface LongPollAnswer {
  readonly status: number;
  /** The actions of a 200 answer (both wire forms read to a list), in the order the server sent them. */
  readonly actions?: readonly WaitForPairingResponseItem[] | undefined;
}

import type { LongPollOutcome, LongPollStopReason } from '../lan/long-poll-types.js';
export type { LongPollOutcome, LongPollStopReason };

/** What the poller tells its owner (`actor.on(type, …)`). */
export type LongPollClientEmitted =
  /** Every action of a 200 answer for one of our nodes, before it is handled. */
  | { readonly type: 'action'; readonly clientNodeId: string; readonly action: WaitForPairingAction }
  /** `pair` resolved for this node. */
  | { readonly type: 'paired'; readonly clientNodeId: string; readonly record: PairingRecord }
  /** `pair` rejected for this node; polling goes on. */
  | { readonly type: 'pairFailed'; readonly clientNodeId: string; readonly error: unknown }
  /** A poll got no usable answer (`error`) or a status to retry after (`status`); the next poll is in `retryInMs`. */
  | { readonly type: 'pollFailed'; readonly error?: unknown; readonly status?: number; readonly retryInMs: number }
  /** The server sent an action for a node that is not ours: ignored. */
  | { readonly type: 'unknownNode'; readonly clientNodeId: string; readonly action: WaitForPairingAction };

export type LongPollClientEvent = { readonly type: 'STOP' };

export interface LongPollClientContext extends LongPollClientInput {
  /** Nodes whose next poll carries their descriptions. */
  readonly describe: readonly string[];
  /** Nodes whose next poll carries `NoValidTokenOnPairingClient`. */
  readonly noToken: readonly string[];
  /** The actions of the last 200 answer not handled yet, in order. */
  readonly queue: readonly WaitForPairingResponseItem[];
  /** The wait before the next poll after a failure. */
  readonly delayMs: number;
  /** The last failure (status or error), for `pollFailed`. */
  readonly failure: { readonly status?: number; readonly error?: unknown } | undefined;
  /** STOP arrived while a pairing was under way: stop once it is done. */
  readonly stopRequested: boolean;
  readonly outcome: LongPollStopReason | undefined;
  /** Polls sent so far (observability). */
  readonly polls: number;
}

type Ctx = LongPollClientContext;
const outputOf = <T>(event: unknown): T => (event as { output: T }).output;
const errorOf = (event: unknown): unknown => (event as { error?: unknown }).error;
const statusOf = (event: unknown): number => outputOf<LongPollAnswer>(event).status;
const head = (context: Ctx): WaitForPairingResponseItem | undefined => context.queue[0];
const nodeOf = (context: Ctx, id: string): LongPollNode | undefined => context.nodes.find((n) => n.clientNodeId === id);
const withId = (list: readonly string[], id: string): readonly string[] => (list.includes(id) ? list : [...list, id]);

/** The items of the next poll: one per local node, in the order of `nodes`. */
export function longPollItemsOf(context: Pick<Ctx, 'nodes' | 'describe' | 'noToken'>): LongPollItem[] {
  return context.nodes.map((n) => ({
    clientNodeId: n.clientNodeId,
    describe: context.describe.includes(n.clientNodeId),
    ...(context.noToken.includes(n.clientNodeId) ? { errorMessage: 'NoValidTokenOnPairingClient' as const } : {}),
  }));
}

/**
 * The statechart (drawn in docs/statecharts/long-poll-client.md):
 *
 * - `polling` — invokes `poll` with {@link longPollItemsOf} the context. 200 ⇒ `handling` with its actions queued;
 *   204 ⇒ `polling` again at once; 400 / 401 / 404 ⇒ `stopped` (`unavailable` / `off-lan` / `not-implemented`);
 *   any other status, or no answer ⇒ `backingOff`. A 200 or 204 means the server read the poll, so what it carried
 *   (descriptions, the error item) is cleared and the back-off reset. STOP ⇒ `stopped` (the poll's actor is
 *   stopped, which aborts its HTTP call).
 * - `handling` — transient: takes the head of the queue. An action for a node that is not ours is dropped
 *   (`unknownNode`); every other one is emitted (`action`) and then: `sendNodeDescription` ⇒ the node's next item
 *   carries its descriptions; `requestPairing` ⇒ `pairing` when the node holds a token, else its next item carries
 *   `NoValidTokenOnPairingClient`; `preparePairing` / `cancelPreparePairing` need nothing more. An empty queue ⇒
 *   `polling`. STOP that came during a pairing ⇒ `stopped` (the rest of the queue is dropped).
 * - `pairing` — invokes `pair` for the head's node (requestPairing naming no node, with its token); done ⇒
 *   `paired`, error ⇒ `pairFailed`; either way back to `handling` with the next action. STOP waits for it.
 * - `backingOff` — waits `delayMs` (the actor's clock), then polls again with the delay doubled (up to `maxMs`).
 *   STOP ⇒ `stopped`.
 * - `stopped` — final; the output says why.
 */
export const longPollClientMachine = setup({
  types: {
    context: {} as LongPollClientContext,
    input: {} as LongPollClientInput,
    output: {} as LongPollOutcome,
    events: {} as LongPollClientEvent,
    emitted: {} as LongPollClientEmitted,
  },
  actors: {
    /** `POST /v1/waitForPairing` with these items; resolves with the status (and a 200's actions), rejects on no answer. */
    poll: notProvided<LongPollAnswer, { readonly items: readonly LongPollItem[] }>('poll'),
    /** `pair()` for this node with its token, naming no server node; resolves with the stored pairing. */
    pair: notProvided<PairingRecord, { readonly clientNodeId: string }>('pair'),
  },
  delays: {
    backoff: ({ context }) => context.delayMs,
  },
  guards: {
    answered200: ({ event }) => statusOf(event) === 200,
    answered204: ({ event }) => statusOf(event) === 204,
    answered400: ({ event }) => statusOf(event) === 400,
    answered401: ({ event }) => statusOf(event) === 401,
    answered404: ({ event }) => statusOf(event) === 404,
    stopRequested: ({ context }) => context.stopRequested,
    queueEmpty: ({ context }) => context.queue.length === 0,
    headNotOurs: ({ context }) => nodeOf(context, head(context)!.clientNodeId) === undefined,
    headPairsWithToken: ({ context }) =>
      head(context)!.action === 'requestPairing' && nodeOf(context, head(context)!.clientNodeId)!.hasCode,
    headPairsWithoutToken: ({ context }) => head(context)!.action === 'requestPairing',
    headAsksDescription: ({ context }) => head(context)!.action === 'sendNodeDescription',
  },
  actions: {
    countPoll: assign(({ context }) => ({ polls: context.polls + 1 })),
    /** The server read the poll: what it carried is delivered, and the link works again. */
    clearCarried: assign(({ context }) => ({ describe: [], noToken: [], delayMs: context.backoff.initialMs, failure: undefined })),
    enqueue: assign(({ event }) => ({ queue: [...(outputOf<LongPollAnswer>(event).actions ?? [])] })),
    dropHead: assign(({ context }) => ({ queue: context.queue.slice(1) })),
    markDescribe: assign(({ context }) => ({ describe: withId(context.describe, head(context)!.clientNodeId) })),
    markNoToken: assign(({ context }) => ({ noToken: withId(context.noToken, head(context)!.clientNodeId) })),
    requestStop: assign({ stopRequested: true }),
    finish: assign((_, reason: LongPollStopReason) => ({ outcome: reason })),
    keepStatus: assign(({ event }) => ({ failure: { status: statusOf(event) } })),
    keepError: assign(({ event }) => ({ failure: { error: errorOf(event) } })),
    growBackoff: assign(({ context }) => ({ delayMs: Math.min(context.backoff.maxMs, context.delayMs * 2) })),
    announceAction: emit(({ context }) => ({
      type: 'action' as const,
      clientNodeId: head(context)!.clientNodeId,
      action: head(context)!.action,
    })),
    announceUnknown: emit(({ context }) => ({
      type: 'unknownNode' as const,
      clientNodeId: head(context)!.clientNodeId,
      action: head(context)!.action,
    })),
    announcePaired: emit(({ context, event }) => ({
      type: 'paired' as const,
      clientNodeId: head(context)!.clientNodeId,
      record: outputOf<PairingRecord>(event),
    })),
    announcePairFailed: emit(({ context, event }) => ({
      type: 'pairFailed' as const,
      clientNodeId: head(context)!.clientNodeId,
      error: errorOf(event),
    })),
    announceRetry: emit(({ context }) => ({ type: 'pollFailed' as const, ...context.failure, retryInMs: context.delayMs })),
  },
}).createMachine({
  id: 'longPollClient',
  context: ({ input }) => ({
    ...input,
    describe: [],
    noToken: [],
    queue: [],
    delayMs: input.backoff.initialMs,
    failure: undefined,
    stopRequested: false,
    outcome: undefined,
    polls: 0,
  }),
  initial: 'polling',
  states: {
    polling: {
      entry: 'countPoll',
      invoke: {
        id: 'poll',
        src: 'poll',
        input: ({ context }) => ({ items: longPollItemsOf(context) }),
        onDone: [
          { guard: 'answered200', target: 'handling', actions: ['clearCarried', 'enqueue'] },
          { guard: 'answered204', target: 'polling', reenter: true, actions: 'clearCarried' },
          { guard: 'answered400', target: 'stopped', actions: { type: 'finish', params: 'unavailable' } },
          { guard: 'answered401', target: 'stopped', actions: { type: 'finish', params: 'off-lan' } },
          { guard: 'answered404', target: 'stopped', actions: { type: 'finish', params: 'not-implemented' } },
          { target: 'backingOff', actions: 'keepStatus' },
        ],
        onError: { target: 'backingOff', actions: 'keepError' },
      },
      on: { STOP: { target: 'stopped', actions: { type: 'finish', params: 'stopped' } } },
    },
    handling: {
      always: [
        { guard: 'stopRequested', target: 'stopped', actions: { type: 'finish', params: 'stopped' } },
        { guard: 'queueEmpty', target: 'polling' },
        { guard: 'headNotOurs', target: 'handling', reenter: true, actions: ['announceUnknown', 'dropHead'] },
        { guard: 'headPairsWithToken', target: 'pairing', actions: 'announceAction' },
        { guard: 'headPairsWithoutToken', target: 'handling', reenter: true, actions: ['announceAction', 'markNoToken', 'dropHead'] },
        { guard: 'headAsksDescription', target: 'handling', reenter: true, actions: ['announceAction', 'markDescribe', 'dropHead'] },
        { target: 'handling', reenter: true, actions: ['announceAction', 'dropHead'] },
      ],
    },
    pairing: {
      invoke: {
        id: 'pair',
        src: 'pair',
        input: ({ context }) => ({ clientNodeId: head(context)!.clientNodeId }),
        onDone: { target: 'handling', actions: ['announcePaired', 'dropHead'] },
        onError: { target: 'handling', actions: ['announcePairFailed', 'dropHead'] },
      },
      on: { STOP: { actions: 'requestStop' } },
    },
    backingOff: {
      entry: 'announceRetry',
      after: { backoff: { target: 'polling', actions: 'growBackoff' } },
      on: { STOP: { target: 'stopped', actions: { type: 'finish', params: 'stopped' } } },
    },
    stopped: {
      type: 'final',
      output: ({ context }) => ({ reason: context.outcome ?? 'stopped' }),
    },
  },
  output: ({ context }) => ({ reason: context.outcome ?? 'stopped' }),
});
