import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { CloseCode } from '../machines/close-codes.js';
import { connectPaired, pair } from '../connect/client.js';
import type { S2ConnectServer } from '../connect/server.js';
import type { PairingRecord } from '../connect/store/index.js';
import { createCemHost, createCemServer } from '../roles/cem-server.js';
import { createReconnectingClient } from '../transport/reconnect.js';
import { createCemPolicy } from '../sim/index.js';
import { traceSession } from '../roles/trace.js';
import { S2Error } from '../typebox/errors.js';
import { ID_MODES, type IdMode } from '../typebox/validators.js';
import {
  badOption,
  defineCommand,
  EXIT_USAGE,
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
  parseReceiveBudget,
  receiveBudgetOption,
  type CliIO,
  type OptionValues,
} from './common.js';
import { INSPECT_FLAGS, INSPECT_HELP, servesInspector, startInspection, type Inspection } from './inspect.js';
import { printable, shortId } from './format.js';
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
} from './connect.js';
import { MDNS_FLAGS, MDNS_HELP, acceptWaitingClients, advertiseServer, mdnsOptionsOf, parseAccept } from './lan.js';
import type { Advertisement } from '../connect/discovery.js';

const USAGE = `Usage: s2 cem [--port P] [--host H] [--workers N] [--quiet] [--trace FILE] [--token T] [--tls-cert F --tls-key F]
              [--ids strict|schema|uuid] [--versions V[,V…]] [--receive-budget B,M|off] [--inspect [--inspect-port P] | --inspect-to URL]
       s2 cem --connect --store DIR [--port P] [--host H] [--tls-cert F --tls-key F] [--deployment LAN|WAN]
              [--public-url URL] [--pairing-token B64] [--resolve NAME=ADDR] [--accept ID=CODE]
              [--advertise [--mdns-interface A] [--mdns-port P]] [--quiet] [--trace FILE]
              [--ids strict|schema|uuid] [--versions V[,V…]]
       s2 cem --store DIR --pair CODE --pairing-url URL [--ca F] [same options as --connect]

Runs a CEM server: accepts RMs over WebSocket, completes each handshake, selects a control type
(the first the RM offers of FRBC, PPBC, OMBC, PEBC, DDBC, NOT_CONTROLABLE), and after each
description gives instructions with a simple built-in policy (charge or run when a simulated
price is low, curtail PV, pick reachable modes), following them to their final status. Prints one
line per event, and the S2 JSON version each session selected at its handshake (the first of
--versions that the RM offers too). Stops on SIGINT/SIGTERM: every session is closed with 1001, exit status 0.

With --workers N > 1 the command is a supervisor (Node's cluster module) of N worker processes
that run the same server on the same port; the operating system's connections are handed to the
workers in turn, and each session lives in one worker. Lines printed for a session start with
the worker's number (w1, w2, …). SIGINT/SIGTERM to the supervisor stops every worker (each closes
its sessions with 1001) and exits 0. If a worker dies or cannot listen, the others are stopped too
and the exit status is 1, so that a service manager can restart the whole CEM. Sessions do not
move between workers: an RM whose worker ended reconnects and lands on another one.

With --connect (S2 Connect) one HTTPS port serves pairing, session initiation and the WebSocket.
The CEM prints 'pairing code: CODE' (a fresh one-time code, valid 15 minutes, or the long-lived
--pairing-token) and 'pairing url: URL': an RM pairs with them (s2 rm --pair CODE --pairing-url
URL), and then starts every session with a new one-time token. With --pair the CEM pairs with an RM
that shows a code (s2 rm --connect) and serves its sessions. Pairings are kept in --store DIR.
On a LAN the server also lists its node and answers devices that wait to be paired (they long-poll
it: s2 rm --wait-for-pairing URL): each is printed when it comes, and the user types
'accept ID CODE' (ID: the start of the device's node id, CODE: the code on its label) on standard
input, or gives --accept ID=CODE in advance; the CEM then tells the device to pair. 'waiting' lists
them. --advertise makes the CEM findable by mDNS (s2 discover).

Options:
  --port P            TCP port (default 0: a free port, printed at start; with --workers, all
                      workers share that one port)
  --host H            interface to listen on (default 127.0.0.1)
  --workers N         worker processes sharing the port (default 1: no supervisor, one process)
  --quiet             print only the listening line and errors, not one line per event
  --trace FILE        append a JSON-lines trace of every session to FILE (all workers append)
  --token T           require 'Authorization: Bearer T' on the upgrade (HTTP 401 otherwise)
  --tls-cert F        PEM certificate: serve wss:// (needs --tls-key)
  --tls-key F         PEM private key
  --ids strict|schema|uuid
                      ID fields (R3): 'strict' = 2–64 of [A-Za-z0-9-_:] and nothing else (UUIDs
                      pass), 'schema' = the official unanchored pattern as published (accepts a
                      message_id of any length that holds two such characters, and echoes it),
                      'uuid' = canonical UUIDs  (default strict)
${versionsHelp(22)}
${receiveBudgetHelp(22)}
  --ca F              with --pair: extra trusted root (PEM) for a WAN RM with a private CA
${INSPECT_HELP}
                      (with --workers, start \`s2 inspect\` and use --inspect-to: one page for all)
  --advertise         with --connect: advertise the S2 Connect server over mDNS (_s2connect._tcp,
                      _cem), with its pairing and long-poll URLs
  --accept ID=CODE    with --connect: pair with the waiting device whose node id starts with ID
                      when it polls, using CODE (its printed code); comma-separated list
${MDNS_HELP}
${CONNECT_HELP}
  -h, --help          print this help`;

