// Session-actor benchmark, no sockets: CEM and RM sessions over in-memory transport pairs in this
// one process. (1) messages/s through one session actor with `--window` sends in flight, against
// baselines measured in the same run; (2) heap per idle session actor at active FRBC.
//
//   npm run bench:actor                      (builds, then: node --expose-gc bench/actor.mjs)
//   node --expose-gc bench/actor.mjs --quick (tiny K, short rounds: a smoke run)
//   node --expose-gc bench/actor.mjs --k 5000 --window 64
//
// Throughput rows (each a fresh CEM/RM pair; the RM sends PowerMeasurements as fast as the window
// allows and every message is answered by a ReceptionStatus):
//   memory pair + JSON     scripted peers: JSON.parse of the frame, JSON.stringify of the reply
//   codec only             decode(frame) + encode(ReceptionStatus): the S2 codec with no session
//   raw RM → CEM session   a scripted RM (hand-made frames) → S2Session(CEM): one session actor
//   RM session → CEM       S2Session(RM).send → S2Session(CEM): both ends are session actors
// "events/msg" counts every event the CEM's (and, in the last row, also the RM's) actor system
// delivers per answered message (external sends, sendTo/sendParent, done events; raised events
// stay inside a macrostep and are not counted), counted during the timed rounds; events/s =
// msg/s × events/msg.
// Memory rows: K sessions brought to `connected.active.FRBC`, full GC, heap delta ÷ K:
//   CEM session            scripted RM peers, so only the CEM side's objects are counted
//   CEM session + descr.   the same after each RM sent FRBC.SystemDescription.json (3.6 kB)
//   RM + CEM pair          both sessions of each pair
// and the CPU time of bringing them there ÷ K: a handshake's cost without sockets.
// Never exits non-zero because of a result.

import {
  fmtBytes,
  fmtRate,
  frameTemplate,
  frbcTraffic,
  machineHeader,
  median,
  memory,
  newId,
  parseArgs,
  scriptedRm,
  settleHeap,
  sleep,
} from './_lib.mjs';

const { flags } = parseArgs(
  process.argv.slice(2),
  { quick: false, window: 64, warmup: 1, rounds: 5, 'round-seconds': 1, k: 2000, only: '' },
  'bench/actor.mjs',
);
if (flags.quick) Object.assign(flags, { warmup: 0.1, rounds: 3, 'round-seconds': 0.15, k: Math.min(flags.k, 50) });

const { connectSession, createMemoryPair, decode, encode } = await import('../dist/index.js');
const { description, details, measurement } = frbcTraffic();
const pmTemplate = frameTemplate(measurement);

/**
 * Runs `pump` (which calls `onAnswer` per answered message) for warm-up + rounds; rates per round.
 * `rates.cpuUs`: this process's CPU time (user + system) per answered message over the rounds —
 * steadier than msg/s when other processes share the cores.
 */
async function timed(start, counter) {
  start();
  await sleep(flags.warmup * 1000);
  const rates = [];
  let last = counter();
  let lastT = performance.now();
  const first = last;
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < flags.rounds; r++) {
    await sleep(flags['round-seconds'] * 1000);
    const now = performance.now();
    const c = counter();
    rates.push(((c - last) * 1000) / (now - lastT));
    last = c;
    lastT = now;
  }
  const cpu = process.cpuUsage(cpu0);
  rates.cpuUs = (cpu.user + cpu.system) / Math.max(1, last - first);
  return rates;
}

/**
 * Counts the events delivered inside a session's actor system: XState v5 routes every event —
 * external `actor.send`, sendTo/sendParent, done/error events — through `system._relay` (an
 * internal; if it is missing the count shows as NaN). Raised events stay inside a macrostep and
 * are not counted.
 */
function countEvents(session) {
  const system = session.actor?.system;
  if (!system || typeof system._relay !== 'function') return () => NaN;
  const orig = system._relay;
  let n = 0;
  system._relay = function relay(...args) {
    n++;
    return orig.apply(this, args);
  };
  return () => n;
}

/** A raw peer on a memory transport: hands every frame to `receive`. */
function rawEnd(transport, receive) {
  transport.start({ text: receive, close: () => {} });
  return transport;
}

// ---------------------------------------------------------------- throughput rows -------------
const rows = [];
let running = true;

/**
 * Keeps up to `flags.window` sends in flight. The memory transport delivers through
 * queueMicrotask, so answering inside the answer callback would be an endless microtask chain that
 * starves every timer (ours and the sessions' own); refills therefore run from setImmediate.
 */
