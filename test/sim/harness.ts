import { expect } from 'vitest';
import { decode } from '../../src/codec/index.js';
import { attachCemControlTypes, type CemControlTypes } from '../../src/roles/cem-control.js';
import { attachRmControlTypes } from '../../src/roles/rm-control.js';
import { S2Session } from '../../src/roles/session.js';
import {
  createCemPolicy,
  type CemPolicy,
  type CemPolicyOptions,
  type PolicyEvent,
  type SimulatedDevice,
  type Ticker,
} from '../../src/sim/index.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import type { ControlTypeShort } from '../../src/typebox/message-spec.js';
import type { S2Message } from '../../src/typebox/registry.js';
import type { S2Version } from '../../src/typebox/versions.js';

/** Reports that mean a bug somewhere (the device, the policy or the library). */
const BAD_REPORTS = new Set(['internal-error', 'handler-error', 'send-failed']);

export interface Run {
  readonly cem: S2Session;
  readonly rm: S2Session;
  readonly policy: CemPolicy;
  /** Refusals (either side), non-OK ReceptionStatuses received (either side), bad reports. */
  readonly problems: string[];
  /** Every message the RM put on the wire, in order. */
  readonly rmSent: S2Message[];
  readonly events: PolicyEvent[];
  /** Resolves with the first truthy value of `probe`, re-evaluated on every frame and policy event; rejects after `ms`. */
  until<T>(probe: () => T | undefined | false, what: string, ms?: number): Promise<T>;
  /** Closes the CEM side and waits for both sessions to end. */
  close(): Promise<void>;
}

/**
 * A CEM (the policy, or `cemHandlers`) and the device as RM over an in-memory pair, with every
 * refusal, non-OK ReceptionStatus and error report collected. The CEM speaks both S2 JSON
 * versions (its default); the RM offers `rmVersions` (default its own: 0.0.2-beta).
 */
export function runPair<T extends ControlTypeShort>(
  device: SimulatedDevice<T>,
  policyOptions: CemPolicyOptions = {},
  cemHandlers?: CemControlTypes,
  rmVersions?: readonly S2Version[],
): Run {
  const [a, b] = createMemoryPair();
  const cem = new S2Session(a, { role: 'CEM' });
  const rm = new S2Session(b, { role: 'RM', details: device.details, ...(rmVersions ? { versions: rmVersions } : {}) });
  const problems: string[] = [];
  const rmSent: S2Message[] = [];
  const events: PolicyEvent[] = [];
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of [...waiters]) w();
  };
  const policy = createCemPolicy({
    ...policyOptions,
    onEvent: (e) => {
      events.push(e);
      policyOptions.onEvent?.(e);
      poke();
    },
  });
  attachRmControlTypes(rm, { [device.controlType]: device.handler });
  attachCemControlTypes(cem, cemHandlers ?? policy);
  for (const [name, s] of [
    ['CEM', cem],
    ['RM', rm],
  ] as const) {
    s.on('refused', ({ message, status, reason }) => problems.push(`${name} refused ${message?.message_type ?? '?'}: ${status} ${reason}`));
    s.on('received', ({ message }) => {
      if (message?.message_type === 'ReceptionStatus' && message.status !== 'OK')
        problems.push(`${name} got ${message.status}: ${message.diagnostic_label ?? ''}`);
      poke();
    });
    s.on('report', ({ kind, detail }) => {
      if (BAD_REPORTS.has(kind)) problems.push(`${name} report ${kind}: ${detail}`);
    });
    s.on('sent', poke);
  }
  rm.on('sent', ({ message }) => rmSent.push(message));
  cem.start();
  rm.start();
  return {
    cem,
    rm,
    policy,
    problems,
    rmSent,
    events,
    until<R>(probe: () => R | undefined | false, what: string, ms = 5000): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        const check = () => {
          let v: R | undefined | false;
          try {
            v = probe();
          } catch (err) {
            done();
            reject(err);
            return;
          }
          if (v !== undefined && v !== false) {
            done();
            resolve(v);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${ms} ms waiting for ${what}; problems: ${problems.join(' | ') || 'none'}`));
        }, ms);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      await cem.close();
      await rm.closed;
    },
  };
}

/** The RM's sent messages of one type. */
export function sentOf<K extends S2Message['message_type']>(run: Run, type: K): Extract<S2Message, { message_type: K }>[] {
  return run.rmSent.filter((m): m is Extract<S2Message, { message_type: K }> => m.message_type === type);
}

/** The first final status the policy saw for an instruction of this message type. */
export function finalOf(run: Run, messageType: string): string | undefined {
  const e = run.events.find((x) => x.kind === 'final' && x.handle.message.message_type === messageType);
  return e?.kind === 'final' ? e.status : undefined;
}

/** [R3, Q15] Every message the RM sent passes the UUID-strict codec (what s2-python demands of ids). */
export function expectUuidClean(run: Run): void {
  expect(run.rmSent.length).toBeGreaterThan(0);
  for (const m of run.rmSent) {
    const r = decode(JSON.stringify(m), { ids: 'uuid', version: run.rm.version ?? '0.0.2-beta' });
    expect(r.ok, `${m.message_type}: ${r.ok ? '' : r.error.diagnosticLabel}`).toBe(true);
  }
}

/** A ticker the test drives: `tick()` runs every live interval once; `live` counts intervals not cleared. */
export function manualTicker(): Ticker & { tick(): void; readonly live: number } {
  const intervals = new Map<number, () => void>();
  let next = 1;
  return {
    setInterval(callback) {
      const id = next++;
      intervals.set(id, callback);
      return id;
    },
    clearInterval(handle) {
      intervals.delete(handle as number);
    },
    tick() {
      for (const cb of [...intervals.values()]) cb();
    },
    get live() {
      return intervals.size;
    },
  };
}
