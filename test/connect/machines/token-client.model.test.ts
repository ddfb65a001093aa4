/**
 * Model-based tests of the communication client's session-initiation statechart (src/connect/machines/token-client.ts;
 * digest §4.1, §4.2 and the client side of §9). Paths generated with xstate/graph from a test model drive one REAL
 * actor against a compare-and-swap token store kept by the driver, with one and with two stored access tokens:
 * each model event settles the call the machine waits for (the store, initiateSession, confirmAccessToken, the
 * WebSocket). After every step the driver checks the real state, the tokens tried so far (oldest first), the
 * inputs of every call — [the token that worked, A_new] stored before confirming, A_new confirmed, [A_new] stored
 * after — the store's contents, that no token shows in the snapshot, and at the end the typed output.
 */
import { expect } from 'vitest';
import type { EventObject } from 'xstate';
import { S2ConnectError } from '../../../src/connect/errors.js';
import { seal, type Sealed } from '../../../src/connect/machines/common.js';
import {
  tokenClientMachine,
  type InitiateAnswer,
  type TokenClientFailure,
  type TokenClientOutput,
} from '../../../src/connect/machines/token-client.js';
import type { NodeDescription } from '../../../src/connect/wire/index.js';
import { defineCoverageTests } from '../../machines/path-tests.js';
import { ConnectDriver, coverageOf, definePathsFor, flush, modelFromLeaves, type ScriptedCall } from './connect-model-kit.js';

const VERSIONS = ['1.0.0-beta', '0.0.2-beta'];
const SELECTED = '0.0.2-beta';
const STORED = ['T0xELWFjY2Vzcy10b2tlbi1vbmU=', 'T0xELWFjY2Vzcy10b2tlbi10d28='];
const A_NEW = 'TkVXLWFjY2Vzcy10b2tlbi1vZi10aGUtdGVzdA==';
const W = 'V1MtdG9rZW4tb2YtdGhlLXRlc3Q=';
const WS_URL = 'wss://cem.local:8443/v1/websocket';
const SECRETS = [...STORED, A_NEW, W];
const SERVER_NODE: NodeDescription = {
  id: '00000000-0000-4000-8000-0000000000c0',
  brand: 'b',
  type: 't',
  modelName: 'renamed',
  role: 'CEM',
};
/** What openWebSocket resolves with: stands for the open connection. */
const CONNECTION = { socket: 'open' };

// ---------------------------------------------------------------------------------------------
// The test model

type Cause =
  | 'noPairing'
  | 'loadFailed'
  | 'init400'
  | 'initUnreachable'
  | 'versionNotOffered'
  | 'protocolNotOffered'
  | 'storeConflict'
  | 'storeFailed'
  | 'confirm401'
  | 'insecureUrl'
  | 'ws401';

const EXPECTED_FAILURE: Readonly<Record<Cause, Omit<TokenClientFailure, 'cause'>>> = {
  noPairing: { reason: 'no-stored-pairing', step: 'loadTokens' },
  loadFailed: { reason: 'load-failed', step: 'loadTokens', errorMessage: 'StorageFailed' },
  init400: { reason: 'http-400', step: 'initiateSession', httpStatus: 400, errorMessage: 'IncompatibleS2MessageVersions' },
  initUnreachable: { reason: 'request-failed', step: 'initiateSession', errorMessage: 'TransportFailed' },
  versionNotOffered: { reason: 'version-not-offered', step: 'initiateSession' },
  protocolNotOffered: { reason: 'protocol-not-offered', step: 'initiateSession' },
  storeConflict: { reason: 'token-store-conflict', step: 'storeTokens' },
  storeFailed: { reason: 'persist-failed', step: 'storeTokens', errorMessage: 'StorageFailed' },
  confirm401: { reason: 'http-401', step: 'confirmAccessToken', httpStatus: 401, errorMessage: 'Unauthorized' },
  insecureUrl: { reason: 'insecure-websocket-url', step: 'confirmAccessToken' },
  ws401: { reason: 'http-401', step: 'openWebSocket', httpStatus: 401, errorMessage: 'Unauthorized' },
};
/** Failures found by checking an answer (no invoked step failed, so no cause). */
const CHECK_CAUSES: ReadonlySet<Cause> = new Set<Cause>([
  'noPairing',
  'versionNotOffered',
  'protocolNotOffered',
  'storeConflict',
  'insecureUrl',
]);

