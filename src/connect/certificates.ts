import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { S2Error } from '../typebox/errors.js';

/** A server certificate chain made by {@link generateCertificates}. */
export interface GeneratedCertificates {
  /** Leaf then root, PEM: what a LAN S2 Connect server must present (the full chain, root included). */
  readonly chainPem: string;
  /** The leaf's private key, PKCS#8 PEM. Keep it secret. */
  readonly keyPem: string;
  /** The self-signed root, PEM (a WAN test setup gives it to clients as an extra trusted root). */
  readonly rootPem: string;
  /** base64 SHA-256 of the root's DER: the pin S2 Connect exchanges as `certificateFingerprint.SHA256`. */
  readonly rootPin: string;
}

export interface CertificateOptions {
  /** The name the leaf is valid for: `<name>.local` on a LAN; a test host name for WAN tests. */
  readonly hostname: string;
  /** Further DNS names of the leaf. */
  readonly altNames?: readonly string[] | undefined;
  /** Default 825 days for the leaf and 20 years for the root. */
  readonly leafDays?: number | undefined;
  readonly now?: (() => number) | undefined;
}

type X509Module = typeof X509;

/**
 * @peculiar/x509 (with the `reflect-metadata` polyfill its dependency injection needs) is an optional
 * peer dependency: only nodes that make their own certificates load it, and only then.
 */
async function loadX509(): Promise<X509Module> {
  try {
    await import('reflect-metadata');
    const mod = await import('@peculiar/x509');
    mod.cryptoProvider.set(webcrypto as unknown as Parameters<typeof mod.cryptoProvider.set>[1]);
    return mod;
  } catch (err) {
    throw new S2Error(
      'INVALID_OPTIONS',
      'generating certificates needs the optional packages @peculiar/x509 and reflect-metadata (npm install @peculiar/x509 reflect-metadata)',
      { cause: err },
    );
  }
}

const DAY = 86_400_000;

/**
 * Makes what a LAN S2 Connect node needs (S2 Connect §1): its own root CA and a leaf for its
 * `.local` name signed by it, ECDSA P-256. The root is what peers pin after pairing; the leaf is
 * what the pairing HMAC covers. A node should generate these once and keep them: a new root
 * breaks every existing pairing's pin.
 */
export async function generateCertificates(options: CertificateOptions): Promise<GeneratedCertificates> {
  const x509 = await loadX509();
  const subtle = webcrypto.subtle;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const now = options.now?.() ?? Date.now();
  const serial = (): string =>
    Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
      .toString('hex')
      .replace(/^[89a-f]/, '1');

  const rootKeys = await subtle.generateKey(alg, true, ['sign', 'verify']);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=S2 root for ${options.hostname}`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 20 * 365 * DAY),
    keys: rootKeys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });

  const leafKeys = await subtle.generateKey(alg, true, ['sign', 'verify']);
  const names = [options.hostname, ...(options.altNames ?? [])];
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${options.hostname}`,
    issuer: root.subject,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + (options.leafDays ?? 825) * DAY),
    signingKey: rootKeys.privateKey,
    publicKey: leafKeys.publicKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value }))),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });

  const pkcs8 = await subtle.exportKey('pkcs8', leafKeys.privateKey);
  const rootPem = root.toString('pem');
  return {
    chainPem: `${leaf.toString('pem')}\n${rootPem}\n`,
    keyPem: `${x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')}\n`,
    rootPem: `${rootPem}\n`,
    rootPin: createHash('sha256').update(new X509Certificate(rootPem).raw).digest('base64'),
  };
}

/** The certificates of a PEM chain file, in order. */
export function certificatesOf(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

/**
 * The pin of a LAN server's chain: SHA-256 (base64) of its last certificate, which must be a
 * self-signed root (S2 Connect §3.5: a LAN server presents its full chain, root included).
 */
export function rootPinOfChain(chainPem: string): string | undefined {
  const chain = certificatesOf(chainPem);
  const root = chain[chain.length - 1];
  if (root === undefined || chain.length < 2 || !root.checkIssued(root)) return undefined;
  return createHash('sha256').update(root.raw).digest('base64');
}
