import { S2ConnectError } from '../errors.js';

/**
 * A pairing store could not do what it was asked: bad arguments, an unreadable or corrupted pairing file, an I/O
 * failure, or use after close. An S2ConnectError named `StorageFailed` with HTTP status 500 (what an S2 Connect
 * server answers when its store fails; the old token stays valid). The message names the file or the pair
 * concerned and never carries a token, a hash of one or any file content.
 */
export class PairingStoreError extends S2ConnectError {
  override name = 'PairingStoreError';
  /** The pairing file (or store directory) concerned, when the failure is about one. */
  readonly file: string | undefined;

  constructor(message: string, details: { file?: string; cause?: unknown } = {}) {
    super('StorageFailed', { httpStatus: 500, additionalInfo: message, cause: details.cause });
    this.file = details.file;
  }
}