/** Environment of a worker process: its number (1-based). */
const WORKER_ENV = 'S2_CEM_WORKER';

/** How long a stopped worker gets to close its sessions (close timeout 5 s + margin) before SIGKILL. */
const WORKER_STOP_GRACE_MS = 10_000;

/** Messages between the supervisor and its workers. */
type FromWorker = { readonly type: 's2-cem-listening'; readonly url: string; readonly port: number };
type ToWorker = { readonly type: 's2-cem-stop' };

const FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  workers: { type: 'string' },
  quiet: { type: 'boolean' },
  trace: { type: 'string' },
  token: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  ids: { type: 'string' },
  ca: { type: 'string' },
  advertise: { type: 'boolean' },
  accept: { type: 'string' },
  ...VERSIONS_FLAG,
  ...RECEIVE_BUDGET_FLAG,
  ...MDNS_FLAGS,
  ...INSPECT_FLAGS,
  ...CONNECT_FLAGS,
} as const;

export const cemCommand = defineCommand({
  name: 'cem',
  summary: 'run a CEM server that accepts RMs and selects a control type',
  usage: USAGE,
  options: FLAGS,
  async run({ values: f, positionals }, io) {
    let workers: number;
    let connect = false;
    try {
      noPositionals(positionals);
      if (f.ids !== undefined && !(ID_MODES as readonly string[]).includes(f.ids))
        throw badOption(`--ids must be 'strict', 'schema' or 'uuid'`);
      parseVersions(f.versions);
      parseReceiveBudget(f['receive-budget']);
      if (Boolean(f['tls-cert']) !== Boolean(f['tls-key'])) throw badOption('--tls-cert and --tls-key go together');
      workers = numberFlag('--workers', f.workers, 1);
      if (!Number.isInteger(workers) || workers < 1) throw badOption(`--workers must be a whole number ≥ 1, got '${f.workers}'`);
      const port = numberFlag('--port', f.port, 0);
      if (!Number.isInteger(port) || port > 65535) throw badOption(`--port must be a port number 0–65535, got '${f.port}'`);
      if (checkConnectFlags(f)) {
        if (workers > 1) throw badOption('--workers is not available with S2 Connect (one process keeps the pairing attempts)');
        if (f.token !== undefined) throw badOption('--token is for plain WebSocket; S2 Connect hands out its own tokens');
        connect = true;
      } else if (f.ca !== undefined) throw badOption('--ca needs --pair');
      for (const name of ['advertise', 'accept'] as const)
        if (f[name] !== undefined && f.connect !== true) throw badOption(`--${name} needs --connect`);
      if (f.advertise !== true)
        for (const name of ['mdns-interface', 'mdns-port'] as const)
          if (f[name] !== undefined) throw badOption(`--${name} needs --advertise`);
      mdnsOptionsOf(f);
      parseAccept(f.accept);
      if (workers > 1 && servesInspector(f))
        throw badOption('with --workers every worker is its own process: start `s2 inspect` and give its feed URL with --inspect-to');
      // Unreadable TLS files are a usage error: find out before any worker starts.
      if (f['tls-cert'] && f['tls-key']) {
        readFlagFile('--tls-cert', f['tls-cert']);
        readFlagFile('--tls-key', f['tls-key']);
      }
    } catch (err) {
      return failed(io, 'cem', err);
    }
    if (connect) return serveConnect(f, io);
    if (workers > 1 && cluster.isPrimary && process.env[WORKER_ENV] === undefined)
      return supervise(workerArgs(f), workers, f.quiet === true, io);
    return serve(f, io);
  },
});

