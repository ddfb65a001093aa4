import { ALL_RULES } from '../rules/index.js';
import { messagesOf, type S2Message } from '../typebox/registry.js';
import { Codec, type CodecOptions, type DecodeResult } from './codec.js';

export { Codec, NIL_UUID, diagnosticLabel, type CodecOptions, type DecodeFailure, type DecodeResult } from './codec.js';
export { sizeCeiling, sizeCeilings } from './ceilings.js';

// One codec per option combination, so validators compile once per process.
const codecs: Record<string, Codec> = {};

/**
 * A codec for every message of one S2 JSON version (`options.version`, default `'0.0.2-beta'`: 35
 * messages; `'1.0.0-beta'`: 36) with these options. Shared: validators compile once per process,
 * lazily, per message type used.
 */
export function codecFor(options?: CodecOptions): Codec {
  const ids = options?.ids ?? 'schema';
  const rules = options?.rules ?? true;
  const ceilings = options?.ceilings ?? false;
  const version = options?.version ?? '0.0.2-beta';
  const key = `${version}:${ids}${rules ? '+rules' : ''}${ceilings ? '+ceilings' : ''}`;
  return (codecs[key] ??= new Codec(messagesOf(version), ALL_RULES, { ids, rules, ceilings, version }));
}

/**
 * Decodes one S2 text frame (of `options.version`, default 0.0.2-beta). Never throws: the result is
 * either the typed message or the failure with the ReceptionStatus it maps to (INVALID_DATA /
 * INVALID_MESSAGE), its problems and the reply.
 */
export function decode(text: string, options?: CodecOptions): DecodeResult {
  return codecFor(options).decode(text);
}

/**
 * Validates and serialises a message; throws S2Error('INVALID_OUTGOING_MESSAGE') if it is not valid
 * S2 of `options.version` (default 0.0.2-beta).
 */
export function encode(message: S2Message, options?: CodecOptions): string {
  return codecFor(options).encode(message);
}
