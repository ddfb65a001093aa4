/**
 * Model-based tests of the long-poll client statechart (src/connect/machines/long-poll-client.ts; digest §3.9). Paths
 * generated with xstate/graph from a test model drive one REAL actor under a SimulatedClock, for an endpoint with two
 * nodes: A holds a pairing token, B does not. Each model event settles the call the machine waits for (the poll, the
 * pairing) or moves the clock. After every step the driver checks the real state, the items of the open poll (the
 * descriptions only after `sendNodeDescription`, `NoValidTokenOnPairingClient` only after a `requestPairing` for B,
 * both kept through failed polls and dropped once a poll was answered), the back-off delay, the emitted events in
 * order, that a stopped poll's request was aborted, and the output.
 */
import { expect } from 'vitest';
import { fromPromise, type EventObject } from 'xstate';
import { S2ConnectError } from '../../../src/connect/errors.js';
import {
  longPollClientMachine,
  type LongPollAnswer,
  type LongPollClientEmitted,
  type LongPollItem,
} from '../../../src/connect/machines/long-poll-client.js';
import type { PairingRecord } from '../../../src/connect/store/pairing-store.js';
import type { WaitForPairingResponseItem } from '../../../src/connect/wire/index.js';
import { defineCoverageTests } from '../../machines/path-tests.js';
import { ConnectDriver, coverageOf, definePathsFor, flush, modelFromLeaves, type ScriptedCall } from './connect-model-kit.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const STRANGER = '33333333-3333-4333-8333-333333333333';
const BACKOFF = { initialMs: 1_000, maxMs: 4_000 };
const RECORD = { localNodeId: A, remoteNodeId: '44444444-4444-4444-8444-444444444444' } as unknown as PairingRecord;

/** What each 200 of the model carries. */
const ANSWERS: Readonly<Record<string, readonly WaitForPairingResponseItem[]>> = {
  POLL_DESCRIBE: [{ clientNodeId: B, action: 'sendNodeDescription' }],
  POLL_NO_TOKEN: [{ clientNodeId: B, action: 'requestPairing' }],
  POLL_MIXED: [
    { clientNodeId: A, action: 'preparePairing' },
    { clientNodeId: STRANGER, action: 'sendNodeDescription' },
    { clientNodeId: A, action: 'cancelPreparePairing' },
  ],
  POLL_PAIR: [
    { clientNodeId: A, action: 'requestPairing' },
    { clientNodeId: A, action: 'sendNodeDescription' },
  ],
};

// ---------------------------------------------------------------------------------------------
// The test model

/**
 * Leaves: `polling.<fresh|carrying>` (whether the open poll carries descriptions or the error item),
 * `backingOff.<fresh|carrying>`, `pairing.<running|stopping>`, `stopped.<why>`.
 */
function createModel() {
  const leaves = new Map<string, Record<string, string>>();
  for (const carry of ['fresh', 'carrying'] as const) {
    leaves.set(`polling.${carry}`, {
      POLL_204: 'polling.fresh',
      POLL_DESCRIBE: 'polling.carrying',
      POLL_NO_TOKEN: 'polling.carrying',
      POLL_MIXED: 'polling.fresh',
      POLL_PAIR: 'pairing.running',
      POLL_503: `backingOff.${carry}`,
      POLL_500: `backingOff.${carry}`,
      POLL_FAILS: `backingOff.${carry}`,
      POLL_400: 'stopped.unavailable',
      POLL_401: 'stopped.offLan',
      POLL_404: 'stopped.notImplemented',
      STOP: 'stopped.stopped',
    });
    leaves.set(`backingOff.${carry}`, { ELAPSE: `polling.${carry}`, STOP: 'stopped.stopped' });
  }
  leaves.set('pairing.running', { PAIR_OK: 'polling.carrying', PAIR_FAILS: 'polling.carrying', STOP: 'pairing.stopping' });
  leaves.set('pairing.stopping', { PAIR_OK: 'stopped.stopped', PAIR_FAILS: 'stopped.stopped' });
  for (const why of ['stopped', 'unavailable', 'offLan', 'notImplemented']) leaves.set(`stopped.${why}`, {});
  return modelFromLeaves('longPollClientModel', 'polling.fresh', leaves);
}

function tagsOfEvent(type: string): readonly string[] {
  if (type === 'POLL_DESCRIBE' || type === 'POLL_400') return ['3.9', '8'];
  return ['3.9'];
}

