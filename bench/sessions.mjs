// Sessions benchmark: N RM sessions connect to one CEM process over WebSocket on 127.0.0.1 at a
// controlled connect rate, complete the handshake, get FRBC selected, send FRBC.SystemDescription
// and then a PowerMeasurement every `--interval` seconds.
//
//   npm run bench:sessions                    (builds, then: node bench/sessions.mjs, N = 1,000)
//   node bench/sessions.mjs --n 10000         (the issue's sizes: 1000, 5000, 10000)
//   node bench/sessions.mjs --n 10000 --workers 2   (the CEM is a cluster of 2 workers on one port)
//   node bench/sessions.mjs --n 20000 --cem cli --workers 2 --generators 4 --client raw
//                                             (the CEM is the real `s2 cem --workers 2 --quiet`)
//   node bench/sessions.mjs --client raw      (scripted RMs instead of createRmClient: cheaper load)
//   node bench/sessions.mjs --client raw --cem raw
//                                             (the floor: a plain ws CEM with canned replies, no S2 engine)
//   node bench/sessions.mjs --quick           (N = 20, short phases: a smoke run)
//   node bench/sessions.mjs --heap-snapshot /tmp/snap   (CEM heap snapshots before and after: bench/heap-summary.mjs)
//
// Reports: time until every session is in FRBC active (against N ÷ rate, the rate-limited ideal);
// handshake-to-active latency p50/p99 seen by the CEM (connection accepted → its SelectControlType
// answered OK) and by the RMs (socket open → SelectControlType received; dial → same); CEM heap
// and RSS per session (after − before, full GC inside the CEM process, ÷ N); CEM CPU per
// handshake and per 1,000 measurements/s; CEM event-loop delay. Never exits non-zero because of a
// result: the goal lines say PASS or FAIL.
//
// Processes (all on 127.0.0.1, Linux): this script forks itself as the CEM (`--role cem`, with
// --expose-gc; with --workers W > 1 it is a `cluster` primary whose W workers share the port) — or,
// with `--cem cli`, starts `node dist/cli/main.js cem --workers W --quiet` (the real command, its
// built-in instruction policy included) with bench/_cem-agent.mjs preloaded to read its memory,
// CPU and GC; the CEM then cannot see its sessions, so activity and latency come from the RMs and
// the handshake→active goal uses the RM view (socket open → SelectControlType received) — and
// as G load generators (`--role gen`, default one per 5,000 sessions), each opening N ÷ G
// sessions at rate ÷ G per second. Limits: every session is one file descriptor in the CEM and one
// in a generator — `ulimit -n` (checked below) caps N per process; each connection takes one
// ephemeral port of 127.0.0.1 (net.ipv4.ip_local_port_range, 28,232 by default) per CEM port.

import cluster from 'node:cluster';
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import {
  exited,
  fmtBytes,
  fmtRate,
  frameTemplate,
  frbcTraffic,
  gcPauses,
  machineHeader,
  memory,
  newId,
  nextMessage,
  parseArgs,
  runRole,
  percentile,
  receptionStatusText,
  scriptedRm,
  settleHeap,
  sleep,
} from './_lib.mjs';

const SCRIPT = fileURLToPath(import.meta.url);
const { flags } = parseArgs(
  process.argv.slice(2),
  {
    quick: false,
    role: 'main',
    n: 1000,
    rate: 200,
    interval: 5,
    measure: 10,
    settle: 3,
    generators: 0,
    workers: 1,
    client: 's2',
    cem: 'bench',
    'heap-snapshot': '',
    'cem-flags': '',
    // internal (generator role)
    url: '',
    offset: 0,
  },
  'bench/sessions.mjs',
);
if (flags.quick) Object.assign(flags, { n: Math.min(flags.n, 20), interval: 0.25, measure: 1, settle: 0.5 });
// Issue 13: 20,000 sessions on `s2 cem --workers 2`, ≤ 25 KiB CEM heap per session (issue 6 had 10,000 and 30 KiB).
const GOALS = { sessions: 20_000, heapPerSession: 25 * 1024, p99Ms: 250 };

