// Flood benchmark (issue 15 item 5): one CEM, N well-behaved RM sessions doing request/response
// round trips at a steady rate (a PowerMeasurement, answered by its ReceptionStatus), and one peer
// that sends maximum-size frames as fast as its socket takes them. Reports the well-behaved
// sessions' latency p50/p99/max with the flood off (baseline, same run) and on, with receive
// budgets on (the default) and off, and how long the flooder lasted.
//
//   npm run bench:flood                 (builds, then: node bench/flood.mjs)
//   node bench/flood.mjs --n 20 --interval 50 --seconds 5
//   node bench/flood.mjs --frame ceiling   (flood frames of a bounded type: refused by the size ceiling)
//   node bench/flood.mjs --frame junk      (flood frames that are not JSON)
//   node bench/flood.mjs --quick           (tiny N, short phases: a smoke run, numbers not meaningful)
//
// Flood frames (`--frame`, each exactly --frame-bytes, default 4 MiB = the default maxFrameBytes):
//   description  an FRBC.SystemDescription with too many actuators: parsed and schema-checked in
//                full (no size ceiling applies to descriptions) — the costliest frame (default)
//   ceiling      an FRBC.ActuatorStatus padded with a long string: refused by its size ceiling unparsed
//   junk         not JSON
//
// Processes (127.0.0.1): this script forks itself as the CEM (`--role cem`: createCemServer with
// receiveBudget default or false) and as the flooder (`--role flood`); the well-behaved RMs are
// scripted raw `ws` clients in this process, so their latency is the CEM's. Before the baseline
// the CEM decodes one flood frame (validators compiled, as in a CEM that has run a while). Never
// exits non-zero because of a result: the goal line says PASS or FAIL.

import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  exited,
  fmtBytes,
  frameTemplate,
  frbcTraffic,
  machineHeader,
  newId,
  nextMessage,
  parseArgs,
  percentile,
  scriptedRm,
  sleep,
} from './_lib.mjs';

const SCRIPT = fileURLToPath(import.meta.url);
const { flags } = parseArgs(
  process.argv.slice(2),
  {
    quick: false,
    role: 'main',
    n: 20,
    interval: 50,
    seconds: 5,
    frame: 'description',
    'frame-bytes': 4 * 1024 * 1024,
    budgets: 'both',
    // internal
    url: '',
    budget: 'on',
  },
  'bench/flood.mjs',
);
if (flags.quick) Object.assign(flags, { n: Math.min(flags.n, 4), seconds: 0.6 });
const GOAL_P99_MS = 50;

// ---------------------------------------------------------------- flood frames ---------------
/** One flood frame of exactly `bytes` bytes of UTF-8. */
function floodFrame(kind, bytes) {
  const pad = (head, tail) => `${head}${'x'.repeat(Math.max(0, bytes - head.length - tail.length))}${tail}`;
  if (kind === 'junk') return 'x'.repeat(bytes);
  if (kind === 'ceiling') {
    const head = `{"message_type":"FRBC.ActuatorStatus","message_id":"${newId()}","actuator_id":"${newId()}","active_operation_mode_id":"${newId()}","operation_mode_factor":0.5,"padding":"`;
    return pad(head, '"}');
  }
  if (kind !== 'description') throw new Error(`--frame must be description, ceiling or junk, got '${kind}'`);
  // Real actuators, many more than the schema's 10: JSON.parse and Ajv walk all of them.
  const { description } = frbcTraffic();
  const actuator = description.actuators[0];
  const unit = JSON.stringify(actuator).length + 1;
  const shell = JSON.stringify({ ...description, message_id: newId(), actuators: [] });
  const count = Math.max(1, Math.floor((bytes - shell.length - 64) / unit));
  const actuators = Array.from({ length: count }, () => ({ ...actuator, id: newId() }));
  let text;
  let size;
  // Bytes, not characters: the fixture's names are not all ASCII, and maxFrameBytes counts bytes.
  while ((size = Buffer.byteLength((text = JSON.stringify({ ...description, message_id: newId(), actuators })))) > bytes) actuators.pop();
  // Pad to the exact size with whitespace before the closing brace (still the same JSON).
  return `${text.slice(0, -1)}${' '.repeat(bytes - size)}}`;
}

// ---------------------------------------------------------------- CEM ------------------------
async function cem() {
  const { createCemServer, decode } = await import('../dist/index.js');
  // Warm-up: the validators of the flood frame's type compiled, as in a CEM that has run a while.
  decode(floodFrame(flags.frame, Math.min(flags['frame-bytes'], 256 * 1024)), { ceilings: true });
  const closes = [];
  const server = await createCemServer({
    host: '127.0.0.1',
    port: 0,
    logger: false,
    ...(flags.budget === 'off' ? { receiveBudget: false } : {}),
    onSession(session) {
      session.on('close', ({ code, reason }) => closes.push({ code, reason, at: performance.now() }));
    },
  });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  process.on('message', async (m) => {
    if (m.type === 'sample') {
      process.send({ type: 'sample', cpu: process.cpuUsage(), at: performance.now(), loopMax: loop.max / 1e6, closes: closes.splice(0) });
      loop.reset();
    }
    if (m.type === 'stop') {
      loop.disable();
      await server.close();
      process.send({ type: 'stopped' });
      setTimeout(() => process.exit(0), 20);
    }
  });
  process.send({ type: 'ready', port: server.port });
}

