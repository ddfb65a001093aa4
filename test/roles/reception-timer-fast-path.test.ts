/**
 * The one timer behind every ReceptionStatus wait of a session (src/roles/reception-timer.ts,
 * bench/RESULTS.md §5.2): deadlines in send order, one clock timer at a time, answered messages
 * skipped, each deadline kept even when the clock jumps past several (R21).
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { FifoReceptionTimer } from '../../src/roles/reception-timer.js';

function setup(timeoutMs = 100) {
  const clock = new SimulatedClock();
  const pending = new Set<string>();
  const due: string[] = [];
  const timer = new FifoReceptionTimer({
    clock,
    now: () => clock.now(),
    timeoutMs,
    isPending: (key) => pending.has(key),
    onDue: (messageId, messageType) => {
      pending.delete(messageId.toLowerCase());
      due.push(`${messageType} ${messageId} @${clock.now()}`);
    },
  });
  const send = (id: string, type = 'PowerMeasurement') => {
    pending.add(id.toLowerCase());
    timer.start(id, type);
  };
  /** Reception timers armed on the clock now. */
  const armed = () => (clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size;
  return { clock, pending, due, timer, send, armed };
}

describe('FifoReceptionTimer (the fast path of the ReceptionStatus timeouts)', () => {
  it('[R21] times out, in send order, exactly the messages still waiting at their deadline, with one clock timer', () => {
    const t = setup();
    t.send('A');
    t.clock.increment(10);
    t.send('B', 'FRBC.StorageStatus');
    t.clock.increment(10);
    t.send('C');
    expect(t.armed()).toBe(1);
    t.pending.delete('b'); // B is answered
    t.clock.increment(85); // t = 105: A is due (deadline 100), C not yet (120)
    expect(t.due).toEqual(['PowerMeasurement A @105']);
    expect(t.armed()).toBe(1);
    t.clock.increment(20);
    expect(t.due).toEqual(['PowerMeasurement A @105', 'PowerMeasurement C @125']);
    expect(t.armed()).toBe(0);
  });

  it('[R21] a clock that jumps past several deadlines still fires each at its own deadline among other timers', () => {
    const t = setup();
    const log: string[] = [];
    t.send('A'); // deadline 100
    t.clock.increment(50);
    t.send('B'); // deadline 150
    t.clock.setTimeout(() => log.push(`other @${t.clock.now()}`), 75); // deadline 125
    const record = t.due.push.bind(t.due);
    t.due.push = (...items: string[]) => {
      log.push(...items);
      return record(...items);
    };
    t.clock.increment(1_000);
    // SimulatedClock runs every timer at the end time (1050), but in deadline order.
    expect(log).toEqual(['PowerMeasurement A @1050', 'other @1050', 'PowerMeasurement B @1050']);
  });

  it('a message sent while timeouts are handed out arms no second timer; stop() clears everything', () => {
    const t = setup();
    t.send('A');
    const onDue = t.due.push.bind(t.due);
    t.due.push = (...items: string[]) => {
      if (items[0]?.includes(' A ')) t.send('D'); // the timeout's own macrostep sends something
      return onDue(...items);
    };
    t.clock.increment(100);
    delete (t.due as { push?: unknown }).push; // back to Array.prototype.push (toEqual compares own properties)
    expect(t.due).toEqual(['PowerMeasurement A @100']);
    expect(t.armed()).toBe(1);
    t.timer.stop();
    expect(t.armed()).toBe(0);
    t.clock.increment(1_000);
    expect(t.due).toEqual(['PowerMeasurement A @100']);
  });

  it('answered messages do not pile up: the queue is trimmed from the front', () => {
    const t = setup();
    for (let i = 0; i < 5_000; i++) {
      t.send(`m${i}`);
      t.pending.delete(`m${i}`);
      t.timer.trim();
    }
    expect((t.timer as unknown as { queue: unknown[] }).queue.length).toBe(0);
    t.clock.increment(1_000);
    expect(t.due).toEqual([]);
  });
});
