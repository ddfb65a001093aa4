import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  certificateFingerprint,
  challengeKey,
  challengesEquivalent,
  constantTimeEqual,
  decodeBase64Strict,
  decodeFingerprint,
  encodeBase64,
  formatPairingCode,
  hashToken,
  hmacResponse,
  parsePairingCode,
  pemCertificates,
  randomChallenge,
  randomToken,
  sha256,
} from '../../src/connect/crypto.js';
import { S2ConnectError } from '../../src/connect/errors.js';
import { makeCerts } from '../transport/helpers.js';

// Digest §7 inputs.
const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const range = (from: number, count: number): Uint8Array => Uint8Array.from({ length: count }, (_, i) => from + i);

const T = range(0, 9); // code "AAECAwQFBgcI"
const T12 = range(0xa0, 12); // code "oKGio6Slpqeoqaqr"
const C_c = range(0, 32);
const C_s = range(0x80, 64);
const F = hex('a1725be0a0da185238b56698693586476146b4ff2d166c7da4b86c5ff49db6ab');
/** SHA-256 of the DER of s2-rust's testdata/localhost.pem (digest §7; the certificate itself stays outside the repo). */
const F_REAL = hex('2b4b7d40b67b85ccabf4a0a0b119ae6587dcecdce10a300944d675d562e1e733');

describe('HMAC challenge–response (digest §3.4, §7)', () => {
  it("[S2C §7] the inputs are the digest's: C_c, C_s in base64 and F = SHA-256 of the stand-in text", () => {
    expect(b64(C_c)).toBe('AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=');
    expect(b64(C_s)).toBe('gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp+goaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2+vw==');
    expect(sha256('s2-connect test leaf certificate DER')).toEqual(F);
    expect(b64(F)).toBe('oXJb4KDaGFI4tWaYaTWGR2FGtP8tFmx9pLhsX/Sdtqs=');
  });

  it('[S2C §7] R_c WAN = HMAC(C_c, T)', () => {
    const r = hmacResponse(C_c, T);
    expect(Buffer.from(r).toString('hex')).toBe('d658b6e458332ccf4af34472121238f4e8661a86a1e4f5867954d95509ed2bde');
    expect(b64(r)).toBe('1li25FgzLM9K80RyEhI49OhmGoah5PWGeVTZVQntK94=');
  });

  it('[S2C §7] R_c LAN = HMAC(C_c, T‖F)', () => {
    const r = hmacResponse(C_c, T, F);
    expect(Buffer.from(r).toString('hex')).toBe('47a4cfa4a739e99fd884a03e2c906e813546016e363199a14dfddafb4660d3f0');
    expect(b64(r)).toBe('R6TPpKc56Z/YhKA+LJBugTVGAW42MZmhTf3a+0Zg0/A=');
  });

  it('[S2C §7] R_s WAN = HMAC(C_s, T) with the 64-byte server challenge', () => {
    const r = hmacResponse(C_s, T);
    expect(Buffer.from(r).toString('hex')).toBe('eff289af628c6416aad0808339c4e8a017b613a4334362176b5d037b5bc79cac');
    expect(b64(r)).toBe('7/KJr2KMZBaq0ICDOcTooBe2E6QzQ2IXa10De1vHnKw=');
  });

  it('[S2C §7] R_s LAN = HMAC(C_s, T‖F)', () => {
    const r = hmacResponse(C_s, T, F);
    expect(Buffer.from(r).toString('hex')).toBe('59d105c86f6dce1ab5190516a16745d2188b63d1626a59f8a74697e839a43c2b');
    expect(b64(r)).toBe('WdEFyG9tzhq1GQUWoWdF0hiLY9Fialn4p0aX6DmkPCs=');
  });

  it('[S2C §7] wrong orientation (key = token, message = challenge) does not match R_c', () => {
    const swapped = hmacResponse(T, C_c);
    expect(Buffer.from(swapped).toString('hex')).toBe('e301bbe9246bf91d74cb4241b88c998f9239c88a37c746f2f2635c805431a3aa');
    expect(constantTimeEqual(swapped, hmacResponse(C_c, T))).toBe(false);
  });

  it('[S2C §7] WAN and LAN responses differ, and R_c ≠ R_s', () => {
    expect(b64(hmacResponse(C_c, T))).not.toBe(b64(hmacResponse(C_c, T, F)));
    expect(b64(hmacResponse(C_c, T))).not.toBe(b64(hmacResponse(C_s, T)));
  });

  it('[S2C §7] key padding: HMAC(C_c ‖ 00×8, T) equals R_c WAN', () => {
    const padded = new Uint8Array(40);
    padded.set(C_c);
    expect(b64(hmacResponse(padded, T))).toBe('1li25FgzLM9K80RyEhI49OhmGoah5PWGeVTZVQntK94=');
  });

  it('[S2C §7] 12-byte static token, WAN and LAN', () => {
    expect(b64(hmacResponse(C_c, T12))).toBe('jRiFNvxLUfg2HfzV0XlxeUwJCahCjw5hgDCeHU5tti4=');
    expect(b64(hmacResponse(C_c, T12, F))).toBe('DEJgiyxYehY8oCrKLQn3viZ++8cNlm0OvXMNTDf2tG8=');
  });

  it('[S2C §7] RS unit-test token b"testtoken"', () => {
    expect(b64(hmacResponse(C_c, Buffer.from('testtoken', 'ascii')))).toBe('J1QnAMuhLeJfr4vkfCZklWvsRGjLzCHefrhLu6XVYGs=');
  });

  it('[S2C §7] real certificate: HMAC(C_c, T‖F) with F of s2-rust testdata/localhost.pem', () => {
    expect(b64(F_REAL)).toBe('K0t9QLZ7hcyr9KCgsRmuZYfc7NzhCjAJRNZ11WLh5zM=');
    expect(b64(hmacResponse(C_c, T, F_REAL))).toBe('z83mjL0VbarlRrsRXHSSA6kxvh7PNs5M9Sb2DsKGHvU=');
  });

  it('[S2C §7] the root fingerprint of testdata/root.pem reads from base64 and from hex alike', () => {
    const fromB64 = decodeFingerprint('VsI3xnmt5pjId2OonNU4GdY8Db63HJyAk2DfSk9Wzec=');
    expect(fromB64).toBeDefined();
    const asHex = Buffer.from(fromB64 as Uint8Array).toString('hex');
    expect(decodeFingerprint(asHex)).toEqual(fromB64);
    expect(decodeFingerprint(asHex.toUpperCase().match(/../g)?.join(':') ?? '')).toEqual(fromB64);
  });

  it('[S2C §3.4] refuses a leaf fingerprint that is not 32 raw bytes (e.g. hex text by mistake)', () => {
    expect(() => hmacResponse(C_c, T, Buffer.from('a1725be0', 'utf8'))).toThrow(RangeError);
  });
});