// ---------------------------------------------------------------- flooder --------------------
async function flooder() {
  const { WebSocket } = await import('ws');
  const { details } = frbcTraffic();
  const frame = floodFrame(flags.frame, flags['frame-bytes']);
  const ws = new WebSocket(flags.url, { perMessageDeflate: false });
  let sent = 0;
  let t0 = 0;
  let closed;
  let stopping = false;
  const rm = scriptedRm({
    send: (text) => ws.readyState === 1 && ws.send(text),
    details: { ...details, resource_id: newId() },
    onActive: () => process.send({ type: 'active' }),
  });
  ws.on('open', () => rm.start());
  ws.on('message', (d) => rm.receive(d.toString('utf8')));
  ws.on('error', () => undefined);
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString(), afterMs: t0 ? performance.now() - t0 : 0 };
    if (!stopping) process.send({ type: 'closed', ...closed, sent });
  });
  const pump = () => {
    if (ws.readyState !== 1 || stopping || !ws._socket?.writable) return;
    // As fast as the socket takes them: keep about two frames queued, then wait for the socket to
    // drain. A few frames per turn at most: a reset socket reports it only on a later turn.
    for (let i = 0; i < 4 && ws.bufferedAmount < 2 * frame.length; i++) {
      ws.send(frame);
      sent++;
    }
    if (ws.bufferedAmount < 2 * frame.length) setImmediate(pump);
    else ws._socket.once('drain', pump);
  };
  process.on('message', (m) => {
    if (m.type === 'flood') {
      t0 = performance.now();
      pump();
    }
    if (m.type === 'stop') {
      stopping = true;
      process.send({ type: 'result', sent, closed });
      ws.terminate();
      setTimeout(() => process.exit(0), 20);
    }
  });
}

// ---------------------------------------------------------------- orchestrator ---------------
/** N scripted RMs, each sending a PowerMeasurement every `interval` ms and timing its ReceptionStatus. */
async function wellBehaved(url, n, intervalMs) {
  const { WebSocket } = await import('ws');
  const { description, details, measurement } = frbcTraffic();
  const desc = frameTemplate(description);
  const pm = frameTemplate(measurement);
  let samples = [];
  let problems = 0;
  let running = true;
  const timers = [];
  const sockets = [];
  const pending = new Map();
  let active = 0;
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    sockets.push(ws);
    const rm = scriptedRm({
      send: (text) => ws.readyState === 1 && ws.send(text),
      details: { ...details, resource_id: newId() },
      onActive: () => {
        active++;
        ws.send(desc.make(newId()));
        const tick = () => {
          if (!running || ws.readyState !== 1) return;
          const id = newId();
          pending.set(id, performance.now());
          ws.send(pm.make(id));
        };
        // A random phase per session, then a steady rate.
        timers.push(
          setTimeout(() => {
            tick();
            timers.push(setInterval(tick, intervalMs));
          }, Math.random() * intervalMs),
        );
      },
      onStatus: (subject, status) => {
        const t = pending.get(subject);
        if (t === undefined) return;
        pending.delete(subject);
        if (status !== 'OK') problems++;
        samples.push(performance.now() - t);
      },
    });
    ws.on('open', () => rm.start());
    ws.on('message', (d) => rm.receive(d.toString('utf8')));
    ws.on('error', () => problems++);
    ws.on('close', () => running && problems++);
  }
  const deadline = Date.now() + 10_000;
  while (active < n && Date.now() < deadline) await sleep(10);
  return {
    active: () => active,
    /** The latencies since the last call (answers still pending are counted when they come). */
    take() {
      const out = samples;
      samples = [];
      return out;
    },
    /** Requests still unanswered, with their age so far (a stalled CEM's tail). */
    outstanding: () => [...pending.values()].map((t) => performance.now() - t),
    problems: () => problems,
    stop() {
      running = false;
      for (const t of timers) clearTimeout(t);
      for (const ws of sockets) ws.close(1000);
    },
  };
}

function ask(child, type, reply) {
  child.send({ type });
  return nextMessage(child, reply, 60_000);
}

const fmtMs = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : 'n/a');

