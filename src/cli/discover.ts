import { discover, type DiscoveryEvent } from '../connect/discovery.js';
import { badOption, defineCommand, failed, noPositionals, numberFlag } from './common.js';
import { printable } from './format.js';
import { MDNS_FLAGS, MDNS_HELP, mdnsOptionsOf } from './lan.js';

const USAGE = `Usage: s2 discover [--role cem|rm] [--seconds N] [--json] [--mdns-interface A] [--mdns-port P]

Looks for S2 Connect endpoints on the local network (mDNS/DNS-SD, service _s2connect._tcp with the
subtypes _cem and _rm) and prints one line per endpoint as it appears ('found'), changes
('updated') or says goodbye ('removed'): its instance name, roles, deployment, pairing URL,
long-poll URL, name and the address it answered from. Records that break the S2 Connect rules
(no txtver=1, no deployment, no URL, a URL host that disagrees with the deployment) are not
listed; each is named once on stderr with the reason.

Options:
  --role cem|rm        only endpoints that represent this role (default: both)
  --seconds N          how long to look (default 5; 0 = until SIGINT/SIGTERM)
  --json               one JSON object per line instead of text
${MDNS_HELP}
  -h, --help           print this help

Exit status: 0 when at least one endpoint was found, 1 when none was, 2 usage error.`;

export const discoverCommand = defineCommand({
  name: 'discover',
  summary: 'find S2 Connect endpoints on the local network (mDNS)',
  usage: USAGE,
  options: {
    role: { type: 'string' },
    seconds: { type: 'string' },
    json: { type: 'boolean' },
    ...MDNS_FLAGS,
  },
  async run({ values: f, positionals }, io) {
    try {
      noPositionals(positionals);
      if (f.role !== undefined && f.role !== 'cem' && f.role !== 'rm') throw badOption(`--role must be cem or rm, got '${f.role}'`);
      const seconds = numberFlag('--seconds', f.seconds, 5);
      if (seconds < 0) throw badOption(`--seconds must be 0 or more, got '${f.seconds}'`);
      const mdns = mdnsOptionsOf(f);
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let found = 0;
      try {
        for await (const event of discover({
          ...(f.role !== undefined ? { role: f.role } : {}),
          ...(seconds > 0 ? { timeoutMs: seconds * 1000 } : {}),
          signal: stop.signal,
          mdns,
          onIgnored: (instance, reason) => io.stderr.write(`s2 discover: ignored ${printable(instance)}: ${printable(reason, 500)}\n`),
        })) {
          if (event.type === 'found') found++;
          io.stdout.write(`${f.json === true ? JSON.stringify(event) : describe(event)}\n`);
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      if (found === 0) io.stderr.write(`s2 discover: no S2 Connect endpoint${f.role ? ` with role ${f.role}` : ''} answered\n`);
      return found > 0 ? 0 : 1;
    } catch (err) {
      return failed(io, 'discover', err);
    }
  },
});

/** One readable line; every field came from the network, so every field is escaped. */
function describe(event: DiscoveryEvent): string {
  if (event.type === 'removed') return `removed ${printable(event.instance)}`;
  const e = event.endpoint;
  return [
    `${event.type} ${printable(event.instance)}`,
    e.roles.map((r) => r.toUpperCase()).join('+'),
    e.deployment,
    e.pairingUrl !== undefined ? `pairing ${printable(e.pairingUrl)}` : undefined,
    e.longpollingUrl !== undefined ? `long-poll ${printable(e.longpollingUrl)}` : undefined,
    e.endpointName !== undefined ? `name '${printable(e.endpointName)}'` : undefined,
    `host ${printable(event.host)}:${event.port}`,
    `from ${printable(event.from)}`,
  ]
    .filter((part) => part !== undefined)
    .join('  ');
}
