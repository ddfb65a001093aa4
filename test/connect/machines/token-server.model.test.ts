/**
 * Model-based tests of the communication server's token-rotation statechart (src/connect/machines/token-server.ts;
 * digest §3.8, §4.1, §4.2 and the session-initiation rows of §9). Paths generated with xstate/graph from a test model
 * drive one REAL actor under a SimulatedClock against a small compare-and-swap token store kept by the driver:
 * initiateSession calls (each with a fresh A_new and message version), confirmations with the pending, a stale
 * (replaced, used or expired) or an unknown token hash, the 15 s pending lifetime, the store's answers (swapped,
 * refused because the tokens changed meanwhile, failed), the issuing of the WebSocket token, and a local unpair.
 * After every step the driver checks the real state, the reply (status and body), the store's tokens — the old
 * token stays valid whenever nothing was swapped — the inputs of the invoked actors and the emitted events.
 */
import { expect } from 'vitest';
import type { EventObject } from 'xstate';
import { hashToken } from '../../../src/connect/crypto.js';
import { seal } from '../../../src/connect/machines/common.js';
import { tokenServerMachine, type TokenServerContext, type TokenServerEmitted } from '../../../src/connect/machines/token-server.js';
import type { CommunicationDetails, InitiateSessionResponse } from '../../../src/connect/wire/index.js';
import { defineCoverageTests } from '../../machines/path-tests.js';
import { ConnectDriver, coverageOf, definePathsFor, flush, modelFromLeaves, STAY } from './connect-model-kit.js';

const PENDING_MS = 15_000;
const VERSIONS = ['1.0.0-beta', '0.0.2-beta'];
const accessToken = (n: number) => `QUNDRVNTLVRPS0VOLW51bWJlci0${n}tb2YtdGhlLXRlc3Q=`;
const WEBSOCKET: CommunicationDetails = {
  communicationProtocol: 'WebSocket',
  websocketToken: 'V1MtdG9rZW4tb2YtdGhlLXRlc3Q=',
  websocketUrl: 'wss://cem.local:8443/v1/websocket',
};

// ---------------------------------------------------------------------------------------------
// The test model

/**
 * Leaves: `idle.<fresh|stale>` (stale: some earlier pending token is no longer confirmable — replaced, used or
 * expired — and can be replayed), `pending.<t0|t10><''|Stale>` (t10: 10 s of the 15 s have passed), `pending.restarted` (a newer
 * INITIATE came 10 s into the previous one's lifetime: the 15 s start again), `swapping`,
 * `issuing`, `unpaired`.
 */
type ModelEvent =
  | 'INITIATE'
  | 'WAIT_10S'
  | 'PENDING_EXPIRES'
  | 'CONFIRM_PENDING'
  | 'CONFIRM_STALE'
  | 'CONFIRM_UNKNOWN'
  | 'CONFIRM_REPLAY'
  | 'SWAP_OK'
  | 'SWAP_REFUSED'
  | 'SWAP_ERROR'
  | 'ISSUE_OK'
  | 'ISSUE_FAILS'
  | 'UNPAIR';

function createModel() {
  const leaves = new Map<string, Record<string, string | typeof STAY>>();
  for (const stale of [false, true]) {
    const s = stale ? 'Stale' : '';
    leaves.set(`idle.${stale ? 'stale' : 'fresh'}`, {
      INITIATE: `pending.t0${s}`,
      CONFIRM_UNKNOWN: STAY,
      ...(stale ? { CONFIRM_STALE: STAY } : {}),
      UNPAIR: 'unpaired',
    });
    for (const t of ['t0', 't10']) {
      leaves.set(`pending.${t}${s}`, {
        // The previous pending token becomes stale (digest §4.2: only the newest is confirmable); 10 s into the
        // previous one's lifetime, the new one must get its own full 15 s.
        INITIATE: t === 't0' ? 'pending.t0Stale' : 'pending.restarted',
        ...(t === 't0' ? { WAIT_10S: `pending.t10${s}` } : {}),
        PENDING_EXPIRES: 'idle.stale',
        CONFIRM_PENDING: 'swapping',
        CONFIRM_UNKNOWN: STAY,
        ...(stale ? { CONFIRM_STALE: STAY } : {}),
        UNPAIR: 'unpaired',
      });
    }
  }
  leaves.set('pending.restarted', {
    INITIATE: 'pending.t0Stale',
    WAIT_10S: 'pending.t10Stale',
    PENDING_EXPIRES: 'idle.stale',
    CONFIRM_PENDING: 'swapping',
    CONFIRM_UNKNOWN: STAY,
    CONFIRM_STALE: STAY,
    UNPAIR: 'unpaired',
  });
  const busy = { INITIATE: STAY, CONFIRM_UNKNOWN: STAY, CONFIRM_REPLAY: STAY, UNPAIR: 'unpaired' };
  leaves.set('swapping', { ...busy, SWAP_OK: 'issuing', SWAP_REFUSED: 'idle.stale', SWAP_ERROR: 'idle.stale' });
  leaves.set('issuing', { ...busy, ISSUE_OK: 'idle.stale', ISSUE_FAILS: 'idle.stale' });
  leaves.set('unpaired', {});
  return modelFromLeaves('tokenServerModel', 'idle.fresh', leaves);
}

