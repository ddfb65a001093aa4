import type { Writable } from 'node:stream';
import { generateCertificates } from '../connect/certificates.js';
import { connectPaired, pair } from '../connect/client.js';
import { createS2ConnectServer } from '../connect/server.js';
import { MemoryPairingStore, type PairingRecord } from '../connect/store/index.js';
import { createCemHost, createCemServer } from '../roles/cem-server.js';
import { newUuid } from '../roles/ids.js';
import { createRmClient, type RmClient, type RmClientOptions } from '../roles/rm-client.js';
import type { S2Session } from '../roles/session.js';
import { traceSession } from '../roles/trace.js';
import { createCemPolicy, createDevice, type SimulatedDevice } from '../sim/index.js';
import { CONTROL_TYPE_SHORT, type ControlTypeShort } from '../typebox/message-spec.js';
import { S2_VERSIONS, type S2Version } from '../typebox/versions.js';
import {
  defineCommand,
  endStream,
  failed,
  noPositionals,
  numberFlag,
  openTrace,
  parseVersions,
  VERSIONS_FLAG,
  versionsHelp,
} from './common.js';
import { INSPECT_FLAGS, INSPECT_HELP, startInspection, type Inspection } from './inspect.js';
import { printable, shortId } from './format.js';
import { logSession } from './session-log.js';

const USAGE = `Usage: s2 demo [--seconds N] [--connect] [--versions V[,V…]] [--trace FILE]
               [--inspect [--inspect-port P] | --inspect-to URL]

Runs an embedded CEM and one simulated RM per control type (FRBC battery, PPBC washing machine,
OMBC heat pump, PEBC curtailable PV, DDBC heat buffer) over real WebSockets on 127.0.0.1, prints
every handshake, description, instruction and status, then a summary. Exit status 0 when every
session ran without a protocol error, 1 otherwise.

The CEM speaks every S2 JSON version of --versions (default both); each device offers one of them:
with both, the PEBC and DDBC devices speak 1.0.0-beta (the DDBC heat buffer sends
DDBC.PresentDemandStatus) and the others 0.0.2-beta; with one, every device speaks it. The
version of each device is printed at the start, at every handshake and in the summary.

With --connect the devices first pair with the CEM through S2 Connect (LAN, certificates made for
cem.local, reached on 127.0.0.1), one pairing code each, and every session starts with S2
Connect's session initiation and a one-time WebSocket token.

Options:
  --seconds N     how long the devices run (default 8)
  --connect       pair and connect through S2 Connect instead of a plain WebSocket URL
  --trace FILE    append a JSON-lines trace of every session to FILE
${versionsHelp(18)}
${INSPECT_HELP}
  -h, --help      print this help`;

/** Per-session counters for the summary table. */
interface Tally {
  role: string;
  name: string;
  /** The S2 version selected at the handshake. */
  version: string;
  state: string;
  sent: number;
  received: number;
  refused: number;
  errors: string[];
}

/**
 * The version each device speaks when the CEM speaks both: a mix, so that one demo shows sessions of
 * each version side by side on one CEM, and DDBC in 1.0.0-beta (its PresentDemandStatus).
 */
const DEVICE_VERSION: Readonly<Record<ControlTypeShort, S2Version>> = {
  FRBC: '0.0.2-beta',
  PPBC: '0.0.2-beta',
  OMBC: '0.0.2-beta',
  PEBC: '1.0.0-beta',
  DDBC: '1.0.0-beta',
};

/** The one version a device of `type` offers: its preferred one when the CEM speaks it, else the CEM's first. */
export function deviceVersion(type: ControlTypeShort, versions: readonly S2Version[]): S2Version {
  const preferred = DEVICE_VERSION[type];
  return versions.includes(preferred) ? preferred : versions[0]!;
}

/** How much faster than real time the simulated devices live in the demo. */
const DEMO_SPEED = 600;

const ANSI = { CEM: '\x1b[36m', RM: '\x1b[33m', reset: '\x1b[0m', bad: '\x1b[31m' } as const;

function colourer(out: Writable & { isTTY?: boolean }) {
  const on = Boolean(out.isTTY) && !process.env.NO_COLOR;
  return (code: string, text: string) => (on ? `${code}${text}${ANSI.reset}` : text);
}