describe('challenge equivalence (digest §8 reflection)', () => {
  it('[S2C §8] a challenge and the same challenge with trailing zero bytes (≤ 64 bytes) are equivalent', () => {
    const padded = new Uint8Array(64);
    padded.set(C_c);
    expect(challengesEquivalent(C_c, padded)).toBe(true);
    expect(challengeKey(C_c)).toBe(challengeKey(padded));
  });

  it('[S2C §8] a key longer than 64 bytes is equivalent to its SHA-256, and to that hash zero-padded', () => {
    const long = range(1, 100);
    const hashed = sha256(long);
    expect(challengesEquivalent(long, hashed)).toBe(true);
    expect(b64(hmacResponse(long, T))).toBe(b64(hmacResponse(hashed, T)));
    const padded = new Uint8Array(48);
    padded.set(hashed);
    expect(challengesEquivalent(long, padded)).toBe(true);
  });

  it('[S2C §8] equivalent keys really give equal HMACs, and different keys do not', () => {
    const padded = new Uint8Array(64);
    padded.set(C_s.subarray(0, 40));
    const short = C_s.subarray(0, 40);
    expect(challengesEquivalent(short, padded)).toBe(true);
    expect(b64(hmacResponse(short, T, F))).toBe(b64(hmacResponse(padded, T, F)));
    expect(challengesEquivalent(C_c, C_s)).toBe(false);
    // 65 bytes are hashed, not zero-stripped: C_s ‖ 00 is a different key from C_s.
    const c65 = new Uint8Array(65);
    c65.set(C_s);
    expect(challengesEquivalent(C_s, c65)).toBe(false);
    expect(b64(hmacResponse(C_s, T))).not.toBe(b64(hmacResponse(c65, T)));
  });
});