// ---------------------------------------------------------------- CEM ------------------------
/** One CEM server (a whole CEM, or one cluster worker); answers the orchestrator's requests via `reply`. */
async function cemWorker(port, reply) {
  const dist = await import('../dist/index.js');
  const { createCemServer, connectSession, createMemoryPair, decode } = dist;
  const { description, details, measurement } = frbcTraffic();

  // Warm-up, so the baseline holds what every session shares: validators compiled for the
  // messages of the run, XState transition caches filled by one session through activation.
  for (const m of [description, measurement, { ...details, message_type: 'ResourceManagerDetails' }])
    decode(JSON.stringify({ ...m, message_id: newId() }));
  {
    const [a, b] = createMemoryPair();
    const cem = connectSession(a, { role: 'CEM' });
    const rm = connectSession(b, { role: 'RM', details });
    await new Promise((r) => rm.on('controlType', r));
    await rm.send(description);
    await rm.send(measurement);
    await rm.close();
    await cem.closed;
  }

  const latencies = [];
  let accepted = 0;
  let active = 0;
  let closed = 0;
  let measurements = 0;
  let lastActiveAt = 0;
  let firstAcceptAt = 0;
  // What both servers report: a connection accepted, FRBC active, closed; a measurement received.
  const accept = () => {
    const t0 = performance.now();
    if (!accepted++) firstAcceptAt = Date.now();
    let isActive = false;
    return {
      active() {
        latencies.push(performance.now() - t0);
        active++;
        isActive = true;
        lastActiveAt = Date.now();
      },
      closed() {
        closed++;
        if (isActive) active--;
      },
    };
  };
  const measured = () => measurements++;
  const server =
    flags.cem === 'raw'
      ? await rawCemServer(port, accept, measured)
      : await createCemServer({
          port,
          host: '127.0.0.1',
          onSession(session) {
            const s = accept();
            session.on('controlType', ({ controlType }) => controlType === 'FILL_RATE_BASED_CONTROL' && s.active());
            session.on('close', () => s.closed());
          },
          onMessage(message) {
            if (message.message_type === 'PowerMeasurement') measured();
          },
        });
  await settleHeap();
  const baseline = memory();
  // With --heap-snapshot the base snapshot is taken here (after the baseline reading: writing it
  // allocates), the other one at the 'snapshot' request: compare them with bench/heap-summary.mjs.
  if (flags['heap-snapshot']) v8.writeHeapSnapshot(`${flags['heap-snapshot']}/cem-${process.pid}-base.heapsnapshot`);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  // GC pauses, for the latency tail: count, total and longest, since the last reset.
  const gc = gcPauses();

  return {
    port: server.port,
    async handle(m) {
      switch (m.type) {
        case 'status':
          return reply(m, {
            accepted,
            active,
            closed,
            measurements,
            lastActiveAt,
            firstAcceptAt,
            sessions: server.sessions.size,
            cpu: process.cpuUsage(),
            at: Date.now(),
            gc: { ...gc },
          });
        case 'snapshot': {
          await settleHeap();
          const mem = memory();
          let snapshotFile;
          if (flags['heap-snapshot'])
            snapshotFile = v8.writeHeapSnapshot(`${flags['heap-snapshot']}/cem-${process.pid}-after.heapsnapshot`);
          return reply(m, { baseline, mem, active, snapshotFile });
        }
        case 'loop-reset':
          loop.reset();
          Object.assign(gc, { count: 0, ms: 0, max: 0 });
          return reply(m, {});
        case 'latencies':
          return reply(m, { latencies, loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6 });
        case 'stop':
          loop.disable();
          await server.close();
          reply(m, {});
          return setTimeout(() => process.exit(0), 20);
      }
    },
  };
}

/**
 * `--cem raw`, the floor under CPU per handshake: a plain `ws` server sending the frames an s2 CEM
 * sends — its Handshake, a ReceptionStatus for each message, HandshakeResponse, SelectControlType
 * FRBC — canned, after a JSON.parse of each frame, with no validation, statechart or session; its
 * writes corked per tick as the s2 transport's are. Active when SelectControlType is answered.
 */
