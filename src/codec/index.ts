import { ALL_RULES } from '../rules/index.js';
import { MESSAGES, type S2Message } from '../typebox/registry.js';
import { Codec, type CodecOptions, type DecodeResult } from './codec.js';

export { Codec, NIL_UUID, diagnosticLabel, type CodecOptions, type DecodeFailure, type DecodeResult } from './codec.js';

// One codec per option combination, so validators compile once per process.
const codecs: Record<string, Codec> = {};

/** A codec for all 35 messages with these options (shared: validators compile once per process). */
export function codecFor(options?: CodecOptions): Codec {
  const ids = options?.ids ?? 'schema';
  const rules = options?.rules ?? true;
  const key = `${ids}${rules ? '+rules' : ''}`;
  return (codecs[key] ??= new Codec(MESSAGES, ALL_RULES, { ids, rules }));
}

/**
 * Decodes one S2 text frame. Never throws: the result is either the typed message or the failure
 * with the ReceptionStatus it maps to (INVALID_DATA / INVALID_MESSAGE), its problems and the reply.
 */
export function decode(text: string, options?: CodecOptions): DecodeResult {
  return codecFor(options).decode(text);
}

/** Validates and serialises a message; throws S2Error('INVALID_OUTGOING_MESSAGE') if it is not valid S2. */
export function encode(message: S2Message, options?: CodecOptions): string {
  return codecFor(options).encode(message);
}