/**
 * Leaves: `loading`, `initiating.<first|second>` (the stored token being tried), `storingBoth`, `confirming`,
 * `storingNew`, `connecting.<pruned|notPruned>`, `connected.<pruned|notPruned>`, `notPaired`, `unpaired`,
 * `failed.<cause>`.
 */
function createModel(tokens: 1 | 2) {
  const leaves = new Map<string, Record<string, string>>();
  leaves.set('loading', {
    LOAD_OK: 'initiating.first',
    LOAD_NONE: 'failed.noPairing',
    LOAD_EMPTY: 'failed.noPairing',
    LOAD_FAILS: 'failed.loadFailed',
  });
  const initiating = (next: string) => ({
    INIT_OK: 'storingBoth',
    INIT_401: next,
    INIT_NO_LONGER_PAIRED: 'unpaired',
    INIT_INCOMPATIBLE: 'failed.init400',
    INIT_UNREACHABLE: 'failed.initUnreachable',
    INIT_BAD_VERSION: 'failed.versionNotOffered',
    INIT_BAD_PROTOCOL: 'failed.protocolNotOffered',
  });
  leaves.set('initiating.first', initiating(tokens === 2 ? 'initiating.second' : 'notPaired'));
  if (tokens === 2) leaves.set('initiating.second', initiating('notPaired'));
  leaves.set('storingBoth', { STORE_OK: 'confirming', STORE_CONFLICT: 'failed.storeConflict', STORE_FAILS: 'failed.storeFailed' });
  leaves.set('confirming', { CONFIRM_OK: 'storingNew', CONFIRM_401: 'failed.confirm401', CONFIRM_INSECURE_URL: 'failed.insecureUrl' });
  leaves.set('storingNew', { STORE_OK: 'connecting.pruned', STORE_CONFLICT: 'connecting.notPruned', STORE_FAILS: 'connecting.notPruned' });
  for (const p of ['pruned', 'notPruned']) leaves.set(`connecting.${p}`, { WS_OK: `connected.${p}`, WS_401: 'failed.ws401' });
  for (const final of [
    'connected.pruned',
    'connected.notPruned',
    'notPaired',
    'unpaired',
    ...Object.keys(EXPECTED_FAILURE).map((c) => `failed.${c}`),
  ]) {
    leaves.set(final, {});
  }
  return modelFromLeaves(`tokenClientModel${tokens}`, 'loading', leaves);
}

function tagsOfEvent(type: string): readonly string[] {
  if (type === 'INIT_401' || type === 'INIT_NO_LONGER_PAIRED') return ['4.1', '4.2', '9'];
  if (type === 'CONFIRM_INSECURE_URL') return ['4.1', '9'];
  if (type.startsWith('STORE_') || type === 'CONFIRM_401') return ['4.1', '4.2'];
  return ['4.1'];
}

// ---------------------------------------------------------------------------------------------
// The driver

class TokenClientDriver extends ConnectDriver {
  /** The CC's token store for this pairing (raw tokens, oldest first). */
  private store: { tokens: readonly string[]; version: number };
  private index = 0;
  private loadedVersion = 0;
  private afterFirstSwap = 0;
  private readonly expectedCalls: string[] = ['loadTokens'];

  constructor(
    private readonly count: 1 | 2,
    coverage: ReturnType<typeof coverageOf>,
  ) {
    super(coverage);
    this.store = { tokens: STORED.slice(0, count), version: 7 };
  }

  start(): void {
    const s = this.scripted;
    const machine = tokenClientMachine.provide({
      actors: {
        loadTokens: s.actor('loadTokens'),
        initiateSession: s.actor('initiateSession'),
        storeTokens: s.actor('storeTokens'),
        confirmAccessToken: s.actor('confirmAccessToken'),
        openWebSocket: s.actor('openWebSocket'),
      },
    });
    this.startActor(machine, { versions: VERSIONS, protocols: ['WebSocket'] });
  }

  private answer(changes: Partial<InitiateAnswer> = {}): InitiateAnswer {
    return {
      selectedS2MessageVersion: SELECTED,
      selectedCommunicationProtocol: 'WebSocket',
      accessToken: seal(A_NEW),
      serverNode: SERVER_NODE,
      ...changes,
    };
  }

  private async settle(name: string, outcome: { value: unknown } | { error: unknown }, next?: string): Promise<void> {
    const call = this.scripted.take(name);
    if ('value' in outcome) call.resolve(outcome.value);
    else call.reject(outcome.error);
    if (next) this.expectedCalls.push(next);
    await flush();
  }

