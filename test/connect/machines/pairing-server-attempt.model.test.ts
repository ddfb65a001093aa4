/**
 * Model-based tests of the pairing server's attempt statechart (src/connect/machines/pairing-server-attempt.ts;
 * digest §3.5, §3.6, §3.8 and the pairing-server rows of §9). Paths generated with xstate/graph from a test model
 * (the real states × how far the 15 s lifetime has run) drive one REAL attempt actor under a SimulatedClock, once
 * for each detail step the pairing client must use (`request`: the PS is CS; `post`: the PC is CS). After every
 * step the driver checks the real state, the reply the HTTP layer would send (status, body), the final output, the
 * calls of the invoked `persistPairing`, and that no secret shows in the snapshot's JSON. Afterwards every
 * transition of the real machine must have been taken and every state node visited.
 */
import { expect } from 'vitest';
import type { EventObject } from 'xstate';
import { constantTimeEqual, hmacResponse } from '../../../src/connect/crypto.js';
import { seal, type Sealed } from '../../../src/connect/machines/common.js';
import {
  pairingServerAttemptMachine,
  type DetailsStep,
  type PairingServerAttemptContext,
  type PairingServerAttemptOutput,
  type PairingToPersist,
} from '../../../src/connect/machines/pairing-server-attempt.js';
import type { ConnectionDetails } from '../../../src/connect/wire/index.js';
import { defineCoverageTests } from '../../machines/path-tests.js';
import { ConnectDriver, coverageOf, definePathsFor, flush, modelFromLeaves, STAY } from './connect-model-kit.js';

const LIFETIME_MS = 15_000;

// Digest §7 inputs: the 9-byte token 00…08 and the 64-byte server challenge 80…bf; R_s (WAN) = HMAC(key C_s, T).
const TOKEN = Uint8Array.from({ length: 9 }, (_, i) => i);
const SERVER_CHALLENGE = Uint8Array.from({ length: 64 }, (_, i) => 0x80 + i);
const R_S = hmacResponse(SERVER_CHALLENGE, TOKEN);
const R_S_B64 = Buffer.from(R_S).toString('base64');
const WRONG_R_S = Uint8Array.from(R_S, (b, i) => (i === R_S.length - 1 ? b ^ 1 : b));

const ACCESS_TOKEN = 'QUNDRVNTLVRPS0VOLW9mLTMyLWJ5dGVzLWZvci10ZXN0cyE=';
const DETAILS: ConnectionDetails = { initiateSessionUrl: 'https://cem.local:8443/', accessToken: ACCESS_TOKEN };
const SECRETS = [ACCESS_TOKEN, R_S_B64];

// ---------------------------------------------------------------------------------------------
// The test model

/**
 * Leaves: `awaitingConnectionDetails.<t0|t10>`, `awaitingFinalize.<t0|t10>` (t10: 10 s of the lifetime have
 * passed — the lifetime runs from the requestPairing answer, not from the last call), `persisting`, and the final
 * states. Events are what the pairing client (or time, or the store) does.
 */
type ModelEvent =
  | 'DETAILS_RIGHT_CALL' // the detail call of expectedStep, with the right R_s
  | 'DETAILS_BAD_RESPONSE' // … with a wrong R_s (wrong token, WAN formula against a LAN server)
  | 'DETAILS_WRONG_CALL' // the other detail call (with the right R_s)
  | 'FINALIZE_TRUE'
  | 'FINALIZE_FALSE'
  | 'WAIT_10S'
  | 'LIFETIME_ENDS' // time runs to 1 ms before the 15 s (still alive), then to the 15 s
  | 'PERSIST_OK'
  | 'PERSIST_FAILS'
  | 'LATE_WHILE_PERSISTING'; // 20 s pass while the store writes