const TAGS: Readonly<Record<ModelEvent, readonly string[]>> = {
  INITIATE: ['4.1', '4.2'],
  WAIT_10S: ['3.8'],
  PENDING_EXPIRES: ['3.8', '4.2', '9'],
  CONFIRM_PENDING: ['4.1'],
  CONFIRM_STALE: ['4.2', '9'],
  CONFIRM_UNKNOWN: ['9'],
  CONFIRM_REPLAY: ['4.2', '9'],
  SWAP_OK: ['4.1'],
  SWAP_REFUSED: ['4.2'],
  SWAP_ERROR: ['9'],
  ISSUE_OK: ['4.1'],
  ISSUE_FAILS: ['4.2', '9'],
  UNPAIR: ['4.3'],
};

// ---------------------------------------------------------------------------------------------
// The driver

interface Pending {
  readonly hash: string;
  readonly version: number;
  readonly messageVersion: string;
  readonly answer: InitiateSessionResponse;
  readonly since: number;
}

class TokenServerDriver extends ConnectDriver {
  /** The CS's token store for this pairing: the hash of the current access token and its version. */
  private store = { tokens: [hashToken(accessToken(0))], version: 1 };
  private n = 0;
  private pending: Pending | undefined;
  /** The pending token being confirmed (swapping, issuing). */
  private confirming: Pending | undefined;
  private stale: string | undefined;
  private expected: { status: number; body?: unknown } | undefined;
  private readonly emitted: TokenServerEmitted[] = [];
  private expectedEmitted: TokenServerEmitted[] = [];
  private readonly error = new Error('disk full (injected by the test)');

  start(): void {
    const machine = tokenServerMachine.provide({
      actors: { swapTokens: this.scripted.actor('swapTokens'), issueWebsocketToken: this.scripted.actor('issueWebsocketToken') },
    });
    const actor = this.startActor(machine, { pendingLifetimeMs: PENDING_MS });
    actor.on('websocketTokenIssued', (e: TokenServerEmitted) => this.emitted.push(e));
  }

  private cas(expectedVersion: number, tokens: string[]): boolean {
    if (this.store.version !== expectedVersion) return false;
    this.store = { tokens, version: this.store.version + 1 };
    return true;
  }

  private send(event: Record<string, unknown> & { type: string }): void {
    this.actor!.send(event);
  }

  async step(event: EventObject): Promise<void> {
    const type = event.type as ModelEvent;
    const from = this.leaf.split('.')[0];
    switch (type) {
      case 'INITIATE': {
        if (from === 'swapping' || from === 'issuing') {
          const token = accessToken(++this.n);
          this.send({
            type: 'INITIATE',
            pending: { tokenHash: hashToken(token), authorizedByVersion: this.store.version, messageVersion: VERSIONS[0]! },
            answer: seal({}),
          });
          this.expected = { status: 401 }; // the authorising token is being rotated out
          return;
        }
        if (this.pending) this.stale = this.pending.hash;
        const token = accessToken(++this.n);
        const messageVersion = VERSIONS[this.n % VERSIONS.length]!;
        const answer: InitiateSessionResponse = {
          selectedCommunicationProtocol: 'WebSocket',
          selectedS2MessageVersion: messageVersion,
          accessToken: token,
        };
        this.pending = { hash: hashToken(token), version: this.store.version, messageVersion, answer, since: this.clock.now() };
        this.send({
          type: 'INITIATE',
          pending: { tokenHash: this.pending.hash, authorizedByVersion: this.pending.version, messageVersion },
          answer: seal(answer),
        });
        this.expected = { status: 200, body: answer };
        return;
      }
      case 'WAIT_10S':
        await this.advance(10_000);
        return;
      case 'PENDING_EXPIRES': {
        const left = PENDING_MS - (this.clock.now() - this.pending!.since);
        await this.advance(left - 1);
        expect(this.realState, `1 ms before the pending token's ${PENDING_MS} ms (counted from the latest INITIATE)`).toBe('pending');
        await this.advance(1);
        this.stale = this.pending!.hash;
        this.pending = undefined;
        return;
      }
      case 'CONFIRM_PENDING':
        this.send({ type: 'CONFIRM', tokenHash: this.pending!.hash });
        this.confirming = this.pending;
        this.pending = undefined;
        this.expected = undefined; // answered when the machine is back in idle
        return;
      case 'CONFIRM_STALE':
        this.send({ type: 'CONFIRM', tokenHash: this.stale! });
        this.expected = { status: 401 };
        return;
      case 'CONFIRM_UNKNOWN':
        // The current access token itself is no pending token either.
        this.send({ type: 'CONFIRM', tokenHash: this.n % 2 === 0 ? hashToken('unknown') : this.store.tokens[0]! });
        this.expected = { status: 401 };
        return;
      case 'CONFIRM_REPLAY':
        this.send({ type: 'CONFIRM', tokenHash: this.confirming!.hash });
        this.expected = { status: 401 };
        return;
      case 'SWAP_OK': {
        const call = this.scripted.take('swapTokens');
        call.resolve(
          this.cas((call.input as { expectedVersion: number }).expectedVersion, [(call.input as { tokenHash: string }).tokenHash]),
        );
        await flush();
        expect(this.store.tokens, 'the new token is stored').toEqual([this.confirming!.hash]);
        return;
      }
      case 'SWAP_REFUSED': {
        // A concurrent rotation (another process, a replayed confirm) changed the tokens first.
        this.store = { tokens: [hashToken('rotated elsewhere')], version: this.store.version + 1 };
        const call = this.scripted.take('swapTokens');
        call.resolve(
          this.cas((call.input as { expectedVersion: number }).expectedVersion, [(call.input as { tokenHash: string }).tokenHash]),
        );
        await flush();
        this.done({ status: 401 });
        return;
      }
      case 'SWAP_ERROR': {
        const before = this.store;
        this.scripted.take('swapTokens').reject(this.error);
        await flush();
        expect(this.store, 'nothing swapped: the old token stays valid').toBe(before);
        this.done({ status: 500 });
        return;
      }
      case 'ISSUE_OK':
        this.scripted.take('issueWebsocketToken').resolve(seal(WEBSOCKET));
        this.expectedEmitted = [...this.expectedEmitted, { type: 'websocketTokenIssued', messageVersion: this.confirming!.messageVersion }];
        await flush();
        this.done({ status: 200, body: WEBSOCKET });
        return;
      case 'ISSUE_FAILS':
        this.scripted.take('issueWebsocketToken').reject(this.error);
        await flush();
        // A_new is stored already: the client's next try with A_old gets 401 and A_new works (digest §4.2).
        expect(this.store.tokens, 'the new token stays stored').toEqual([this.confirming!.hash]);
        this.done({ status: 500 });
        return;
      case 'UNPAIR': {
        const running = this.scripted.open();
        this.send({ type: 'UNPAIR' });
        this.expected = undefined;
        // A store answer arriving after the unpair changes nothing: the invoked actor was stopped with the state.
        for (const call of running) call.resolve(call.name === 'swapTokens' ? true : seal(WEBSOCKET));
        await flush();
        return;
      }
    }
  }

