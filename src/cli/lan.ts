import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import {
  LONG_LIVED_TOKEN_BYTES,
  MIN_PAIRING_TOKEN_BYTES,
  formatPairingCode,
  parsePairingCode,
  randomChallenge,
} from '../connect/crypto.js';
import { advertise, type Advertisement, type DiscoveryRole, type MdnsOptions } from '../connect/discovery.js';
import { waitForPairing, type LongPollClient } from '../connect/lan/lan-client.js';
import type { S2ConnectServer, S2ConnectServerEvent } from '../connect/server.js';
import type { PairingRecord, PairingStore } from '../connect/store/index.js';
import type { Deployment, EndpointDescription, NodeDescription } from '../connect/wire/index.js';
import type { HostResolver } from '../connect/http/tls-trust.js';
import { badOption, numberFlag, type CliIO } from './common.js';
import { printable } from './format.js';

/**
 * S2 Connect on a LAN from the command line: advertising a node's S2 Connect server over mDNS
 * (`--advertise`), the CEM accepting devices that wait to be paired (`--accept`, or `accept` typed
 * on standard input), and the RM waiting for a CEM to pair with it (`--wait-for-pairing URL`).
 */

/** Where mDNS runs: `s2 discover`, and `s2 cem`/`s2 rm` with --advertise. */
export const MDNS_FLAGS = {
  'mdns-interface': { type: 'string' },
  'mdns-port': { type: 'string' },
} as const;

export const MDNS_HELP = `  --mdns-interface A   the IPv4 address of the interface mDNS runs on (default: the system's
                       choice; 127.0.0.1 keeps it on this host)
  --mdns-port P        the mDNS UDP port (default 5353; another port only finds peers using it too)`;

export interface MdnsFlagValues {
  readonly 'mdns-interface'?: string | undefined;
  readonly 'mdns-port'?: string | undefined;
}

/** The mDNS socket options from --mdns-interface/--mdns-port. */
export function mdnsOptionsOf(f: MdnsFlagValues): MdnsOptions | undefined {
  const iface = f['mdns-interface'];
  if (iface !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(iface))
    throw badOption(`--mdns-interface takes the IPv4 address of an interface, got '${iface}'`);
  const port = f['mdns-port'] === undefined ? undefined : numberFlag('--mdns-port', f['mdns-port'], 5353);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535))
    throw badOption(`--mdns-port must be a port number 1–65535, got '${f['mdns-port']}'`);
  if (iface === undefined && port === undefined) return undefined;
  return { ...(iface !== undefined ? { interface: iface } : {}), ...(port !== undefined ? { port } : {}) };
}

/**
 * Advertises this node's S2 Connect server as `_s2connect._tcp` with its role's subtype: the pairing
 * URL, and the long-poll URL when the server answers `waitForPairing` (a CEM does). The instance name
 * is `s2-<role>-<first 8 hex of the node id>`: unique on a LAN, stable across runs.
 */
export async function advertiseServer(options: {
  readonly command: string;
  readonly server: S2ConnectServer;
  readonly node: NodeDescription;
  readonly endpointName: string;
  readonly deployment: Deployment;
  readonly longPolling: boolean;
  readonly flags: MdnsFlagValues;
  readonly io: CliIO;
}): Promise<Advertisement> {
  const { server, node, deployment, io } = options;
  const url = new URL(server.url);
  const role = node.role.toLowerCase() as DiscoveryRole;
  // The TXT URLs are base URLs without the trailing slash (S2 Connect §2 examples).
  const base = server.url.replace(/\/$/, '');
  const advertisement = await advertise({
    name: `s2-${role}-${node.id.replace(/-/g, '').slice(0, 8)}`,
    roles: [role],
    port: Number(url.port || 443),
    host: url.hostname,
    deployment,
    pairingUrl: base,
    ...(options.longPolling ? { longpollingUrl: base } : {}),
    endpointName: options.endpointName,
    mdns: mdnsOptionsOf(options.flags),
  });
  io.stdout.write(`s2 ${options.command}: advertised as ${advertisement.name}._s2connect._tcp.local (_${role})\n`);
  return advertisement;
}

/**
 * `--accept CLIENT=CODE[,CLIENT=CODE…]`: the codes of devices the user already knows. CLIENT is the
 * device's node id or a prefix of it (at least 4 characters).
 */
export function parseAccept(value: string | undefined): ReadonlyArray<{ readonly client: string; readonly code: string }> {
  if (value === undefined) return [];
  return value.split(',').map((item) => {
    const m = /^([0-9A-Za-z-]{4,36})=(\S+)$/.exec(item.trim());
    if (!m) throw badOption(`--accept takes CLIENT_NODE_ID=CODE[,…] (an id prefix of ≥ 4 characters), got '${item}'`);
    checkCode('--accept', m[2]!);
    return { client: m[1]!.toLowerCase(), code: m[2]! };
  });
}

function checkCode(flag: string, code: string): void {
  try {
    // As short as pair() and the server accept, so that a mistyped code is a usage error, not a failed pairing later.
    parsePairingCode(code, { minTokenBytes: MIN_PAIRING_TOKEN_BYTES });
  } catch (err) {
    throw badOption(`${flag}: ${(err as Error).message}`);
  }
}

/**
 * A CEM whose S2 Connect server has devices waiting to be paired (they long-poll `waitForPairing`):
 * each new one is asked for its description and listed; the user enters its printed code with
 * `accept ID CODE` on standard input or in advance with --accept, and the device is told to pair.
 * Returns the event handler for the server and a stop function.
 */