function windowPump(sendOne) {
  let inFlight = 0;
  let scheduled = false;
  const refill = () => {
    scheduled = false;
    if (!running) return;
    while (inFlight < flags.window) {
      inFlight++;
      sendOne();
    }
  };
  return {
    start: refill,
    answered() {
      inFlight--;
      if (!scheduled && running) {
        scheduled = true;
        setImmediate(refill);
      }
    },
  };
}

async function rowJson() {
  const [a, b] = createMemoryPair();
  let answered = 0;
  const server = rawEnd(b, (frame) => {
    const m = JSON.parse(frame);
    server.send(JSON.stringify({ message_type: 'ReceptionStatus', subject_message_id: m.message_id, status: 'OK' }));
  });
  const pump = windowPump(() => client.send(pmTemplate.make(newId())));
  const client = rawEnd(a, () => {
    answered++;
    pump.answered();
  });
  running = true;
  const rates = await timed(pump.start, () => answered);
  running = false;
  return { name: 'memory pair + JSON', rates, eventsPerMsg: undefined };
}

async function rowCodec() {
  // Synchronous loop in slices, so timers still fire between slices.
  let answered = 0;
  let stop = false;
  const slice = () => {
    if (stop) return;
    for (let k = 0; k < 200; k++) {
      const r = decode(pmTemplate.make(newId()));
      encode({ message_type: 'ReceptionStatus', subject_message_id: r.message.message_id, status: 'OK' });
      answered++;
    }
    setImmediate(slice);
  };
  const rates = await timed(slice, () => answered);
  stop = true;
  return { name: 'codec only', rates, eventsPerMsg: undefined };
}

/** A CEM session with a scripted RM peer, active and described; `load()` then pumps the window. */
async function cemWithScriptedRm() {
  const [a, b] = createMemoryPair({ a: 'rm', b: 'cem' });
  const cem = connectSession(b, { role: 'CEM' });
  let answered = 0;
  let errors = 0;
  let descId;
  let onDescribed;
  const described = new Promise((r) => (onDescribed = r));
  const pump = windowPump(() => a.send(pmTemplate.make(newId())));
  const rm = scriptedRm({
    send: (t) => a.send(t),
    details,
    onActive: () => {
      descId = newId();
      a.send(frameTemplate(description).make(descId));
    },
    onStatus: (subject, status) => {
      if (subject === descId) return onDescribed(status);
      if (!rm.active) return;
      answered++;
      if (status !== 'OK') errors++;
      pump.answered();
    },
  });
  a.start({ text: (f) => rm.receive(f), close: () => {} });
  rm.start();
  const status = await described;
  if (status !== 'OK') throw new Error(`description answered ${status}`);
  return { cem, count: () => answered, errors: () => errors, load: pump.start };
}

async function rowScripted() {
  const s = await cemWithScriptedRm();
  running = true;
  const events = countEvents(s.cem);
  const e0 = events();
  const c0 = s.count();
  const rates = await timed(s.load, s.count);
  const eventsPerMsg = (events() - e0) / (s.count() - c0);
  running = false;
  await sleep(10);
  s.cem.close();
  return { name: 'raw RM → CEM session', rates, eventsPerMsg, errors: s.errors() };
}

async function rowSessions() {
  const [a, b] = createMemoryPair({ a: 'rm', b: 'cem' });
  const cem = connectSession(b, { role: 'CEM' });
  const rm = connectSession(a, { role: 'RM', details });
  await new Promise((r) => rm.on('controlType', r));
  const d = await rm.send(description);
  if (d.status !== 'OK') throw new Error(`description answered ${d.status}`);
  const cemEvents = countEvents(cem);
  const rmEvents = countEvents(rm);
  let answered = 0;
  let errors = 0;
  running = true;
  const pump = windowPump(() => {
    rm.send(measurement).then((r) => {
      answered++;
      if (r.status !== 'OK') errors++;
      pump.answered();
    });
  });
  const e0 = cemEvents() + rmEvents();
  const rates = await timed(pump.start, () => answered);
  const eventsPerMsg = (cemEvents() + rmEvents() - e0) / answered;
  running = false;
  await sleep(10);
  const children = Object.keys(rm.actor?.getSnapshot().children ?? {}).length;
  rm.close();
  return { name: 'RM session → CEM session', rates, eventsPerMsg, errors, note: `RM actor children after the run: ${children}` };
}

// ---------------------------------------------------------------- memory rows -----------------
async function memoryRow(name, make) {
  await settleHeap();
  const before = memory();
  const keep = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < flags.k; i++) keep.push(await make());
  const cpu = process.cpuUsage(cpu0);
  await sleep(50);
  await settleHeap();
  const after = memory();
  const row = {
    name,
    k: flags.k,
    heap: (after.heapUsed - before.heapUsed) / flags.k,
    rss: (after.rss - before.rss) / flags.k,
    cpuUs: (cpu.user + cpu.system) / flags.k,
  };
  for (const s of keep) for (const x of s) x.close?.();
  await sleep(50);
  return row;
}

