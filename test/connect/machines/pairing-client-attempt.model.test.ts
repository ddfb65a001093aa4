/**
 * Model-based tests of the pairing client's attempt statechart (src/connect/machines/pairing-client-attempt.ts;
 * digest §1, §3.3–3.6, §8 rows 20 and the reflection note, §9 client side). Paths generated with xstate/graph from a
 * test model drive one REAL attempt actor: each model event settles the invoked call the machine is waiting for
 * (the PS's answers, the store's), with real HMACs (src/connect/crypto.ts, LAN binding to a leaf fingerprint).
 * After every step the driver checks the real state and the exact sequence of calls with their inputs — in
 * particular the order persist → finalize{true} when this node becomes CS and finalize{true} → persist when it
 * becomes CC, and the best-effort finalize{false} after every failure that follows a successful requestPairing —
 * and, at the end, the typed output. The model runs twice: with and without connection details of our own.
 */
import { expect } from 'vitest';
import type { EventObject } from 'xstate';
import { challengesEquivalent, constantTimeEqual, hmacResponse } from '../../../src/connect/crypto.js';
import { S2ConnectError } from '../../../src/connect/errors.js';
import { seal, type Sealed } from '../../../src/connect/machines/common.js';
import {
  pairingClientAttemptMachine,
  type PairingClientAttemptOutput,
  type PairingClientFailure,
  type PairingClientPersistInput,
  type PairingOffer,
} from '../../../src/connect/machines/pairing-client-attempt.js';
import type { PairingRecord } from '../../../src/connect/store/pairing-store.js';
import type {
  CommunicationRole,
  ConnectionDetails,
  Deployment,
  EndpointDescription,
  NodeDescription,
} from '../../../src/connect/wire/index.js';
import { defineCoverageTests } from '../../machines/path-tests.js';
import { ConnectDriver, coverageOf, definePathsFor, flush, modelFromLeaves, type ScriptedCall } from './connect-model-kit.js';

// Digest §7: T = 00…08, C_c = 00…1f, C_s = 80…bf; F stands in for the leaf fingerprint (LAN binding).
const TOKEN = Uint8Array.from({ length: 9 }, (_, i) => i);
const CLIENT_CHALLENGE = Uint8Array.from({ length: 32 }, (_, i) => i);
const SERVER_CHALLENGE = Uint8Array.from({ length: 64 }, (_, i) => 0x80 + i);
const LEAF = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 ^ i);
const ROOT = Uint8Array.from({ length: 32 }, (_, i) => 0x50 ^ i);
const R_C = hmacResponse(CLIENT_CHALLENGE, TOKEN, LEAF);
const R_S = hmacResponse(SERVER_CHALLENGE, TOKEN, LEAF);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

const ATTEMPT_ID = 'YXR0ZW1wdC1pZC1vZi0zMi1ieXRlcy1mb3ItdGhlLXRlc3Q=';
const OWN_DETAILS: ConnectionDetails = {
  initiateSessionUrl: 'https://cem.local:8443/',
  accessToken: 'T1dOLWFjY2Vzcy10b2tlbg==',
  certificateFingerprint: ROOT,
};
const GIVEN_DETAILS: ConnectionDetails = { initiateSessionUrl: 'https://rm-cloud.example/', accessToken: 'R0lWRU4tYWNjZXNzLXRva2Vu' };
const SECRETS = [ATTEMPT_ID, OWN_DETAILS.accessToken, GIVEN_DETAILS.accessToken, b64(R_C), b64(R_S)];

/** We are a CEM on the LAN. */
const OWN_ROLE = 'CEM';
const OWN_DEPLOYMENT: Deployment = 'LAN';
const serverNode = (role: 'CEM' | 'RM'): NodeDescription => ({
  id: '00000000-0000-4000-8000-0000000000b0',
  brand: 'b',
  type: 't',
  modelName: 'm',
  role,
});

/** Digest §1 table, written out here: different deployments ⇒ the WAN side serves; same ⇒ the CEM serves. */
function communicationRoleWith(node: NodeDescription, endpoint: EndpointDescription): CommunicationRole {
  const theirs = endpoint.deployment ?? 'WAN';
  if (theirs !== OWN_DEPLOYMENT) return OWN_DEPLOYMENT === 'WAN' ? 'server' : 'client';
  return node.role === 'CEM' ? 'client' : 'server';
}

// ---------------------------------------------------------------------------------------------
// The test model

/**
 * Leaves: `requestingPairing`, the substates of `becomingServer` / `becomingClient`, `abandoning.<cause>`,
 * `failed.<cause>` and `paired.<server|client>`. The cause in the leaf lets each failure be checked through to
 * the output.
 */