type Flags = OptionValues<typeof FLAGS>;

/**
 * `versions` for the CEM's sessions from --versions (checked before), or nothing: the library's
 * CEM default is already every version, newest preferred.
 */
function versionsOption(f: Flags): { versions?: readonly string[] } {
  const versions = parseVersions(f.versions);
  return versions ? { versions } : {};
}

/** The command line of a worker: the supervisor's own options, written out again (all checked above). */
function workerArgs(f: Flags): string[] {
  return Object.entries(f).flatMap(([name, value]) =>
    value === true ? [`--${name}`] : typeof value === 'string' ? [`--${name}=${value}`] : [],
  );
}

/** Inside a worker started by {@link supervise}: its number (1-based), else undefined. */
function workerNumber(): number | undefined {
  const n = process.env[WORKER_ENV];
  return cluster.isWorker && n !== undefined ? Number(n) : undefined;
}

/** One CEM server in this process: the whole CEM, or one worker of a supervisor. */
async function serve(f: Flags, io: CliIO): Promise<number> {
  const worker = workerNumber();
  const tag = worker === undefined ? '' : `w${worker} `;
  let server;
  let inspection: Inspection | undefined;
  try {
    // Every worker asks for the same port, 0 included: cluster hands out one listening socket
    // per requested address, so asking for the port worker 1 got would try to bind it again.
    const port = numberFlag('--port', f.port, 0);
    const tls =
      f['tls-cert'] && f['tls-key']
        ? { cert: readFlagFile('--tls-cert', f['tls-cert']), key: readFlagFile('--tls-key', f['tls-key']) }
        : undefined;
    const trace = openTrace(f.trace);
    const quiet = f.quiet === true;
    inspection = await startInspection(f);
    if (inspection && worker === undefined) io.stdout.write(`s2 cem: inspector on ${inspection.url}\n`);
    server = await createCemServer({
      port,
      host: f.host ?? '127.0.0.1',
      ...(f.token ? { token: f.token } : {}),
      ...(tls ? { tls } : {}),
      ids: (f.ids ?? 'strict') as IdMode,
      ...versionsOption(f),
      ...receiveBudgetOption(f['receive-budget']),
      ...inspection?.options,
      controlTypes: createCemPolicy().handlers,
      onSession: (session) => {
        inspection?.attach(session);
        if (!quiet) logSession(session, (line) => io.stdout.write(line), { label: () => `${tag}${shortId(session.id)} ${session.peer}` });
        if (trace) traceSession(session, (line) => trace.write(line));
      },
      onError: (err) => io.stderr.write(`s2 cem: ${tag}${(err as Error).message}\n`),
    });
    if (worker === undefined) io.stdout.write(`s2 cem listening on ${server.url}\n`);
    else process.send?.({ type: 's2-cem-listening', url: server.url, port: server.port } satisfies FromWorker);
    await (worker === undefined ? untilStopped() : untilStoppedOrTold());
    if (worker === undefined) io.stdout.write('s2 cem: stopping, closing every session with 1001\n');
    await server.close(CloseCode.GOING_AWAY, 'CEM shutting down');
    await inspection?.close();
    await endStream(trace);
    return workerDone(worker, 0);
  } catch (err) {
    io.stderr.write(`s2 cem: ${tag}${(err as Error).message}\n`);
    if (server) await server.close();
    await inspection?.close();
    return workerDone(worker, err instanceof S2Error && err.code === 'INVALID_OPTIONS' ? EXIT_USAGE : 1);
  }
}

/**
 * The CEM as an S2 Connect node: its S2 Connect server (pairing, session initiation, WebSocket)
 * hands every authenticated WebSocket to the CEM's sessions; with --pair it first pairs with an
 * RM. Pairings in which the CEM is the communication client (a LAN CEM paired with a WAN RM) are
 * dialled with token rotation, reconnecting with back-off.
 */