describe('pairing codes (digest §3.2, §7)', () => {
  const token = (code: string) => [...parsePairingCode(code).token];

  it('[S2C §7] "aaaa" → no alias, token [105,166,154]', () => {
    const code = parsePairingCode('aaaa');
    expect(code.alias).toBeUndefined();
    expect('alias' in code).toBe(false);
    expect([...code.token]).toEqual([105, 166, 154]);
  });

  it('[S2C §7] "aaaabbbb" → [105,166,154,109,182,219]', () => {
    expect(token('aaaabbbb')).toEqual([105, 166, 154, 109, 182, 219]);
  });

  it('[S2C §7] "hEll0-aaaa" → alias hEll0, token [105,166,154]', () => {
    expect(parsePairingCode('hEll0-aaaa')).toEqual({ alias: 'hEll0', token: Uint8Array.from([105, 166, 154]) });
  });

  it('[S2C §7] "XYZ-AAECAwQFBgcI" → alias XYZ, token 00…08', () => {
    expect(parsePairingCode('XYZ-AAECAwQFBgcI')).toEqual({ alias: 'XYZ', token: T });
  });

  it('[S2C §7] "oKGio6Slpqeoqaqr" is the 12-byte static token a0…ab', () => {
    expect(parsePairingCode('oKGio6Slpqeoqaqr')).toEqual({ token: T12 });
  });

  const refused: [string, RegExp][] = [
    ['this-is-aaaa', /at most one "-"/],
    ['hello_world-aaaa', /alias/],
    ['-aaaa', /alias/],
    ['a-b-c', /at most one "-"/],
    ['aaa', /base64/],
    ['=', /base64/],
    ['bla-aa=', /base64/],
    ['', /base64/],
    ['hEll0-', /base64/],
    ['aaab=', /base64/],
    ['aR==', /base64/], // non-canonical: trailing bits set
    ['aaa_', /base64/], // URL-safe alphabet is not standard base64
    ['aa aa', /base64/],
    ['héllo-aaaa', /alias/],
  ];
  for (const [code, why] of refused) {
    it(`[S2C §7] refuses ${JSON.stringify(code)}`, () => {
      let thrown: unknown;
      try {
        parsePairingCode(code);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(S2ConnectError);
      const error = thrown as S2ConnectError;
      expect(error.errorMessage).toBe('InvalidPairingCode');
      expect(error.message).toMatch(why);
      // The code carries the token: it never appears in the error.
      if (code.length > 2) expect(error.message).not.toContain(code);
      expect(JSON.stringify(error)).not.toContain(code.length > 2 ? code : '\u0000');
    });
  }

  it('[S2C §3.2] surrounding white space from copy and paste is ignored', () => {
    expect(parsePairingCode('  XYZ-AAECAwQFBgcI\n')).toEqual({ alias: 'XYZ', token: T });
  });

  it('[S2C §8] minTokenBytes refuses low-entropy tokens for real pairings', () => {
    expect(() => parsePairingCode('aaaa', { minTokenBytes: 9 })).toThrow(/at least 9 bytes/);
    expect(parsePairingCode('AAECAwQFBgcI', { minTokenBytes: 9 }).token).toEqual(T);
  });

  it('[S2C §3.2] formatPairingCode writes what parsePairingCode reads', () => {
    expect(formatPairingCode('XYZ', T)).toBe('XYZ-AAECAwQFBgcI');
    expect(formatPairingCode(undefined, T12)).toBe('oKGio6Slpqeoqaqr');
    for (const alias of [undefined, 'A0', 'abcDEF123456']) {
      const t = randomChallenge(12);
      const parsed = parsePairingCode(formatPairingCode(alias, t));
      expect(parsed.token).toEqual(t);
      expect(parsed.alias).toBe(alias);
    }
    expect(() => formatPairingCode('', T)).toThrow(S2ConnectError);
    expect(() => formatPairingCode('a-b', T)).toThrow(S2ConnectError);
    expect(() => formatPairingCode('A0', new Uint8Array(0))).toThrow(S2ConnectError);
  });
});

describe('base64 and tokens (digest §3.0)', () => {
  it('[S2C §3.0] strict decoding accepts canonical padded base64 only', () => {
    expect(decodeBase64Strict('AAECAwQFBgcI')).toEqual(T);
    expect(decodeBase64Strict('')).toEqual(new Uint8Array(0));
    expect(decodeBase64Strict('AA==')).toEqual(Uint8Array.from([0]));
    for (const bad of ['AA', 'AA=', 'AB==', 'AAE=x', 'AA==AA==', 'AAEC\nAwQF', '-_8=', 'AAE ', ' AAE']) {
      expect(decodeBase64Strict(bad), bad).toBeUndefined();
    }
  });

  it('[S2C §3.0] minBytes and maxBytes bound the decoded length', () => {
    const c31 = encodeBase64(range(0, 31));
    const c32 = encodeBase64(C_c);
    expect(decodeBase64Strict(c31, { minBytes: 32 })).toBeUndefined();
    expect(decodeBase64Strict(c32, { minBytes: 32 })).toEqual(C_c);
    expect(decodeBase64Strict(c32, { maxBytes: 31 })).toBeUndefined();
    expect(decodeBase64Strict('A'.repeat(10_000), { maxBytes: 64 })).toBeUndefined();
  });

  it('[S2C §3.0] randomToken gives padded base64 of the requested number of bytes', () => {
    for (const bytes of [9, 12, 32]) {
      const token = randomToken(bytes);
      expect(decodeBase64Strict(token)?.length).toBe(bytes);
    }
    expect(randomToken(32)).toHaveLength(44);
    expect(randomToken(32)).not.toBe(randomToken(32));
    expect(randomChallenge(64)).toHaveLength(64);
  });

  it('[S2C §9] constantTimeEqual compares by value whatever the lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual(C_c, range(0, 32))).toBe(true);
    expect(constantTimeEqual(C_c, C_s)).toBe(false);
    expect(constantTimeEqual('abc', Buffer.from('abc'))).toBe(true);
  });

  it('[S2C §3.7] hashToken is the base64 SHA-256 of the token text', () => {
    expect(hashToken('abc')).toBe('ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=');
    expect(hashToken('abc')).toBe(b64(sha256('abc')));
  });
});

