/**
 * The session's fast paths (bench/RESULTS.md §5.2, §5.5: ReceptionStatuses settled without a
 * macrostep, one timer for every ReceptionStatus wait, control-type messages that cannot change the
 * activation judged without a round trip to it) change nothing a peer or an application can see.
 * Every generated path of the CEM and RM session models, and realistic traffic of all five control
 * types, runs twice — fast paths off, then on — with a SimulatedClock and deterministic ids, and
 * both runs must record the same trace: every frame put on the transport, every session event
 * (`sent`, `received`, `refused`, `report`, `notice`, `state`, `message`, `close` …), every result
 * of `send` (the ReceptionStatus, TIMEOUT or CLOSED) and every refusal to send, in order.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createTestModel } from 'xstate/graph';
import type * as SessionModule from '../../src/roles/session.js';
import type { S2Session, SessionEvents } from '../../src/roles/session.js';
import type { Transport } from '../../src/transport/transport.js';
import type { ControlTypeShort } from '../../src/typebox/message-spec.js';
import { messageSpec } from '../../src/typebox/registry.js';
import { catalogue, MESSAGE_SETS } from '../support/control-type-messages.js';
import {
  handshake,
  handshakeResponse,
  powerMeasurement,
  receptionStatus,
  rmDetails,
  rmDetailsBody,
  selectControlType,
  WIRE,
} from '../support/session-messages.js';
import { generatePaths, SessionHarness, TIMING, type AnyTestModel } from '../machines/model-kit.js';
import { CemDriver, RmDriver } from '../machines/session-drivers.js';
import { CONFIGS, createCemModel, createRmModel, modelEvents, SHORTS } from '../machines/session-models.js';

/** The trace of the run in progress: what every session created meanwhile did, in order. */
let trace: unknown[] = [];
const record = (...entry: unknown[]) => trace.push(entry);

const EVENTS: readonly (keyof SessionEvents)[] = [
  'handshake',
  'details',
  'controlType',
  'message',
  'refused',
  'sent',
  'received',
  'state',
  'notice',
  'report',
  'error',
  'close',
];

// Every session the harness creates gets its recorders before it starts (its Handshake included).
vi.mock('../../src/roles/session.js', async (importOriginal) => {
  const actual = await importOriginal<typeof SessionModule>();
  const connectSession = (transport: Transport, options: SessionModule.SessionOptions): S2Session => {
    const send = transport.send.bind(transport);
    transport.send = (text: string) => {
      record('frame', options.role, text);
      send(text);
    };
    const session = new actual.S2Session(transport, options);
    for (const event of EVENTS) {
      session.on(event, (payload) =>
        record(event, options.role, event === 'error' ? { source: (payload as SessionEvents['error']).source } : payload),
      );
    }
    const sendMessage = session.send.bind(session);
    session.send = (message) => {
      try {
        const result = sendMessage(message);
        void result.then((r) => record('result', options.role, r));
        return result;
      } catch (err) {
        record('send-refused', options.role, err instanceof Error ? err.message : String(err));
        throw err;
      }
    };
    return session.start();
  };
  return { ...actual, connectSession };
});

const { setFastPaths } = await import('../../src/roles/session.js');
afterAll(() => setFastPaths(true));

/** Runs `body` with the fast paths on or off; its trace (and its failure, if any: both runs must fail alike). */
async function traced(fast: boolean, body: () => Promise<void>): Promise<unknown[]> {
  setFastPaths(fast);
  trace = [];
  try {
    await body();
  } catch (err) {
    record('failed', err instanceof Error ? err.message.split('\n')[0] : String(err));
  } finally {
    setFastPaths(true);
  }
  return JSON.parse(JSON.stringify(trace)) as unknown[];
}

/** Both runs of `body` record the same trace; returns its length (the test asserts there was something to compare). */
async function expectEquivalent(body: () => Promise<void>): Promise<number> {
  const slow = await traced(false, body);
  const fast = await traced(true, body);
  expect(fast).toEqual(slow);
  return slow.length;
}

describe('fast paths on vs off: the generated paths of the session models', () => {
  for (const role of ['CEM', 'RM'] as const) {
    for (const cfg of CONFIGS) {
      const machine = role === 'CEM' ? createCemModel(cfg) : createRmModel(cfg);
      const model = createTestModel(machine, { events: [...modelEvents(role, cfg)] }) as AnyTestModel;
      const { paths } = generatePaths(model);
      it(`[R11, R12, R14, R18, R21, R41] ${role} (${cfg.name}): ${paths.length} paths record identical frames, events, send results and states`, async () => {
        for (const path of paths) {
          const length = await expectEquivalent(async () => {
            const h = role === 'CEM' ? new SessionHarness('CEM') : new SessionHarness('RM', { details: rmDetailsBody(cfg.offer) });
            const driver = role === 'CEM' ? new CemDriver(h, cfg) : new RmDriver(h, cfg);
            try {
              await h.flush();
              await model.testPath(path, driver.params(machine));
            } finally {
              await h.dispose();
            }
          });
          expect(length).toBeGreaterThan(0);
        }
      }, 120_000);
    }
  }
});