async function rawCemServer(port, accept, measured) {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise((resolve) => wss.once('listening', resolve));
  const handshake = frameTemplate({ message_type: 'Handshake', role: 'CEM', supported_protocol_versions: ['0.0.2-beta'] });
  const response = frameTemplate({ message_type: 'HandshakeResponse', selected_protocol_version: '0.0.2-beta' });
  const select = frameTemplate({ message_type: 'SelectControlType', control_type: 'FILL_RATE_BASED_CONTROL' });
  wss.on('connection', (ws) => {
    const s = accept();
    let selection;
    const send = (text) => {
      if (!ws._socket.writableCorked) {
        ws._socket.cork();
        process.nextTick(() => ws._socket.uncork());
      }
      ws.send(text);
    };
    send(handshake.make(newId()));
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString('utf8'));
      if (m.message_type === 'ReceptionStatus') {
        if (m.subject_message_id === selection && m.status === 'OK') s.active();
        return;
      }
      send(receptionStatusText(m.message_id));
      if (m.message_type === 'Handshake') send(response.make(newId()));
      else if (m.message_type === 'ResourceManagerDetails') send(select.make((selection = newId())));
      else if (m.message_type === 'PowerMeasurement') measured();
    });
    ws.on('close', () => s.closed());
  });
  return {
    port: wss.address().port,
    sessions: {
      get size() {
        return wss.clients.size;
      },
    },
    close: () => new Promise((resolve) => wss.close(resolve)),
  };
}

