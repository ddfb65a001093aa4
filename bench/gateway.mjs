// RM gateway benchmark: one process hosting N RM sessions (a cloud or LAN gateway representing many
// devices) against one CEM in another process, over WebSocket on 127.0.0.1.
//
//   npm run bench:gateway                     (builds, then: node bench/gateway.mjs, N = 1,000)
//   node bench/gateway.mjs --mode clients     (only N × createRmClient, all started at once)
//   node bench/gateway.mjs --mode gateway --rate 200   (only createRmGateway, 200 dials/s)
//   node bench/gateway.mjs --quick            (N = 20: a smoke run, numbers not meaningful)
//   node bench/gateway.mjs --mode gateway --heap-snapshot /tmp/snap   (RM-host heap snapshots before
//                                             and after: compare them with bench/heap-summary.mjs)
//
// Two ways of hosting the same N devices, each in a fresh RM process (and a fresh CEM process):
//   clients  N independent createRmClient calls made at once — what a user writes first;
//   gateway  one createRmGateway({ devices, connectRate }) — dials at a bounded rate, one logger.
// Every device offers FRBC, the CEM selects it, the device sends its FRBC.SystemDescription once.
// Reports per mode: time from start until every device is in FRBC active, RM heap and RSS per
// session (after − before, full GC in the RM process, ÷ N; the baseline is taken after one warm-up
// session), RM CPU per session for the connect phase, dial failures and early closes. Never exits
// non-zero because of a result: the goal lines say PASS or FAIL.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import {
  exited,
  fmtBytes,
  frbcTraffic,
  machineHeader,
  memory,
  newId,
  nextMessage,
  parseArgs,
  runRole,
  settleHeap,
  sleep,
} from './_lib.mjs';

const SCRIPT = fileURLToPath(import.meta.url);
const { flags } = parseArgs(
  process.argv.slice(2),
  { quick: false, role: 'main', mode: 'both', n: 1000, rate: 200, settle: 2, url: '', 'heap-snapshot': '' },
  'bench/gateway.mjs',
);
if (flags.quick) Object.assign(flags, { n: Math.min(flags.n, 20), settle: 0.3 });
const GOALS = { heapPerSession: 30 * 1024, allActiveS: 10 };

// ---------------------------------------------------------------- CEM ------------------------
async function cemProcess() {
  const { createCemServer } = await import('../dist/index.js');
  let active = 0;
  const server = await createCemServer({
    host: '127.0.0.1',
    onSession(session) {
      session.on('controlType', ({ controlType }) => controlType === 'FILL_RATE_BASED_CONTROL' && active++);
    },
  });
  process.on('message', async (m) => {
    if (m.type === 'status') process.send({ type: 'status', active, sessions: server.sessions.size });
    if (m.type === 'stop') {
      await server.close();
      process.send({ type: 'stopped' });
      setTimeout(() => process.exit(0), 20);
    }
  });
  process.send({ type: 'ready', url: server.url });
}

// ---------------------------------------------------------------- RM host --------------------
async function rmProcess() {
  const { createRmClient, createRmGateway } = await import('../dist/index.js');
  const { description, details } = frbcTraffic();
  const N = flags.n;
  const problems = { dial: 0, closedEarly: 0, notOk: 0, first: [] };
  const note = (kind, what) => {
    problems[kind]++;
    if (problems.first.length < 3) problems.first.push(`${kind}: ${what}`);
  };
  let stopping = false;
  let active = 0;
  let lastActiveAt = 0;
  const onActive = (session) => {
    active++;
    lastActiveAt = performance.now();
    session.send(description).then((r) => r.status !== 'OK' && note('notOk', `${r.status} ${r.diagnosticLabel ?? ''}`));
  };
  const watch = (session) => {
    session.on('controlType', ({ controlType }) => controlType === 'FILL_RATE_BASED_CONTROL' && onActive(session));
    session.on('close', ({ code, reason }) => !stopping && note('closedEarly', `${code} ${reason}`));
  };

  // Warm-up: one device through activation and its description, so that the baseline holds what
  // every session shares (compiled validators, XState caches) and not the first session's cost.
  {
    const warm = createRmClient({ url: flags.url, details: { ...details, resource_id: newId() }, reconnect: false });
    const s = await warm.nextSession();
    await new Promise((r) => s.on('controlType', r));
    await s.send(description);
    await warm.stop();
  }
  await settleHeap();
  const base = memory();
  const snapshot = (name) =>
    flags['heap-snapshot'] && v8.writeHeapSnapshot(`${flags['heap-snapshot']}/rm-${flags.mode}-${process.pid}-${name}.heapsnapshot`);
  snapshot('base');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let stop;
  if (flags.mode === 'clients') {
    const clients = [];
    for (let i = 0; i < N; i++) {
      clients.push(
        createRmClient({
          url: flags.url,
          details: { ...details, resource_id: newId() },
          onDialError: (err) => note('dial', err.message),
          onSession: watch,
        }),
      );
    }
    stop = () => Promise.all(clients.map((c) => c.stop()));
  } else {
    const gateway = createRmGateway({
      url: flags.url,
      connectRate: flags.rate,
      devices: Array.from({ length: N }, (_, i) => ({ id: `device-${i}`, details: { ...details, resource_id: newId() } })),
    });
    gateway.on('session', ({ session }) => watch(session));
    gateway.on('dialError', ({ error }) => note('dial', error?.message ?? String(error)));
    stop = () => gateway.close();
  }
  const deadline = t0 + 120_000;
  while (active < N && performance.now() < deadline) await sleep(10);
  const allActiveMs = lastActiveAt - t0;
  const cpu = process.cpuUsage(cpu0);
  // Let the descriptions be answered, then measure.
  await sleep(flags.settle * 1000);
  await settleHeap();
  const after = memory();
  snapshot('after');
  stopping = true;
  await Promise.race([stop(), sleep(15_000)]);
  process.send({
    type: 'result',
    active,
    allActiveMs,
    heap: after.heapUsed - base.heapUsed,
    rss: after.rss - base.rss,
    cpuMs: (cpu.user + cpu.system) / 1000,
    problems,
  });
  setTimeout(() => process.exit(0), 20);
}