  /** The store's compare-and-swap, as PairingStore.swapTokens does it. */
  private cas(input: { expectedVersion: number; tokens: Sealed<readonly string[]> }) {
    if (input.expectedVersion !== this.store.version) return { swapped: false as const };
    this.store = { tokens: input.tokens.reveal(), version: this.store.version + 1 };
    return { swapped: true as const, version: this.store.version };
  }

  private async store_(outcome: 'ok' | 'conflict' | 'fails', next: string | undefined): Promise<void> {
    const call = this.scripted.take('storeTokens');
    const input = call.input as { expectedVersion: number; tokens: Sealed<readonly string[]> };
    if (outcome === 'fails') call.reject(S2ConnectError.local('StorageFailed'));
    else {
      if (outcome === 'conflict') this.store = { tokens: ['rotated-by-a-concurrent-connect'], version: this.store.version + 1 };
      const result = this.cas(input);
      expect(result.swapped, 'compare-and-swap').toBe(outcome === 'ok');
      call.resolve(result);
    }
    if (next) this.expectedCalls.push(next);
    await flush();
  }

  async step(event: EventObject): Promise<void> {
    const inFirstStore = this.leaf === 'storingBoth';
    switch (event.type) {
      case 'LOAD_OK':
        this.loadedVersion = this.store.version;
        return this.settle(
          'loadTokens',
          { value: { tokens: seal(this.store.tokens), version: this.store.version } },
          `initiateSession(${STORED[0]})`,
        );
      case 'LOAD_NONE':
        return this.settle('loadTokens', { value: undefined });
      case 'LOAD_EMPTY':
        return this.settle('loadTokens', { value: { tokens: seal([]), version: 1 } });
      case 'LOAD_FAILS':
        return this.settle('loadTokens', { error: S2ConnectError.local('StorageFailed') });
      case 'INIT_OK':
        return this.settle('initiateSession', { value: this.answer() }, 'storeTokens');
      case 'INIT_401': {
        const next = this.index + 1 < this.count ? `initiateSession(${STORED[this.index + 1]})` : undefined;
        if (next) this.index += 1;
        return this.settle('initiateSession', { error: S2ConnectError.unauthorized() }, next);
      }
      case 'INIT_NO_LONGER_PAIRED':
        return this.settle('initiateSession', { error: S2ConnectError.session('NoLongerPaired') });
      case 'INIT_INCOMPATIBLE':
        return this.settle('initiateSession', { error: S2ConnectError.session('IncompatibleS2MessageVersions') });
      case 'INIT_UNREACHABLE':
        return this.settle('initiateSession', { error: S2ConnectError.local('TransportFailed') });
      case 'INIT_BAD_VERSION':
        return this.settle('initiateSession', { value: this.answer({ selectedS2MessageVersion: 'v1' }) });
      case 'INIT_BAD_PROTOCOL':
        return this.settle('initiateSession', { value: this.answer({ selectedCommunicationProtocol: 'MQTT' }) });
      case 'STORE_OK':
        await this.store_('ok', inFirstStore ? 'confirmAccessToken' : 'openWebSocket');
        if (inFirstStore) this.afterFirstSwap = this.store.version;
        return;
      case 'STORE_CONFLICT':
        return this.store_('conflict', inFirstStore ? undefined : 'openWebSocket');
      case 'STORE_FAILS':
        return this.store_('fails', inFirstStore ? undefined : 'openWebSocket');
      case 'CONFIRM_OK':
        return this.settle('confirmAccessToken', { value: { websocketUrl: WS_URL, websocketToken: seal(W) } }, 'storeTokens');
      case 'CONFIRM_401':
        return this.settle('confirmAccessToken', { error: S2ConnectError.unauthorized() });
      case 'CONFIRM_INSECURE_URL':
        return this.settle('confirmAccessToken', { value: { websocketUrl: 'ws://cem.local:8080/v1/websocket', websocketToken: seal(W) } });
      case 'WS_OK':
        return this.settle('openWebSocket', { value: CONNECTION });
      case 'WS_401':
        return this.settle('openWebSocket', { error: S2ConnectError.unauthorized() });
      default:
        throw new Error(`driver: no mapping for ${event.type}`);
    }
  }

  /** A call as the log shows it, its input checked. */
  private label(call: ScriptedCall): string {
    const input = call.input as Record<string, unknown>;
    if (call.name === 'initiateSession') return `initiateSession(${(input.token as Sealed<string>).reveal()})`;
    return call.name;
  }

