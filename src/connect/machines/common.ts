import { fromPromise } from 'xstate';

/**
 * What the four S2 Connect machines share: the {@link Sealed} wrapper that keeps secrets out of snapshots,
 * events and inspection traces, the reply a server-side machine leaves for the HTTP layer, how a failed invoked
 * step becomes a typed failure, and the default implementation of an invoked actor that the caller forgot to
 * provide.
 *
 * The machines are pure (no node:* import, no clock, no randomness, no I/O): every secret, random value and
 * HMAC is made by the caller, and every I/O step is an invoked promise actor the caller supplies with
 * `machine.provide({ actors: { … } })`.
 */

const REDACTED = '[redacted]';

/**
 * A secret (pairing attempt id, access token, WebSocket token, HMAC response, a body that carries one) as it
 * travels through a machine: the value is in a private field, so `JSON.stringify`, `String()`, template
 * literals, `util.inspect`/`console.log` and XState's inspection events all show `[redacted]`. Only
 * {@link Sealed.reveal} gives it back — the HTTP layer calls it when writing the wire body.
 */
export class Sealed<T> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }
}
// util.inspect's hook, keyed by the registry symbol so that this file needs no node:util import.
Object.defineProperty(Sealed.prototype, Symbol.for('nodejs.util.inspect.custom'), {
  value: () => `Sealed <${REDACTED}>`,
});

export const seal = <T>(value: T): Sealed<T> => new Sealed(value);

/**
 * How the HTTP layer must answer the request that sent the machine its last event: the status code, the
 * OpenAPI error name for a 400 with a JSON error body, and the (secret-bearing, hence sealed) 200 body.
 * No body and no errorMessage: an empty response with that status.
 */
export interface ServerReply {
  readonly status: number;
  readonly errorMessage?: string;
  readonly body?: Sealed<unknown>;
}

/** The HTTP facts an invoked step's rejection may carry (S2ConnectError has both; anything else has neither). */
export interface HttpFacts {
  readonly httpStatus?: number;
  readonly errorMessage?: string;
}

/** Reads `httpStatus` / `errorMessage` from whatever an invoked actor rejected with (structurally: no class import). */
export function httpFactsOf(error: unknown): HttpFacts {
  if (typeof error !== 'object' || error === null) return {};
  const { httpStatus, errorMessage } = error as { httpStatus?: unknown; errorMessage?: unknown };
  return {
    ...(typeof httpStatus === 'number' && Number.isInteger(httpStatus) ? { httpStatus } : {}),
    ...(typeof errorMessage === 'string' ? { errorMessage } : {}),
  };
}

/** `http-401`: the peer answered this status where the step needed success. */
export type HttpStatusReason = `http-${number}`;

/**
 * Why a step that talks to the peer failed: the status the peer answered, or `request-failed` when there was no
 * usable answer (connection refused, TLS or pin failure, timeout, a body that is not what the OpenAPI files say).
 * The rejection itself is kept as `cause` in the failure, for the API layer.
 */
export function remoteStepReason(error: unknown): HttpStatusReason | 'request-failed' {
  const { httpStatus } = httpFactsOf(error);
  // A 2xx with an unreadable body is not an HTTP refusal: the answer was unusable.
  return httpStatus === undefined || (httpStatus >= 200 && httpStatus < 300) ? 'request-failed' : `http-${httpStatus}`;
}

/**
 * The default of every invoked actor: it rejects at once, naming the actor, so that a machine started without
 * `machine.provide({ actors: { name: … } })` fails loudly (its failure output carries this error as `cause`)
 * instead of waiting forever.
 */
export function notProvided<TOutput, TInput>(name: string) {
  return fromPromise<TOutput, TInput>(() =>
    Promise.reject(new Error(`S2 Connect machine: invoked actor '${name}' not provided (use machine.provide({ actors: { ${name} } }))`)),
  );
}