async function idleCem(withDescription) {
  const [a, b] = createMemoryPair({ a: 'rm', b: 'cem' });
  const cem = connectSession(b, { role: 'CEM' });
  let resolve;
  const done = new Promise((r) => (resolve = r));
  let descId;
  const rm = scriptedRm({
    send: (t) => a.send(t),
    details,
    onActive: () => {
      if (!withDescription) return resolve();
      descId = newId();
      a.send(frameTemplate(description).make(descId));
    },
    onStatus: (subject) => subject === descId && resolve(),
  });
  a.start({ text: (f) => rm.receive(f), close: () => {} });
  rm.start();
  await done;
  if (!cem.state.endsWith('active.FRBC')) throw new Error(`CEM in ${cem.state}`);
  return [cem];
}

async function idlePair() {
  const [a, b] = createMemoryPair({ a: 'rm', b: 'cem' });
  const cem = connectSession(b, { role: 'CEM' });
  const rm = connectSession(a, { role: 'RM', details });
  await new Promise((r) => rm.on('controlType', r));
  await sleep(0);
  await new Promise((r) => setImmediate(r));
  return [cem, rm];
}

// ---------------------------------------------------------------- run -------------------------
console.log(
  machineHeader(`s2-engine session-actor benchmark${flags.quick ? ' (--quick: numbers are not meaningful)' : ''}`, [
    `load     window ${flags.window} in flight, PowerMeasurement (${pmTemplate.bytes} bytes) answered by ReceptionStatus, memory transport pairs`,
    `rounds   ${flags.warmup} s warm-up, then ${flags.rounds} × ${flags['round-seconds']} s (median); memory: K = ${flags.k} sessions${typeof globalThis.gc === 'function' ? ', full GC before each reading' : ' — WARNING: no --expose-gc, heap figures include garbage'}`,
  ]),
);
console.log('');
const want = (n) => !flags.only || n.includes(flags.only);
if (want('json')) rows.push(await rowJson());
if (want('codec')) rows.push(await rowCodec());
if (want('scripted')) rows.push(await rowScripted());
if (want('session')) rows.push(await rowSessions());

if (rows.length) {
  const base = median(rows[0].rates);
  const cols = ['throughput', 'msg/s', `÷ ${rows[0].name}`, 'first→last round', 'CPU µs/msg', 'events/msg', 'events/s', 'errors'];
  const widths = [26, 9, 22, 17, 10, 10, 9, 6];
  const row = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' ');
  console.log(row(cols));
  console.log(row(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) {
    const rate = median(r.rates);
    console.log(
      row([
        r.name,
        fmtRate(rate),
        `${((rate / base) * 100).toFixed(1)} %`,
        `${fmtRate(r.rates[0])}→${fmtRate(r.rates.at(-1))}`,
        r.rates.cpuUs.toFixed(1),
        r.eventsPerMsg === undefined ? '-' : r.eventsPerMsg.toFixed(1),
        r.eventsPerMsg === undefined ? '-' : fmtRate(rate * r.eventsPerMsg),
        r.errors ?? 0,
      ]),
    );
    if (r.note) console.log(`  (${r.note})`);
  }
  console.log('');
}

const mem = [];
if (want('memory')) {
  mem.push(await memoryRow('CEM session', () => idleCem(false)));
  mem.push(await memoryRow('CEM session + descr.', () => idleCem(true)));
  mem.push(await memoryRow('RM + CEM pair', idlePair));
  const cols = ['idle at active FRBC', 'K', 'heap / session', 'RSS / session', 'CPU / session'];
  const widths = [26, 7, 15, 15, 13];
  const row = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' ');
  console.log(row(cols));
  console.log(row(widths.map((w) => '-'.repeat(w))));
  for (const m of mem) console.log(row([m.name, m.k, fmtBytes(m.heap), fmtBytes(m.rss), `${Math.round(m.cpuUs)} µs`]));
  console.log('');
}
console.log('msg/s: answered messages per second (median of rounds); first→last round shows a trend within the run;');
console.log('CPU µs/msg: CPU time of this process (all its sessions and peers) per answered message over the rounds;');
console.log('heap / session: (heapUsed after − before) ÷ K after full GCs; RSS likewise (coarse: RSS also holds freed pages);');
console.log('CPU / session: CPU of this process bringing one session (and its scripted or s2 peer) to active FRBC, no sockets.');