// ---------------------------------------------------------------- orchestrator ---------------
async function runMode(mode) {
  const cem = fork(SCRIPT, ['--role', 'cem'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { url } = await nextMessage(cem, 'ready', 60_000);
  const rm = fork(
    SCRIPT,
    [
      ...[
        '--role',
        'rm',
        '--mode',
        mode,
        '--url',
        url,
        '--n',
        String(flags.n),
        '--rate',
        String(flags.rate),
        '--settle',
        String(flags.settle),
      ],
      ...(flags['heap-snapshot'] ? ['--heap-snapshot', flags['heap-snapshot']] : []),
    ],
    {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const result = await nextMessage(rm, 'result', 300_000);
  await exited(rm, true);
  cem.send({ type: 'status' });
  const cemStatus = await nextMessage(cem, 'status', 10_000);
  cem.send({ type: 'stop' });
  await exited(cem, true);
  return { ...result, cemActive: cemStatus.active };
}

async function main() {
  const N = flags.n;
  console.log(
    machineHeader(`s2-engine RM gateway benchmark${flags.quick ? ' (--quick: numbers are not meaningful)' : ''}`, [
      `load     N = ${N} RM sessions in one process (FRBC, description once) → one CEM process (createCemServer, default options)`,
      `modes    clients = N × createRmClient started at once; gateway = createRmGateway, connectRate ${flags.rate}/s`,
    ]),
  );
  console.log('');
  const modes = flags.mode === 'both' ? ['clients', 'gateway'] : [flags.mode];
  const line = (label, value, note = '') => console.log(`  ${label.padEnd(36)} ${String(value).padStart(16)}${note ? `   ${note}` : ''}`);
  const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
  for (const mode of modes) {
    const r = await runMode(mode);
    const heapPer = r.heap / N;
    console.log(`results: ${mode}`);
    line('sessions in FRBC active', `${r.active} / ${N}`, `(the CEM saw ${r.cemActive})`);
    line(
      'time until all active',
      `${(r.allActiveMs / 1000).toFixed(2)} s`,
      mode === 'gateway' ? `rate-limited ideal ${(N / flags.rate).toFixed(2)} s` : 'all dialled at once',
    );
    line('RM heap per session', fmtBytes(heapPer), `(${fmtBytes(r.heap)} over N, after full GC)`);
    line('RM RSS per session', fmtBytes(r.rss / N));
    line(
      'RM CPU per session (connect phase)',
      `${((r.cpuMs * 1000) / N).toFixed(0)} µs`,
      `${(r.cpuMs / 1000).toFixed(2)} s CPU until all active`,
    );
    const bad = r.problems.dial + r.problems.closedEarly + r.problems.notOk;
    line(
      'problems',
      bad,
      bad
        ? `dial ${r.problems.dial}, closed early ${r.problems.closedEarly}, non-OK ${r.problems.notOk}: ${r.problems.first.join(' | ')}`
        : '',
    );
    console.log(
      `goal (${mode}): ≤ ${GOALS.heapPerSession / 1024} KiB heap per RM session — ${fmtBytes(heapPer)} — ${verdict(heapPer <= GOALS.heapPerSession)}`,
    );
    console.log(
      `goal (${mode}): all ${N} active within ${GOALS.allActiveS} s — ${r.active === N ? `${(r.allActiveMs / 1000).toFixed(2)} s` : `${r.active} active`} — ${verdict(r.active === N && r.allActiveMs <= GOALS.allActiveS * 1000)}`,
    );
    console.log('');
  }
}

await runRole('bench/gateway.mjs', flags.role, { main, cem: cemProcess, rm: rmProcess });