// ---------------------------------------------------------------- realistic traffic --------------

const STATUSES = ['OK', 'OK', 'OK', 'INVALID_CONTENT', 'TEMPORARY_ERROR'] as const;

/** Answers every message the session sent and the peer has not answered, rotating through STATUSES. */
async function answerAll(h: SessionHarness, turn: { n: number }): Promise<void> {
  await h.flush();
  h.takeFrames();
  for (const sent of [...h.pending]) {
    h.pending.splice(h.pending.indexOf(sent), 1);
    // Session-level messages get OK, so the session reaches the control type and stays there.
    const status =
      messageSpec(sent.type)?.area === 'common' && sent.type !== 'PowerMeasurement' ? 'OK' : STATUSES[turn.n++ % STATUSES.length]!;
    h.peer.send(receptionStatus(sent.id, status));
  }
  await h.flush();
}

/**
 * One control type's traffic through a session of `role` and a scripted peer: the handshake, the
 * selection, then the catalogue's messages twice (descriptions, statuses, forecasts, instructions,
 * abnormal and unknown references, revocations …) — the peer's as frames, ours through `send` —
 * with answers of every kind, measurements in between, a reception timeout, a duplicate
 * ReceptionStatus, an unknown one, and finally PERMANENT_ERROR (R18).
 */
async function traffic(role: 'CEM' | 'RM', short: ControlTypeShort, sendFromInside = false): Promise<void> {
  const wire = WIRE[short];
  const h = role === 'CEM' ? new SessionHarness('CEM') : new SessionHarness('RM', { details: rmDetailsBody([wire]) });
  if (sendFromInside) sendFromListeners(h);
  const turn = { n: 0 };
  const peerId = () => h.nextPeerId();
  try {
    await h.flush();
    if (role === 'CEM') {
      h.peerSends(handshake(peerId(), 'RM'));
      await h.flush();
      h.peerSends(rmDetails(peerId(), [wire]));
    } else {
      h.peerSends(handshake(peerId(), 'CEM'));
      h.peerSends(handshakeResponse(peerId()));
      await h.flush();
      h.peerSends(selectControlType(peerId(), wire));
    }
    await answerAll(h, turn);
    await answerAll(h, turn);
    for (const message of catalogue(MESSAGE_SETS[short])) {
      const sender = messageSpec(message.message_type)?.sender;
      if (sender === role) {
        try {
          void h.session.send(message);
        } catch {
          // recorded as send-refused
        }
      } else {
        h.peerSends(message);
      }
      if (role === 'RM') void h.session.send(powerMeasurement(`f0000000-0000-4000-8000-${String(turn.n).padStart(12, '0')}`));
      else h.peerSends(powerMeasurement(peerId()));
      await answerAll(h, turn);
    }
    // A reception timeout (R21), then a late answer for it (R12: not awaiting one).
    const late = role === 'RM' ? h.session.send(powerMeasurement(peerId().replace(/^e/, 'a'))) : undefined;
    await h.flush();
    h.takeFrames();
    const timedOut = [...h.pending];
    h.pending.length = 0;
    h.clock.increment(TIMING.receptionTimeoutMs + 1);
    await late;
    for (const sent of timedOut) h.peer.send(receptionStatus(sent.id, 'OK'));
    // An unknown subject, then PERMANENT_ERROR for the next message we send (R18).
    h.peer.send(receptionStatus('b0000000-0000-4000-8000-000000000001', 'OK'));
    await h.flush();
    if (role === 'RM') void h.session.send(powerMeasurement('b0000000-0000-4000-8000-000000000002'));
    else h.peerSends(powerMeasurement(peerId()));
    await h.flush();
    h.takeFrames();
    for (const sent of [...h.pending]) h.peer.send(receptionStatus(sent.id, 'PERMANENT_ERROR'));
    await h.flush();
    h.clock.increment(TIMING.closeGraceMs + 1);
    await h.flush();
  } finally {
    await h.dispose();
  }
}

/**
 * The RM's application sends PowerMeasurements from inside the session: from a handler (inside the
 * macrostep that delivers a message), from a `state` listener (after a macrostep), and from a `sent`
 * listener (inside the put of another message) — where the actor's mailbox orders what is sent.
 */
