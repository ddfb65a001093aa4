import { isIP } from 'node:net';
import { S2ConnectError } from './errors.js';
import type { CommunicationRole, Deployment, NodeRole } from './wire/names.js';
import type { EndpointDescription } from './wire/types.js';

/**
 * LAN or WAN, and who becomes the communication server (digest §1). Pure functions of roles, deployments and
 * host names; no I/O.
 */

/** Which side of a pairing attempt: the one serving the pairing API, or the one calling requestPairing. */
export type PairingSide = 'pairingServer' | 'pairingClient';

/** The connection-details call the pairing client must make: requestConnectionDetails or postConnectionDetails. */
export type ConnectionDetailsStep = 'request' | 'post';

export interface PairingParties {
  readonly clientRole: NodeRole;
  readonly clientDeployment: Deployment;
  readonly serverRole: NodeRole;
  readonly serverDeployment: Deployment;
}

/**
 * LAN for an mDNS name (`….local`, also with the root dot `….local.`), WAN for any other DNS name; undefined for
 * an IP literal (IPv4, IPv6 with or without brackets) or text that is no host name, which S2 Connect does not use: RS refuses
 * IP hosts, and a LAN server reached by address would be taken for WAN and the HMACs would disagree. Give a host
 * name without port (`URL.hostname`). Case does not matter (URL parsing lowercases host names anyway).
 */
export function deploymentOfHost(host: string): Deployment | undefined {
  const name = host.trim().toLowerCase();
  if (name === '' || (name.startsWith('[') && name.endsWith(']')) || isIP(name) !== 0) return undefined;
  // Not a host name at all (empty label, white space, a port or path left in): no deployment rather than a guess.
  if (!/^[^.\s:/]+(?:\.[^.\s:/]+)*\.?$/.test(name)) return undefined;
  return /\.local\.?$/.test(name) ? 'LAN' : 'WAN';
}

/** {@link deploymentOfHost} of a URL's host; undefined also when the text is not a URL. */
export function deploymentOfUrl(url: string | URL): Deployment | undefined {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return undefined;
  }
  return deploymentOfHost(parsed.hostname);
}

/**
 * Whether the pairing client binds its HMACs to the server's TLS leaf (message T‖F instead of T, digest §3.4):
 * decided by the pairing URL's host alone, as RS does — `.local` ⇒ yes. Deliberately separate from the remote's
 * announced deployment, which decides roles, not the HMAC message.
 */
export function bindsLeafCertificate(pairingUrl: string | URL): boolean {
  return deploymentOfUrl(pairingUrl) === 'LAN';
}

/**
 * The remote endpoint's deployment as RS decides it: its announced `EndpointDescription.deployment`, else derived
 * from the URL we reached it at (`.local` ⇒ LAN, other names ⇒ WAN); undefined for an IP host without announcement.
 */
export function remoteDeploymentOf(endpointDescription: EndpointDescription | undefined, url: string | URL): Deployment | undefined {
  return endpointDescription?.deployment ?? deploymentOfUrl(url);
}

/**
 * Which side becomes the communication server (digest §1 table): with different deployments the WAN side, with the
 * same deployment the CEM. Throws S2ConnectError `InvalidCombinationOfRoles` (400) when both have the same role.
 */
export function communicationServer(parties: PairingParties): PairingSide {
  const { clientRole, clientDeployment, serverRole, serverDeployment } = parties;
  if (clientRole === serverRole) throw S2ConnectError.pairing('InvalidCombinationOfRoles', `both nodes are ${clientRole}`);
  if (clientDeployment !== serverDeployment) return serverDeployment === 'WAN' ? 'pairingServer' : 'pairingClient';
  return serverRole === 'CEM' ? 'pairingServer' : 'pairingClient';
}

/**
 * The step the pairing client must use: `request` (requestConnectionDetails) when the pairing server becomes the
 * communication server, `post` (postConnectionDetails) when the client does. A pairing server answers the other
 * call with 400 (digest §8 row 14). Throws like {@link communicationServer}.
 */
export function expectedStep(parties: PairingParties): ConnectionDetailsStep {
  return communicationServer(parties) === 'pairingServer' ? 'request' : 'post';
}

/** What `side` will be for this pairing: communication `server` or `client`. Throws like {@link communicationServer}. */
export function communicationRoleOf(side: PairingSide, parties: PairingParties): CommunicationRole {
  return communicationServer(parties) === side ? 'server' : 'client';
}
