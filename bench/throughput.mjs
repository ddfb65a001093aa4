// Throughput benchmark: one RM session sends a realistic FRBC mix (PowerMeasurement,
// FRBC.StorageStatus, FRBC.ActuatorStatus, FRBC.UsageForecast) to a CEM over WebSocket on
// 127.0.0.1, `--window` messages in flight, each answered by a ReceptionStatus — messages/s through
// the whole stack, against a raw `ws` server answering a ReceptionStatus-sized reply to the same
// frames with no S2 logic, driven by a raw `ws` client the same way. All in one run, so the ratios
// compare like with like (docs/design.md "Conventions").
//
//   npm run bench:throughput          (builds, then: node bench/throughput.mjs)
//   node bench/throughput.mjs --quick (short rounds: a smoke run, numbers not meaningful)
//   node bench/throughput.mjs --workers 2 --connections 2
//                                     (the s2 CEM is `s2 cem --workers 2 --quiet --receive-budget off`, the CLI itself)
//   node bench/throughput.mjs --server-flags="--cpu-prof --cpu-prof-dir=/tmp/prof"
//                                     (node flags for the s2 CEM process: profile it)
//
// Processes: this script forks itself as each server (`--role server-raw`, `--role server-s2`) and,
// per configuration, as the load generator (`--role client`), so load and system under test never
// share an event loop. Rows:
//   raw ws           raw client → raw server that finds message_id by string search, replies RS-sized
//   raw ws + JSON    same, but the server JSON.parses the frame and JSON.stringifies its reply
//   raw RM → s2 CEM  a scripted RM (hand-written frames, no S2 engine) → the s2 CEM: the CEM's cost
//   s2 RM → s2 CEM   createRmClient → createCemServer: both ends are s2-engine (the goal row)
// Never exits non-zero because of a result: the goal line says PASS or FAIL.

import { fork, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  exited,
  fmtRate,
  frameTemplate,
  frbcTraffic,
  idOf,
  machineHeader,
  median,
  newId,
  nextMessage,
  parseArgs,
  runRole,
  receptionStatusText,
  scriptedRm,
} from './_lib.mjs';

const SCRIPT = fileURLToPath(import.meta.url);
const { flags } = parseArgs(
  process.argv.slice(2),
  {
    quick: false,
    role: 'main',
    window: 128,
    connections: 1,
    warmup: 2,
    rounds: 5,
    'round-seconds': 1,
    repeat: 1,
    workers: 0,
    only: '',
    'server-flags': '',
    'client-flags': '',
    // internal (client role)
    url: '',
    driver: '',
    mode: '',
  },
  'bench/throughput.mjs',
);
if (flags.quick) Object.assign(flags, { warmup: 0.2, rounds: 3, 'round-seconds': 0.15, window: Math.min(flags.window, 32) });
const GOAL = 0.5; // s2 RM → s2 CEM ≥ 50 % of raw ws

const splitFlags = (s) => (s ? s.split(/\s+/).filter(Boolean) : []);

// ---------------------------------------------------------------- servers --------------------
async function serverRaw() {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 4 * 1024 * 1024 });
  wss.on('connection', (ws, req) => {
    const json = req.url === '/json';
    ws.on('message', (data) => {
      const frame = data.toString('utf8');
      if (json) {
        const m = JSON.parse(frame);
        ws.send(JSON.stringify({ message_type: 'ReceptionStatus', subject_message_id: m.message_id, status: 'OK' }));
      } else {
        ws.send(receptionStatusText(idOf(frame)));
      }
    });
  });
  await new Promise((r) => wss.once('listening', r));
  serveControl(() => new Promise((r) => wss.close(() => r())));
  process.send({ type: 'ready', port: wss.address().port });
}

async function serverS2() {
  const { createCemServer } = await import('../dist/index.js');
  // receiveBudget: false — this benchmark floods one connection on purpose (receive budgets would close it).
  const server = await createCemServer({ port: 0, host: '127.0.0.1', receiveBudget: false });
  serveControl(() => server.close());
  process.send({ type: 'ready', port: server.port });
}

