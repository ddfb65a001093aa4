// What does `s2 proxy` add to a session? A scripted RM sends FRBC traffic at a fixed rate (default
// 1,000 frames/s) to a CEM, alternately straight to it and through the proxy, and times every
// frame from send to its ReceptionStatus. The CEM (`s2 cem`'s server, or a raw ws server that
// answers every frame with a ReceptionStatus) and the proxy run in their own processes, so the
// proxy's CPU time per relayed frame is its own. Needs `npm run build` (npm run bench:proxy does it).
//
//   node bench/proxy.mjs [--rate 1000] [--seconds 3] [--rounds 2] [--upstream cem|raw] [--strict] [--quick]
//
// --upstream raw: the RM sends its FRBC traffic without any S2 session set-up (a raw server has
// none), so the judge finds every frame out of order; the latency is then that of relaying plus
// the judge's refusal path.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  exited,
  frameTemplate,
  frbcTraffic,
  idOf,
  machineHeader,
  newId,
  nextMessage,
  parseArgs,
  percentile,
  receptionStatusText,
  scriptedRm,
} from './_lib.mjs';

const SCRIPT = fileURLToPath(import.meta.url);
const { flags } = parseArgs(
  process.argv.slice(2),
  { rate: 1000, seconds: 3, rounds: 2, upstream: 'cem', strict: false, quick: false, role: '', url: '' },
  'bench/proxy.mjs',
);
if (flags.quick) Object.assign(flags, { seconds: 0.4, rounds: 1 });

/** IPC: `cpu` answers process.cpuUsage(); `stop` closes and exits; a parent that is gone ends the child too. */
function serveControl(close) {
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (m) => {
    if (m.type === 'cpu') process.send({ type: 'cpu', cpu: process.cpuUsage() });
    if (m.type === 'stop') {
      await close();
      process.exit(0);
    }
  });
}

async function cemProcess() {
  if (flags.upstream === 'raw') {
    const { WebSocketServer } = await import('ws');
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    wss.on('connection', (ws) => ws.on('message', (data) => ws.send(receptionStatusText(idOf(data.toString('utf8'))))));
    await new Promise((r) => wss.once('listening', r));
    serveControl(() => new Promise((r) => wss.close(() => r())));
    process.send({ type: 'ready', url: `ws://127.0.0.1:${wss.address().port}` });
    return;
  }
  const { createCemServer } = await import('../dist/index.js');
  // receiveBudget: false — 1,000 frames/s is five times the default budget of one connection.
  const server = await createCemServer({ port: 0, host: '127.0.0.1', receiveBudget: false, logger: false });
  serveControl(() => server.close());
  process.send({ type: 'ready', url: server.url });
}

async function proxyProcess() {
  const { createProxy } = await import('../dist/proxy/relay.js');
  let violations = 0;
  let firstViolation;
  const proxy = await createProxy({
    upstream: flags.url,
    strict: flags.strict,
    onRecord: (r) => {
      if (r.kind !== 'violation') return;
      violations++;
      firstViolation ??= `${r.side} ${r.rules.join(',')}: ${r.text}`;
    },
  });
  process.on('message', (m) => {
    if (m.type === 'violations') process.send({ type: 'violations', violations, firstViolation });
  });
  serveControl(() => proxy.close());
  process.send({ type: 'ready', url: proxy.url });
}

