import { createHash, X509Certificate } from 'node:crypto';
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import tls, { type ConnectionOptions, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';
import { S2ConnectError } from '../errors.js';

/**
 * How a client decides to trust an S2 Connect server's certificate (S2 Connect §3.5, §4.1):
 * - `webpki`: the normal public CA system, plus `ca` roots (tests, development, private clouds);
 * - `first-use`: any chain is accepted and reported (LAN pairing: the HMAC over the leaf's SHA-256
 *   is what defeats a man in the middle, so nothing secret may be sent before it is checked);
 * - `pinned`: the chain must end in the root whose SHA-256 (base64) is `rootPin`, and the leaf
 *   must be valid for the host name, verified by Node against that root alone.
 */
export type TlsTrust =
  | { readonly kind: 'webpki'; readonly ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined }
  | { readonly kind: 'first-use' }
  | {
      /** `rootPem` is the certificate `rootPin` names; the connection checks both. */
      readonly kind: 'pinned';
      readonly rootPin: string;
      readonly rootPem: string;
      readonly leafFingerprint?: Uint8Array | undefined;
    };

/** What a TLS handshake showed: the leaf and the root of the presented chain. */
export interface PeerChain {
  /** SHA-256 of the leaf certificate's DER. */
  readonly leafFingerprint: Uint8Array;
  /** The last certificate of the presented chain (the root on a LAN server that sends its full chain). */
  readonly rootPem: string;
  /** base64 SHA-256 of the root's DER: the pin S2 Connect exchanges. */
  readonly rootPin: string;
}

/** A name → address map used instead of DNS/mDNS (tests, or hosts without an mDNS resolver). */
export type HostResolver = (hostname: string) => string | undefined;

export function sha256Base64(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64');
}

function sha256(der: Uint8Array): Buffer {
  return createHash('sha256').update(der).digest();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

function toPem(der: Buffer): string {
  return new X509Certificate(der).toString();
}

/** The presented chain, leaf first, as DER buffers (Node links it through `issuerCertificate`). */
export function chainOf(cert: PeerCertificate | DetailedPeerCertificate): Buffer[] {
  const out: Buffer[] = [];
  let current: DetailedPeerCertificate | undefined = cert as DetailedPeerCertificate;
  const seen = new Set<string>();
  while (current?.raw !== undefined && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    out.push(current.raw);
    current = current.issuerCertificate;
  }
  return out;
}

export function peerChainOf(socket: tls.TLSSocket): PeerChain | undefined {
  const chain = chainOf(socket.getPeerCertificate(true));
  const leaf = chain[0];
  const root = chain[chain.length - 1];
  if (leaf === undefined || root === undefined) return undefined;
  return {
    leafFingerprint: new Uint8Array(sha256(leaf)),
    rootPem: toPem(root),
    rootPin: sha256Base64(root),
  };
}

/** A `lookup` for net/tls that asks `resolve` first and falls back to the system resolver. */
export function lookupWith(resolve: HostResolver | undefined): LookupFunction | undefined {
  if (resolve === undefined) return undefined;
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    const address = resolve(hostname.replace(/\.$/, ''));
    if (address === undefined) return dns.lookup(hostname, options, callback as never);
    const family = address.includes(':') ? 6 : 4;
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
}

/**
 * TLS options for one connection under `trust`. `pinned` carries the root's PEM (from the pairing's
 * TLS handshake, or {@link fetchPinnedRoot} when only the pin is stored): Node verifies chains only against PEM roots, and the pin alone
 * (what S2 Connect exchanges) is a hash.
 */
export function tlsOptionsFor(trust: TlsTrust, servername: string): ConnectionOptions {
  const base: ConnectionOptions = { servername, minVersion: 'TLSv1.2' };
  switch (trust.kind) {
    case 'webpki': {
      if (trust.ca === undefined) return base;
      // Buffer.isBuffer and typeof narrow the union; Array.isArray would widen a readonly array to any[].
      const extra: ReadonlyArray<string | Buffer> = typeof trust.ca === 'string' || Buffer.isBuffer(trust.ca) ? [trust.ca] : trust.ca;
      return { ...base, ca: [...tls.rootCertificates, ...extra] };
    }
    case 'first-use':
      return { ...base, rejectUnauthorized: false };
    case 'pinned': {
      return {
        ...base,
        ca: [trust.rootPem],
        checkServerIdentity: (host, cert) => {
          const err = tls.checkServerIdentity(host, cert);
          if (err) return err;
          const chain = chainOf(cert);
          const root = chain[chain.length - 1];
          if (root === undefined || sha256Base64(root) !== trust.rootPin) {
            return new Error('the server certificate chain does not end in the pinned root');
          }
          // Within one pairing attempt the server must keep presenting the leaf the HMAC covered.
          if (trust.leafFingerprint !== undefined && chain[0] !== undefined && !sameBytes(sha256(chain[0]), trust.leafFingerprint)) {
            return new Error('the server presented another leaf certificate than during requestPairing');
          }
          return undefined;
        },
      };
    }
  }
}

/**
 * Opens a TLS connection that sends nothing, reads the presented chain and returns the PEM of the
 * certificate whose SHA-256 equals `rootPin`. Nothing is trusted yet: the caller then connects with
 * `ca: [that PEM]`, where Node verifies the chain and host name for real.
 */
export function fetchPinnedRoot(options: {
  host: string;
  port: number;
  servername: string;
  rootPin: string;
  lookup?: LookupFunction | undefined;
  timeoutMs?: number | undefined;
}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: options.host,
      port: options.port,
      servername: options.servername,
      rejectUnauthorized: false,
      ...(options.lookup ? { lookup: options.lookup } : {}),
    });
    const timer = setTimeout(() => socket.destroy(new Error('TLS handshake timed out')), options.timeoutMs ?? 10_000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const chain = chainOf(socket.getPeerCertificate(true));
      socket.destroy();
      const match = chain.find((der) => sha256Base64(der) === options.rootPin);
      // A typed error: callers (connectPaired, unpair) report it as InvalidCertificate, not as a network failure.
      if (match === undefined) reject(S2ConnectError.local('InvalidCertificate', 'the server did not present the pinned root certificate'));
      else resolve(toPem(match));
    });
    socket.once('error', (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