describe('certificate fingerprints (digest §3.4, §3.5a)', () => {
  const certs = makeCerts();

  it("[S2C §3.4] SHA-256 of the DER, equal to Node's fingerprint256, from PEM or DER", () => {
    const fromPem = certificateFingerprint(certs.cert);
    const x509 = new X509Certificate(certs.cert);
    expect(Buffer.from(fromPem).toString('hex')).toBe(x509.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(certificateFingerprint(x509.raw)).toEqual(fromPem);
    expect(decodeFingerprint(x509.fingerprint256)).toEqual(fromPem);
  });

  it('[S2C §3.5a] a PEM chain gives its certificates in order; the fingerprint of a chain text is its first', () => {
    const chain = `${certs.cert}${certs.ca}`;
    const ders = pemCertificates(chain);
    expect(ders).toHaveLength(2);
    expect(sha256(ders[0] as Uint8Array)).toEqual(certificateFingerprint(certs.cert));
    expect(sha256(ders[1] as Uint8Array)).toEqual(certificateFingerprint(certs.ca));
    expect(certificateFingerprint(chain)).toEqual(certificateFingerprint(certs.cert));
    expect(pemCertificates('no certificate here')).toEqual([]);
  });

  it('[S2C §3.4] refuses what is not a certificate', () => {
    expect(() => certificateFingerprint('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toThrow(
      expect.objectContaining({ errorMessage: 'InvalidCertificate' }),
    );
    expect(() => certificateFingerprint(new Uint8Array([1, 2, 3]))).toThrow(S2ConnectError);
    expect(() => pemCertificates('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toThrow(S2ConnectError);
  });
});
