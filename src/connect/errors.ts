import { S2Error } from '../typebox/errors.js';
import { clip, type Problem } from '../typebox/problem.js';
import { isPairingErrorName, isSessionErrorName, type PairingErrorName, type SessionErrorName } from './wire/names.js';

/**
 * Failures that have no OpenAPI error name: HTTP statuses without a body, and local failures. They are never sent
 * as an `errorMessage` on the wire (`toBody` returns undefined for them).
 */
export type LocalErrorName =
  /** 401: missing/unknown bearer, unknown or expired attempt, rotated token. */
  | 'Unauthorized'
  /** 403: the HMAC challenge response did not match. */
  | 'Forbidden'
  /** 404: path not served (LAN-only API on a WAN endpoint, or an older dialect's path). */
  | 'NotFound'
  /** 400 without a readable error body (e.g. the wrong one of request/postConnectionDetails). */
  | 'BadRequest'
  | 'PayloadTooLarge'
  | 'UnsupportedMediaType'
  /** 503: one live attempt per node, or throttled. */
  | 'Busy'
  /** 500, or any status the API does not define. */
  | 'ServerError'
  /** A peer answered with a body that does not read as the expected S2 Connect body. */
  | 'UnexpectedResponse'
  /** The client's check of R_c failed: wrong pairing token, or a man in the middle. */
  | 'HmacMismatch'
  /** The server chose an algorithm, protocol or message version that was not offered, or sent an unusable challenge. */
  | 'UnsupportedSelection'
  | 'InvalidPairingCode'
  | 'InvalidCertificate'
  /** `writeBody` was given a value that is not a valid body: a programming error in the caller. */
  | 'InvalidOutgoingBody'
  | 'TransportFailed'
  | 'Timeout'
  /** The attempt was cancelled (`finalizePairing {success:false}`) or expired. */
  | 'Cancelled'
  /** Every stored access token was refused: possibly unpaired (surface to the user, do not delete silently). */
  | 'NotPaired'
  | 'StorageFailed';

export type S2ConnectErrorName = PairingErrorName | SessionErrorName | LocalErrorName;

export interface S2ConnectErrorOptions {
  /** The HTTP status this failure is answered with (server) or was answered with (client). */
  readonly httpStatus?: number | undefined;
  /** A sentence for people. Must never carry a secret (token, attempt id, HMAC, pairing code). */
  readonly additionalInfo?: string | undefined;
  /** Where a body was malformed (paths and sentences only, never values). */
  readonly problems?: readonly Problem[] | undefined;
  readonly cause?: unknown;
}

/** Body of an S2 Connect 400 answer. */
export interface ErrorBody {
  errorMessage: string;
  additionalInfo?: string;
}

const MAX_INFO_CHARS = 300;

/** What a status means when the answer carries no S2 Connect error name. */
const STATUS_NAMES: Readonly<Record<number, LocalErrorName>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  503: 'Busy',
};

/**
 * An S2 Connect failure. `errorMessage` is the OpenAPI error name when there is one (e.g. `NodeNotFound`), else a
 * local name; `httpStatus` the status it maps to. The message is built only from these and `additionalInfo`, so
 * no secret reaches a log through it; `toJSON()` carries the same fields and never the cause.
 */
export class S2ConnectError extends S2Error {
  override name = 'S2ConnectError';
  readonly errorMessage: S2ConnectErrorName;
  readonly httpStatus: number | undefined;
  readonly additionalInfo: string | undefined;

  constructor(errorMessage: S2ConnectErrorName, options: S2ConnectErrorOptions = {}) {
    // Peers choose additionalInfo: clip it so a hostile answer cannot flood a log.
    const info = options.additionalInfo === undefined ? undefined : clip(options.additionalInfo, MAX_INFO_CHARS);
    const status = options.httpStatus === undefined ? '' : ` (HTTP ${options.httpStatus})`;
    super('S2_CONNECT', `S2 Connect: ${errorMessage}${status}${info === undefined ? '' : `: ${info}`}`, {
      ...(options.problems === undefined ? {} : { problems: options.problems }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.errorMessage = errorMessage;
    this.httpStatus = options.httpStatus;
    this.additionalInfo = info;
  }

  /** A 400 of the pairing API with its OAS error name. */
  static pairing(name: PairingErrorName, additionalInfo?: string): S2ConnectError {
    return new S2ConnectError(name, { httpStatus: 400, additionalInfo });
  }

  /** A 400 of the session-initiation API with its OAS error name. */
  static session(name: SessionErrorName, additionalInfo?: string): S2ConnectError {
    return new S2ConnectError(name, { httpStatus: 400, additionalInfo });
  }

  /** A 400 ParsingError; the first problem becomes `additionalInfo` (paths and sentences never hold values). */
  static parsing(problems: readonly Problem[]): S2ConnectError {
    const first = problems[0];
    const info =
      first === undefined ? undefined : `${first.path} ${first.message}${problems.length > 1 ? `; and ${problems.length - 1} more` : ''}`;
    return new S2ConnectError('ParsingError', { httpStatus: 400, additionalInfo: info, problems });
  }

  /** A failure known only by its HTTP status (401, 403, 404, 413, 415, 503; anything else is ServerError). */
  static ofStatus(httpStatus: number, additionalInfo?: string): S2ConnectError {
    return new S2ConnectError(STATUS_NAMES[httpStatus] ?? 'ServerError', { httpStatus, additionalInfo });
  }

  static unauthorized(additionalInfo?: string): S2ConnectError {
    return new S2ConnectError('Unauthorized', { httpStatus: 401, additionalInfo });
  }

  static forbidden(additionalInfo?: string): S2ConnectError {
    return new S2ConnectError('Forbidden', { httpStatus: 403, additionalInfo });
  }

  static busy(additionalInfo?: string): S2ConnectError {
    return new S2ConnectError('Busy', { httpStatus: 503, additionalInfo });
  }

  static internal(additionalInfo?: string, cause?: unknown): S2ConnectError {
    return new S2ConnectError('ServerError', { httpStatus: 500, additionalInfo, cause });
  }

  /** A failure on this side that no HTTP status describes (bad pairing code, HMAC mismatch, storage, timeout …). */
  static local(name: LocalErrorName, additionalInfo?: string, cause?: unknown): S2ConnectError {
    return new S2ConnectError(name, { additionalInfo, cause });
  }

  /**
   * The JSON body to answer with, when this error has an OAS name in `api`'s error set; undefined otherwise (the
   * answer is then a bare status). Note OAS: only requestPairing and preparePairing define a pairing error body.
   */
  toBody(api: 'pairing' | 'session'): ErrorBody | undefined {
    const known = api === 'pairing' ? isPairingErrorName(this.errorMessage) : isSessionErrorName(this.errorMessage);
    if (!known) return undefined;
    return this.additionalInfo === undefined
      ? { errorMessage: this.errorMessage }
      : { errorMessage: this.errorMessage, additionalInfo: this.additionalInfo };
  }

  toJSON(): {
    name: string;
    code: string;
    errorMessage: string;
    httpStatus?: number;
    additionalInfo?: string;
    problems: readonly Problem[];
  } {
    return {
      name: this.name,
      code: this.code,
      errorMessage: this.errorMessage,
      ...(this.httpStatus === undefined ? {} : { httpStatus: this.httpStatus }),
      ...(this.additionalInfo === undefined ? {} : { additionalInfo: this.additionalInfo }),
      problems: this.problems,
    };
  }
}

export function isS2ConnectError(error: unknown): error is S2ConnectError {
  return error instanceof S2ConnectError;
}
