import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import { generateCertificates } from '../connect/certificates.js';
import { deploymentOfUrl } from '../connect/deployment.js';
import { DirectoryPairingStore } from '../connect/store/index.js';
import type { Deployment, NodeDescription, NodeRole } from '../connect/wire/index.js';
import { createS2ConnectServer, type S2ConnectServer, type S2ConnectServerEvent, type S2ConnectServerOptions } from '../connect/server.js';
import type { PairingStore } from '../connect/store/index.js';
import { newUuid } from '../roles/ids.js';
import { badOption, numberFlag, readFlagFile, receiveBudgetOption, type CliIO } from './common.js';
import { printable } from './format.js';

/**
 * What `s2 cem` and `s2 rm` share for S2 Connect: the node's identity and certificates kept in the
 * `--store` directory beside its pairings, so that a node keeps its id and its pinned root across
 * restarts (a new root would break every pairing's pin).
 */

/** The options of S2 Connect, common to `s2 cem` and `s2 rm`. */
export const CONNECT_FLAGS = {
  connect: { type: 'boolean' },
  store: { type: 'string' },
  pair: { type: 'string' },
  'pairing-url': { type: 'string' },
  deployment: { type: 'string' },
  'public-url': { type: 'string' },
  'pairing-token': { type: 'string' },
  resolve: { type: 'string' },
} as const;

export const CONNECT_HELP = `S2 Connect (pairing and session initiation; see docs/s2-connect.md):
  --store DIR          keep this node's id, certificates and pairings in DIR (required for the
                       options below; created 0700)
  --connect            serve S2 Connect on --port: pairing, session initiation and the WebSocket on
                       one HTTPS port; prints 'pairing code: CODE' and 'pairing url: URL'
  --pair CODE          pair with the node at --pairing-url using the code its owner shows, then
                       connect (the pairing is stored; later runs reconnect without --pair)
  --pairing-url URL    the other node's pairing URL (https://…/)
  --deployment LAN|WAN this endpoint's deployment (default LAN; decides the HMAC binding and trust)
  --public-url URL     the base URL others reach this node at (default https://<host>.local:<port>/)
  --pairing-token B64  with --connect: accept pairings with this long-lived token instead of a
                       fresh one-time code (standard base64 of ≥ 9 random bytes)
  --resolve NAME=ADDR  reach NAME at ADDR without DNS/mDNS (comma-separated list; the
                       certificate is still checked for NAME)
  (with S2 Connect, --tls-cert/--tls-key are the node's chain — leaf, then root on a LAN — and
  key; without them a LAN node makes its own once and keeps them in DIR/tls/)`;

/** The node kept in a store directory: its description (id stable across runs). */
export function loadOrCreateNode(dir: string, role: NodeRole, defaults: Omit<NodeDescription, 'id' | 'role'>): NodeDescription {
  ensureDir(dir);
  const file = path.join(dir, 'node.json');
  if (existsSync(file)) {
    const node = JSON.parse(readFileSync(file, 'utf8')) as NodeDescription;
    if (node.role !== role) throw badOption(`--store ${dir} belongs to a ${node.role} node, not a ${role}`);
    return node;
  }
  const node: NodeDescription = { id: newUuid(), role, ...defaults };
  writeFileSync(file, `${JSON.stringify(node, null, 2)}\n`, { mode: 0o600 });
  return node;
}

function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

export function openStore(dir: string): DirectoryPairingStore {
  ensureDir(dir);
  return new DirectoryPairingStore(dir);
}

/** This host's `.local` name (mDNS), e.g. `battery.local`. */
export function localHostname(): string {
  const host =
    osHostname()
      .split('.')[0]!
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-') || 's2-node';
  return `${host}.local`;
}

export function parseDeployment(value: string | undefined, publicUrl: string | undefined): Deployment {
  if (value === undefined) return publicUrl === undefined ? 'LAN' : (deploymentOfUrl(publicUrl) ?? 'WAN');
  if (value !== 'LAN' && value !== 'WAN') throw badOption(`--deployment must be LAN or WAN, got '${value}'`);
  return value;
}

/**
 * The TLS chain and key: from --tls-cert/--tls-key, or made once for `hostname` and kept in
 * DIR/tls/ (LAN nodes make their own root; a WAN node needs a certificate from a public CA).
 */
