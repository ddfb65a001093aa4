/**
 * Per-connection receive budgets: two token buckets (bytes and messages) that every incoming frame
 * draws from before it is decoded. A peer that sends more than a bucket holds is flooding; its
 * connection is closed with 4003 (BUDGET_EXCEEDED) instead of letting its frames take the event
 * loop from every other session (one 4 MiB frame costs tens to hundreds of ms to decode).
 *
 * Budgets close rather than throttle: throttling would mean not reading the socket, which stalls
 * the peer's ReceptionStatus traffic too and only moves the flood into kernel buffers. A normal
 * device stays two orders of magnitude below the defaults.
 */

/** Budget settings of `receiveBudget` of the WebSocket server and client options. */
export interface ReceiveBudgetOptions {
  /** Sustained incoming bytes per second, default {@link DEFAULT_RECEIVE_BYTES_PER_SECOND} (1 MiB/s). */
  readonly bytesPerSecond?: number | undefined;
  /**
   * Bytes a peer may send at once on a full bucket, default `maxFrameBytes` + 1 MiB, so that one
   * frame of the largest allowed size and the small messages that follow it always pass. Must not be
   * below `maxFrameBytes` (such a frame would always close the connection).
   */
  readonly burstBytes?: number | undefined;
  /**
   * Bytes available on a new connection, default {@link DEFAULT_RECEIVE_INITIAL_BYTES} (1 MiB, or
   * `burstBytes` when that is smaller); the bucket then fills at `bytesPerSecond` up to
   * `burstBytes`. A fresh peer can send a large description at once, but a frame of several MiB only
   * once the connection has been quiet a few seconds: a peer that connects and floods is closed
   * before its first such frame is parsed. Give `burstBytes` here for a device that sends frames
   * above 1 MiB right after connecting.
   */
  readonly initialBytes?: number | undefined;
  /** Sustained incoming messages per second, default {@link DEFAULT_RECEIVE_MESSAGES_PER_SECOND}. */
  readonly messagesPerSecond?: number | undefined;
  /** Messages a peer may send at once on a full bucket, default {@link DEFAULT_RECEIVE_BURST_MESSAGES}. */
  readonly burstMessages?: number | undefined;
  /** Monotonic milliseconds, default `performance.now`; tests inject a fake clock. */
  readonly now?: (() => number) | undefined;
}

/**
 * Sustained receive rate in bytes. A device's traffic is a few hundred bytes per second, and a
 * large system description (hundreds of KiB) is sent once per activation; 1 MiB/s is far above
 * both, yet bounds what a peer sending large frames at just under the rate can cost (one 4 MiB
 * frame every 4 s).
 */
export const DEFAULT_RECEIVE_BYTES_PER_SECOND = 1024 * 1024;

/**
 * Sustained receive rate in messages. A realistic session sends a few per second (measurements,
 * statuses, their ReceptionStatus answers); 200 leaves room for a device that measures at 10 Hz and
 * for a CEM answering a burst of instructions, and keeps a peer of small frames to a few % of a core.
 */
export const DEFAULT_RECEIVE_MESSAGES_PER_SECOND = 200;

/**
 * Bytes available to a new connection. A large system description is hundreds of KiB; a peer
 * that starts with a 4 MiB frame would cost the event loop 60–300 ms (bench/flood.mjs) before a
 * budget that starts full could close it, and a peer that reconnects could do so on every
 * connection.
 */
export const DEFAULT_RECEIVE_INITIAL_BYTES = 1024 * 1024;

/** Messages at once: a session start (handshake, details, description, statuses) is a few dozen. */
export const DEFAULT_RECEIVE_BURST_MESSAGES = 1_000;

/** Head-room of the default byte burst above `maxFrameBytes`: the small messages that follow a large one. */
export const RECEIVE_BURST_HEADROOM_BYTES = 1024 * 1024;

/** The byte burst when none is given: one largest frame plus {@link RECEIVE_BURST_HEADROOM_BYTES}. */
export function defaultBurstBytes(maxFrameBytes: number): number {
  return maxFrameBytes + RECEIVE_BURST_HEADROOM_BYTES;
}

/** A budget with every default filled in; internal to the transports. */
export interface ResolvedReceiveBudget {
  readonly bytesPerSecond: number;
  readonly burstBytes: number;
  readonly initialBytes: number;
  readonly messagesPerSecond: number;
  readonly burstMessages: number;
  readonly now: () => number;
}

/** Fills in the defaults; `false` turns budgets off (`undefined` means the defaults). */
export function resolveReceiveBudget(
  options: ReceiveBudgetOptions | false | undefined,
  maxFrameBytes: number,
): ResolvedReceiveBudget | undefined {
  if (options === false) return undefined;
  const burstBytes = options?.burstBytes ?? defaultBurstBytes(maxFrameBytes);
  return {
    bytesPerSecond: options?.bytesPerSecond ?? DEFAULT_RECEIVE_BYTES_PER_SECOND,
    burstBytes,
    initialBytes: Math.min(burstBytes, options?.initialBytes ?? DEFAULT_RECEIVE_INITIAL_BYTES),
    messagesPerSecond: options?.messagesPerSecond ?? DEFAULT_RECEIVE_MESSAGES_PER_SECOND,
    burstMessages: options?.burstMessages ?? DEFAULT_RECEIVE_BURST_MESSAGES,
    now: options?.now ?? (() => performance.now()),
  };
}

/** Why a frame broke the budget: a close reason (short) and a sentence for the logs. */
export interface BudgetVerdict {
  readonly reason: string;
  readonly detail: string;
}

/**
 * The two buckets of one connection. The message bucket starts full, the byte bucket at
 * `initialBytes`; both refill continuously at their rate up to their burst. A frame takes its size
 * from one and 1 from the other, or, if either holds too little, takes nothing and gets a verdict.
 */
export class ReceiveBudget {
  readonly #config: ResolvedReceiveBudget;
  #bytes: number;
  #messages: number;
  #at: number;

  constructor(config: ResolvedReceiveBudget) {
    this.#config = config;
    this.#bytes = config.initialBytes;
    this.#messages = config.burstMessages;
    this.#at = config.now();
  }

  /** Draws one frame of `bytes`; undefined when it fits, else why not. */
  take(bytes: number): BudgetVerdict | undefined {
    const c = this.#config;
    const now = c.now();
    // A clock that goes backwards (an injected wall clock) refills nothing rather than draining.
    const seconds = Math.max(0, now - this.#at) / 1000;
    this.#at = Math.max(this.#at, now);
    this.#bytes = Math.min(c.burstBytes, this.#bytes + seconds * c.bytesPerSecond);
    this.#messages = Math.min(c.burstMessages, this.#messages + seconds * c.messagesPerSecond);
    if (this.#messages < 1) {
      return {
        reason: `message budget exceeded: ${c.messagesPerSecond}/s, burst ${c.burstMessages}`,
        detail: `the peer sent more than ${c.messagesPerSecond} messages per second beyond a burst of ${c.burstMessages}`,
      };
    }
    if (bytes > this.#bytes) {
      const left = Math.floor(this.#bytes);
      return {
        reason: `byte budget exceeded: ${bytes}-byte frame, ${left} left (${c.bytesPerSecond} B/s, burst ${c.burstBytes})`,
        detail: `a ${bytes}-byte frame with ${left} bytes left in the budget of ${c.bytesPerSecond} bytes per second and a burst of ${c.burstBytes} bytes`,
      };
    }
    this.#bytes -= bytes;
    this.#messages -= 1;
    return undefined;
  }
}