async function runMode(budget) {
  const cemChild = fork(SCRIPT, [
    '--role',
    'cem',
    '--budget',
    budget,
    '--frame',
    flags.frame,
    '--frame-bytes',
    String(flags['frame-bytes']),
  ]);
  const { port } = await nextMessage(cemChild, 'ready');
  const url = `ws://127.0.0.1:${port}`;
  const rms = await wellBehaved(url, flags.n, flags.interval);
  const phaseMs = flags.seconds * 1000;
  // Let the sessions settle (descriptions sent, first round trips), then measure.
  await sleep(Math.min(500, phaseMs / 2));
  rms.take();
  let s0 = await ask(cemChild, 'sample', 'sample');

  await sleep(phaseMs);
  const baseline = rms.take();
  let s1 = await ask(cemChild, 'sample', 'sample');
  const baseCpu = (s1.cpu.user + s1.cpu.system - s0.cpu.user - s0.cpu.system) / 1000 / (s1.at - s0.at);

  const flood = fork(SCRIPT, ['--role', 'flood', '--url', url, '--frame', flags.frame, '--frame-bytes', String(flags['frame-bytes'])]);
  await nextMessage(flood, 'active', 10_000);
  s0 = await ask(cemChild, 'sample', 'sample');
  rms.take();
  flood.send({ type: 'flood' });
  let floodClosed;
  flood.once('message', (m) => m.type === 'closed' && (floodClosed = m));
  await sleep(phaseMs);
  // Requests still waiting at the end of the phase count with their age so far.
  const during = [...rms.take(), ...rms.outstanding()];
  s1 = await ask(cemChild, 'sample', 'sample');
  const floodCpu = (s1.cpu.user + s1.cpu.system - s0.cpu.user - s0.cpu.system) / 1000 / (s1.at - s0.at);
  const result = await ask(flood, 'stop', 'result');
  await exited(flood, true);
  rms.stop();
  await ask(cemChild, 'stop', 'stopped');
  await exited(cemChild, true);
  const budgetCloses = s1.closes.filter((c) => c.code === 4003);
  return {
    budget,
    baseline,
    during,
    baseCpu,
    floodCpu,
    loopMax: s1.loopMax,
    sent: result.sent,
    closed: floodClosed ?? result.closed,
    budgetCloses,
    problems: rms.problems(),
    active: rms.active(),
  };
}

async function main() {
  const sample = floodFrame(flags.frame, flags['frame-bytes']);
  console.log(
    machineHeader(`s2-engine flood benchmark${flags.quick ? ' (--quick: numbers are not meaningful)' : ''}`, [
      `load     ${flags.n} scripted RMs, one PowerMeasurement → ReceptionStatus round trip every ${flags.interval} ms each (${((flags.n * 1000) / flags.interval).toFixed(0)}/s in all)`,
      `flood    one peer sending ${flags.frame} frames of ${fmtBytes(sample.length)} as fast as its socket takes them; phases of ${flags.seconds} s: flood off, then on`,
      `cem      createCemServer in a child process, default limits (maxFrameBytes 4 MiB); budgets on = the defaults, off = receiveBudget: false`,
    ]),
  );
  console.log('');
  const modes = flags.budgets === 'both' ? ['on', 'off'] : [flags.budgets];
  const rows = [];
  for (const budget of modes) rows.push(await runMode(budget));

  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(22) : String(c).padStart(12))).join(' ');
  console.log(line(['budgets / flood', 'samples', 'p50', 'p99', 'max', '> 50 ms', 'CEM CPU']));
  for (const r of rows) {
    for (const [name, xs, cpu] of [
      ['off', r.baseline, r.baseCpu],
      ['on', r.during, r.floodCpu],
    ]) {
      console.log(
        line([
          `budgets ${r.budget} / flood ${name}`,
          xs.length,
          fmtMs(percentile(xs, 50)),
          fmtMs(percentile(xs, 99)),
          fmtMs(Math.max(...xs)),
          xs.filter((x) => x > GOAL_P99_MS).length,
          `${(cpu * 100).toFixed(0)} %`,
        ]),
      );
    }
  }
  console.log('');
  for (const r of rows) {
    const c = r.closed;
    console.log(
      `flooder, budgets ${r.budget}: ${r.sent} frame(s) sent; ${
        c ? `closed ${c.code} after ${fmtMs(c.afterMs)}${c.reason ? ` (${c.reason})` : ''}` : `still open after ${flags.seconds} s`
      }; CEM budget closes ${r.budgetCloses.length}; CEM event-loop max ${fmtMs(r.loopMax)}`,
    );
  }
  const problems = rows.reduce((n, r) => n + r.problems, 0);
  console.log(
    `problems (well-behaved sessions refused, closed or not active)  ${problems + rows.reduce((n, r) => n + (flags.n - r.active), 0)}`,
  );
  const on = rows.find((r) => r.budget === 'on');
  if (on) {
    const p99 = percentile(on.during, 99);
    console.log(
      `goal: p99 < ${GOAL_P99_MS} ms for the other sessions while one peer floods (budgets on) — ${fmtMs(p99)} — ${p99 < GOAL_P99_MS ? 'PASS' : 'FAIL'}`,
    );
  }
}

// A child whose orchestrator is gone (killed, crashed) must not flood on, or serve, forever.
if (flags.role !== 'main') process.on('disconnect', () => process.exit(0));
if (flags.role === 'cem') await cem();
else if (flags.role === 'flood') await flooder();
else await main();