const OUTCOME: Readonly<Record<string, string>> = {
  stopped: 'stopped',
  unavailable: 'unavailable',
  offLan: 'off-lan',
  notImplemented: 'not-implemented',
};

// ---------------------------------------------------------------------------------------------
// The driver

class LongPollDriver extends ConnectDriver {
  /** What the next poll must carry (the driver's own account of the protocol). */
  private describe = new Set<string>();
  private noToken = new Set<string>();
  private delay = BACKOFF.initialMs;
  private readonly emitted: string[] = [];
  private readonly expectedEmitted: string[] = [];
  /** The abort signals of the polls, by call. */
  private readonly signals = new Map<ScriptedCall, AbortSignal>();
  private stoppedPoll: ScriptedCall | undefined;

  start(): void {
    const s = this.scripted;
    const scriptedPoll = s.actor<LongPollAnswer, { readonly items: readonly LongPollItem[] }>('poll');
    // The scripted actor plus the abort signal xstate gives each invocation.
    const poll = fromPromise<LongPollAnswer, { readonly items: readonly LongPollItem[] }>((args) => {
      const before = s.calls.length;
      const promise = (scriptedPoll.config as (a: typeof args) => Promise<LongPollAnswer>)(args);
      const call = s.calls[before];
      if (call) this.signals.set(call, args.signal);
      return promise;
    });
    const machine = longPollClientMachine.provide({ actors: { poll, pair: s.actor('pair') } });
    const actor = this.startActor(machine, {
      nodes: [
        { clientNodeId: A, hasCode: true },
        { clientNodeId: B, hasCode: false },
      ],
      backoff: BACKOFF,
    });
    const label = (e: LongPollClientEmitted): string => {
      switch (e.type) {
        case 'action':
        case 'unknownNode':
          return `${e.type}:${e.action}(${e.clientNodeId.slice(0, 1)})`;
        case 'paired':
          return `paired(${e.clientNodeId.slice(0, 1)})`;
        case 'pairFailed':
          return `pairFailed(${e.clientNodeId.slice(0, 1)})`;
        case 'pollFailed':
          return `pollFailed(${e.status ?? 'no answer'}, ${e.retryInMs})`;
      }
    };
    for (const type of ['action', 'unknownNode', 'paired', 'pairFailed', 'pollFailed'] as const)
      actor.on(type, (e: LongPollClientEmitted) => this.emitted.push(label(e)));
  }

  private async settle(name: string, outcome: { value: unknown } | { error: unknown }): Promise<void> {
    const call = this.scripted.take(name);
    if ('value' in outcome) call.resolve(outcome.value);
    else call.reject(outcome.error);
    await flush();
  }

  /** A 200 or 204: what the poll carried is delivered, the back-off resets. */
  private answered(): void {
    this.describe.clear();
    this.noToken.clear();
    this.delay = BACKOFF.initialMs;
  }

  /** What handling `items` must do, as the driver expects it (up to a pairing, which waits). */
  private expectHandling(items: readonly WaitForPairingResponseItem[]): void {
    for (const item of items) {
      const id = item.clientNodeId.slice(0, 1);
      if (item.clientNodeId === STRANGER) {
        this.expectedEmitted.push(`unknownNode:${item.action}(${id})`);
        continue;
      }
      this.expectedEmitted.push(`action:${item.action}(${id})`);
      if (item.action === 'sendNodeDescription') this.describe.add(item.clientNodeId);
      if (item.action === 'requestPairing' && item.clientNodeId === B) this.noToken.add(B);
      if (item.action === 'requestPairing' && item.clientNodeId === A) return; // pairing: the rest waits
    }
  }

  private async failedPoll(outcome: { value: unknown } | { error: unknown }, status: number | undefined): Promise<void> {
    this.expectedEmitted.push(`pollFailed(${status ?? 'no answer'}, ${this.delay})`);
    await this.settle('poll', outcome);
  }