/** IPC: `cpu` answers process.cpuUsage(); `stop` closes and exits (writes --cpu-prof on exit). */
function serveControl(close) {
  process.on('message', async (m) => {
    if (m.type === 'cpu') process.send({ type: 'cpu', cpu: process.cpuUsage(), at: performance.now() });
    if (m.type === 'stop') {
      await close();
      process.exit(0);
    }
  });
}

// ---------------------------------------------------------------- client ---------------------
async function client() {
  const { mix, description, details } = frbcTraffic();
  const connections = flags.connections;
  const window = flags.window;
  let completed = 0;
  let errors = 0;
  let running = true;
  const firstError = [];
  const noteError = (what) => {
    errors++;
    if (firstError.length < 3) firstError.push(what);
  };

  const starters = [];
  if (flags.driver === 'raw') {
    const { WebSocket } = await import('ws');
    const templates = mix.map(frameTemplate);
    const descTemplate = frameTemplate(description);
    for (let c = 0; c < connections; c++) {
      const ws = new WebSocket(flags.url + (flags.mode === 'json' ? '/json' : ''), { perMessageDeflate: false });
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      let i = c;
      const sendNext = () => ws.send(templates[i++ % templates.length].make(newId()));
      if (flags.mode === 's2') {
        // The CEM is s2-engine: do the S2 handshake by hand, then the description, then the load.
        let descId;
        let resolveActive;
        const ready = new Promise((r) => (resolveActive = r));
        const rm = scriptedRm({
          send: (t) => ws.send(t),
          details,
          onActive: () => {
            descId = newId();
            ws.send(descTemplate.make(descId));
          },
          onStatus: (subject, status) => {
            if (subject === descId) {
              if (status !== 'OK') noteError(`description answered ${status}`);
              descId = undefined;
              return resolveActive();
            }
            if (!rm.active) return; // answers to our Handshake and details
            completed++;
            if (status !== 'OK') noteError(`answered ${status}`);
            if (running) sendNext();
          },
        });
        ws.on('message', (data) => rm.receive(data.toString('utf8')));
        rm.start();
        await ready;
      } else {
        ws.on('message', () => {
          completed++;
          if (running) sendNext();
        });
      }
      starters.push(() => {
        for (let k = 0; k < window; k++) sendNext();
      });
    }
  } else {
    const { createRmClient } = await import('../dist/index.js');
    for (let c = 0; c < connections; c++) {
      const session = await new Promise((resolve, reject) => {
        createRmClient({
          url: flags.url,
          details,
          reconnect: false,
          receiveBudget: false,
          onDialError: reject,
          onSession: (s) => {
            s.on('controlType', ({ controlType }) => controlType === 'FILL_RATE_BASED_CONTROL' && resolve(s));
            s.on('close', ({ code, reason }) => reject(new Error(`session closed ${code} ${reason}`)));
          },
        });
      });
      const r = await session.send(description);
      if (r.status !== 'OK') noteError(`description answered ${r.status}`);
      let i = c;
      const sendNext = () => {
        session.send(mix[i++ % mix.length]).then(onResult, (err) => noteError(err.message));
      };
      const onResult = (result) => {
        completed++;
        if (result.status !== 'OK') noteError(`answered ${result.status} ${result.diagnosticLabel ?? ''}`);
        if (running) sendNext();
      };
      starters.push(() => {
        for (let k = 0; k < window; k++) sendNext();
      });
    }
  }

  for (const start of starters) start();
  await new Promise((r) => setTimeout(r, flags.warmup * 1000));
  process.send({ type: 'mark' });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const rounds = [];
  let last = completed;
  let lastT = t0;
  for (let r = 0; r < flags.rounds; r++) {
    await new Promise((res) => setTimeout(res, flags['round-seconds'] * 1000));
    const now = performance.now();
    rounds.push(((completed - last) * 1000) / (now - lastT));
    last = completed;
    lastT = now;
  }
  const cpu1 = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  running = false;
  process.send({ type: 'done', rounds, errors, firstError, cpu: (cpu1.user + cpu1.system) / 1000 / wall });
  // Outstanding sends finish (or the server stops); exit without waiting for anything.
  setTimeout(() => process.exit(0), 50);
}