async function serveConnect(f: Flags, io: CliIO): Promise<number> {
  const dir = f.store!;
  let server: S2ConnectServer | undefined;
  let inspection: Inspection | undefined;
  let advertisement: Advertisement | undefined;
  const dialers: Array<{ stop(): void }> = [];
  const trace = openTrace(f.trace);
  const waiting = acceptWaitingClients({ command: 'cem', accept: parseAccept(f.accept), io, interactive: f.connect === true });
  const versions = parseVersions(f.versions);
  const cem = createCemHost({
    ids: (f.ids ?? 'strict') as IdMode,
    ...versionsOption(f),
    controlTypes: createCemPolicy().handlers,
    logger: false,
    onSession: (session) => {
      inspection?.attach(session);
      if (f.quiet !== true) logSession(session, (line) => io.stdout.write(line), { label: () => `${shortId(session.id)} ${session.peer}` });
      if (trace) traceSession(session, (line) => trace.write(line));
    },
  });
  try {
    const deployment = parseDeployment(f.deployment, f['public-url']);
    const node = loadOrCreateNode(dir, 'CEM', { brand: 's2-engine', type: 'energy manager', modelName: 's2 cem' });
    const store = openStore(dir);
    const resolve = parseResolve(f.resolve);
    const ca = f.ca ? readFlagFile('--ca', f.ca) : undefined;
    inspection = await startInspection(f);
    if (inspection) io.stdout.write(`s2 cem: inspector on ${inspection.url}\n`);
    const pendingVersions = new WeakMap<object, string>();
    const dial = (pairing: PairingRecord): void => {
      io.stdout.write(`s2 cem: connecting to RM ${printable(pairing.remoteNodeId)} at ${printable(pairing.initiateSessionUrl ?? '?')}\n`);
      dialers.push(
        createReconnectingClient({
          connect: async () => {
            const c = await connectPaired({
              store,
              localNodeId: pairing.localNodeId,
              remoteNodeId: pairing.remoteNodeId,
              resolve,
              ca,
              ...(versions ? { messageVersions: versions } : {}),
            });
            pendingVersions.set(c.transport, c.messageVersion);
            return c.transport;
          },
          onTransport: (transport) => {
            const version = pendingVersions.get(transport);
            pendingVersions.delete(transport);
            cem.accept(transport, version === undefined ? {} : { versions: [version] });
          },
          onDialError: (err) => io.stderr.write(`s2 cem: ${printable((err as Error).message, 1000)}\n`),
        }),
      );
    };
    server = await startConnectServer({
      command: 'cem',
      flags: f,
      node,
      endpointName: 's2 cem',
      deployment,
      store,
      io,
      ...(versions ? { messageVersions: versions } : {}),
      onConnection: (transport, info) => void cem.accept(transport, { info, versions: [info.messageVersion] }),
      onEvent: waiting.onEvent,
    });
    waiting.attach(server);
    if (f.advertise === true) {
      advertisement = await advertiseServer({
        command: 'cem',
        server,
        node,
        endpointName: 's2 cem',
        deployment,
        longPolling: deployment === 'LAN',
        flags: f,
        io,
      });
    }
    if (f.pair !== undefined) {
      const pairing = await pair({
        code: f.pair,
        pairingUrl: f['pairing-url']!,
        node,
        endpoint: { name: 's2 cem', deployment },
        store,
        resolve,
        ca,
        ...(versions ? { messageVersions: versions } : {}),
        ownConnectionDetails: server.newConnectionDetails(),
      });
      io.stdout.write(
        `s2 cem: paired with ${printable(pairing.remoteNode.role)} ${printable(pairing.remoteNodeId)} (${pairing.communicationRole === 'server' ? 'it connects to us' : 'we connect to it'})\n`,
      );
    } else {
      offerPairing(server, f, io);
    }
    for (const pairing of await store.list()) if (pairing.communicationRole === 'client' && pairing.localNodeId === node.id) dial(pairing);
    await untilStopped();
    io.stdout.write('s2 cem: stopping, closing every session with 1001\n');
    return 0;
  } catch (err) {
    return failed(io, 'cem', err);
  } finally {
    waiting.stop();
    for (const d of dialers) d.stop();
    await advertisement?.stop();
    await cem.close(CloseCode.GOING_AWAY, 'CEM shutting down');
    await server?.close();
    await inspection?.close();
    await endStream(trace);
  }
}

