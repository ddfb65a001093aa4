import { HandlerGate } from './handler-gate.js';
import { CloseCode, type Transport, type TransportHandlers } from './transport.js';

export interface BackoffOptions {
  /** Ceiling of the first wait. Default 1 000 ms. */
  readonly initialMs?: number | undefined;
  /** No wait is ever longer than this. Default 60 000 ms. */
  readonly maxMs?: number | undefined;
  /** Growth per attempt. Default 2. */
  readonly factor?: number | undefined;
  /** Fraction of the wait that is randomised, 0 … 1. Default 0.5. */
  readonly jitter?: number | undefined;
}

/**
 * Wait before reconnect attempt number `attempt` (0 for the first retry). S2 Connect asks
 * clients for exponential back-off (DOC/S2C#Reconnection strategy); the jitter spreads out a fleet
 * of RMs that all lost the same CEM at once, so they do not reconnect in lock-step.
 *
 *     ceiling = min(maxMs, initialMs × factor^attempt)
 *     delay   = round(ceiling × (1 − jitter × r)),  r = random() ∈ [0, 1)
 *
 * so the delay lies in (ceiling × (1 − jitter), ceiling] and never exceeds `maxMs`.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initialMs = Math.max(0, options.initialMs ?? 1_000);
  const maxMs = Math.max(0, options.maxMs ?? 60_000);
  const factor = Math.max(1, options.factor ?? 2);
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const n = Number.isFinite(attempt) ? Math.max(0, Math.floor(attempt)) : 0;
  // factor^n overflows to Infinity for large n; min() then yields maxMs, but 0 × Infinity is NaN.
  const ceiling = initialMs === 0 ? 0 : Math.min(maxMs, initialMs * factor ** n);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling * (1 - jitter * r));
}

/** The two timer functions the reconnecting client needs; inject a fake one in tests. */
export interface Clock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The longest delay setTimeout honours; a longer one fires at once in Node (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2_147_483_647;

const systemClock: Clock = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ReconnectOptions {
  /** Opens one connection, e.g. `() => connectWs(url, options)`. */
  readonly connect: () => Promise<Transport>;
  /**
   * Receives each opened transport (wrapped, so the client can see it close). The receiver
   * must `start()` it like any other transport.
   */
  readonly onTransport: (transport: Transport) => void;
  /** A dial failed; `delayMs` is the wait before the next one. For logging. */
  readonly onDialError?: ((err: unknown, attempt: number, delayMs: number) => void) | undefined;
  readonly backoff?: BackoffOptions | undefined;
  readonly clock?: Clock | undefined;
  readonly random?: (() => number) | undefined;
}

export interface ReconnectingClient {
  /** Stops dialling and closes the current transport with 1000. Final. */
  stop(): void;
  /**
   * Reconnect without back-off, for S2 `SessionRequest` RECONNECT: closes the current transport
   * (1000) if there is one, or cuts short a pending wait, and dials at once.
   */
  reconnectNow(): void;
  /**
   * Declares the current connection good (call it after the S2 handshake succeeded) and resets
   * the back-off. Without it every loss counts as one more failed attempt, so a peer that accepts
   * the socket and immediately drops it (TERMINATE, rejection) cannot cause a reconnect storm.
   */
  markHealthy(): void;
  /** Consecutive unsuccessful attempts since the start or the last `markHealthy()`. */
  readonly attempts: number;
}

/**
 * Keeps one connection alive: dial, hand over, wait for the close, back off, dial again.
 *
 * The first dial happens immediately. After a failed dial or a lost connection the client waits
 * `backoffDelay(attempts)` and then increments `attempts`, unless `reconnectNow()` asked to skip
 * the wait. A normal close by either side (e.g. S2 TERMINATE) also waits the back-off.
 */
export function createReconnectingClient(options: ReconnectOptions): ReconnectingClient {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  let attempts = 0;
  let stopped = false;
  let immediate = false;
  let timer: { handle: unknown } | undefined;
  let current: Transport | undefined;
  let dialling = false;

  const scheduleNext = (err?: unknown): void => {
    if (stopped) return;
    if (immediate) {
      immediate = false;
      dial();
      return;
    }
    const delay = backoffDelay(attempts, options.backoff, random);
    if (err !== undefined) options.onDialError?.(err, attempts, delay);
    attempts += 1;
    // setTimeout clamps a delay above 2^31 − 1 ms to 1 ms: a longer back-off (maxMs) waits in chunks.
    const wait = (left: number): void => {
      const chunk = Math.min(left, MAX_TIMER_MS);
      const handle = clock.setTimeout(() => {
        if (left > chunk) return wait(left - chunk);
        timer = undefined;
        dial();
      }, chunk);
      timer = { handle };
    };
    wait(delay);
  };

  const adopt = (inner: Transport): void => {
    const observed = new ObservedTransport(inner, () => {
      if (current === observed) current = undefined;
      scheduleNext();
    });
    current = observed;
    immediate = false; // a reconnectNow() during the dial is satisfied by this fresh connection
    // May report the close right away if the connection died before we got it; the owner still
    // receives the transport and sees that close on start().
    observed.observe();
    try {
      options.onTransport(observed);
    } catch {
      observed.close(CloseCode.INTERNAL_ERROR, 'onTransport threw');
    }
  };

  const dial = (): void => {
    if (stopped || dialling) return;
    dialling = true;
    let pending: Promise<Transport>;
    try {
      pending = options.connect();
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (transport) => {
        dialling = false;
        if (stopped) return transport.close(CloseCode.NORMAL, 'client stopped');
        try {
          adopt(transport);
        } catch (err) {
          // e.g. connect() handed out a transport that was already started: unusable.
          current = undefined;
          transport.close(CloseCode.INTERNAL_ERROR, 'internal error');
          scheduleNext(err);
        }
      },
      (err: unknown) => {
        dialling = false;
        scheduleNext(err ?? new Error('connect failed'));
      },
    );
  };

  dial();

  return {
    stop(): void {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer.handle);
      timer = undefined;
      current?.close(CloseCode.NORMAL, 'client stopped');
    },
    reconnectNow(): void {
      if (stopped) return;
      if (timer !== undefined) {
        clock.clearTimeout(timer.handle);
        timer = undefined;
        dial();
      } else if (current !== undefined) {
        immediate = true;
        current.close(CloseCode.NORMAL, 'reconnect');
      } else {
        immediate = true; // a dial is in flight; if it fails, retry at once
      }
    },
    markHealthy(): void {
      attempts = 0;
    },
    get attempts(): number {
      return attempts;
    },
  };
}

/**
 * A pass-through transport that tells the reconnecting client when the connection ends, even if
 * the owner never starts it: `observe()` starts the inner transport right away and its events wait
 * in a gate until the owner calls `start()`.
 */
class ObservedTransport implements Transport {
  readonly #inner: Transport;
  readonly #onClosed: () => void;
  readonly #gate: HandlerGate;

  constructor(inner: Transport, onClosed: () => void) {
    this.#inner = inner;
    this.#onClosed = onClosed;
    this.#gate = new HandlerGate(() => inner.close(CloseCode.INTERNAL_ERROR, 'internal error'));
  }

  get peer(): string {
    return this.#inner.peer;
  }

  get isOpen(): boolean {
    return this.#inner.isOpen;
  }

  observe(): void {
    this.#inner.start({
      text: (frame) => this.#gate.text(frame),
      error: (err) => this.#gate.error(err),
      close: (code, reason) => {
        this.#gate.close(code, reason);
        this.#onClosed();
      },
    });
  }

  start(handlers: TransportHandlers): void {
    this.#gate.start(handlers);
  }

  send(text: string): void {
    this.#inner.send(text);
  }

  close(code: number, reason: string): void {
    this.#gate.mute();
    this.#inner.close(code, reason);
  }
}