async function start(role, extra = []) {
  const child = fork(SCRIPT, ['--role', role, '--upstream', flags.upstream, ...extra], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await nextMessage(child, 'ready', 30_000);
  return { child, url: ready.url };
}

const cpuOf = async (child) => {
  child.send({ type: 'cpu' });
  const { cpu } = await nextMessage(child, 'cpu');
  return cpu.user + cpu.system;
};

/**
 * One RM session at `url`: handshake, FRBC selected, description, then `rate` frames/s for
 * `seconds`. Returns the round-trip time of every frame (send → its ReceptionStatus), in ms.
 */
async function drive(url, seconds) {
  const { WebSocket } = await import('ws');
  const { mix, description, details } = frbcTraffic();
  const templates = mix.map(frameTemplate);
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const sentAt = new Map();
  const rtts = [];
  let errors = 0;
  let onActive;
  const active = new Promise((r) => (onActive = r));
  const rm = scriptedRm({
    send: (t) => ws.send(t),
    details,
    onActive: () => onActive(),
    onStatus: (subject, status) => {
      const t0 = sentAt.get(subject);
      if (t0 === undefined) return;
      sentAt.delete(subject);
      if (status !== 'OK') errors++;
      rtts.push(performance.now() - t0);
    },
  });
  ws.on('message', (d) => rm.receive(d.toString('utf8')));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  if (flags.upstream === 'raw') {
    // A raw server speaks no S2: no handshake to wait for. The judge then reports the session's
    // frames as out of order (a measure of its refusal path, not of a clean session).
    onActive();
  } else rm.start();
  const stuck = setTimeout(() => {
    console.error(`bench/proxy.mjs: no control type selected within 10 s at ${url}`);
    process.exit(1);
  }, 10_000);
  await active;
  clearTimeout(stuck);
  if (flags.upstream !== 'raw') ws.send(frameTemplate(description).make(newId()));
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  let sent = 0;
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - t0) / 1000;
      if (elapsed >= seconds) {
        clearInterval(timer);
        return resolve();
      }
      const due = Math.floor(elapsed * flags.rate) - sent;
      for (let i = 0; i < due; i++) {
        const id = newId();
        sentAt.set(id, performance.now());
        ws.send(templates[sent % templates.length].make(id));
        sent++;
      }
    }, 1);
  });
  // The last answers.
  const deadline = performance.now() + 2000;
  while (sentAt.size && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const missing = sentAt.size;
  ws.close(1000, 'bench done');
  await new Promise((r) => ws.once('close', r));
  return { rtts, sent, errors, missing };
}

async function main() {
  console.log(
    machineHeader('bench/proxy.mjs — latency added by s2 proxy', [
      `load     ${flags.rate} frames/s for ${flags.seconds} s per run, ${flags.rounds} round(s) of direct + proxied, upstream ${flags.upstream === 'raw' ? 'raw ws (answers every frame)' : 's2 cem server'}${flags.strict ? ', --strict' : ''}`,
    ]),
  );
  const cem = await start('cem');
  const proxy = await start('proxy', ['--url', cem.url, ...(flags.strict ? ['--strict'] : [])]);
  const direct = [];
  const proxied = [];
  let proxiedFrames = 0;
  let proxyCpuUs = 0;
  let errors = 0;
  let missing = 0;
  for (let round = 0; round < flags.rounds; round++) {
    const d = await drive(cem.url, flags.seconds);
    direct.push(...d.rtts);
    const before = await cpuOf(proxy.child);
    const p = await drive(proxy.url, flags.seconds);
    proxyCpuUs += (await cpuOf(proxy.child)) - before;
    proxied.push(...p.rtts);
    proxiedFrames += p.sent;
    errors += d.errors + p.errors;
    missing += d.missing + p.missing;
  }
  proxy.child.send({ type: 'violations' });
  const { violations, firstViolation } = await nextMessage(proxy.child, 'violations');
  const ms = (x) => x.toFixed(3);
  const row = (name, xs) =>
    `${name.padEnd(12)} ${String(xs.length).padStart(7)}  ${ms(percentile(xs, 50)).padStart(8)}  ${ms(percentile(xs, 99)).padStart(8)}`;
  console.log(`\n${'path'.padEnd(12)} ${'frames'.padStart(7)}  ${'p50 ms'.padStart(8)}  ${'p99 ms'.padStart(8)}`);
  console.log(row('direct', direct));
  console.log(row('via proxy', proxied));
  console.log(
    `added latency: p50 ${ms(percentile(proxied, 50) - percentile(direct, 50))} ms, p99 ${ms(percentile(proxied, 99) - percentile(direct, 99))} ms (send → ReceptionStatus, through the proxy both ways)`,
  );
  // Each RM frame crosses the proxy twice: the frame, and its ReceptionStatus back (plus the session's setup frames).
  console.log(
    `proxy CPU: ${(proxyCpuUs / proxiedFrames).toFixed(1)} µs per RM frame with its ReceptionStatus (${(proxyCpuUs / proxiedFrames / 2).toFixed(1)} µs per relayed and judged frame)`,
  );
  console.log(
    `errors: ${errors} refused, ${missing} unanswered; violations found by the judge: ${violations}${firstViolation ? ` (first: ${firstViolation})` : ''}`,
  );
  for (const c of [proxy.child, cem.child]) c.send({ type: 'stop' });
  await Promise.all([exited(proxy.child), exited(cem.child)]);
}

if (flags.role === 'cem') await cemProcess();
else if (flags.role === 'proxy') await proxyProcess();
else await main();