export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'run a CEM and five simulated RMs (one per control type) and print what they say',
  usage: USAGE,
  options: { seconds: { type: 'string' }, connect: { type: 'boolean' }, trace: { type: 'string' }, ...VERSIONS_FLAG, ...INSPECT_FLAGS },
  async run(parsed, io) {
    let seconds: number;
    let versions: readonly S2Version[];
    let inspection: Inspection | undefined;
    try {
      noPositionals(parsed.positionals);
      seconds = numberFlag('--seconds', parsed.values.seconds, 8);
      versions = parseVersions(parsed.values.versions) ?? S2_VERSIONS;
      inspection = await startInspection(parsed.values);
    } catch (err) {
      return failed(io, 'demo', err);
    }
    if (inspection) io.stdout.write(`s2 demo: inspector on ${inspection.url}\n`);
    const paint = colourer(io.stdout);
    const trace = openTrace(parsed.values.trace);
    const tallies: Tally[] = [];
    const watch = (session: S2Session, name: string) => {
      const tally: Tally = {
        role: session.role,
        name,
        version: '-',
        state: session.state,
        sent: 0,
        received: 0,
        refused: 0,
        errors: [],
      };
      tallies.push(tally);
      // The CEM learns whom it talks to from the RM's details.
      let label = name;
      if (session.role === 'CEM') {
        session.on('details', ({ details }) => {
          label = `↔ ${printable(details.name ?? details.resource_id)}`;
          tally.name = label;
        });
      }
      logSession(session, (line) => io.stdout.write(paint(ANSI[session.role], line)), { label: () => label.padEnd(28).slice(0, 28) });
      if (trace) traceSession(session, (line) => trace.write(line));
      session.on('handshake', ({ version }) => (tally.version = version));
      session.on('sent', () => tally.sent++);
      session.on('received', () => tally.received++);
      // The summary shows where each session got to, not that it closed at the end.
      session.on('state', ({ state }) => {
        if (!['ending', 'closing', 'closed'].includes(state)) tally.state = state;
      });
      session.on('refused', ({ status, reason }) => {
        tally.refused++;
        tally.errors.push(`${status}: ${printable(reason)}`);
      });
      session.on('report', ({ kind, detail }) => {
        if (kind === 'internal-error' || kind === 'handler-error' || kind === 'reception-status-timeout')
          tally.errors.push(`${kind}: ${printable(detail)}`);
      });
    };

    // Devices run DEMO_SPEED times faster than real time, so minutes of device life fit in seconds.
    const policy = createCemPolicy({ envelopeMs: 3_000, interruptionMs: 1_000 });
    const cemOptions = {
      versions,
      controlTypes: policy.handlers,
      ...inspection?.options,
      onSession: (s: S2Session) => {
        inspection?.attach(s);
        watch(s, '↔ (RM not known yet)');
      },
    };
    const devices: SimulatedDevice[] = [];
    const clients: RmClient[] = [];
    let stopCem: () => Promise<void>;
    let dialFor: (device: SimulatedDevice, version: S2Version) => Promise<Pick<RmClientOptions, 'url' | 'connect'>>;
    if (parsed.values.connect === true) {
      const demo = await startConnectDemo(cemOptions, versions);
      io.stdout.write(`s2 demo: CEM serving S2 Connect on ${demo.url}\n`);
      stopCem = () => demo.close();
      dialFor = async (device, version) => {
        const { record } = await demo.pairDevice(device, version);
        io.stdout.write(
          `s2 demo: ${printable(device.details.name ?? device.controlType)} paired (node ${shortId(record.localNodeId)}, one-time code)\n`,
        );
        return { connect: () => demo.dial(record, version) };
      };
    } else {
      const cem = await createCemServer(cemOptions);
      io.stdout.write(`s2 demo: CEM listening on ${cem.url}\n`);
      stopCem = () => cem.close();
      dialFor = () => Promise.resolve({ url: cem.url });
    }
    io.stdout.write(
      `s2 demo: the CEM speaks S2 ${versions.join(', ')}; the devices: ${CONTROL_TYPE_SHORT.map((t) => `${t} ${deviceVersion(t, versions)}`).join(', ')}\n`,
    );
    for (const type of CONTROL_TYPE_SHORT) {
      const device = createDevice(type, { speed: DEMO_SPEED, tickMs: 250 });
      const version = deviceVersion(type, versions);
      devices.push(device);
      clients.push(
        createRmClient({
          ...(await dialFor(device, version)),
          versions: [version],
          details: device.details,
          controlTypes: { [type]: device.handler },
          ...inspection?.options,
          onSession: (s) => {
            inspection?.attach(s);
            watch(s, device.details.name ?? type);
          },
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    for (const d of devices) d.stop();
    await Promise.all(clients.map((c) => c.stop()));
    await stopCem();
    await inspection?.close();
    await endStream(trace);

    const summary = policy.summary();
    io.stdout.write('\nSummary\n');
    io.stdout.write(
      `${'role'.padEnd(4)}  ${'peer'.padEnd(28)}  ${'S2 version'.padEnd(10)}  ${'last state'.padEnd(24)}  ${'sent'.padStart(5)}  ${'recv'.padStart(5)}  refused\n`,
    );
    for (const t of tallies) {
      io.stdout.write(
        `${t.role.padEnd(4)}  ${printable(t.name, Infinity).slice(0, 28).padEnd(28)}  ${t.version.padEnd(10)}  ${t.state.padEnd(24)}  ${String(t.sent).padStart(5)}  ${String(t.received).padStart(5)}  ${t.refused}\n`,
      );
    }
    io.stdout.write(
      `\nInstructions given by the CEM: ${summary.given}; final statuses: ${
        Object.entries(summary.final)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none'
      }\n`,
    );
    const problems = tallies.flatMap((t) => t.errors.map((e) => `${t.role} ${t.name}: ${e}`));
    const activeTypes = new Set(tallies.filter((t) => t.role === 'CEM').map((t) => t.state));
    if (problems.length) {
      io.stdout.write(paint(ANSI.bad, `\n${problems.length} protocol error(s):\n${problems.map((p) => `  ${p}`).join('\n')}\n`));
      return 1;
    }
    if (summary.given === 0) {
      io.stdout.write(paint(ANSI.bad, '\nno instruction was given: the sessions did not get far enough\n'));
      return 1;
    }
    const byVersion = S2_VERSIONS.map((v) => `${tallies.filter((t) => t.version === v).length} on ${v}`).join(', ');
    io.stdout.write(
      `\nNo protocol errors (${tallies.length} sessions; CEM sessions ended in ${[...activeTypes].join(', ')}; S2 versions: ${byVersion}).\n`,
    );
    return 0;
  },
});

/**
 * The demo's CEM as an S2 Connect node on 127.0.0.1 (LAN, `cem.local`, certificates made in memory),
 * with in-memory pairing stores: each device pairs with its own one-time code, then dials with
 * session initiation and token rotation.
 */
async function startConnectDemo(cemOptions: Parameters<typeof createCemHost>[0], versions: readonly S2Version[]) {
  const resolve = (host: string): string | undefined => (host === 'cem.local' ? '127.0.0.1' : undefined);
  const certs = await generateCertificates({ hostname: 'cem.local' });
  const cem = createCemHost(cemOptions);
  const cemNode = { id: newUuid(), brand: 's2-engine', type: 'energy manager', modelName: 's2 demo CEM', role: 'CEM' as const };
  const server = await createS2ConnectServer({
    nodes: [{ description: cemNode }],
    endpoint: { name: 's2 demo', deployment: 'LAN' },
    tls: { cert: certs.chainPem, key: certs.keyPem },
    hostname: 'cem.local',
    store: new MemoryPairingStore(),
    messageVersions: versions,
    onConnection: (transport, info) => void cem.accept(transport, { info, versions: [info.messageVersion] }),
  });
  const stores = new Map<string, MemoryPairingStore>();
  return {
    url: server.url,
    async pairDevice(device: SimulatedDevice, version: S2Version) {
      const store = new MemoryPairingStore();
      const { code } = server.allowPairingOnce();
      const node = {
        id: newUuid(),
        brand: 's2-engine',
        type: device.controlType,
        modelName: device.details.name ?? device.controlType,
        role: 'RM' as const,
      };
      const record = await pair({
        code,
        pairingUrl: server.url,
        node,
        endpoint: { name: node.modelName, deployment: 'LAN' },
        store,
        resolve,
        messageVersions: [version],
      });
      stores.set(record.localNodeId, store);
      return { code, record };
    },
    async dial(record: PairingRecord, version: S2Version) {
      const c = await connectPaired({ store: stores.get(record.localNodeId)!, resolve, messageVersions: [version] });
      return { transport: c.transport, versions: [c.messageVersion] };
    },
    async close() {
      await cem.close();
      await server.close();
    },
  };
}