  /** The confirmation ended: its hash is used up. */
  private done(reply: { status: number; body?: unknown }): void {
    this.stale = this.confirming!.hash;
    this.expected = reply;
  }

  check(leaf: string): void {
    const [state] = leaf.split('.') as [string];
    const snapshot = this.snapshot;
    const context = snapshot.context as TokenServerContext;
    expect(this.realState, 'real state').toBe(state);
    expect(snapshot.status, 'actor status').toBe(state === 'unpaired' ? 'done' : 'active');
    if (this.expected) {
      expect(context.reply?.status, 'reply status').toBe(this.expected.status);
      expect(context.reply?.body?.reveal(), 'reply body').toEqual(this.expected.body);
    }
    for (const n of Array.from({ length: this.n + 1 }, (_, i) => i)) {
      expect(JSON.stringify(context), 'an access token in the snapshot').not.toContain(accessToken(n));
    }
    expect(JSON.stringify(context)).not.toContain(WEBSOCKET.websocketToken);

    // What the machine holds pending is the newest INITIATE's token (or, while confirming, the one confirmed).
    const held = state === 'swapping' || state === 'issuing' ? this.confirming : state === 'pending' ? this.pending : undefined;
    expect(context.pending, 'pending token').toEqual(
      held === undefined ? undefined : { tokenHash: held.hash, authorizedByVersion: held.version, messageVersion: held.messageVersion },
    );
    if (state === 'swapping') {
      expect(
        this.scripted.open().map((c) => c.input),
        'swapTokens: compare-and-swap on the version that authorised the INITIATE',
      ).toEqual([{ expectedVersion: this.confirming!.version, tokenHash: this.confirming!.hash }]);
    } else if (state === 'issuing') {
      expect(
        this.scripted.open().map((c) => c.input),
        'issueWebsocketToken: the version selected in that INITIATE',
      ).toEqual([{ messageVersion: this.confirming!.messageVersion }]);
    } else {
      expect(this.scripted.open(), 'no invoked step left running').toEqual([]);
    }
    expect(this.emitted, 'emitted events').toEqual(this.expectedEmitted);
  }
}

// ---------------------------------------------------------------------------------------------

const coverage = coverageOf(tokenServerMachine);
const paths = definePathsFor({
  label: 'tokenServerMachine',
  model: createModel(),
  tagsOfEvent: (type) => TAGS[type as ModelEvent] ?? [],
  driver: () => new TokenServerDriver(coverage),
});

defineCoverageTests({
  label: 'tokenServerMachine',
  tags: '[S2C §3.8, §4.1, §4.2, §9]',
  coverage,
  unreachable: {},
  pathCount: () => paths,
});
