/**
 * Model-based tests of the server-side statechart of a long-polling LAN client node
 * (src/connect/machines/prepared-pairing.ts; digest §1 (c), §3.8, §3.9 and the waitForPairing rows of §9). Paths
 * generated with xstate/graph from a test model drive one REAL actor under a SimulatedClock; after every step the
 * driver checks the real state, the actor status, what the context keeps (descriptions, the node a pairing is
 * prepared or requested on, the client's error, why the last request failed) and, at the end, the output. Each
 * expiry is checked 1 ms before it fires as well. Afterwards every transition of the real machine must have been
 * taken and every state node visited.
 */
import { expect } from 'vitest';
import type { EventObject } from 'xstate';
import {
  preparedPairingMachine,
  type PreparedPairingContext,
  type PreparedPairingFailure,
  type PreparedPairingOutput,
} from '../../../src/connect/machines/prepared-pairing.js';
import type { NodeDescription } from '../../../src/connect/wire/index.js';
import { defineCoverageTests } from '../../machines/path-tests.js';
import { ConnectDriver, coverageOf, definePathsFor, modelFromLeaves, STAY } from './connect-model-kit.js';

const ANSWER_MS = 10_000;
const PREPARE_MS = 15 * 60_000;
const OFFER_MS = 15 * 60_000;
const CLIENT = '7d2e9f40-1c3b-4a6d-8e5f-2a9b0c1d3e02';
const SERVER_NODE = '0b7f3c1e-4a2d-4d8e-9a51-3f6c2b1d0e01';
const OTHER_NODE = '5a1d2c3b-6e7f-4a8b-9c0d-1e2f3a4b5c03';
const RM: NodeDescription = { id: CLIENT, brand: 'b', type: 'battery', modelName: 'm', role: 'RM' };

// ---------------------------------------------------------------------------------------------
// The test model

type ModelEvent =
  | 'DESCRIBE' // askClient sendNodeDescription
  | 'DESCRIBED' // a poll item carries the descriptions
  | 'PREPARE_SERVER' // askClient preparePairing
  | 'PREPARE_CLIENT' // POST preparePairing by the client (1 s after the last step)
  | 'CANCEL' // askClient cancelPreparePairing / POST cancelPreparePairing
  | 'REQUEST' // requestPairingFrom (1 s after the last step)
  | 'PAIRED' // the client's pairing on the requested node was stored
  | 'PAIRED_OTHER_NODE' // … on another node: not the requested pairing
  | 'PAIRING_FAILED'
  | 'NO_TOKEN' // poll item errorMessage NoValidTokenOnPairingClient
  | 'ERROR_CLEARED' // poll item without errorMessage after one with
  | 'EXPIRE' // the state's delay runs to 1 ms before, then to its end
  | 'GONE'; // no poll for 2 × holdMs

const RESTING = ['idle', 'paired', 'failed', 'cancelled'] as const;

function createModel() {
  const leaves = new Map<string, Record<string, string | typeof STAY>>();
  for (const state of RESTING) {
    leaves.set(`live.${state}`, {
      DESCRIBE: 'live.describing',
      DESCRIBED: STAY,
      PREPARE_SERVER: 'live.prepared',
      PREPARE_CLIENT: 'live.prepared',
      REQUEST: 'live.requested',
      CANCEL: STAY,
      PAIRED: STAY,
      NO_TOKEN: STAY,
      GONE: 'gone',
    });
  }
  leaves.set('live.describing', {
    DESCRIBE: STAY,
    DESCRIBED: 'live.idle',
    EXPIRE: 'live.idle',
    PREPARE_SERVER: 'live.prepared',
    REQUEST: 'live.requested',
    CANCEL: STAY,
    GONE: 'gone',
  });
  leaves.set('live.prepared', {
    DESCRIBE: STAY,
    DESCRIBED: STAY,
    PREPARE_CLIENT: STAY, // re-entered: the expiry restarts
    CANCEL: 'live.cancelled',
    REQUEST: 'live.requested',
    EXPIRE: 'live.idle',
    GONE: 'gone',
  });
  leaves.set('live.requested', {
    DESCRIBED: STAY,
    PAIRED: 'live.paired',
    PAIRED_OTHER_NODE: STAY,
    PAIRING_FAILED: 'live.failed',
    NO_TOKEN: 'live.failed',
    ERROR_CLEARED: STAY,
    CANCEL: 'live.cancelled',
    REQUEST: STAY, // a new code: the offer's lifetime restarts
    EXPIRE: 'live.failed',
    GONE: 'gone',
  });
  leaves.set('gone', {});
  return modelFromLeaves('preparedPairingModel', 'live.idle', leaves);
}

const TAGS: Readonly<Record<ModelEvent, readonly string[]>> = {
  DESCRIBE: ['3.9'],
  DESCRIBED: ['3.9', '8'],
  PREPARE_SERVER: ['3.9'],
  PREPARE_CLIENT: ['3.9'],
  CANCEL: ['3.9'],
  REQUEST: ['1', '3.9'],
  PAIRED: ['3.6', '3.9'],
  PAIRED_OTHER_NODE: ['3.9'],
  PAIRING_FAILED: ['3.9', '9'],
  NO_TOKEN: ['3.9'],
  ERROR_CLEARED: ['3.9'],
  EXPIRE: ['3.8'],
  GONE: ['3.8', '9'],
};

