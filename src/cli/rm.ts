import { connectPaired, pair } from '../connect/client.js';
import type { S2ConnectServer } from '../connect/server.js';
import type { PairingRecord } from '../connect/store/index.js';
import { createRmClient, type DialledTransport } from '../roles/rm-client.js';
import { attachRmControlTypes, type RmControlTypes } from '../roles/rm-control.js';
import { S2Session } from '../roles/session.js';
import { S2Error } from '../typebox/errors.js';
import { ID_MODES, type IdMode } from '../typebox/validators.js';
import { createDevice } from '../sim/index.js';
import { newUuid } from '../roles/ids.js';
import { traceSession } from '../roles/trace.js';
import type { RmDetailsInput } from '../machines/session-setup.js';
import { CONTROL_TYPE_SHORT, type ControlTypeShort } from '../typebox/message-spec.js';
import { printable } from './format.js';
import {
  badOption,
  defineCommand,
  endStream,
  failed,
  noPositionals,
  numberFlag,
  openTrace,
  parseVersions,
  readFlagFile,
  untilStopped,
  VERSIONS_FLAG,
  versionsHelp,
  RECEIVE_BUDGET_FLAG,
  receiveBudgetHelp,
  receiveBudgetOption,
  type CliIO,
} from './common.js';
import { S2_VERSIONS, type S2Version } from '../typebox/versions.js';
import { logSession } from './session-log.js';
import {
  CONNECT_FLAGS,
  CONNECT_HELP,
  checkConnectFlags,
  loadOrCreateNode,
  offerPairing,
  openStore,
  parseDeployment,
  parseResolve,
  startConnectServer,
  type ConnectFlagValues,
} from './connect.js';
import { MDNS_FLAGS, MDNS_HELP, advertiseServer, mdnsOptionsOf, printedCode, waitToBePaired, type MdnsFlagValues } from './lan.js';
import type { Advertisement } from '../connect/discovery.js';
import type { LongPollClient } from '../connect/lan/lan-client.js';

const TYPES = [...CONTROL_TYPE_SHORT, 'NOT_CONTROLABLE'] as const;

const USAGE = `Usage: s2 rm --url URL --control-type ${TYPES.join('|')}
             [--speed N] [--seconds N] [--retries N] [--trace FILE] [--token T] [--ca F] [--ids strict|schema|uuid]
             [--versions V[,V…]] [--receive-budget B,M|off]
       s2 rm --control-type T --store DIR [--pair CODE --pairing-url URL] [--ca F] [--resolve NAME=ADDR] [same options]
       s2 rm --control-type T --store DIR --connect [--port P] [--host H] [--tls-cert F --tls-key F]
             [--deployment LAN|WAN] [--public-url URL] [--pairing-token B64]
             [--advertise [--mdns-interface A] [--mdns-port P]] [same options]
       s2 rm --control-type T --store DIR --wait-for-pairing URL [--pairing-token B64] [same options]

Runs a simulated device as an RM: it connects to a CEM, completes the handshake, announces its
details offering the given control type, describes itself when that type is selected, carries out
instructions and reports their statuses, and prints one line per event. The devices: FRBC home
battery, PPBC washing machine, OMBC heat pump, PEBC curtailable PV, DDBC heat buffer;
NOT_CONTROLABLE only measures. Reconnects with back-off when the connection ends (at once after a
SessionRequest RECONNECT). Stops after --seconds, on SIGINT/SIGTERM, or when --retries gives up.
The Handshake offers the --versions (default both); the CEM selects one, printed at the handshake,
and the device speaks it (a DDBC heat buffer on 1.0.0-beta sends DDBC.PresentDemandStatus).

With --store (S2 Connect) the RM connects with the pairing kept in DIR, rotating its access token
on every connection: --pair CODE --pairing-url URL pairs first with a CEM that shows the code
(s2 cem --connect). With --connect the RM shows a code itself ('pairing code: CODE', 'pairing url:
URL') and waits for a CEM to pair with it (s2 cem --pair CODE --pairing-url URL); --advertise
makes it findable by mDNS (s2 discover). With --wait-for-pairing URL the RM is a device with a
printed code: it prints 'pairing code: CODE' (kept in DIR, or --pairing-token) and long-polls the
CEM at URL (its long-poll URL, from s2 discover) until the CEM's user enters that code there
(s2 cem --connect: 'accept ID CODE'); the CEM then tells it to pair, and it connects.

Options:
  --url URL            the CEM's ws:// or wss:// URL (plain WebSocket, without --store)
  --control-type T     the control type offered (required)
  --speed N            the device lives N times faster than real time (default 1)
  --seconds N          stop after N seconds (default: run until a signal)
  --retries N          give up after N retries in a row that do not reach the CEM's handshake
                       (a refused dial, or a connection that closes before the handshake);
                       a handshake starts the count again (default: retry for ever)
  --trace FILE         append a JSON-lines trace of every session to FILE
  --token T            send 'Authorization: Bearer T' on the upgrade
  --ca F               PEM CA certificate to trust for wss:// (private CA)
  --ids strict|schema|uuid
                       ID fields (R3): 'strict' = 2–64 of [A-Za-z0-9-_:] and nothing else (UUIDs
                       pass), 'schema' = the official unanchored pattern as published (accepts a
                       message_id of any length that holds two such characters, and echoes it),
                       'uuid' = canonical UUIDs  (default strict)
${versionsHelp(23)}
${receiveBudgetHelp(23)}
  --port P             with --connect: the port of the RM's S2 Connect server (default: a free one)
  --host H             with --connect: the interface it listens on (default 127.0.0.1)
  --tls-cert F         with --connect: PEM certificate chain of the RM's S2 Connect server
  --tls-key F          its PEM private key
  --advertise          with --connect: advertise the S2 Connect server over mDNS (_s2connect._tcp, _rm)
  --wait-for-pairing URL
                       long-poll the CEM at URL (https://…) until it tells this RM to pair
${MDNS_HELP}
${CONNECT_HELP}
  -h, --help           print this help

Exit status: 0 stopped (--seconds, SIGINT/SIGTERM) after at least one session reached the S2
handshake with the CEM; 1 never reached a CEM before it was stopped, gave up (--retries), or
failed; 2 usage error.`;