function createModel() {
  const leaves = new Map<string, Record<string, string | typeof STAY>>();
  for (const t of ['t0', 't10']) {
    const time = { LIFETIME_ENDS: 'expired' };
    leaves.set(`awaitingConnectionDetails.${t}`, {
      ...time,
      ...(t === 't0' ? { WAIT_10S: 'awaitingConnectionDetails.t10' } : {}),
      DETAILS_RIGHT_CALL: `awaitingFinalize.${t}`,
      DETAILS_BAD_RESPONSE: 'failed',
      DETAILS_WRONG_CALL: 'refused',
      FINALIZE_TRUE: 'refused',
      FINALIZE_FALSE: 'cancelled',
    });
    leaves.set(`awaitingFinalize.${t}`, {
      ...time,
      ...(t === 't0' ? { WAIT_10S: 'awaitingFinalize.t10' } : {}),
      DETAILS_RIGHT_CALL: 'failed',
      DETAILS_WRONG_CALL: 'failed',
      FINALIZE_TRUE: 'persisting',
      FINALIZE_FALSE: 'cancelled',
    });
  }
  leaves.set('persisting', {
    DETAILS_RIGHT_CALL: STAY,
    DETAILS_WRONG_CALL: STAY,
    FINALIZE_TRUE: STAY,
    FINALIZE_FALSE: STAY,
    LATE_WHILE_PERSISTING: STAY,
    PERSIST_OK: 'paired',
    PERSIST_FAILS: 'persistFailed',
  });
  for (const final of ['paired', 'persistFailed', 'cancelled', 'failed', 'refused', 'expired']) leaves.set(final, {});
  return modelFromLeaves('psAttemptModel', 'awaitingConnectionDetails.t0', leaves);
}

const TAGS: Readonly<Record<ModelEvent, readonly string[]>> = {
  DETAILS_RIGHT_CALL: ['3.5'],
  DETAILS_BAD_RESPONSE: ['3.4', '3.5', '9'],
  DETAILS_WRONG_CALL: ['3.5', '8', '9'],
  FINALIZE_TRUE: ['3.6'],
  FINALIZE_FALSE: ['3.6', '9'],
  WAIT_10S: ['3.8'],
  LIFETIME_ENDS: ['3.8', '9'],
  PERSIST_OK: ['3.6'],
  PERSIST_FAILS: ['3.6', '9'],
  LATE_WHILE_PERSISTING: ['3.8'],
};

// ---------------------------------------------------------------------------------------------
// The driver

interface Expected {
  readonly status: number;
  /** The 200 body the reply must carry (revealed). */
  readonly body?: unknown;
}

class PsAttemptDriver extends ConnectDriver {
  private expected: Expected | undefined;
  /** What the accepted detail call gave to persist. */
  private accepted: Sealed<PairingToPersist> | undefined;
  private persistCalls = 0;
  private readonly error = new Error('disk full (injected by the test)');

  constructor(
    private readonly step_: DetailsStep,
    coverage: ReturnType<typeof coverageOf>,
  ) {
    super(coverage);
  }

  start(): void {
    const machine = pairingServerAttemptMachine.provide({ actors: { persistPairing: this.scripted.actor('persistPairing') } });
    this.startActor(machine, {
      expectedStep: this.step_,
      verifyResponse: (r: Uint8Array) => constantTimeEqual(r, R_S),
      lifetimeMs: LIFETIME_MS,
    });
  }

  private pairing(label: string): Sealed<PairingToPersist> {
    const role = this.step_ === 'request' ? 'server' : 'client';
    return seal({
      record: {
        localNodeId: '00000000-0000-4000-8000-00000000000a',
        remoteNodeId: '00000000-0000-4000-8000-00000000000b',
        localRole: 'CEM',
        remoteNode: { id: '00000000-0000-4000-8000-00000000000b', brand: 'b', type: 't', modelName: label, role: 'RM' },
        remoteEndpoint: { deployment: 'LAN' },
        communicationRole: role,
        pairedAt: '2026-07-01T00:00:00.000Z',
      },
      tokens: [role === 'server' ? 'hash-of-the-access-token' : ACCESS_TOKEN],
    });
  }

  /** The detail call of `step` with `response`. */
  private detailCall(step: DetailsStep, response: Uint8Array): Sealed<PairingToPersist> {
    const pairing = this.pairing(`${step}-${this.clock.now()}`);
    if (step === 'request') this.actor!.send({ type: 'REQUEST_DETAILS', response: seal(response), details: seal(DETAILS), pairing });
    else this.actor!.send({ type: 'POST_DETAILS', response: seal(response), pairing });
    return pairing;
  }

  private get other(): DetailsStep {
    return this.step_ === 'request' ? 'post' : 'request';
  }

