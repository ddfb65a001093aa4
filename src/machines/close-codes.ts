/**
 * WebSocket close codes used by s2-engine. 1000–1011 are RFC 6455 codes; 4000–4999 is the range
 * RFC 6455 leaves to applications, used here for S2 session endings that have no standard code.
 */
export const CloseCode = {
  /** Orderly end: SessionRequest RECONNECT/TERMINATE sent or received, or the application closed. */
  NORMAL: 1000,
  /** The server or client is shutting down (SIGINT/SIGTERM, server.close()). */
  GOING_AWAY: 1001,
  /** The peer broke the S2 handshake: its Handshake names the wrong role (R24). */
  PROTOCOL_ERROR: 1002,
  /** A binary frame: S2 is JSON text only. */
  UNSUPPORTED_DATA: 1003,
  /** Reported only, never sent: the connection ended without a close frame (or we terminated it). */
  ABNORMAL: 1006,
  /** A text frame that is not valid UTF-8. */
  INVALID_PAYLOAD: 1007,
  /** The peer does not read fast enough (send high-water mark). */
  POLICY_VIOLATION: 1008,
  /** A frame above the size limit. */
  MESSAGE_TOO_BIG: 1009,
  /** An exception inside the session machinery (a bug in s2-engine; a user handler that throws does not close). */
  INTERNAL_ERROR: 1011,
  /** No handshake within the handshake timeout. */
  HANDSHAKE_TIMEOUT: 4000,
  /** No protocol version both sides support (R29), or a HandshakeResponse naming one the RM never offered (R27). */
  NO_COMMON_VERSION: 4001,
  /** A PERMANENT_ERROR ended the session (R18): the peer answered one of our messages so, or our handler answered one of the peer's so. */
  PERMANENT_ERROR: 4002,
  /**
   * The peer sent more than its receive budget allows (bytes or messages per second, beyond the
   * burst): it floods, and would take the event loop from every other session. Not 1008: that
   * code already means "you do not read" (send buffer overflow) here, and a peer, a log or an RM's
   * reconnect policy should tell "you send too much" apart without parsing the reason, which names
   * the budget and its numbers. The 4000 range is where the other S2-specific endings live.
   */
  BUDGET_EXCEEDED: 4003,
} as const;
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];
