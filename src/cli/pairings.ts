import { existsSync } from 'node:fs';
import { unpair } from '../connect/client.js';
import type { PairingRecord } from '../connect/store/index.js';
import { badOption, defineCommand, failed, noPositionals, readFlagFile } from './common.js';
import { openStore, parseResolve } from './connect.js';

const PAIRINGS_USAGE = `Usage: s2 pairings --store DIR [--json]

Lists the S2 Connect pairings kept in DIR (by s2 cem or s2 rm with --store): the remote node, its
role, who serves the sessions, since when. Never prints a token.

Options:
  --store DIR   the node's store directory (required)
  --json        one JSON object per line
  -h, --help    print this help`;

function describe(p: PairingRecord): Record<string, unknown> {
  return {
    remoteNodeId: p.remoteNodeId,
    remoteRole: p.remoteNode.role,
    remoteName: p.remoteNode.userDefinedName ?? `${p.remoteNode.brand} ${p.remoteNode.modelName}`,
    localNodeId: p.localNodeId,
    communicationRole: p.communicationRole,
    pairedAt: p.pairedAt,
    ...(p.initiateSessionUrl ? { initiateSessionUrl: p.initiateSessionUrl } : {}),
    ...(p.rootPin ? { rootPin: p.rootPin } : {}),
  };
}

function storeDir(value: string | undefined): string {
  if (!value) throw badOption('--store is required');
  if (!existsSync(value)) throw badOption(`--store ${value}: no such directory`);
  return value;
}

export const pairingsCommand = defineCommand({
  name: 'pairings',
  summary: 'list the S2 Connect pairings of a store (no secrets)',
  usage: PAIRINGS_USAGE,
  options: { store: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values: f, positionals }, io) {
    try {
      noPositionals(positionals);
      const store = openStore(storeDir(f.store));
      const list = await store.list();
      await store.close();
      if (f.json) {
        for (const p of list) io.stdout.write(`${JSON.stringify(describe(p))}\n`);
        return 0;
      }
      if (list.length === 0) {
        io.stdout.write('no pairings\n');
        return 0;
      }
      for (const p of list) {
        const d = describe(p);
        const serves = p.communicationRole === 'server' ? 'we serve its sessions' : `we connect to ${p.initiateSessionUrl ?? '?'}`;
        io.stdout.write(
          `${d.remoteRole as string} ${d.remoteNodeId as string} "${d.remoteName as string}" paired ${p.pairedAt}; ${serves}\n`,
        );
      }
      return 0;
    } catch (err) {
      return failed(io, 'pairings', err);
    }
  },
});

const UNPAIR_USAGE = `Usage: s2 unpair --store DIR [--peer NODE_ID] [--ca F] [--resolve NAME=ADDR]

Ends an S2 Connect pairing. When this node connects to the other (communication client) it tells
the other node first (POST unpair); the pairing is removed here in any case. When this node serves
the sessions, the pairing is removed with a tombstone: the other node hears NoLongerPaired the next
time it connects. A running s2 cem/rm on the same store closes that node's session then.

Options:
  --store DIR          the node's store directory (required)
  --peer NODE_ID       which pairing (required when there are several)
  --ca F               extra trusted root (PEM) for a WAN peer with a private CA
  --resolve NAME=ADDR  reach NAME at ADDR without DNS/mDNS
  -h, --help           print this help`;

export const unpairCommand = defineCommand({
  name: 'unpair',
  summary: 'end an S2 Connect pairing',
  usage: UNPAIR_USAGE,
  options: { store: { type: 'string' }, peer: { type: 'string' }, ca: { type: 'string' }, resolve: { type: 'string' } },
  async run({ values: f, positionals }, io) {
    try {
      noPositionals(positionals);
      const store = openStore(storeDir(f.store));
      try {
        const result = await unpair({
          store,
          ...(f.peer ? { remoteNodeId: f.peer.toLowerCase() } : {}),
          ...(f.ca ? { ca: readFlagFile('--ca', f.ca) } : {}),
          resolve: parseResolve(f.resolve),
        });
        const how =
          result.pairing.communicationRole === 'server'
            ? 'removed (tombstone kept)'
            : result.confirmed
              ? 'the other node confirmed'
              : `the other node did not confirm (${result.reason.message}); removed here only`;
        io.stdout.write(`unpaired ${result.pairing.remoteNode.role} ${result.pairing.remoteNodeId}: ${how}\n`);
        return 0;
      } finally {
        await store.close();
      }
    } catch (err) {
      return failed(io, 'unpair', err);
    }
  },
});