  check(leaf: string): void {
    const [top, sub] = leaf.split('.') as [string, string | undefined];
    const snapshot = this.snapshot;
    const json = JSON.stringify({ context: snapshot.context, output: snapshot.output });
    for (const secret of SECRETS) expect(json, 'a token in the snapshot').not.toContain(secret);
    expect(this.realState, 'real state').toBe(top);
    // Oldest token first, the next one only after a 401 (digest §4.1).
    expect(
      this.scripted.calls.map((c) => this.label(c)),
      'calls so far, in order',
    ).toEqual(this.expectedCalls);
    const done = ['connected', 'notPaired', 'unpaired', 'failed'].includes(top);
    expect(snapshot.status, 'actor status').toBe(done ? 'done' : 'active');
    const open = this.scripted.open();
    expect(open.length, 'open calls').toBe(done ? 0 : 1);
    const input = open[0]?.input as Record<string, unknown> | undefined;

    switch (top) {
      case 'initiating':
        expect(input?.index, 'index of the token tried').toBe(sub === 'first' ? 0 : 1);
        break;
      case 'storingBoth':
        // [the token that worked, A_new], durably, before the confirmation (digest §4.1 step 2).
        expect(input?.expectedVersion).toBe(this.loadedVersion);
        expect((input?.tokens as Sealed<string[]>).reveal()).toEqual([STORED[this.index], A_NEW]);
        break;
      case 'confirming':
        expect((input?.token as Sealed<string>).reveal(), 'confirmAccessToken with A_new').toBe(A_NEW);
        expect(this.store.tokens, 'both tokens stored while confirming').toEqual([STORED[this.index], A_NEW]);
        break;
      case 'storingNew':
        expect(input?.expectedVersion).toBe(this.afterFirstSwap);
        expect((input?.tokens as Sealed<string[]>).reveal()).toEqual([A_NEW]);
        break;
      case 'connecting':
        expect(input?.websocketUrl).toBe(WS_URL);
        expect((input?.websocketToken as Sealed<string>).reveal()).toBe(W);
        expect(input?.messageVersion).toBe(SELECTED);
        if (sub === 'pruned') expect(this.store.tokens, 'only A_new stored').toEqual([A_NEW]);
        break;
      case 'connected':
        expect(snapshot.output).toEqual({
          outcome: 'connected',
          messageVersion: SELECTED,
          connection: CONNECTION,
          serverNode: SERVER_NODE,
          tokensPruned: sub === 'pruned',
        } satisfies TokenClientOutput);
        break;
      case 'notPaired':
        expect(snapshot.output).toEqual({ outcome: 'notPaired', reason: 'all-tokens-rejected', tried: this.count });
        expect(this.store.tokens, 'the pairing is not deleted (digest §9: surface it)').toEqual(STORED.slice(0, this.count));
        break;
      case 'unpaired':
        expect(snapshot.output).toEqual({ outcome: 'unpaired', reason: 'no-longer-paired' });
        break;
      case 'failed': {
        const { cause, ...rest } = snapshot.output as TokenClientFailure & { outcome: string };
        expect(rest).toEqual({ outcome: 'failed', ...EXPECTED_FAILURE[sub as Cause] });
        if (CHECK_CAUSES.has(sub as Cause)) expect(cause).toBeUndefined();
        else expect(cause).toBeInstanceOf(S2ConnectError);
        // Nothing confirmed before the both-token write: the stored tokens are what they were (digest §4.2).
        if (['loadFailed', 'init400', 'initUnreachable', 'versionNotOffered', 'protocolNotOffered', 'storeFailed'].includes(sub!)) {
          expect(this.store.tokens, 'stored tokens unchanged').toEqual(STORED.slice(0, this.count));
        }
        // A failed confirmation keeps both: the next connect tries the old one first, then A_new (digest §4.2).
        if (sub === 'confirm401' || sub === 'insecureUrl') expect(this.store.tokens).toEqual([STORED[this.index], A_NEW]);
        break;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

const coverage = coverageOf(tokenClientMachine);
let paths = 0;
for (const count of [1, 2] as const) {
  paths += definePathsFor({
    label: `tokenClientMachine, ${count} stored access token${count > 1 ? 's' : ''}`,
    model: createModel(count),
    tagsOfEvent,
    driver: () => new TokenClientDriver(count, coverage),
  });
}

defineCoverageTests({
  label: 'tokenClientMachine',
  tags: '[S2C §4.1, §4.2, §9]',
  coverage,
  unreachable: {},
  pathCount: () => paths,
});
