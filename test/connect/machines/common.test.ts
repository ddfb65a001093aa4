/**
 * The pieces the S2 Connect machines share (src/connect/machines/common.ts): the Sealed wrapper that keeps secrets
 * out of snapshots and logs, how a rejected step's HTTP facts become a failure reason, and the loud default of an
 * invoked actor nobody provided.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock, toPromise } from 'xstate';
import { S2ConnectError } from '../../../src/connect/errors.js';
import { httpFactsOf, remoteStepReason, seal } from '../../../src/connect/machines/common.js';
import { tokenClientMachine } from '../../../src/connect/machines/index.js';

const SECRET = 'c2VjcmV0LWFjY2Vzcy10b2tlbg==';

describe('Sealed', () => {
  it('[S2C §9] shows [redacted] to JSON, String, template literals and util.inspect; reveal() gives the value back', () => {
    const sealed = seal({ accessToken: SECRET });
    const text = [
      JSON.stringify({ context: { sealed } }),
      String(sealed),
      // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- a template literal is one of the ways a secret leaks, and Sealed's own toString is what is under test
      `${sealed}`,
      inspect(sealed),
      inspect({ deep: [sealed] }, { depth: 5 }),
    ];
    for (const t of text) {
      expect(t).not.toContain(SECRET);
      expect(t).toContain('[redacted]');
    }
    expect(sealed.reveal()).toEqual({ accessToken: SECRET });
    expect(Object.keys(sealed)).toEqual([]);
    expect(structuredClone({ sealed }).sealed).not.toHaveProperty('accessToken');
  });
});

describe('failure reasons of invoked steps', () => {
  it('reads httpStatus and errorMessage from an S2ConnectError, nothing from other throwables', () => {
    expect(httpFactsOf(S2ConnectError.session('NoLongerPaired'))).toEqual({ httpStatus: 400, errorMessage: 'NoLongerPaired' });
    expect(httpFactsOf(S2ConnectError.local('TransportFailed'))).toEqual({ errorMessage: 'TransportFailed' });
    expect(httpFactsOf(new TypeError('fetch failed'))).toEqual({});
    expect(httpFactsOf('text')).toEqual({});
    expect(httpFactsOf({ httpStatus: '401' })).toEqual({});
  });

  it('an answered refusal is http-<status>; no answer, or an unusable 2xx, is request-failed', () => {
    expect(remoteStepReason(S2ConnectError.unauthorized())).toBe('http-401');
    expect(remoteStepReason(S2ConnectError.ofStatus(503))).toBe('http-503');
    expect(remoteStepReason(new S2ConnectError('UnexpectedResponse', { httpStatus: 200 }))).toBe('request-failed');
    expect(remoteStepReason(new Error('ECONNREFUSED'))).toBe('request-failed');
  });
});

describe('an invoked actor that was not provided', () => {
  it('fails the machine at once, naming the actor, instead of waiting forever', async () => {
    const actor = createActor(tokenClientMachine, {
      input: { versions: ['1.0.0-beta'], protocols: ['WebSocket'] },
      clock: new SimulatedClock(),
    });
    actor.start();
    const output = await toPromise(actor);
    expect(output).toMatchObject({ outcome: 'failed', reason: 'load-failed', step: 'loadTokens' });
    expect(String((output as { cause?: unknown }).cause)).toContain("invoked actor 'loadTokens' not provided");
  });
});