type Cause =
  | 'algorithm'
  | 'allWrong'
  | 'wrongRc'
  | 'sameRole'
  | 'shortChallenge'
  | 'reflected'
  | 'noInitiateUrl'
  | 'postFailed'
  | 'persistFailedCS'
  | 'finalizeFailedDiscarded'
  | 'finalizeFailedKept'
  | 'detailsFailed'
  | 'finalizeFailedCC'
  | 'persistFailedCC'
  | 'requestRefused'
  | 'requestUnreachable';

const NO = { remoteKeepsPairing: false, localKeepsPairing: false };
const EXPECTED_FAILURE: Readonly<Record<Cause, Omit<PairingClientFailure, 'cause'>>> = {
  algorithm: { reason: 'algorithm-not-offered', step: 'requestPairing', ...NO },
  // Several checks fail: the first in the documented order wins.
  allWrong: { reason: 'algorithm-not-offered', step: 'requestPairing', ...NO },
  wrongRc: { reason: 'wrong-server-response', step: 'requestPairing', ...NO },
  sameRole: { reason: 'same-role', step: 'requestPairing', ...NO },
  shortChallenge: { reason: 'short-server-challenge', step: 'requestPairing', ...NO },
  reflected: { reason: 'reflected-challenge', step: 'requestPairing', ...NO },
  noInitiateUrl: { reason: 'no-initiate-url', step: 'requestPairing', ...NO },
  postFailed: { reason: 'http-400', step: 'postConnectionDetails', httpStatus: 400, errorMessage: 'BadRequest', ...NO },
  persistFailedCS: { reason: 'persist-failed', step: 'persist', errorMessage: 'StorageFailed', ...NO },
  finalizeFailedDiscarded: { reason: 'http-500', step: 'finalize', httpStatus: 500, errorMessage: 'ServerError', ...NO },
  finalizeFailedKept: {
    reason: 'http-500',
    step: 'finalize',
    httpStatus: 500,
    errorMessage: 'ServerError',
    remoteKeepsPairing: false,
    localKeepsPairing: true,
  },
  detailsFailed: { reason: 'http-403', step: 'requestConnectionDetails', httpStatus: 403, errorMessage: 'Forbidden', ...NO },
  finalizeFailedCC: { reason: 'request-failed', step: 'finalize', errorMessage: 'TransportFailed', ...NO },
  persistFailedCC: {
    reason: 'persist-failed',
    step: 'persist',
    errorMessage: 'StorageFailed',
    remoteKeepsPairing: true,
    localKeepsPairing: false,
  },
  requestRefused: { reason: 'http-400', step: 'requestPairing', httpStatus: 400, errorMessage: 'NodeNotFound', ...NO },
  requestUnreachable: { reason: 'request-failed', step: 'requestPairing', ...NO },
};

/** Failures found by checking the requestPairing answer (no invoked step failed). */
const CHECK_CAUSES: ReadonlySet<Cause> = new Set<Cause>([
  'algorithm',
  'allWrong',
  'wrongRc',
  'sameRole',
  'shortChallenge',
  'reflected',
  'noInitiateUrl',
]);

const OFFER_EVENTS = {
  OFFER_ALGORITHM: 'algorithm',
  OFFER_ALL_WRONG: 'allWrong',
  OFFER_WRONG_RC: 'wrongRc',
  OFFER_SAME_ROLE: 'sameRole',
  OFFER_SHORT_CHALLENGE: 'shortChallenge',
  OFFER_REFLECTED: 'reflected',
} as const satisfies Record<string, Cause>;