export function acceptWaitingClients(options: {
  readonly command: string;
  readonly accept: ReadonlyArray<{ readonly client: string; readonly code: string }>;
  readonly io: CliIO;
  /** Read `accept ID CODE` lines from io.stdin. */
  readonly interactive: boolean;
}): { onEvent: (event: S2ConnectServerEvent) => void; attach: (server: S2ConnectServer) => void; stop: () => void } {
  const { command, io } = options;
  const pending = [...options.accept];
  let server: S2ConnectServer | undefined;
  const say = (line: string): void => void io.stdout.write(`s2 ${command}: ${line}\n`);

  const accept = (client: string, code: string): void => {
    if (server === undefined) return;
    const matches = server.waitingClients().filter((c) => c.clientNodeId.startsWith(client.toLowerCase()));
    if (matches.length !== 1) {
      say(
        matches.length === 0
          ? `no waiting device ${printable(client)}`
          : `${printable(client)} names ${matches.length} devices: give more of the id`,
      );
      return;
    }
    const id = matches[0]!.clientNodeId;
    try {
      server.requestPairingFrom(id, code);
      say(`asked ${printable(id)} to pair with the code entered`);
    } catch (err) {
      say(`cannot pair with ${printable(id)}: ${printable((err as Error).message, 1000)}`);
    }
  };

  const lines =
    options.interactive && !io.stdin.readableEnded ? createInterface({ input: io.stdin, crlfDelay: Infinity, terminal: false }) : undefined;
  lines?.on('line', (line) => {
    const words = line.trim().split(/\s+/);
    if (words[0] === '') return;
    if (words[0] === 'accept' && words.length === 3) {
      try {
        checkCode('accept', words[2]!);
        accept(words[1]!, words[2]!);
      } catch (err) {
        say(printable((err as Error).message, 1000));
      }
    } else if (words[0] === 'waiting' && words.length === 1) {
      for (const c of server?.waitingClients() ?? [])
        say(`waiting: ${printable(c.clientNodeId)} ${printable(c.node?.userDefinedName ?? c.node?.modelName ?? '')} (${c.state})`);
    } else say(`type 'accept CLIENT_NODE_ID CODE' (an id prefix will do) or 'waiting'`);
  });

  return {
    attach(s) {
      server = s;
    },
    onEvent(event) {
      if (server === undefined || event.type !== 'client-waiting') return;
      const { client } = event;
      if (client.node === undefined) {
        // Its name helps the user match the device to the code on its label.
        try {
          server.askClient(client.clientNodeId, 'sendNodeDescription');
        } catch {
          // It stopped polling in the meantime: nothing to ask.
        }
        return;
      }
      const index = pending.findIndex((p) => client.clientNodeId.startsWith(p.client));
      if (index >= 0) {
        const [known] = pending.splice(index, 1);
        accept(client.clientNodeId, known!.code);
      } else if (options.interactive) {
        say(`enter its code: accept ${client.clientNodeId.slice(0, 8)} CODE`);
      }
    },
    stop() {
      lines?.close();
    },
  };
}

/**
 * The code printed on this device's label: from --pairing-token, else made once (12 random bytes,
 * long-lived) and kept in DIR/pairing-code, so that the label stays right across restarts.
 */
export function printedCode(dir: string, token: string | undefined): string {
  if (token !== undefined) {
    checkCode('--pairing-token', token);
    return token;
  }
  const file = path.join(dir, 'pairing-code');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const code = formatPairingCode(undefined, randomChallenge(LONG_LIVED_TOKEN_BYTES));
  writeFileSync(file, `${code}\n`, { mode: 0o600 });
  return code;
}

/**
 * An RM that waits to be paired: it long-polls the CEM at `url` (its `longpollingUrl`) with its node;
 * when the CEM's user has entered this RM's printed code there, the CEM tells it to pair, and it
 * does. Polling goes on after a pairing (another CEM may pair later); `onPaired` is called per pairing.
 */
export function waitToBePaired(options: {
  readonly url: string;
  readonly code: string;
  readonly node: NodeDescription;
  readonly endpoint: EndpointDescription & { readonly deployment: Deployment };
  readonly store: PairingStore;
  readonly resolve: HostResolver | undefined;
  readonly ca: string | undefined;
  /** S2 JSON versions offered when the pairing is made (--versions). */
  readonly messageVersions?: readonly string[] | undefined;
  readonly io: CliIO;
  readonly onPaired: (pairing: PairingRecord) => void;
}): LongPollClient {
  const { io } = options;
  const poller = waitForPairing({
    longpollingUrl: options.url,
    endpoint: options.endpoint,
    nodes: [{ node: options.node, code: options.code }],
    store: options.store,
    resolve: options.resolve,
    ca: options.ca,
    ...(options.messageVersions ? { messageVersions: options.messageVersions } : {}),
    onAction: (_id, action) => {
      if (action === 'preparePairing') io.stdout.write(`s2 rm: the CEM prepares a pairing: its user needs the code ${options.code}\n`);
    },
    onPaired: (pairing) => {
      io.stdout.write(`s2 rm: paired with ${printable(pairing.remoteNode.role)} ${printable(pairing.remoteNodeId)}\n`);
      options.onPaired(pairing);
    },
    onError: (err) => io.stderr.write(`s2 rm: ${printable((err as Error).message, 1000)}\n`),
  });
  void poller.done.then((outcome) => {
    if (outcome.reason !== 'stopped')
      io.stderr.write(`s2 rm: the CEM at ${printable(options.url)} stopped the long poll (${outcome.reason})\n`);
  });
  return poller;
}