  async step(event: EventObject): Promise<void> {
    const from = this.leaf.split('.')[0];
    const type = event.type as ModelEvent;
    switch (type) {
      case 'DETAILS_RIGHT_CALL': {
        const pairing = this.detailCall(this.step_, R_S);
        if (from === 'awaitingConnectionDetails') {
          this.accepted = pairing;
          this.expected = this.step_ === 'request' ? { status: 200, body: DETAILS } : { status: 204 };
        } else {
          this.expected = { status: 401 }; // a second detail call, or a call while persisting
        }
        break;
      }
      case 'DETAILS_BAD_RESPONSE':
        this.detailCall(this.step_, WRONG_R_S);
        this.expected = { status: 403 };
        break;
      case 'DETAILS_WRONG_CALL':
        this.detailCall(this.other, R_S);
        this.expected = { status: from === 'awaitingConnectionDetails' ? 400 : 401 };
        break;
      case 'FINALIZE_TRUE':
        this.actor!.send({ type: 'FINALIZE', success: true });
        if (from === 'awaitingConnectionDetails') this.expected = { status: 400 };
        else if (from === 'persisting') this.expected = { status: 401 };
        else this.expected = undefined; // answered when persisting ends
        break;
      case 'FINALIZE_FALSE':
        this.actor!.send({ type: 'FINALIZE', success: false });
        this.expected = { status: from === 'persisting' ? 401 : 204 };
        break;
      case 'WAIT_10S':
        await this.advance(10_000);
        break;
      case 'LIFETIME_ENDS': {
        const left = LIFETIME_MS - this.clock.now();
        await this.advance(left - 1);
        expect(this.realState, `1 ms before the ${LIFETIME_MS} ms lifetime (at ${this.clock.now()} ms)`).toMatch(/^open\./);
        await this.advance(1);
        this.expected = { status: 401 };
        break;
      }
      case 'PERSIST_OK':
        this.scripted.take('persistPairing').resolve(undefined);
        await flush();
        this.expected = { status: 204 };
        break;
      case 'PERSIST_FAILS':
        this.scripted.take('persistPairing').reject(this.error);
        await flush();
        this.expected = { status: 500 };
        break;
      case 'LATE_WHILE_PERSISTING':
        await this.advance(20_000);
        break;
    }
  }

  check(leaf: string): void {
    const [state] = leaf.split('.') as [string];
    const snapshot = this.snapshot;
    const json = JSON.stringify({ context: snapshot.context, output: snapshot.output });
    for (const secret of SECRETS) expect(json, 'a secret in the snapshot').not.toContain(secret);

    const real = state === 'awaitingConnectionDetails' || state === 'awaitingFinalize' ? `open.${state}` : state;
    expect(this.realState, 'real state').toBe(real);
    const done = ['paired', 'persistFailed', 'cancelled', 'failed', 'refused', 'expired'].includes(state);
    expect(snapshot.status, 'actor status').toBe(done ? 'done' : 'active');

    const reply = done ? (snapshot.output as PairingServerAttemptOutput).reply : (snapshot.context as PairingServerAttemptContext).reply;
    if (this.expected) {
      expect(reply?.status, 'reply status').toBe(this.expected.status);
      expect(reply?.errorMessage, 'no error body on these endpoints (digest §8 row 11)').toBeUndefined();
      expect(reply?.body?.reveal(), 'reply body').toEqual(this.expected.body);
    }
    if (done) {
      const output = snapshot.output as PairingServerAttemptOutput;
      expect(output.outcome).toBe(state);
      if (state === 'persistFailed') expect(output.cause).toBe(this.error);
      else expect(output).not.toHaveProperty('cause');
    }

    // persistPairing: called once, on entering persisting, with what the accepted detail call gave.
    const calls = this.scripted.calls;
    if (state === 'persisting' && this.persistCalls === 0) this.persistCalls = 1;
    expect(calls.length, 'persistPairing calls').toBe(this.persistCalls);
    if (calls[0]) expect((calls[0].input as { pairing: Sealed<PairingToPersist> }).pairing).toBe(this.accepted);
    if (state !== 'persisting') expect(this.scripted.open(), 'no write left running').toEqual([]);
  }
}

// ---------------------------------------------------------------------------------------------

const coverage = coverageOf(pairingServerAttemptMachine);
const model = createModel();
let paths = 0;
for (const step of ['request', 'post'] as const) {
  paths += definePathsFor({
    label: `pairingServerAttemptMachine, expectedStep ${step} (${step === 'request' ? 'the PS will be CS' : 'the PC will be CS'})`,
    model,
    tagsOfEvent: (type) => TAGS[type as ModelEvent] ?? [],
    driver: () => new PsAttemptDriver(step, coverage),
  });
}

defineCoverageTests({
  label: 'pairingServerAttemptMachine',
  tags: '[S2C §3.5, §3.6, §3.8, §9]',
  coverage,
  unreachable: {},
  pathCount: () => paths,
});