function createModel(canServe: boolean) {
  const leaves = new Map<string, Record<string, string>>();
  leaves.set('requestingPairing', {
    OFFER_CS: canServe ? 'becomingServer.postingDetails' : 'abandoning.noInitiateUrl',
    OFFER_CC: 'becomingClient.requestingDetails',
    ...Object.fromEntries(Object.entries(OFFER_EVENTS).map(([event, cause]) => [event, `abandoning.${cause}`])),
    PAIRING_REFUSED: 'failed.requestRefused',
    PAIRING_UNREACHABLE: 'failed.requestUnreachable',
  });
  if (canServe) {
    leaves.set('becomingServer.postingDetails', { DETAILS_OK: 'becomingServer.persisting', DETAILS_FAIL: 'abandoning.postFailed' });
    leaves.set('becomingServer.persisting', { PERSIST_OK: 'becomingServer.finalizing', PERSIST_FAIL: 'abandoning.persistFailedCS' });
    leaves.set('becomingServer.finalizing', { FINALIZE_OK: 'paired.server', FINALIZE_FAIL: 'becomingServer.discarding' });
    leaves.set('becomingServer.discarding', {
      DISCARD_OK: 'abandoning.finalizeFailedDiscarded',
      DISCARD_FAIL: 'abandoning.finalizeFailedKept',
    });
  }
  leaves.set('becomingClient.requestingDetails', { DETAILS_OK: 'becomingClient.finalizing', DETAILS_FAIL: 'abandoning.detailsFailed' });
  leaves.set('becomingClient.finalizing', { FINALIZE_OK: 'becomingClient.persisting', FINALIZE_FAIL: 'abandoning.finalizeFailedCC' });
  leaves.set('becomingClient.persisting', { PERSIST_OK: 'paired.client', PERSIST_FAIL: 'abandoning.persistFailedCC' });
  const causes = new Set<string>();
  for (const on of leaves.values())
    for (const to of Object.values(on)) if (to.startsWith('abandoning.')) causes.add(to.slice('abandoning.'.length));
  for (const cause of causes) leaves.set(`abandoning.${cause}`, { ABANDON_OK: `failed.${cause}`, ABANDON_FAIL: `failed.${cause}` });
  for (const cause of [...causes, 'requestRefused', 'requestUnreachable']) leaves.set(`failed.${cause}`, {});
  if (canServe) leaves.set('paired.server', {});
  leaves.set('paired.client', {});
  return modelFromLeaves(canServe ? 'pcAttemptModel' : 'pcAttemptModelNoDetails', 'requestingPairing', leaves);
}

function tagsOfEvent(type: string): readonly string[] {
  if (type === 'OFFER_CS' || type === 'OFFER_CC') return ['1', '3.3'];
  if (type === 'OFFER_SHORT_CHALLENGE') return ['3.3', '8'];
  if (type === 'OFFER_REFLECTED') return ['3.3', '8', '9'];
  if (type.startsWith('OFFER_')) return ['3.3', '9'];
  if (type.startsWith('PAIRING_')) return ['3.3'];
  if (type.startsWith('DETAILS_')) return ['3.5'];
  return ['3.6']; // persist, finalize, discard, abandon: the order and the best-effort finalize{false}
}

// ---------------------------------------------------------------------------------------------
// The driver

class PcAttemptDriver extends ConnectDriver {
  /** The calls the machine must have made so far, as `name(arg)`. */
  private readonly expectedCalls: string[] = [];
  private persisted: PairingRecord | undefined;
  private role: CommunicationRole | undefined;

  constructor(
    private readonly canServe: boolean,
    coverage: ReturnType<typeof coverageOf>,
  ) {
    super(coverage);
  }

  start(): void {
    const s = this.scripted;
    const machine = pairingClientAttemptMachine.provide({
      actors: {
        requestPairing: s.actor('requestPairing'),
        requestConnectionDetails: s.actor('requestConnectionDetails'),
        postConnectionDetails: s.actor('postConnectionDetails'),
        finalize: s.actor('finalize'),
        persist: s.actor('persist'),
        discard: s.actor('discard'),
      },
    });
    this.startActor(machine, {
      ownRole: OWN_ROLE,
      offeredHmacAlgorithms: ['SHA256'],
      hmac: {
        verifyClientChallengeResponse: (r: Uint8Array, f: Uint8Array | undefined) =>
          constantTimeEqual(r, hmacResponse(CLIENT_CHALLENGE, TOKEN, f)),
        isOwnChallenge: (c: Uint8Array) => challengesEquivalent(c, CLIENT_CHALLENGE),
        respond: (c: Uint8Array, f: Uint8Array | undefined) => hmacResponse(c, TOKEN, f),
      },
      communicationRoleWith,
      ...(this.canServe ? { ownConnectionDetails: seal(OWN_DETAILS) } : {}),
    });
    this.expectedCalls.push('requestPairing');
  }

  private offer(changes: Partial<PairingOffer> = {}): PairingOffer {
    return {
      attemptId: seal(ATTEMPT_ID),
      serverNode: serverNode('RM'),
      serverEndpoint: { name: 'server', deployment: 'LAN' },
      selectedHmacHashingAlgorithm: 'SHA256',
      clientHmacChallengeResponse: seal(R_C),
      serverHmacChallenge: SERVER_CHALLENGE,
      leafFingerprint: LEAF,
      rootFingerprint: ROOT,
      ...changes,
    };
  }