async function cemProcess() {
  const workers = flags.workers;
  if (workers <= 1) {
    const worker = await cemWorker(0, (m, part) => process.send({ type: 'reply', id: m.id, parts: [part] }));
    process.on('message', (m) => worker.handle(m));
    process.send({ type: 'ready', port: worker.port, workers: 1 });
    return;
  }
  if (cluster.isPrimary) {
    // Every worker asks for port 0: cluster shares one listening socket per requested address,
    // so they all get the port the first one got (asking for that port explicitly would not).
    cluster.setupPrimary({ exec: SCRIPT, args: process.argv.slice(2), execArgv: process.execArgv });
    const pending = new Map();
    const all = [];
    const startWorker = (port) =>
      new Promise((resolve, reject) => {
        const w = cluster.fork({ S2_BENCH_PORT: String(port) });
        w.on('message', (msg) => {
          if (msg.type === 'ready') return resolve(msg.port);
          if (msg.type === 'reply') {
            const p = pending.get(msg.id);
            p.parts.push(msg.parts[0]);
            if (p.parts.length === workers) {
              pending.delete(msg.id);
              process.send({ type: 'reply', id: msg.id, parts: p.parts });
            }
          }
        });
        w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited ${code}`)));
        all.push(w);
      });
    const port = await startWorker(0);
    for (let i = 1; i < workers; i++) {
      const p = await startWorker(0);
      if (p !== port) throw new Error(`worker ${i + 1} got port ${p}, worker 1 ${port}`);
    }
    process.on('message', (m) => {
      pending.set(m.id, { parts: [] });
      for (const w of all) w.send(m);
      if (m.type === 'stop') Promise.all(all.map((w) => exited(w.process, true))).then(() => process.exit(0));
    });
    process.send({ type: 'ready', port, workers });
    return;
  }
  const worker = await cemWorker(Number(process.env.S2_BENCH_PORT), (m, part) => process.send({ type: 'reply', id: m.id, parts: [part] }));
  process.on('message', (m) => worker.handle(m));
  process.send({ type: 'ready', port: worker.port });
}

// ---------------------------------------------------------------- load generator -------------
async function generator() {
  const { description, details, measurement } = frbcTraffic();
  const count = flags.n;
  const rate = flags.rate;
  const open = [];
  const toActive = []; // socket open → FRBC active (RM side)
  const dialToActive = [];
  const problems = { dial: 0, closedEarly: 0, notOk: 0, sendThrew: 0, first: [] };
  const note = (kind, what) => {
    problems[kind]++;
    if (problems.first.length < 3) problems.first.push(`${kind}: ${what}`);
  };
  let stopping = false;
  let active = 0;
  let lastActiveAt = 0; // Date.now(), comparable across processes
  let sent = 0; // measurements sent
  const timers = [];

  // Every session sends a measurement each `interval` seconds, at a random phase.
  const startMeasuring = (sendOne) => {
    const ms = flags.interval * 1000;
    const t = setTimeout(() => {
      sendOne();
      timers.push(setInterval(sendOne, ms));
    }, Math.random() * ms);
    timers.push(t);
  };

  let connect;
  if (flags.client === 'raw') {
    const { WebSocket } = await import('ws');
    const desc = frameTemplate(description);
    const pm = frameTemplate(measurement);
    connect = (t0) => {
      const ws = new WebSocket(flags.url, { perMessageDeflate: false });
      let tOpen;
      const rm = scriptedRm({
        send: (text) => ws.readyState === 1 && ws.send(text),
        details: { ...details, resource_id: newId() },
        onActive: () => {
          const now = performance.now();
          toActive.push(now - tOpen);
          dialToActive.push(now - t0);
          active++;
          lastActiveAt = Date.now();
          ws.send(desc.make(newId()));
          startMeasuring(() => ws.readyState === 1 && (sent++, ws.send(pm.make(newId()))));
        },
        onStatus: (_s, status) => status !== 'OK' && note('notOk', status),
      });
      ws.on('open', () => {
        tOpen = performance.now();
        rm.start();
      });
      ws.on('message', (d) => rm.receive(d.toString('utf8')));
      ws.on('error', (e) => note('dial', e.message));
      ws.on('close', (code) => !stopping && note('closedEarly', `close ${code}`));
      open.push({ stop: () => ws.close(1000) });
    };
  } else {
    const { createRmClient } = await import('../dist/index.js');
    connect = (t0) => {
      let tOpen;
      const client = createRmClient({
        url: flags.url,
        details: { ...details, resource_id: newId() },
        reconnect: false,
        onDialError: (err) => note('dial', err.message),
        onSession(session) {
          tOpen = performance.now();
          session.on('controlType', ({ controlType }) => {
            if (controlType !== 'FILL_RATE_BASED_CONTROL') return;
            const now = performance.now();
            toActive.push(now - tOpen);
            dialToActive.push(now - t0);
            active++;
            lastActiveAt = Date.now();
            const check = (r) => r.status !== 'OK' && r.status !== 'CLOSED' && note('notOk', `${r.status} ${r.diagnosticLabel ?? ''}`);
            session.send(description).then(check);
            startMeasuring(() => {
              if (session.isClosed) return;
              try {
                sent++;
                session.send(measurement).then(check);
              } catch (err) {
                note('sendThrew', err.message);
              }
            });
          });
          session.on('close', ({ code, reason }) => !stopping && note('closedEarly', `${code} ${reason}`));
        },
      });
      open.push(client);
    };
  }

  // Progress for the orchestrator, which cannot ask `s2 cem` (--cem cli) how many are active.
  const progress = setInterval(() => process.send({ type: 'progress', active, lastActiveAt, sent }), 200);
  // Rate control: every 5 ms, open as many sessions as the schedule says are due.
  const t0 = performance.now();
  let started = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(count, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      while (started < due) {
        started++;
        connect(performance.now());
      }
      if (started >= count) return resolve();
      setTimeout(tick, 5);
    };
    tick();
  });
  process.send({ type: 'connected', started });
  process.on('message', async (m) => {
    if (m.type !== 'stop') return;
    stopping = true;
    clearInterval(progress);
    for (const t of timers) clearTimeout(t);
    await Promise.race([Promise.all(open.map((c) => c.stop())), sleep(10_000)]);
    process.send({ type: 'result', toActive, dialToActive, problems, active });
    setTimeout(() => process.exit(0), 20);
  });
}

// ---------------------------------------------------------------- orchestrator ---------------
const CLI = flags.cem === 'cli';
let requestId = 0;
async function ask(cem, type, extra = {}) {
  const id = ++requestId;
  // `s2 cem` (--cem cli) hears only what bench/_cem-agent.mjs listens for.
  cem.send(CLI ? { benchAgent: { type, id, ...extra } } : { type, id, ...extra });
  for (;;) {
    const m = await nextMessage(cem, 'reply', 120_000);
    if (m.id === id) return m.parts;
  }
}
const sum = (parts, f) => parts.reduce((a, p) => a + f(p), 0);

/** The URL `s2 cem` prints when it listens ('s2 cem listening on ws://… [with N workers …]'). */
function cliUrl(cem) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`s2 cem did not print its URL in 60 s: ${out}`)), 60_000);
    cem.stdout.setEncoding('utf8');
    cem.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /s2 cem listening on (ws:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        cem.stdout.removeAllListeners('data');
        cem.stdout.resume(); // --quiet: only errors would follow; keep the pipe drained
        resolve(m[1]);
      }
    });
  });
}

/** CPU ms of a process from /proc (Linux): for the load generators, whose CPU competes with the CEM's. */
function procCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // USER_HZ = 100
  } catch {
    return NaN;
  }
}

function fdLimit() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    return Number(line.split(/\s+/)[3]);
  } catch {
    return NaN;
  }
}

async function main() {
  const N = flags.n;
  const generators = flags.generators || Math.max(1, Math.ceil(N / 5000));
  const perGen = Math.ceil(N / generators);
  const fds = fdLimit();
  console.log(
    machineHeader(`s2-engine sessions benchmark${flags.quick ? ' (--quick: numbers are not meaningful)' : ''}`, [
      `load     N = ${N} ${flags.client === 'raw' ? 'scripted RMs (hand-made frames)' : 'createRmClient sessions'} from ${generators} generator process(es), ${flags.rate} connects/s in total,`,
      `         then FRBC.SystemDescription once and a PowerMeasurement every ${flags.interval} s per session`,
      CLI
        ? `cem      s2 cem --workers ${flags.workers} --quiet (the CLI: built-in policy; bench/_cem-agent.mjs reads memory/CPU; --expose-gc)`
        : `cem      ${flags.workers > 1 ? `cluster primary + ${flags.workers} workers sharing one port` : 'one process'} (${flags.cem === 'raw' ? 'raw ws with canned replies, no S2 engine: the floor' : 'createCemServer, default options'}, --expose-gc)`,
      `limits   open files ${fds} per process (needs > N ÷ workers + ~50 in a CEM process, > N ÷ G in a generator); ephemeral ports ${readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().replace(/\s+/, '–')}`,
    ]),
  );
  console.log('');
  // Every CEM worker holds its share of the sessions (the cluster primary hands them over).
  if (Number.isFinite(fds) && (Math.ceil(N / flags.workers) + 64 > fds || perGen + 64 > fds)) {
    console.log(`WARNING: ulimit -n ${fds} is too low for N = ${N}; raise it (ulimit -n) before running`);
  }

  const cemArgs = [
    '--role',
    'cem',
    '--workers',
    String(flags.workers),
    ...(flags.cem === 'raw' ? ['--cem', 'raw'] : []),
    ...(flags['heap-snapshot'] ? ['--heap-snapshot', flags['heap-snapshot']] : []),
  ];
  const cemFlags = flags['cem-flags'] ? flags['cem-flags'].split(/\s+/) : [];
  const cem = CLI
    ? fork(
        fileURLToPath(new URL('../dist/cli/main.js', import.meta.url)),
        ['cem', '--workers', String(flags.workers), '--quiet', '--port', '0'],
        {
          execArgv: ['--expose-gc', '--import', new URL('./_cem-agent.mjs', import.meta.url).href, ...cemFlags],
          stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
        },
      )
    : fork(SCRIPT, cemArgs, { execArgv: ['--expose-gc', ...cemFlags], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let stopping = false;
  cem.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`bench/sessions.mjs: the CEM process exited (${signal ?? code}) before the end`);
    process.exit(1);
  });
  const url = CLI ? await cliUrl(cem) : `ws://127.0.0.1:${(await nextMessage(cem, 'ready', 60_000)).port}`;
  const cpuMs = (parts) => sum(parts, (p) => (p.cpu.user + p.cpu.system) / 1000);
  const forkGen = (count, rate) =>
    fork(
      SCRIPT,
      [
        '--role',
        'gen',
        '--url',
        url,
        '--n',
        String(count),
        '--rate',
        String(rate),
        '--interval',
        String(flags.interval),
        '--client',
        flags.client,
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
  // The latest progress report of each generator (what `s2 cem` cannot tell us).
  const progress = new Map();
  const track = (g) => g.on('message', (m) => m?.type === 'progress' && progress.set(g, m));
  const fromGens = (f) => [...progress.values()].reduce((a, m) => a + f(m), 0);
  if (CLI) {
    // Warm-up, as the bench's own CEM does in-process: a few sessions through activation (every
    // worker gets some), so the baseline holds the validators and caches every session shares.
    const warm = forkGen(4 * flags.workers, 50);
    track(warm);
    while ((progress.get(warm)?.active ?? 0) < 4 * flags.workers) await sleep(50);
    warm.send({ type: 'stop' });
    await nextMessage(warm, 'result', 30_000);
    await exited(warm, true);
    progress.delete(warm);
    await sleep(500);
    await ask(cem, 'baseline');
  }

  const s0 = await ask(cem, 'status');
  const startAt = Date.now();
  const gens = [];
  for (let g = 0; g < generators; g++) {
    const count = Math.min(perGen, N - g * perGen);
    if (count <= 0) break;
    const gen = forkGen(count, (flags.rate * count) / N);
    track(gen);
    gens.push(gen);
  }
  const activeOf = (parts) => (CLI ? fromGens((m) => m.active) : sum(parts, (p) => p.active));

  const genCpu = () => gens.reduce((a, g) => a + procCpuMs(g.pid), 0);
  const genCpu0 = genCpu();
  // Wait for every session to be active (bounded: the schedule plus a generous margin).
  const deadline = Date.now() + ((N / flags.rate) * 1000 + 60_000);
  let status;
  let lastPrint = 0;
  for (;;) {
    status = await ask(cem, 'status');
    const activeNow = activeOf(status);
    if (activeNow >= N) break;
    if (Date.now() > deadline) {
      console.log(
        `WARNING: only ${activeNow} of ${N} sessions active after ${((Date.now() - startAt) / 1000).toFixed(0)} s; reporting what there is`,
      );
      break;
    }
    if (!flags.quick && Date.now() - lastPrint > 10_000) {
      lastPrint = Date.now();
      console.log(`  … ${activeNow} active after ${((Date.now() - startAt) / 1000).toFixed(0)} s`);
    }
    await sleep(flags.quick ? 20 : 200);
  }
  const activeAll = activeOf(status);
  const lastActiveAt = CLI
    ? Math.max(...[...progress.values()].map((m) => m.lastActiveAt))
    : Math.max(...status.map((p) => p.lastActiveAt));
  const connectCpu = cpuMs(status) - cpuMs(s0);
  // --cem cli --workers W: the cluster primary accepts every connection and hands it to a worker.
  const primaryCpu = cpuMs(status.filter((p) => p.primary)) - cpuMs(s0.filter((p) => p.primary));
  const connectWall = Math.max(...status.map((p) => p.at)) - startAt;
  const genConnectCpu = genCpu() - genCpu0;
  const connectGc = {
    count: sum(status, (p) => p.gc.count),
    ms: sum(status, (p) => p.gc.ms),
    max: Math.max(...status.map((p) => p.gc.max)),
  };

  // Every session sends its description right after activation: let them arrive, then GC.
  await sleep(flags.settle * 1000);
  const snap = await ask(cem, 'snapshot');
  const heapDelta = sum(snap, (p) => p.mem.heapUsed - p.baseline.heapUsed);
  const rssDelta = sum(snap, (p) => p.mem.rss - p.baseline.rss);
  const extDelta = sum(snap, (p) => p.mem.external - p.baseline.external);
  const snapActive = activeOf(snap);

  // Steady state: only measurements flow. CPU and messages over `measure` seconds.
  await ask(cem, 'loop-reset');
  const m0 = await ask(cem, 'status');
  const sent0 = fromGens((m) => m.sent);
  const genSteady0 = genCpu();
  await sleep(flags.measure * 1000);
  const m1 = await ask(cem, 'status');
  const genSteadyCpu = genCpu() - genSteady0;
  const steadyGc = { count: sum(m1, (p) => p.gc.count), ms: sum(m1, (p) => p.gc.ms), max: Math.max(...m1.map((p) => p.gc.max)) };
  const wall = Math.max(...m1.map((p) => p.at)) - Math.max(...m0.map((p) => p.at));
  // `s2 cem` cannot count what it received: there, the measurements the RMs sent.
  const msgs = CLI ? fromGens((m) => m.sent) - sent0 : sum(m1, (p) => p.measurements) - sum(m0, (p) => p.measurements);
  const cpu = cpuMs(m1) - cpuMs(m0);
  const rate = (msgs * 1000) / wall;
  const cpuShare = cpu / wall; // cores
  const lat = await ask(cem, 'latencies');

  for (const g of gens) g.send({ type: 'stop' });
  const results = await Promise.all(gens.map((g) => nextMessage(g, 'result', 60_000)));
  await Promise.all(gens.map((g) => exited(g, true)));
  stopping = true;
  await ask(cem, 'stop');
  await exited(cem, true);

  const cemLat = lat.flatMap((p) => p.latencies);
  const rmOpen = results.flatMap((r) => r.toActive);
  const rmDial = results.flatMap((r) => r.dialToActive);
  const goalLat = CLI ? rmOpen : cemLat;
  const problems = results.reduce(
    (a, r) => ({
      dial: a.dial + r.problems.dial,
      closedEarly: a.closedEarly + r.problems.closedEarly,
      notOk: a.notOk + r.problems.notOk,
      sendThrew: a.sendThrew + r.problems.sendThrew,
      first: [...a.first, ...r.problems.first],
    }),
    { dial: 0, closedEarly: 0, notOk: 0, sendThrew: 0, first: [] },
  );
  const allActiveS = (lastActiveAt - startAt) / 1000;
  const heapPer = heapDelta / N;
  const p = (xs, q) => `${percentile(xs, q).toFixed(1)} ms`;
  const line = (label, value, note = '') => console.log(`  ${label.padEnd(40)} ${String(value).padStart(19)}${note ? `   ${note}` : ''}`);

  console.log('results');
  line('sessions in FRBC active', `${activeAll} / ${N}`, snapActive !== activeAll ? `(${snapActive} at the memory snapshot)` : '');
  line(
    'time until all active',
    `${allActiveS.toFixed(1)} s`,
    `rate-limited ideal ${(N / flags.rate).toFixed(1)} s (${((allActiveS / (N / flags.rate)) * 100).toFixed(0)} %)`,
  );
  if (CLI) line('handshake→active p50 / p99 (CEM)', 'n/a', 's2 cem does not report it: the goal below uses the RM view');
  else
    line(
      'handshake→active p50 / p99 (CEM)',
      `${p(cemLat, 50)} / ${p(cemLat, 99)}`,
      `max ${p(cemLat, 100)}; accepted → SelectControlType answered OK`,
    );
  line(
    'handshake→active p50 / p99 (RM)',
    `${p(rmOpen, 50)} / ${p(rmOpen, 99)}`,
    `max ${p(rmOpen, 100)}; socket open → SelectControlType received`,
  );
  line('dial→active p50 / p99 (RM)', `${p(rmDial, 50)} / ${p(rmDial, 99)}`, 'TCP connect + upgrade included');
  line('CEM heap per session', fmtBytes(heapPer), `(${fmtBytes(heapDelta)} over N, after full GC; baseline after warm-up)`);
  line('CEM RSS per session', fmtBytes(rssDelta / N), `external ${fmtBytes(extDelta / N)} per session`);
  line(
    'CEM CPU per handshake (connect phase)',
    `${((connectCpu * 1000) / N).toFixed(0)} µs`,
    `${(connectCpu / 1000).toFixed(1)} s CPU for the whole connect phase, descriptions included${CLI && flags.workers > 1 ? ' (workers + primary)' : ''}`,
  );
  if (CLI && flags.workers > 1)
    line(
      '  of which the cluster primary',
      `${((primaryCpu * 1000) / N).toFixed(0)} µs`,
      'accepting and handing connections to the workers',
    );
  line(
    'CPU in the connect phase: CEM / generators',
    `${((connectCpu / connectWall) * 100).toFixed(0)} % / ${((genConnectCpu / connectWall) * 100).toFixed(0)} %`,
    `of one core, over ${(connectWall / 1000).toFixed(1)} s (generators: all ${gens.length} together)`,
  );
  line(
    'CEM GC in the connect phase',
    `${connectGc.count} / ${connectGc.ms.toFixed(0)} ms`,
    `pauses / total; longest ${connectGc.max.toFixed(1)} ms`,
  );
  line('measurements/s in steady state', fmtRate(rate), `${msgs} in ${(wall / 1000).toFixed(1)} s`);
  line('CEM CPU at that rate', `${(cpuShare * 100).toFixed(1)} %`, 'of one core (heartbeats and timers included)');
  line(
    'CEM CPU per 1,000 measurements/s',
    `${((cpuShare * 100 * 1000) / rate).toFixed(1)} %`,
    `of one core = ${((cpu * 1000) / msgs).toFixed(0)} µs per measurement`,
  );
  line('generators CPU at that rate', `${((genSteadyCpu / wall) * 100).toFixed(1)} %`, `of one core, all ${gens.length} together`);
  line(
    'CEM event-loop delay p99 / max',
    `${Math.max(...lat.map((x) => x.loopP99)).toFixed(1)} / ${Math.max(...lat.map((x) => x.loopMax)).toFixed(1)} ms`,
    'during the steady state',
  );
  line(
    'CEM GC in the steady state',
    `${steadyGc.count} / ${steadyGc.ms.toFixed(0)} ms`,
    `pauses / total; longest ${steadyGc.max.toFixed(1)} ms`,
  );
  if (snap.some((s) => s.snapshotFile)) line('heap snapshot(s)', '', snap.map((s) => s.snapshotFile).join(', '));
  const bad = problems.dial + problems.closedEarly + problems.notOk + problems.sendThrew;
  line(
    'problems',
    bad,
    bad
      ? `dial ${problems.dial}, closed early ${problems.closedEarly}, non-OK ${problems.notOk}, send threw ${problems.sendThrew}: ${problems.first.slice(0, 3).join(' | ')}`
      : '',
  );
  console.log('');
  if (flags.cem === 'raw') {
    console.log('goals: not judged for --cem raw (a floor to compare with, not an S2 CEM)');
    return;
  }
  const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
  console.log(
    `goal: ${GOALS.sessions} sessions on this machine — ${N >= GOALS.sessions ? `${activeAll} active — ${verdict(activeAll >= GOALS.sessions)}` : `not tried (N = ${N}; run --n ${GOALS.sessions})`}`,
  );
  console.log(
    `goal: ≤ ${GOALS.heapPerSession / 1024} KiB CEM heap per session — ${fmtBytes(heapPer)} — ${verdict(heapPer <= GOALS.heapPerSession)}`,
  );
  console.log(
    `goal: p99 handshake→active < ${GOALS.p99Ms} ms at ${flags.rate} connects/s (${CLI ? 'RM' : 'CEM'} view) — ${percentile(goalLat, 99).toFixed(1)} ms — ${verdict(percentile(goalLat, 99) < GOALS.p99Ms)}`,
  );
}

await runRole('bench/sessions.mjs', flags.role, { main, cem: cemProcess, gen: generator });
