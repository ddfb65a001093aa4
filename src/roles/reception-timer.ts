/**
 * One timer for every ReceptionStatus wait of a session (R21). All sent messages share one
 * timeout, so their deadlines arrive in the order they were sent: a FIFO of deadlines and a single
 * clock timer armed for the oldest replace a timer (and an XState scheduler entry) per message,
 * which cost a setTimeout + clearTimeout per sent message (bench/RESULTS.md §0, §5.2).
 *
 * The machine keeps the waits themselves (`pending` in the session context, the one place that
 * says what is still waiting); this only times them. When the oldest deadline is due, every entry
 * with that deadline still pending gets `onDue` — the session sends the machine `outgoing.timeout`,
 * exactly the event the per-message delayed event would have delivered.
 */
import type { ReceptionTimer } from '../machines/session-setup.js';
import type { SessionClock } from './types.js';

/** One sent message waiting for its ReceptionStatus. */
interface Wait {
  readonly key: string;
  readonly messageId: string;
  readonly messageType: string;
  readonly due: number;
}

/** What the timer needs from its session. */
export interface FifoReceptionTimerOptions {
  /** The session's (wrapped) clock: the single timer runs on it, so a SimulatedClock drives it in tests. */
  readonly clock: SessionClock;
  /** Milliseconds on the same time line as `clock` (SimulatedClock.now(), or performance.now() for the real clock). */
  readonly now: () => number;
  readonly timeoutMs: number;
  /** Whether the message (lowercase id) still waits: answered ones are skipped. */
  readonly isPending: (key: string) => boolean;
  /** Its time is up (the session sends `outgoing.timeout`). */
  readonly onDue: (messageId: string, messageType: string) => void;
}

/** A FIFO of ReceptionStatus deadlines with one clock timer (see the module comment). */
export class FifoReceptionTimer implements ReceptionTimer {
  private queue: Wait[] = [];
  /** Index of the oldest entry still in `queue` (shifting an array per answer would be O(n)). */
  private head = 0;
  private handle: unknown;
  private armed = false;
  private stopped = false;

  constructor(private readonly options: FifoReceptionTimerOptions) {}

  start(messageId: string, messageType: string): void {
    if (this.stopped) return;
    const wait = { key: messageId.toLowerCase(), messageId, messageType, due: this.options.now() + this.options.timeoutMs };
    this.queue.push(wait);
    // Not `arm()`: XState resolves the initial state's actions (our Handshake) while the session
    // creates its actor, before `isPending` can be asked. An answered entry at the head only costs
    // one early wake-up.
    if (!this.armed) this.armFor(this.queue[this.head] ?? wait);
  }

  /** Drops answered entries from the front (keeps the queue as short as the messages in flight). */
  trim(): void {
    const { queue } = this;
    while (this.head < queue.length && !this.options.isPending(queue[this.head]!.key)) this.head++;
    if (this.head === queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > queue.length) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
  }

  /** No more timeouts (the session is over). */
  stop(): void {
    this.stopped = true;
    if (this.armed) this.options.clock.clearTimeout(this.handle);
    this.armed = false;
    this.queue = [];
    this.head = 0;
  }

  /** Arms the one timer for the oldest pending entry. A timer already armed stays (it re-arms when it fires). */
  private arm(): void {
    this.trim();
    const first = this.queue[this.head];
    if (first) this.armFor(first);
  }

  private armFor(first: Wait): void {
    this.armed = true;
    // Not clamped at 0: a SimulatedClock advanced past several deadlines at once orders its timers
    // by start + delay, so a negative delay keeps this one at its own deadline among the others
    // (Node's setTimeout treats it as 1 ms).
    this.handle = this.options.clock.setTimeout(() => this.fire(first.due), first.due - this.options.now());
  }

  /**
   * The timer was armed for deadline `due`: that deadline has come, so every entry up to it times
   * out (in the order sent), whatever the clock reads now (a real timer may fire a millisecond
   * early by `performance.now()`). Later deadlines get their own turn, in time order with the
   * session's other timers.
   */
  private fire(due: number): void {
    if (this.stopped) return;
    // `armed` stays true while the due entries are handed out: a message sent meanwhile (by the
    // timeout's own macrostep) must not arm a second timer.
    while (this.head < this.queue.length && this.queue[this.head]!.due <= due) {
      const wait = this.queue[this.head++]!;
      if (this.options.isPending(wait.key)) this.options.onDue(wait.messageId, wait.messageType);
      if (this.stopped) return;
    }
    this.armed = false;
    this.arm();
  }
}