  private record(role: CommunicationRole): PairingRecord {
    return {
      localNodeId: '00000000-0000-4000-8000-0000000000a0',
      remoteNodeId: serverNode('RM').id,
      localRole: OWN_ROLE,
      remoteNode: serverNode('RM'),
      remoteEndpoint: { deployment: role === 'server' ? 'LAN' : 'WAN' },
      communicationRole: role,
      pairedAt: '2026-07-01T00:00:00.000Z',
    };
  }

  /** Settles the one open call (which must be `name`) and records the call the machine must make next. */
  private async settle(name: string, outcome: { value: unknown } | { error: unknown }, next?: string): Promise<ScriptedCall> {
    const call = this.scripted.take(name);
    if ('value' in outcome) call.resolve(outcome.value);
    else call.reject(outcome.error);
    if (next) this.expectedCalls.push(next);
    await flush();
    return call;
  }

  async step(event: EventObject): Promise<void> {
    const type = event.type;
    const inServer = this.leaf.startsWith('becomingServer');
    const offerEvents: Record<string, Partial<PairingOffer>> = {
      OFFER_ALGORITHM: { selectedHmacHashingAlgorithm: 'SHA512' },
      OFFER_ALL_WRONG: {
        selectedHmacHashingAlgorithm: 'SHA512',
        clientHmacChallengeResponse: seal(R_S),
        serverNode: serverNode('CEM'),
        serverHmacChallenge: SERVER_CHALLENGE.slice(0, 16),
      },
      // R_c over T alone: the WAN formula answered by a server we reached as LAN (or a wrong token).
      OFFER_WRONG_RC: { clientHmacChallengeResponse: seal(hmacResponse(CLIENT_CHALLENGE, TOKEN)) },
      OFFER_SAME_ROLE: { serverNode: serverNode('CEM') },
      OFFER_SHORT_CHALLENGE: { serverHmacChallenge: SERVER_CHALLENGE.slice(0, 31) },
      // Our own challenge, zero-padded: the same HMAC key (digest §8), so R_s would be R_c.
      OFFER_REFLECTED: { serverHmacChallenge: Uint8Array.from([...CLIENT_CHALLENGE, 0, 0, 0, 0, 0, 0, 0, 0]) },
    };
    switch (type) {
      case 'OFFER_CS':
        this.role = 'server';
        await this.settle('requestPairing', { value: this.offer() }, this.canServe ? 'postConnectionDetails' : 'finalize(false)');
        return;
      case 'OFFER_CC':
        this.role = 'client';
        await this.settle('requestPairing', { value: this.offer({ serverEndpoint: { deployment: 'WAN' } }) }, 'requestConnectionDetails');
        return;
      case 'PAIRING_REFUSED':
        await this.settle('requestPairing', { error: S2ConnectError.pairing('NodeNotFound') });
        return;
      case 'PAIRING_UNREACHABLE':
        await this.settle('requestPairing', { error: new TypeError('fetch failed') });
        return;
      case 'DETAILS_OK':
        if (inServer) await this.settle('postConnectionDetails', { value: undefined }, 'persist(server)');
        else await this.settle('requestConnectionDetails', { value: seal(GIVEN_DETAILS) }, 'finalize(true)');
        return;
      case 'DETAILS_FAIL':
        if (inServer) await this.settle('postConnectionDetails', { error: S2ConnectError.ofStatus(400) }, 'finalize(false)');
        else await this.settle('requestConnectionDetails', { error: S2ConnectError.forbidden() }, 'finalize(false)');
        return;
      case 'PERSIST_OK':
        this.persisted = this.record(this.role!);
        await this.settle('persist', { value: this.persisted }, inServer ? 'finalize(true)' : undefined);
        return;
      case 'PERSIST_FAIL':
        await this.settle('persist', { error: S2ConnectError.local('StorageFailed') }, 'finalize(false)');
        return;
      case 'FINALIZE_OK':
        await this.settle('finalize', { value: undefined }, inServer ? undefined : 'persist(client)');
        return;
      case 'FINALIZE_FAIL':
        if (inServer) await this.settle('finalize', { error: S2ConnectError.internal() }, 'discard');
        else await this.settle('finalize', { error: S2ConnectError.local('TransportFailed') }, 'finalize(false)');
        return;
      case 'DISCARD_OK':
        await this.settle('discard', { value: undefined }, 'finalize(false)');
        return;
      case 'DISCARD_FAIL':
        await this.settle('discard', { error: S2ConnectError.local('StorageFailed') }, 'finalize(false)');
        return;
      case 'ABANDON_OK':
        await this.settle('finalize', { value: undefined });
        return;
      case 'ABANDON_FAIL':
        // Best effort: the PS may have dropped the attempt already (401), or be gone.
        await this.settle('finalize', { error: S2ConnectError.unauthorized() });
        return;
      default: {
        const changes = offerEvents[type];
        if (!changes) throw new Error(`driver: no mapping for ${type}`);
        await this.settle('requestPairing', { value: this.offer(changes) }, 'finalize(false)');
      }
    }
  }