/**
 * A worker ends its process itself: its IPC channel would keep it alive, and closing that channel
 * makes cluster exit with status 0 whatever happened. Output is written synchronously (files,
 * pipes), so nothing is lost. Outside a worker the code is returned to `runCli`.
 */
function workerDone(worker: number | undefined, code: number): number {
  if (worker !== undefined) process.exit(code);
  return code;
}

/** A worker stops on SIGINT/SIGTERM (a terminal's Ctrl-C reaches the whole group), when told, or when its supervisor is gone. */
function untilStoppedOrTold(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('message', onMessage);
      process.off('disconnect', done);
      resolve();
    };
    const onMessage = (m: unknown) => {
      if ((m as ToWorker | undefined)?.type === 's2-cem-stop') done();
    };
    process.on('message', onMessage);
    process.on('disconnect', done);
    void untilStopped().then(done);
  });
}

/**
 * The supervisor of `--workers N`: starts the workers one after the other on the requested port
 * (with `--port 0` too: cluster gives every worker that asks for the same address the one
 * listening socket this process owns — checked below), and stops them all on SIGINT/SIGTERM or
 * when one of them ends on its own.
 */
async function supervise(args: string[], count: number, quiet: boolean, io: CliIO): Promise<number> {
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./main.js', import.meta.url)), args: ['cem', ...args] });
  const workers: Worker[] = [];
  let stopping = false;
  let failed: string | undefined;
  let onFailure: () => void = () => {};
  const failure = new Promise<void>((resolve) => (onFailure = resolve));

  const start = (n: number) =>
    new Promise<FromWorker>((resolve, reject) => {
      const w = cluster.fork({ [WORKER_ENV]: String(n) });
      workers.push(w);
      const onMessage = (m: FromWorker) => {
        if (m?.type !== 's2-cem-listening') return;
        w.off('message', onMessage);
        resolve(m);
      };
      w.on('message', onMessage);
      w.once('exit', (code, signal) => {
        const why = `worker ${n} (pid ${w.process.pid}) exited with ${signal ?? `code ${code}`}`;
        reject(new Error(why)); // no effect once it was listening
        if (stopping) return;
        failed ??= why;
        onFailure();
      });
    });

  const stopAll = async () => {
    stopping = true;
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.process.exitCode !== null || w.process.signalCode !== null) return resolve();
            const timer = setTimeout(() => w.process.kill('SIGKILL'), WORKER_STOP_GRACE_MS);
            w.process.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            try {
              if (w.isConnected()) w.send({ type: 's2-cem-stop' } satisfies ToWorker);
              else w.process.kill('SIGTERM');
            } catch {
              w.process.kill('SIGTERM');
            }
          }),
      ),
    );
  };

  let url: string;
  try {
    const first = await start(1);
    url = first.url;
    if (!quiet) io.stdout.write(`s2 cem: worker 1 (pid ${workers[0]!.process.pid}) listening\n`);
    for (let n = 2; n <= count; n++) {
      const other = await start(n);
      if (other.port !== first.port) throw new Error(`worker ${n} listens on port ${other.port}, worker 1 on ${first.port}`);
      if (!quiet) io.stdout.write(`s2 cem: worker ${n} (pid ${workers[n - 1]!.process.pid}) listening\n`);
    }
  } catch (err) {
    io.stderr.write(`s2 cem: ${(err as Error).message}; stopping\n`);
    await stopAll();
    return 1;
  }
  io.stdout.write(`s2 cem listening on ${url} with ${count} workers (pids ${workers.map((w) => w.process.pid).join(', ')})\n`);
  const why = await Promise.race([untilStopped().then(() => 'signal' as const), failure.then(() => 'failure' as const)]);
  if (why === 'failure') io.stderr.write(`s2 cem: ${failed}; stopping the other workers\n`);
  else io.stdout.write(`s2 cem: stopping ${count} workers, each closes its sessions with 1001\n`);
  await stopAll();
  const unclean = workers.filter((w) => w.process.exitCode !== 0);
  if (why === 'signal' && unclean.length) {
    io.stderr.write(`s2 cem: ${unclean.length} worker(s) did not stop cleanly\n`);
    return 1;
  }
  return why === 'failure' ? 1 : 0;
}
