import { createHash, createHmac, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import { S2ConnectError } from './errors.js';
import { NODE_ID_ALIAS_PATTERN } from './wire/names.js';

/**
 * The cryptography of S2 Connect 1.0 (digest §3.2, §3.4, §8): random tokens, pairing codes, the HMAC-SHA256
 * challenge–response, challenge equivalence (reflection defence), certificate fingerprints, constant-time
 * comparison. node:crypto only; every function is pure except the two random ones.
 */

/** A challenge shorter than this is refused by both sides (OAS; digest §8 row 20). */
export const MIN_CHALLENGE_BYTES = 32;
/** What a pairing client sends (RS does the same). */
export const CLIENT_CHALLENGE_BYTES = 32;
/** What a pairing server sends: more than the minimum, as RS does, so clients must cope with longer ones. */
export const SERVER_CHALLENGE_BYTES = 64;
/** A one-time pairing token (shown for one pairing, valid 15 min). */
export const ONE_TIME_TOKEN_BYTES = 9;
/** A long-lived ("static") pairing token, e.g. printed on a device. */
export const LONG_LIVED_TOKEN_BYTES = 12;
/** requestPairing answers HMAC(C, T) for any C: an offline-guessing oracle, so no pairing token may be shorter. */
export const MIN_PAIRING_TOKEN_BYTES = 9;
/** Attempt ids, access tokens and WebSocket tokens. */
export const SECRET_BYTES = 32;

/** SHA-256 block size: HMAC keys longer than this are hashed, shorter ones zero-padded to it (RFC 2104). */
const HMAC_BLOCK_BYTES = 64;
const SHA256_BYTES = 32;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX_FINGERPRINT = /^[0-9a-fA-F]{64}$/;
const COLON_HEX_FINGERPRINT = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){31}$/;
const ALIAS = new RegExp(NODE_ID_ALIAS_PATTERN);
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** A plain Uint8Array copy, so results compare equal to literals and never alias Node's shared buffer pool. */
function own(bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes);
}

function utf8(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

/** `bytes` random bytes as standard base64 with padding: attempt ids, access and WebSocket tokens, pairing tokens. */
export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64');
}

/** `bytes` random bytes: HMAC challenges, pairing tokens before they are formatted. */
export function randomChallenge(bytes: number): Uint8Array {
  return own(randomBytes(bytes));
}

/** Standard base64 with padding (RFC 4648 §4), the encoding of every S2 Connect binary field. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Strict standard base64 with padding: only `A–Z a–z 0–9 + /`, padded to a multiple of 4, and canonical (the text
 * must be exactly what re-encoding the bytes gives, which rejects non-zero trailing bits). Node's own decoder
 * silently skips bad characters, so it is never used on peer text without this check. Undefined when invalid or
 * outside [minBytes, maxBytes].
 */
export function decodeBase64Strict(
  text: string,
  options: { minBytes?: number | undefined; maxBytes?: number | undefined } = {},
): Uint8Array | undefined {
  const { minBytes = 0, maxBytes } = options;
  // Length bound first: the regex and the decoder then never see more than the caller allows.
  if (maxBytes !== undefined && text.length > 4 * Math.ceil(maxBytes / 3)) return undefined;
  if (!BASE64.test(text)) return undefined;
  const decoded = Buffer.from(text, 'base64');
  if (decoded.toString('base64') !== text) return undefined;
  if (decoded.length < minBytes || (maxBytes !== undefined && decoded.length > maxBytes)) return undefined;
  return own(decoded);
}

/**
 * A SHA-256 fingerprint as peers send it: standard base64 (RS, what we send), or hex, with or without colons
 * (OAS leaves the encoding unstated; Node's `fingerprint256` is colon-hex). Undefined unless it is 32 bytes.
 */
export function decodeFingerprint(text: string): Uint8Array | undefined {
  if (HEX_FINGERPRINT.test(text)) return own(Buffer.from(text, 'hex'));
  if (COLON_HEX_FINGERPRINT.test(text)) return own(Buffer.from(text.replace(/:/g, ''), 'hex'));
  return decodeBase64Strict(text, { minBytes: SHA256_BYTES, maxBytes: SHA256_BYTES });
}

/** What a pairing code says: the node's alias (if any) and the pairing token's bytes. */
export interface PairingCode {
  alias?: string;
  token: Uint8Array;
}

function invalidCode(why: string): S2ConnectError {
  // The code holds the token: the message says what is wrong, never what was typed.
  return S2ConnectError.local('InvalidPairingCode', why);
}

/**
 * Reads a pairing code, `<token-b64>` or `<nodeIdAlias>-<token-b64>` (digest §3.2, §7). Split on the first `-`
 * (standard base64 has none); a second `-` is an error; the alias must be ASCII letters and digits (so `-aaaa`,
 * which RS reads as alias "", is refused: OAS requires one character at least); the token must be strict padded
 * base64 of at least `minTokenBytes` (default 1: the RS test codes are short; callers that accept codes from
 * users for a real pairing pass {@link MIN_PAIRING_TOKEN_BYTES}). Surrounding white space (copy and paste) is
 * ignored. Throws S2ConnectError `InvalidPairingCode`.
 */