  /** A call as `name(arg)`, checking its input. */
  private label(call: ScriptedCall): string {
    const input = call.input as Record<string, unknown> | undefined;
    switch (call.name) {
      case 'requestPairing':
        return 'requestPairing';
      case 'postConnectionDetails':
      case 'requestConnectionDetails': {
        const i = input as {
          attemptId: Sealed<string>;
          serverHmacChallengeResponse: Sealed<Uint8Array>;
          connectionDetails?: Sealed<ConnectionDetails>;
        };
        expect(i.attemptId.reveal(), `${call.name}: attempt id`).toBe(ATTEMPT_ID);
        // R_s over C_s, bound to the leaf (LAN).
        expect(b64(i.serverHmacChallengeResponse.reveal()), `${call.name}: R_s`).toBe(b64(R_S));
        if (call.name === 'postConnectionDetails') expect(i.connectionDetails?.reveal(), 'our details').toEqual(OWN_DETAILS);
        return call.name;
      }
      case 'finalize': {
        const i = input as { attemptId: Sealed<string>; success: boolean };
        expect(i.attemptId.reveal(), 'finalize: attempt id').toBe(ATTEMPT_ID);
        return `finalize(${i.success})`;
      }
      case 'persist': {
        const i = input as unknown as PairingClientPersistInput;
        expect(i.serverNode, 'persist: server node').toEqual(serverNode('RM'));
        expect(i.connectionDetails.reveal(), 'persist: the details of the CS').toEqual(
          i.communicationRole === 'server' ? OWN_DETAILS : GIVEN_DETAILS,
        );
        expect(i.rootFingerprint, 'persist: the root seen while pairing, for the pin').toEqual(ROOT);
        return `persist(${i.communicationRole})`;
      }
      case 'discard':
        expect((input as { record: PairingRecord }).record, 'discard: the record persist stored').toBe(this.persisted);
        return 'discard';
      default:
        return call.name;
    }
  }

  check(leaf: string): void {
    const [top, sub] = leaf.split('.') as [string, string | undefined];
    const snapshot = this.snapshot;
    const json = JSON.stringify({ context: snapshot.context, output: snapshot.output });
    for (const secret of SECRETS) expect(json, 'a secret in the snapshot').not.toContain(secret);

    const real = top === 'abandoning' || top === 'failed' || top === 'paired' ? top : leaf;
    expect(this.realState, 'real state').toBe(real);
    expect(
      this.scripted.calls.map((c) => this.label(c)),
      'calls so far, in order',
    ).toEqual(this.expectedCalls);
    const done = top === 'failed' || top === 'paired';
    expect(snapshot.status, 'actor status').toBe(done ? 'done' : 'active');
    expect(this.scripted.open().length, 'open calls').toBe(done ? 0 : 1);

    if (top === 'paired') {
      expect(this.persisted, 'persist resolved').toBeDefined();
      const expected: PairingClientAttemptOutput = {
        outcome: 'paired',
        communicationRole: sub as CommunicationRole,
        record: this.persisted!,
      };
      expect(snapshot.output).toEqual(expected);
    }
    if (top === 'failed') {
      const { cause, ...rest } = snapshot.output as PairingClientFailure & { outcome: string };
      expect(rest).toEqual({ outcome: 'failed', ...EXPECTED_FAILURE[sub as Cause] });
      // A failed check of the answer has no cause; a failed step keeps what it rejected with.
      if (CHECK_CAUSES.has(sub as Cause)) expect(cause, 'cause of a failed check').toBeUndefined();
      else expect(cause, 'cause of a failed step').toBeInstanceOf(Error);
    }
  }
}

// ---------------------------------------------------------------------------------------------

const coverage = coverageOf(pairingClientAttemptMachine);
let paths = 0;
for (const canServe of [true, false]) {
  paths += definePathsFor({
    label: `pairingClientAttemptMachine, ${canServe ? 'with' : 'without'} connection details of our own (we are a CEM on the LAN)`,
    model: createModel(canServe),
    tagsOfEvent,
    driver: () => new PcAttemptDriver(canServe, coverage),
  });
}

defineCoverageTests({
  label: 'pairingClientAttemptMachine',
  tags: '[S2C §1, §3.3, §3.5, §3.6, §8, §9]',
  coverage,
  unreachable: {},
  pathCount: () => paths,
});