// ---------------------------------------------------------------- CPU of the CLI (Linux /proc) --
function procTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}
/** CPU ms of a process and its direct children (the cluster primary and its workers). */
function treeCpuMs(root) {
  let ticks = procTicks(root)?.ticks ?? 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const p = procTicks(d);
    if (p && p.ppid === root) ticks += p.ticks;
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

// ---------------------------------------------------------------- orchestrator ---------------
async function startForked(role, execArgv = []) {
  const child = fork(SCRIPT, ['--role', role], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await nextMessage(child, 'ready', 30_000);
  return {
    url: `ws://127.0.0.1:${port}`,
    child,
    async cpuMs() {
      child.send({ type: 'cpu' });
      const { cpu } = await nextMessage(child, 'cpu');
      return (cpu.user + cpu.system) / 1000;
    },
    async stop() {
      child.send({ type: 'stop' });
      await exited(child);
    },
  };
}

async function startCli(workers) {
  const bin = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
  const child = spawn(
    process.execPath,
    [...splitFlags(flags['server-flags']), bin, 'cem', '--workers', String(workers), '--quiet', '--port', '0', '--receive-budget', 'off'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  // Printed once the server (with --workers N > 1: every worker) is listening.
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/s2 cem listening on (ws:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`s2 cem exited ${code}: ${out}`)));
  });
  return {
    url,
    child,
    cpuMs: async () => treeCpuMs(child.pid),
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

async function runClient(server, driver, mode) {
  const args = [
    '--role',
    'client',
    '--url',
    server.url,
    '--driver',
    driver,
    '--mode',
    mode,
    '--window',
    String(flags.window),
    '--connections',
    String(flags.connections),
  ];
  for (const k of ['warmup', 'rounds', 'round-seconds']) args.push(`--${k}`, String(flags[k]));
  const child = fork(SCRIPT, args, { execArgv: splitFlags(flags['client-flags']), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const done = nextMessage(child, 'done', 120_000);
  await nextMessage(child, 'mark', 60_000);
  const s0 = await server.cpuMs();
  const t0 = performance.now();
  const result = await done;
  const s1 = await server.cpuMs();
  const wall = performance.now() - t0;
  await exited(child, true);
  return { ...result, serverCpu: (s1 - s0) / wall };
}

async function main() {
  const { mix } = frbcTraffic();
  const bytes = mix.map((m) => frameTemplate(m).bytes);
  const avg = bytes.reduce((a, b) => a + b, 0) / bytes.length;
  const s2Label = flags.workers ? `s2 cem --workers ${flags.workers}` : 's2 CEM';
  console.log(
    machineHeader(
      `s2-engine throughput benchmark${flags.quick ? ' (--quick: numbers are not meaningful)' : ''}`,
      [
        `load     ${flags.connections} connection(s) × window ${flags.window} in flight; mix of ${mix.length}: ${mix.map((m) => m.message_type).join(', ')}`,
        `         frame bytes ${bytes.join('/')} (mean ${avg.toFixed(0)}); every reply a ReceptionStatus (${receptionStatusText(newId()).length} bytes)`,
        `rounds   ${flags.warmup} s warm-up, then ${flags.rounds} × ${flags['round-seconds']} s (median), ×${flags.repeat} repeat(s) in rotated order`,
        `procs    every server and every load generator its own process on 127.0.0.1; s2 CEM = ${flags.workers ? `the CLI, ${flags.workers} worker(s)` : 'createCemServer in a forked child'}`,
        flags['server-flags'] ? `flags    s2 CEM node flags: ${flags['server-flags']}` : '',
      ].filter(Boolean),
    ),
  );
  console.log('');

  const [raw, s2] = await Promise.all([
    startForked('server-raw'),
    flags.workers ? startCli(flags.workers) : startForked('server-s2', splitFlags(flags['server-flags'])),
  ]);
  let configs = [
    { name: 'raw ws', server: raw, driver: 'raw', mode: 'id' },
    { name: 'raw ws + JSON', server: raw, driver: 'raw', mode: 'json' },
    { name: `raw RM → ${s2Label}`, server: s2, driver: 'raw', mode: 's2' },
    { name: `s2 RM → ${s2Label}`, server: s2, driver: 's2', mode: 's2', goal: true },
  ];
  if (flags.only) configs = configs.filter((c) => c.name === 'raw ws' || c.name.includes(flags.only));
  const results = new Map(configs.map((c) => [c.name, { rounds: [], serverCpu: [], clientCpu: [], errors: 0, firstError: [] }]));
  try {
    for (let rep = 0; rep < flags.repeat; rep++) {
      for (let k = 0; k < configs.length; k++) {
        const c = configs[(k + rep) % configs.length];
        const r = await runClient(c.server, c.driver, c.mode);
        const acc = results.get(c.name);
        acc.rounds.push(...r.rounds);
        acc.serverCpu.push(r.serverCpu);
        acc.clientCpu.push(r.cpu);
        acc.errors += r.errors;
        acc.firstError.push(...r.firstError);
      }
    }
  } finally {
    await raw.stop();
    await s2.stop();
  }

  const base = median(results.get('raw ws').rounds);
  const cols = ['configuration', 'msg/s', '÷ raw ws', 'noise', 'server CPU', 'client CPU', 'server µs/msg', 'errors'];
  const widths = [30, 9, 9, 6, 11, 11, 13, 6];
  const row = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' ');
  console.log(row(cols));
  console.log(row(widths.map((w) => '-'.repeat(w))));
  let goalRatio = NaN;
  for (const c of configs) {
    const r = results.get(c.name);
    const rate = median(r.rounds);
    const ratio = rate / base;
    if (c.goal) goalRatio = ratio;
    const cpu = median(r.serverCpu);
    console.log(
      row([
        c.name,
        fmtRate(rate),
        `${(ratio * 100).toFixed(0)} %`,
        `${Math.round(((Math.max(...r.rounds) - Math.min(...r.rounds)) / rate) * 100)}%`,
        `${(cpu * 100).toFixed(0)} %`,
        `${(median(r.clientCpu) * 100).toFixed(0)} %`,
        ((cpu * 1e6) / rate).toFixed(1),
        r.errors,
      ]),
    );
    if (r.errors) console.log(`  WARNING: ${c.name}: ${r.errors} non-OK answers, e.g. ${r.firstError.slice(0, 2).join(' | ')}`);
  }
  // The client side's cost too (issue 13 asks for both sides); a separate line keeps the table's columns stable.
  console.log(
    `client µs/msg: ${configs
      .map((c) => {
        const r = results.get(c.name);
        return `${c.name} ${((median(r.clientCpu) * 1e6) / median(r.rounds)).toFixed(1)}`;
      })
      .join(' · ')}`,
  );
  console.log('');
  console.log('msg/s: messages answered per second (median of rounds); ÷ raw ws: that rate over the raw ws row;');
  console.log('CPU: process CPU time ÷ wall time over the measured rounds (100 % = one core; the machine has the');
  console.log('cores shown above, load generator included); server µs/msg: server CPU time per answered message.');
  console.log(
    `goal: s2 RM → s2 CEM ≥ ${GOAL * 100} % of raw ws — ${(goalRatio * 100).toFixed(0)} % — ${goalRatio >= GOAL ? 'PASS' : 'FAIL'}`,
  );
}

await runRole('bench/throughput.mjs', flags.role, { main, 'server-raw': serverRaw, 'server-s2': serverS2, client });