export function parsePairingCode(code: string, options: { minTokenBytes?: number | undefined } = {}): PairingCode {
  const minTokenBytes = Math.max(1, options.minTokenBytes ?? 1);
  const text = code.trim();
  const dash = text.indexOf('-');
  const alias = dash === -1 ? undefined : text.slice(0, dash);
  const tokenText = dash === -1 ? text : text.slice(dash + 1);
  if (tokenText.includes('-')) throw invalidCode('a pairing code has at most one "-" (between the node alias and the token)');
  if (alias !== undefined && !ALIAS.test(alias)) throw invalidCode('the node alias before "-" must be one or more ASCII letters or digits');
  const token = decodeBase64Strict(tokenText, { minBytes: minTokenBytes, maxBytes: 1024 });
  if (token === undefined)
    throw invalidCode(`the token must be standard padded base64 of at least ${minTokenBytes} byte${minTokenBytes === 1 ? '' : 's'}`);
  return alias === undefined ? { token } : { alias, token };
}

/** The code a user types: `<alias>-<token-b64>`, or the bare token when the endpoint needs no alias. */
export function formatPairingCode(alias: string | undefined, token: Uint8Array): string {
  if (alias !== undefined && !ALIAS.test(alias)) throw invalidCode('the node alias must be one or more ASCII letters or digits');
  if (token.length === 0) throw invalidCode('the pairing token is empty');
  const text = encodeBase64(token);
  return alias === undefined ? text : `${alias}-${text}`;
}

/**
 * The S2 Connect challenge response (digest §3.4): HMAC-SHA256 with the CHALLENGE as key over the token bytes,
 * followed on LAN by the SHA-256 of the pairing server's TLS leaf certificate (plain concatenation). The key is
 * the challenge, not the token: swapping them gives different bytes (§7 "wrong orientation").
 */
export function hmacResponse(challenge: Uint8Array, token: Uint8Array, leafFingerprint?: Uint8Array): Uint8Array {
  if (leafFingerprint !== undefined && leafFingerprint.length !== SHA256_BYTES) {
    throw new RangeError(`the leaf fingerprint must be a raw SHA-256 (${SHA256_BYTES} bytes), got ${leafFingerprint.length}`);
  }
  const mac = createHmac('sha256', challenge);
  mac.update(token);
  if (leafFingerprint !== undefined) mac.update(leafFingerprint);
  return own(mac.digest());
}

/**
 * The key HMAC-SHA256 really uses for a challenge, as hex: keys longer than the 64-byte block are hashed first,
 * and shorter keys are zero-padded, so trailing zero bytes do not matter. Two challenges with the same key give the
 * same response for every message — which is what the reflection defence must compare (digest §8).
 */
export function challengeKey(challenge: Uint8Array): string {
  const key = challenge.length > HMAC_BLOCK_BYTES ? sha256(challenge) : challenge;
  let end = key.length;
  while (end > 0 && key[end - 1] === 0) end -= 1;
  return Buffer.from(key.buffer, key.byteOffset, end).toString('hex');
}

/** True when HMAC-SHA256 keyed with `a` and with `b` are the same function (reflection check, both sides). */
export function challengesEquivalent(a: Uint8Array, b: Uint8Array): boolean {
  return constantTimeEqual(challengeKey(a), challengeKey(b));
}

export function sha256(data: Uint8Array | string): Uint8Array {
  return own(
    createHash('sha256')
      .update(typeof data === 'string' ? utf8(data) : data)
      .digest(),
  );
}

/**
 * SHA-256 of a certificate's DER (32 raw bytes): F for the LAN HMAC (of the leaf) and the root pin (of the root).
 * Takes PEM text (the first certificate of a chain) or DER/PEM bytes. Throws `InvalidCertificate`.
 */
export function certificateFingerprint(pemOrDer: string | Uint8Array): Uint8Array {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(typeof pemOrDer === 'string' ? pemOrDer : Buffer.from(pemOrDer));
  } catch (cause) {
    throw S2ConnectError.local('InvalidCertificate', 'not an X.509 certificate in PEM or DER', cause);
  }
  return sha256(cert.raw);
}

/** The DER of every certificate of a PEM chain, in file order (leaf first in a server chain, root last). */
export function pemCertificates(pem: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const block of pem.match(PEM_CERTIFICATE) ?? []) {
    try {
      out.push(own(new X509Certificate(block).raw));
    } catch (cause) {
      throw S2ConnectError.local('InvalidCertificate', `certificate ${out.length + 1} of the PEM text does not parse`, cause);
    }
  }
  return out;
}

/**
 * Compares two secrets in time independent of where they differ and of their lengths: both are hashed first,
 * then compared with `timingSafeEqual` (as src/transport/upgrade-auth.ts does). Strings are compared as UTF-8.
 */
export function constantTimeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const ha = createHash('sha256')
    .update(typeof a === 'string' ? utf8(a) : a)
    .digest();
  const hb = createHash('sha256')
    .update(typeof b === 'string' ? utf8(b) : b)
    .digest();
  return timingSafeEqual(ha, hb);
}

/** base64 SHA-256 of a token's text: what a communication server stores instead of the access token itself. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64');
}