function sendFromListeners(h: SessionHarness): void {
  let n = 0;
  const trySend = () => {
    if (n >= 60) return;
    try {
      void h.session.send(powerMeasurement(`c0000000-0000-4000-8000-${String(++n).padStart(12, '0')}`));
    } catch {
      // recorded as send-refused
    }
  };
  h.session.use(() => {
    trySend();
    return undefined;
  });
  h.session.on('state', trySend);
  h.session.on('sent', ({ message }) => {
    // After each of the test's own measurements (ids not ours): a send from inside that put.
    if (message.message_type === 'PowerMeasurement' && !message.message_id.startsWith('c')) trySend();
  });
  // A listener after the sending one: it must see this message's `sent` before the next message goes out.
  h.session.on('sent', ({ message }) =>
    record('sent, last listener', message.message_type === 'ReceptionStatus' ? message.subject_message_id : message.message_id),
  );
}

describe('fast paths on vs off: realistic traffic of all five control types', () => {
  for (const role of ['CEM', 'RM'] as const) {
    for (const short of SHORTS) {
      it(`[R11, R12, R14, R18, R21, R39, R42] ${role}, ${short}: identical frames, events, send results and states`, async () => {
        const length = await expectEquivalent(() => traffic(role, short));
        // It got somewhere: the control type was active and messages were judged and answered.
        expect(length).toBeGreaterThan(50);
      });
    }
  }
  for (const short of SHORTS) {
    it(`[R11, R14, R42] RM, ${short}, sending from a handler, a state listener and a sent listener: identical traces`, async () => {
      const length = await expectEquivalent(() => traffic('RM', short, true));
      expect(length).toBeGreaterThan(50);
    });
  }
});

// ---------------------------------------------------------------- the fast paths are taken -------

describe('the send fast path is taken (so the traces above compare two different ways)', () => {
  it('[R41] a CEM application sends its own SelectControlType: identical traces (its pending selection is the machine’s)', async () => {
    const length = await expectEquivalent(async () => {
      const h = new SessionHarness('CEM');
      try {
        await h.flush();
        h.peerSends(handshake(h.nextPeerId(), 'RM'));
        await h.flush();
        h.peerSends(rmDetails(h.nextPeerId(), [WIRE.FRBC, WIRE.DDBC]));
        await answerAll(h, { n: 0 });
        void h.session.send(selectControlType('a2000000-0000-4000-8000-000000000001', WIRE.DDBC));
        await answerAll(h, { n: 0 });
        record('state after', h.session.state);
      } finally {
        await h.dispose();
      }
    });
    expect(length).toBeGreaterThan(10);
  });

  /** Event types delivered inside the session's actor system from now on (XState routes every one through `system._relay`). */
  function actorEvents(h: SessionHarness): string[] {
    const events: string[] = [];
    const system = (h.session as unknown as { actor: { system: { _relay(...args: unknown[]): void } } }).actor.system;
    const relay = system._relay.bind(system);
    system._relay = (...args: unknown[]) => {
      events.push((args[2] as { type: string }).type);
      relay(...args);
    };
    return events;
  }

  it('[R11, R21] an RM in FRBC active sends a measurement with no actor event, a description with only its control type’s', async () => {
    const h = new SessionHarness('RM', { details: rmDetailsBody([WIRE.FRBC]) });
    try {
      await h.flush();
      h.peerSends(handshake(h.nextPeerId(), 'CEM'));
      h.peerSends(handshakeResponse(h.nextPeerId()));
      await h.flush();
      h.peerSends(selectControlType(h.nextPeerId(), WIRE.FRBC));
      await answerAll(h, { n: 0 });
      expect(h.session.state).toBe('connected.active.FRBC');
      const events = actorEvents(h);
      const measurement = h.session.send(powerMeasurement('a1000000-0000-4000-8000-000000000001'));
      expect(events).toEqual([]);
      expect(h.session.pendingCount).toBe(1);
      // A description changes what the activation knows: its statechart learns it, the session's takes no event.
      void h.session.send(catalogue(MESSAGE_SETS.FRBC)[0]!);
      expect(events).toEqual(['ct.message']);
      // Its answer is settled without an event too (§5.2).
      await h.flush();
      h.peer.send(receptionStatus('a1000000-0000-4000-8000-000000000001', 'OK'));
      await expect(measurement).resolves.toMatchObject({ status: 'OK' });
      expect(events).toEqual(['ct.message']);
      setFastPaths(false);
      void h.session.send(powerMeasurement('a1000000-0000-4000-8000-000000000002'));
      expect(events).toEqual(['ct.message']); // a session keeps the mode it started with
    } finally {
      setFastPaths(true);
      await h.dispose();
    }
  });
});