export async function certificatesFor(
  dir: string,
  flags: { readonly 'tls-cert'?: string | undefined; readonly 'tls-key'?: string | undefined },
  hostname: string,
  deployment: Deployment,
): Promise<{ cert: string; key: string }> {
  if (flags['tls-cert'] !== undefined && flags['tls-key'] !== undefined) {
    return { cert: readFlagFile('--tls-cert', flags['tls-cert']), key: readFlagFile('--tls-key', flags['tls-key']) };
  }
  if (flags['tls-cert'] !== undefined || flags['tls-key'] !== undefined) throw badOption('--tls-cert and --tls-key go together');
  if (deployment === 'WAN') throw badOption('a WAN node needs --tls-cert and --tls-key (a certificate from a public CA)');
  const tlsDir = path.join(dir, 'tls');
  const certFile = path.join(tlsDir, 'chain.pem');
  const keyFile = path.join(tlsDir, 'key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  ensureDir(tlsDir);
  const made = await generateCertificates({ hostname });
  writeFileSync(keyFile, made.keyPem, { mode: 0o600 });
  writeFileSync(certFile, made.chainPem, { mode: 0o644 });
  return { cert: made.chainPem, key: made.keyPem };
}

/**
 * `--resolve NAME=ADDRESS` (like curl's): reach NAME at ADDRESS without DNS or mDNS, e.g. where no
 * mDNS resolver is installed. The certificate is still checked for NAME.
 */
export function parseResolve(value: string | undefined): ((host: string) => string | undefined) | undefined {
  if (value === undefined) return undefined;
  const map = new Map<string, string>();
  for (const pair of value.split(',')) {
    const m = /^([A-Za-z0-9.-]+)=([0-9.]+|[0-9a-fA-F:]+)$/.exec(pair.trim());
    if (!m) throw badOption(`--resolve takes NAME=ADDRESS[,NAME=ADDRESS…], got '${pair}'`);
    map.set(m[1]!.toLowerCase(), m[2]!);
  }
  return (host) => map.get(host.toLowerCase());
}

/** The flags of a command that may run S2 Connect (a subset of its options). */
export interface ConnectFlagValues {
  readonly connect?: boolean | undefined;
  readonly store?: string | undefined;
  readonly pair?: string | undefined;
  readonly 'pairing-url'?: string | undefined;
  readonly deployment?: string | undefined;
  readonly 'public-url'?: string | undefined;
  readonly 'pairing-token'?: string | undefined;
  readonly resolve?: string | undefined;
  readonly 'tls-cert'?: string | undefined;
  readonly 'tls-key'?: string | undefined;
  readonly port?: string | undefined;
  readonly host?: string | undefined;
  readonly ca?: string | undefined;
  readonly 'receive-budget'?: string | undefined;
  readonly 'wait-for-pairing'?: string | undefined;
}

/** Checks the S2 Connect flags that belong together; returns whether S2 Connect is used at all. */
export function checkConnectFlags(f: ConnectFlagValues): boolean {
  const used = f.connect === true || f.pair !== undefined || f.store !== undefined;
  if (!used) {
    for (const name of ['pairing-url', 'deployment', 'public-url', 'pairing-token', 'resolve'] as const) {
      if (f[name] !== undefined) throw badOption(`--${name} needs --store (S2 Connect)`);
    }
    return false;
  }
  if (f.store === undefined) throw badOption('S2 Connect needs --store DIR');
  if ((f.pair === undefined) !== (f['pairing-url'] === undefined)) throw badOption('--pair and --pairing-url go together');
  if (f['pairing-url'] !== undefined && !/^https:\/\//.test(f['pairing-url']))
    throw badOption(`--pairing-url must be an https:// URL, got '${f['pairing-url']}'`);
  if (f['public-url'] !== undefined && !/^https:\/\/.+\/$/.test(f['public-url']))
    throw badOption(`--public-url must be an https:// URL ending in '/', got '${f['public-url']}'`);
  if (f['pairing-token'] !== undefined && f.connect !== true && f['wait-for-pairing'] === undefined)
    throw badOption('--pairing-token needs --connect (or, on an RM, --wait-for-pairing)');
  parseDeployment(f.deployment, f['public-url']);
  parseResolve(f.resolve);
  return true;
}

/** One line for an S2 Connect server event (no secrets are in events; what peers sent is escaped with {@link printable}). */
export function describeConnectEvent(event: S2ConnectServerEvent): string {
  switch (event.type) {
    case 'paired':
      return `paired with ${printable(event.pairing.remoteNode.role)} ${printable(event.pairing.remoteNodeId)} (${event.pairing.communicationRole === 'server' ? 'it connects to us' : 'we connect to it'})`;
    case 'pairing-failed':
      return `a pairing attempt ended without pairing: ${printable(event.outcome)}`;
    case 'session-initiated':
      return `session initiated by ${printable(event.pairing.remoteNodeId)} (S2 ${printable(event.messageVersion)})`;
    case 'unpaired':
      return `unpaired ${printable(event.remoteNodeId)} (${event.by === 'peer' ? 'by the other node' : 'here'})`;
    case 'refused':
      return `refused ${printable(event.path)} from ${printable(event.remoteAddress)}: ${event.status}${event.errorMessage ? ` ${printable(event.errorMessage)}` : ''}`;
    case 'client-waiting': {
      const { client } = event;
      const what = client.node
        ? `${printable(client.node.role)} '${printable(client.node.userDefinedName ?? client.node.modelName)}' `
        : 'node ';
      return `${what}${printable(client.clientNodeId)} waits to be paired (long poll)`;
    }
    case 'client-gone':
      return `node ${printable(event.clientNodeId)} stopped polling`;
    case 'prepare-pairing':
      return `${printable(event.clientNode.role)} ${printable(event.clientNode.id)} is about to pair: it shows its code now`;
    case 'cancel-prepare-pairing':
      return `node ${printable(event.clientNodeId)} no longer prepares a pairing`;
    case 'client-error':
      return `node ${printable(event.clientNodeId)} cannot pair: ${printable(event.errorMessage)}`;
  }
}

/**
 * This node's S2 Connect server from the command-line flags (--port, --host, --public-url, TLS from
 * --tls-cert/--tls-key or DIR/tls/), printing where it listens; events and errors go to `io` under
 * `s2 <command>:`.
 */
export async function startConnectServer(options: {
  readonly command: string;
  readonly flags: ConnectFlagValues;
  readonly node: NodeDescription;
  readonly endpointName: string;
  readonly deployment: Deployment;
  readonly store: PairingStore;
  readonly io: CliIO;
  readonly onConnection: S2ConnectServerOptions['onConnection'];
  readonly onEvent?: ((event: S2ConnectServerEvent) => void) | undefined;
  /** The S2 JSON versions offered and accepted in session initiation (--versions); default the server's. */
  readonly messageVersions?: readonly string[] | undefined;
}): Promise<S2ConnectServer> {
  const { command, flags: f, node, deployment, io } = options;
  const hostname = f['public-url'] ? new URL(f['public-url']).hostname : localHostname();
  const server = await createS2ConnectServer({
    nodes: [{ description: node }],
    endpoint: { name: options.endpointName, deployment },
    tls: await certificatesFor(f.store!, f, hostname, deployment),
    store: options.store,
    host: f.host ?? '127.0.0.1',
    port: numberFlag('--port', f.port, 0),
    ...(f['public-url'] ? { publicUrl: f['public-url'] } : { hostname }),
    ...(options.messageVersions ? { messageVersions: options.messageVersions } : {}),
    ...(f['receive-budget'] !== undefined ? { websocket: receiveBudgetOption(f['receive-budget']) } : {}),
    onConnection: options.onConnection,
    onEvent: (event) => {
      io.stdout.write(`s2 ${command}: ${describeConnectEvent(event)}\n`);
      options.onEvent?.(event);
    },
    onError: (err) => io.stderr.write(`s2 ${command}: ${printable((err as Error).message, 1000)}\n`),
  });
  io.stdout.write(`s2 ${command}: S2 Connect (${deployment}) on ${server.url}, node ${node.id}\n`);
  return server;
}

/** Prints the pairing code (fresh one-time, or the long-lived --pairing-token) and the pairing URL. */
export function offerPairing(server: S2ConnectServer, flags: ConnectFlagValues, io: CliIO): void {
  const offer = flags['pairing-token'] ? server.allowPairingRepeated(flags['pairing-token']) : server.allowPairingOnce();
  io.stdout.write(`pairing code: ${offer.code}\npairing url: ${server.url}\n`);
}