  async step(event: EventObject): Promise<void> {
    switch (event.type) {
      case 'POLL_204':
        this.answered();
        return this.settle('poll', { value: { status: 204 } });
      case 'POLL_DESCRIBE':
      case 'POLL_NO_TOKEN':
      case 'POLL_MIXED':
      case 'POLL_PAIR': {
        const actions = ANSWERS[event.type]!;
        this.answered();
        this.expectHandling(actions);
        return this.settle('poll', { value: { status: 200, actions } });
      }
      case 'POLL_503':
        return this.failedPoll({ value: { status: 503 } }, 503);
      case 'POLL_500':
        return this.failedPoll({ value: { status: 500 } }, 500);
      case 'POLL_FAILS':
        return this.failedPoll({ error: S2ConnectError.local('TransportFailed') }, undefined);
      case 'POLL_400':
        return this.settle('poll', { value: { status: 400 } });
      case 'POLL_401':
        return this.settle('poll', { value: { status: 401 } });
      case 'POLL_404':
        return this.settle('poll', { value: { status: 404 } });
      case 'ELAPSE': {
        const polls = this.scripted.calls.length;
        await this.advance(this.delay - 1);
        expect(this.scripted.calls.length, 'no poll before the back-off elapsed').toBe(polls);
        await this.advance(1);
        this.delay = Math.min(BACKOFF.maxMs, this.delay * 2);
        return;
      }
      case 'PAIR_OK':
      case 'PAIR_FAILS': {
        const ok = event.type === 'PAIR_OK';
        this.expectedEmitted.push(ok ? 'paired(1)' : 'pairFailed(1)');
        const stopping = this.leaf === 'pairing.stopping';
        // After the pairing the rest of POLL_PAIR's actions (unless STOP came meanwhile).
        if (!stopping) this.expectHandling(ANSWERS.POLL_PAIR!.slice(1));
        return this.settle('pair', ok ? { value: RECORD } : { error: S2ConnectError.local('HmacMismatch') });
      }
      case 'STOP': {
        const open = this.scripted.open();
        if (this.leaf.startsWith('polling')) this.stoppedPoll = open[0];
        this.actor!.send({ type: 'STOP' });
        await flush();
        return;
      }
      default:
        throw new Error(`driver: no mapping for ${event.type}`);
    }
  }

  check(leaf: string): void {
    const [top, sub] = leaf.split('.') as [string, string];
    const snapshot = this.snapshot;
    expect(this.realState, 'real state').toBe(top);
    expect(this.emitted, 'emitted events, in order').toEqual(this.expectedEmitted);
    const done = top === 'stopped';
    expect(snapshot.status, 'actor status').toBe(done ? 'done' : 'active');
    const open = this.scripted.open().filter((c) => c !== this.stoppedPoll);
    const context = snapshot.context as { delayMs: number; stopRequested: boolean };
    switch (top) {
      case 'polling': {
        expect(open.map((c) => c.name)).toEqual(['poll']);
        const items = (open[0]!.input as { items: LongPollItem[] }).items;
        expect(items, 'the items of the open poll').toEqual(
          [A, B].map((id) => ({
            clientNodeId: id,
            describe: this.describe.has(id),
            ...(this.noToken.has(id) ? { errorMessage: 'NoValidTokenOnPairingClient' } : {}),
          })),
        );
        expect(
          items.some((i) => i.describe || i.errorMessage !== undefined),
          'the poll carries something',
        ).toBe(sub === 'carrying');
        expect(context.delayMs, 'next back-off').toBe(this.delay);
        break;
      }
      case 'backingOff':
        expect(open, 'nothing open while backing off').toEqual([]);
        expect(context.delayMs, 'this back-off').toBe(this.delay);
        break;
      case 'pairing':
        expect(open.map((c) => `${c.name}(${(c.input as { clientNodeId: string }).clientNodeId})`)).toEqual([`pair(${A})`]);
        expect(context.stopRequested).toBe(sub === 'stopping');
        break;
      case 'stopped':
        expect(snapshot.output).toEqual({ reason: OUTCOME[sub] });
        expect(open, 'nothing open once stopped').toEqual([]);
        // STOP while a poll was held: xstate stops the poll's actor, whose signal aborts the HTTP call.
        if (this.stoppedPoll) expect(this.signals.get(this.stoppedPoll)?.aborted, 'the held poll aborted').toBe(true);
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------------

const coverage = coverageOf(longPollClientMachine);
const paths = definePathsFor({
  label: 'longPollClientMachine, nodes A (token) and B (none)',
  model: createModel(),
  tagsOfEvent,
  driver: () => new LongPollDriver(coverage),
});

defineCoverageTests({
  label: 'longPollClientMachine',
  tags: '[S2C §3.9]',
  coverage,
  unreachable: {},
  pathCount: () => paths,
});