/** The details of an RM that cannot be controlled but measures (R38, Q8). */
function notControllableDetails(): RmDetailsInput {
  return {
    resource_id: newUuid(),
    name: 's2-engine meter (not controllable)',
    manufacturer: 's2-engine',
    roles: [{ role: 'ENERGY_CONSUMER', commodity: 'ELECTRICITY' }],
    instruction_processing_delay: 0,
    available_control_types: ['NOT_CONTROLABLE'],
    provides_forecast: false,
    provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
  };
}

const attemptsText = (n: number) => `${n} failed attempt${n === 1 ? '' : 's'}`;

export const rmCommand = defineCommand({
  name: 'rm',
  summary: 'run an RM that connects to a CEM and offers one control type',
  usage: USAGE,
  options: {
    url: { type: 'string' },
    'control-type': { type: 'string' },
    speed: { type: 'string' },
    seconds: { type: 'string' },
    retries: { type: 'string' },
    trace: { type: 'string' },
    token: { type: 'string' },
    ca: { type: 'string' },
    ids: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    advertise: { type: 'boolean' },
    'wait-for-pairing': { type: 'string' },
    ...VERSIONS_FLAG,
    ...RECEIVE_BUDGET_FLAG,
    ...MDNS_FLAGS,
    ...CONNECT_FLAGS,
  },
  async run({ values: f, positionals }, io) {
    try {
      noPositionals(positionals);
      const viaConnect = checkConnectFlags(f);
      if (viaConnect && f.url) throw badOption('--url is for plain WebSocket; with --store the pairing says where the CEM is');
      if (!viaConnect) {
        if (!f.url) throw badOption('--url is required (or --store for S2 Connect)');
        if (!/^wss?:\/\//.test(f.url)) throw badOption(`--url must be a ws:// or wss:// URL, got '${f.url}'`);
        for (const name of ['port', 'host', 'tls-cert', 'tls-key'] as const)
          if (f[name] !== undefined) throw badOption(`--${name} needs --connect`);
      }
      if (f.advertise === true && f.connect !== true) throw badOption('--advertise needs --connect (it advertises the S2 Connect server)');
      const budget = receiveBudgetOption(f['receive-budget']);
      if (f.advertise !== true)
        for (const name of ['mdns-interface', 'mdns-port'] as const)
          if (f[name] !== undefined) throw badOption(`--${name} needs --advertise`);
      mdnsOptionsOf(f);
      const waitFor = f['wait-for-pairing'];
      if (waitFor !== undefined) {
        if (f.store === undefined) throw badOption('--wait-for-pairing needs --store DIR (where the pairing is kept)');
        if (!/^https:\/\//.test(waitFor)) throw badOption(`--wait-for-pairing must be an https:// URL, got '${waitFor}'`);
        if (f.pair !== undefined) throw badOption('--wait-for-pairing and --pair are two ways to pair: choose one');
      }
      // The CLI's devices speak both versions (the library's RM default stays 0.0.2-beta).
      const versions: readonly S2Version[] = parseVersions(f.versions) ?? S2_VERSIONS;
      const url = f.url ?? `the CEM paired in ${f.store}`;
      const ct = f['control-type'];
      if (!ct || !(TYPES as readonly string[]).includes(ct)) throw badOption(`--control-type must be one of ${TYPES.join(', ')}`);
      if (f.ids !== undefined && !(ID_MODES as readonly string[]).includes(f.ids))
        throw badOption(`--ids must be 'strict', 'schema' or 'uuid'`);
      const seconds = f.seconds === undefined ? undefined : numberFlag('--seconds', f.seconds, 0);
      const retries = f.retries === undefined ? undefined : numberFlag('--retries', f.retries, 0);
      if (retries !== undefined && !Number.isInteger(retries)) throw badOption(`--retries must be a whole number ≥ 0, got '${f.retries}'`);
      const ca = f.ca ? readFlagFile('--ca', f.ca) : undefined;
      const speed = numberFlag('--speed', f.speed, 1);
      if (speed <= 0) throw badOption('--speed must be greater than 0');
      const device = ct === 'NOT_CONTROLABLE' ? undefined : createDevice(ct as ControlTypeShort, { speed });
      const trace = openTrace(f.trace);

      // Whether the run did what an RM is for: a CEM answered the handshake. A run that never got
      // there (wrong URL, CEM down, not an S2 server) must not look like success to a script.
      let reached = false;
      let failures = 0; // attempts in a row that did not reach the handshake
      let lastFailure: string | undefined;
      let stopping = false;
      const giveUp = new AbortController();
      const attemptFailed = (why: string): boolean => {
        if (stopping) return false;
        failures++;
        lastFailure = why;
        if (retries !== undefined && failures > retries) giveUp.abort();
        return giveUp.signal.aborted;
      };

      const details = device ? device.details : notControllableDetails();
      const controlTypes = device ? { [device.controlType]: device.handler } : undefined;
      const onSession = (session: S2Session): void => {
        logSession(session, (line) => io.stdout.write(line));
        if (trace) traceSession(session, (line) => trace.write(line));
        let handshake = false;
        session.on('handshake', () => {
          handshake = true;
          reached = true;
          failures = 0;
        });
        session.on('close', ({ code, reason }) => {
          if (!handshake) attemptFailed(`the connection closed before the S2 handshake (${code}${reason ? ` ${reason}` : ''})`);
        });
      };
      let connect: Awaited<ReturnType<typeof startConnect>> | undefined;
      try {
        connect = viaConnect ? await startConnect(f, details, controlTypes, versions, io, onSession) : undefined;
      } catch (err) {
        device?.stop();
        await endStream(trace);
        throw err;
      }

      const client = createRmClient({
        ...(connect ? { connect: connect.dial } : { url }),
        logger: false,
        details,
        ...(controlTypes ? { controlTypes } : {}),
        ...(f.token ? { token: f.token } : {}),
        ...(ca ? { ca } : {}),
        ids: (f.ids ?? 'strict') as IdMode,
        versions,
        ...budget,
        onSession,
        onDialError: (err, _attempt, delayMs) => {
          const message = printable((err as Error).message, 1000);
          const gaveUp = attemptFailed(message);
          if (!stopping) io.stderr.write(`s2 rm: ${message} (attempt ${failures}, ${gaveUp ? 'giving up' : `next in ${delayMs} ms`})\n`);
        },
      });
      const why = await untilStopped(seconds, giveUp.signal);
      stopping = true;
      device?.stop();
      await client.stop();
      await connect?.close();
      await endStream(trace);
      if (why === 'aborted') {
        io.stderr.write(
          `s2 rm: gave up after ${attemptsText(failures)} in a row to reach the CEM at ${url} (--retries ${retries}); last: ${printable(lastFailure ?? '', 1000)}\n`,
        );
        return 1;
      }
      if (!reached) {
        const stoppedBy = why === 'time' ? `--seconds ${f.seconds}` : 'a signal';
        io.stderr.write(
          `s2 rm: never reached a CEM at ${url}: stopped by ${stoppedBy} before any session completed the S2 handshake (${attemptsText(failures)}${lastFailure ? `; last: ${printable(lastFailure, 1000)}` : ''})\n`,
        );
        return 1;
      }
      return 0;
    } catch (err) {
      return failed(io, 'rm', err);
    }
  },
});

/**
 * The RM as an S2 Connect node (--store): optionally its own S2 Connect server (--connect: it shows
 * a pairing code and waits), optionally a pairing first (--pair), then `dial`, which opens each
 * session's WebSocket with the newest pairing in which the RM is the communication client, rotating
 * the access token. Sessions of pairings in which the RM serves (a WAN RM paired with a LAN CEM)
 * arrive through the server.
 */
async function startConnect(
  f: ConnectFlagValues & MdnsFlagValues & { readonly advertise?: boolean | undefined; readonly ids?: string | undefined },
  details: RmDetailsInput,
  controlTypes: RmControlTypes | undefined,
  versions: readonly S2Version[],
  io: CliIO,
  onSession: (session: S2Session) => void,
): Promise<{ dial: () => Promise<DialledTransport>; close: () => Promise<void> }> {
  const dir = f.store!;
  const deployment = parseDeployment(f.deployment, f['public-url']);
  const node = loadOrCreateNode(dir, 'RM', {
    brand: details.manufacturer ?? 's2-engine',
    type: details.roles[0]?.role ?? 'device',
    modelName: details.name ?? 's2 rm',
  });
  const store = openStore(dir);
  const resolve = parseResolve(f.resolve);
  const ca = f.ca ? readFlagFile('--ca', f.ca) : undefined;
  const endpoint = { name: details.name ?? 's2 rm', deployment };
  let paired: () => void = () => {};
  let server: S2ConnectServer | undefined;
  let advertisement: Advertisement | undefined;
  let poller: LongPollClient | undefined;
  const served = new Set<S2Session>();
  if (f.connect === true) {
    server = await startConnectServer({
      command: 'rm',
      flags: f,
      node,
      endpointName: endpoint.name,
      deployment,
      store,
      io,
      messageVersions: versions,
      onConnection: (transport, info) => {
        const session = new S2Session(transport, {
          role: 'RM',
          details,
          versions: [info.messageVersion],
          logger: false,
          ids: (f.ids ?? 'strict') as IdMode,
        });
        if (controlTypes) attachRmControlTypes(session, controlTypes);
        served.add(session);
        void session.closed.then(() => served.delete(session));
        onSession(session);
        session.start();
      },
      onEvent: (event) => event.type === 'paired' && paired(),
    });
    offerPairing(server, f, io);
    if (f.advertise === true) {
      try {
        advertisement = await advertiseServer({
          command: 'rm',
          server,
          node,
          endpointName: endpoint.name,
          deployment,
          longPolling: false,
          flags: f,
          io,
        });
      } catch (err) {
        await server.close();
        await store.close();
        throw err;
      }
    }
  }
  if (f['wait-for-pairing'] !== undefined) {
    const code = printedCode(dir, f['pairing-token']);
    io.stdout.write(
      `pairing code: ${code}\ns2 rm: waiting for the CEM at ${printable(f['wait-for-pairing'])} to pair (its user enters the code)\n`,
    );
    poller = waitToBePaired({
      url: f['wait-for-pairing'],
      code,
      node,
      endpoint,
      store,
      resolve,
      ca,
      messageVersions: versions,
      io,
      onPaired: () => paired(),
    });
  }
  if (f.pair !== undefined) {
    try {
      const pairing = await pair({
        code: f.pair,
        pairingUrl: f['pairing-url']!,
        node,
        endpoint,
        store,
        resolve,
        ca,
        messageVersions: versions,
        ...(server ? { ownConnectionDetails: server.newConnectionDetails() } : {}),
      });
      io.stdout.write(`s2 rm: paired with ${printable(pairing.remoteNode.role)} ${printable(pairing.remoteNodeId)}\n`);
    } catch (err) {
      await server?.close();
      await store.close();
      throw err;
    }
  }
  /** The newest pairing in which this RM connects; waits for one (--connect) when there is none yet. */
  const pairingToDial = async (): Promise<PairingRecord> => {
    for (;;) {
      const mine = (await store.list())
        .filter((p) => p.localNodeId === node.id && p.communicationRole === 'client')
        .sort((a, b) => b.pairedAt.localeCompare(a.pairedAt));
      if (mine[0]) return mine[0];
      if (server === undefined && poller === undefined)
        throw new S2Error('INVALID_OPTIONS', `no pairing in ${dir}: pair first with --pair CODE --pairing-url URL`);
      await new Promise<void>((ok) => (paired = ok));
    }
  };
  return {
    dial: async () => {
      const pairing = await pairingToDial();
      const c = await connectPaired({
        store,
        localNodeId: node.id,
        remoteNodeId: pairing.remoteNodeId,
        resolve,
        ca,
        messageVersions: versions,
        ...(f['receive-budget'] !== undefined ? { websocket: receiveBudgetOption(f['receive-budget']) } : {}),
      });
      return { transport: c.transport, versions: [c.messageVersion] };
    },
    close: async () => {
      await Promise.all([...served].map((s) => s.close(1001, 'RM shutting down')));
      await poller?.stop();
      await advertisement?.stop();
      await server?.close();
      await store.close();
    },
  };
}
