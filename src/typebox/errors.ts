import type { Problem } from './problem.js';
import type { ReceptionStatusValues } from './common/enums.js';

/** Stable error codes. A code never changes meaning; new failures get new codes. */
export type S2ErrorCode =
  /** `encode` was given a message that is not valid S2: a programming error in the caller. */
  | 'INVALID_OUTGOING_MESSAGE'
  /** An operation needs a session state it is not in (e.g. send before the handshake). */
  | 'INVALID_STATE'
  /** Bad options given to a factory or command. */
  | 'INVALID_OPTIONS'
  /** A WebSocket connection could not be opened (refused, TLS, HTTP 401 …). */
  | 'TRANSPORT_CONNECT_FAILED'
  /** A peer sent more than its receive budget (bytes or messages per second): the connection was closed with 4003. */
  | 'BUDGET_EXCEEDED'
  /** An S2 Connect pairing, session-initiation or unpairing step failed; `S2ConnectError.errorMessage` says which. */
  | 'S2_CONNECT'
  /** An optional package a feature needs is not installed (`@hpcc-js/wasm-graphviz` to draw statecharts). */
  | 'MISSING_DEPENDENCY';

/**
 * The one error root of s2-engine. `status` is the ReceptionStatus the failure maps to when it
 * concerns a received message; `closeCode` the WebSocket close code when it ends a connection.
 */
export class S2Error extends Error {
  override name = 'S2Error';
  readonly code: S2ErrorCode;
  readonly problems: readonly Problem[];
  readonly status: ReceptionStatusValues | undefined;
  readonly closeCode: number | undefined;

  constructor(
    code: S2ErrorCode,
    message: string,
    details: { problems?: readonly Problem[]; status?: ReceptionStatusValues; closeCode?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.problems = details.problems ?? [];
    this.status = details.status;
    this.closeCode = details.closeCode;
  }
}