// ---------------------------------------------------------------------------------------------
// The driver

class PreparedPairingDriver extends ConnectDriver {
  /** When the running delay of the current state started (ms on the simulated clock). */
  private since = 0;
  private expected: {
    node: NodeDescription | undefined;
    serverNodeId: string | undefined;
    errorMessage: string | undefined;
    failure: PreparedPairingFailure | undefined;
  } = { node: undefined, serverNodeId: undefined, errorMessage: undefined, failure: undefined };

  start(): void {
    this.startActor(preparedPairingMachine, { clientNodeId: CLIENT, answerMs: ANSWER_MS, prepareMs: PREPARE_MS, offerMs: OFFER_MS });
  }

  private send(event: Parameters<typeof preparedPairingMachine.transition>[1]): void {
    this.actor!.send(event);
  }

  async step(event: EventObject): Promise<void> {
    const from = this.leaf;
    const e = this.expected;
    switch (event.type as ModelEvent) {
      case 'DESCRIBE':
        this.send({ type: 'DESCRIBE' });
        if (RESTING.some((r) => from === `live.${r}`)) this.since = this.clock.now(); // entering describing
        break;
      case 'DESCRIBED':
        this.send({ type: 'DESCRIBED', node: RM, endpoint: { deployment: 'LAN' } });
        e.node = RM;
        break;
      case 'PREPARE_SERVER':
        this.send({ type: 'PREPARE', by: 'server' });
        this.since = this.clock.now();
        e.serverNodeId = undefined;
        e.failure = undefined;
        break;
      case 'PREPARE_CLIENT':
        await this.advance(1_000);
        this.send({ type: 'PREPARE', by: 'client', serverNodeId: SERVER_NODE });
        this.since = this.clock.now();
        e.serverNodeId = SERVER_NODE;
        e.failure = undefined;
        break;
      case 'CANCEL':
        this.send({ type: 'CANCEL', by: 'client' });
        break;
      case 'REQUEST':
        await this.advance(1_000);
        this.send({ type: 'REQUEST', serverNodeId: SERVER_NODE });
        this.since = this.clock.now();
        e.serverNodeId = SERVER_NODE;
        e.failure = undefined;
        e.errorMessage = undefined;
        break;
      case 'PAIRED':
        this.send({ type: 'PAIRED', serverNodeId: SERVER_NODE });
        break;
      case 'PAIRED_OTHER_NODE':
        this.send({ type: 'PAIRED', serverNodeId: OTHER_NODE });
        this.send({ type: 'PAIRING_FAILED', serverNodeId: OTHER_NODE });
        break;
      case 'PAIRING_FAILED':
        this.send({ type: 'PAIRING_FAILED', serverNodeId: SERVER_NODE });
        e.failure = 'pairing-failed';
        break;
      case 'NO_TOKEN':
        this.send({ type: 'CLIENT_ERROR', errorMessage: 'NoValidTokenOnPairingClient' });
        e.errorMessage = 'NoValidTokenOnPairingClient';
        if (from === 'live.requested') e.failure = 'no-token-on-client';
        break;
      case 'ERROR_CLEARED':
        // In `requested` only NoValidTokenOnPairingClient fails the request; this one falls through to `live`.
        this.send({ type: 'CLIENT_ERROR', errorMessage: undefined });
        e.errorMessage = undefined;
        break;
      case 'EXPIRE': {
        const delay = from === 'live.describing' ? ANSWER_MS : from === 'live.prepared' ? PREPARE_MS : OFFER_MS;
        await this.advance(this.since + delay - this.clock.now() - 1);
        expect(this.realState, `1 ms before the ${delay} ms of ${from}`).toBe(from);
        await this.advance(1);
        if (from === 'live.requested') e.failure = 'expired';
        break;
      }
      case 'GONE':
        this.send({ type: 'GONE' });
        if (from === 'live.requested') e.failure = 'gone';
        break;
    }
  }

  check(leaf: string): void {
    const snapshot = this.snapshot;
    expect(this.realState, 'real state').toBe(leaf);
    expect(snapshot.status, 'actor status').toBe(leaf === 'gone' ? 'done' : 'active');
    const context = snapshot.context as PreparedPairingContext;
    expect(context.clientNodeId).toBe(CLIENT);
    expect(context.node, 'descriptions kept').toEqual(this.expected.node);
    expect(context.errorMessage, 'client error').toBe(this.expected.errorMessage);
    expect(context.failure, 'why the last request failed').toBe(this.expected.failure);
    if (leaf === 'live.prepared' || leaf === 'live.requested') expect(context.serverNodeId).toBe(this.expected.serverNodeId);
    if (leaf === 'gone') {
      const output = snapshot.output as PreparedPairingOutput;
      expect(output).toEqual({ requestFailed: this.expected.failure === 'gone', failure: this.expected.failure });
    }
  }
}

// ---------------------------------------------------------------------------------------------

const coverage = coverageOf(preparedPairingMachine);
const paths = definePathsFor({
  label: 'preparedPairingMachine',
  model: createModel(),
  tagsOfEvent: (type) => TAGS[type as ModelEvent] ?? [],
  driver: () => new PreparedPairingDriver(coverage),
});

defineCoverageTests({
  label: 'preparedPairingMachine',
  tags: '[S2C §3.8, §3.9, §9]',
  coverage,
  unreachable: {},
  pathCount: () => paths,
});
