// Codec benchmark: decode (rules on / off) against JSON.parse, encode against JSON.stringify, on
// every fixture of test/fixtures/ and on a seeded shuffled mix of them, all measured in
// this one process (ratios against a same-run baseline, docs/design.md "Conventions").
//
//   npm run bench:codec              (builds, then: node --expose-gc bench/codec.mjs)
//   node bench/codec.mjs --quick     (few rounds, tiny mix: a smoke run in well under 5 s)
//
// Also prints the time from process start to the first decode, import of dist/ included.
// Never exits non-zero because of a result: the goal line says PASS or FAIL.

// performance.now() counts from performance.timeOrigin, which Node sets at process start, so it
// is the clock for "time since process start"; process.hrtime.bigint() times the rounds.
const tScriptStart = performance.now();

import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

const QUICK = process.argv.includes('--quick');
const unknown = process.argv.slice(2).filter((a) => a !== '--quick');
if (unknown.length) {
  console.error(`bench/codec.mjs: unknown argument(s) ${unknown.join(' ')} (only --quick)`);
  process.exit(2);
}

const CFG = QUICK
  ? { warmup: 1, rounds: 3, mix: 100, variants: 4, targetMs: 3 }
  : { warmup: 3, rounds: 9, mix: 2000, variants: 64, targetMs: 40 };
const GOAL = 2; // decode with rules ≤ 2 × JSON.parse on the mix

// ---- fixtures (read before the import so the import is timed alone) -------------------------
const FIXTURE_DIR = new URL('../test/fixtures/', import.meta.url);
const fixtures = readdirSync(FIXTURE_DIR)
  .filter((n) => n.endsWith('.json'))
  .sort()
  .map((file) => {
    const value = JSON.parse(readFileSync(new URL(file, FIXTURE_DIR), 'utf8'));
    return { name: file.replace(/\.json$/, ''), value, text: JSON.stringify(value) };
  });
const tFixturesRead = performance.now();

// ---- cold start: import dist/ and decode the first message -----------------------------------
const first = fixtures.find((f) => f.name === 'Handshake') ?? fixtures[0];
const tImport0 = performance.now();
const { decode, encode } = await import('../dist/index.js');
const tImport1 = performance.now();
const firstResult = decode(first.text);
const tFirstDecode = performance.now();
const uptimeAtFirstDecode = process.uptime() * 1000; // cross-check of the same instant
let tOthers = 0;
for (const f of fixtures) {
  if (f === first) continue;
  const t = performance.now();
  decode(f.text);
  tOthers += performance.now() - t;
}

// ---- helpers --------------------------------------------------------------------------------
/** Small seeded PRNG (mulberry32) so the mix is the same in every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(0x5e2);
const hex = (n) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
const newUuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(random() * 4)]}${hex(3)}-${hex(12)}`;

/** A copy of the fixture as a wire frame with a fresh message_id (ReceptionStatus has none). */
function variant(f) {
  const value = structuredClone(f.value);
  if ('message_id' in value) value.message_id = newUuid();
  return { value, text: JSON.stringify(value) };
}

function shuffle(list) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

const NO_RULES = { rules: false };
let sink = 0; // results feed this so no loop is optimised away

// One dedicated loop per method, so every call site stays monomorphic.
const METHODS = {
  parse(texts) {
    let n = 0;
    for (let i = 0; i < texts.length; i++) if (JSON.parse(texts[i]) !== null) n++;
    return n;
  },
  decode(texts) {
    let n = 0;
    for (let i = 0; i < texts.length; i++) if (decode(texts[i]).ok) n++;
    return n;
  },
  decodeNoRules(texts) {
    let n = 0;
    for (let i = 0; i < texts.length; i++) if (decode(texts[i], NO_RULES).ok) n++;
    return n;
  },
  stringify(values) {
    let n = 0;
    for (let i = 0; i < values.length; i++) n += JSON.stringify(values[i]).length;
    return n;
  },
  encode(values) {
    let n = 0;
    for (let i = 0; i < values.length; i++) n += encode(values[i]).length;
    return n;
  },
};

const gc = typeof globalThis.gc === 'function' ? globalThis.gc : () => {};

function timeOnce(method, input, reps) {
  gc();
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) sink += method(input);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** How many passes over `input` make one baseline round last about CFG.targetMs. */
function calibrate(method, input) {
  method(input);
  const ms = Math.max(timeOnce(method, input, 1), 0.001);
  return Math.max(1, Math.ceil(CFG.targetMs / ms));
}

/** Warm-up, then CFG.rounds rounds with the method order rotated each round; medians in ms. */
function measure(names, input, reps) {
  for (let w = 0; w < CFG.warmup; w++) for (const n of names) timeOnce(METHODS[n], input, reps);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < CFG.rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(k + r) % names.length];
      times[n].push(timeOnce(METHODS[n], input, reps));
    }
  }
  return Object.fromEntries(
    names.map((n) => [n, { median: median(times[n]), spread: (Math.max(...times[n]) - Math.min(...times[n])) / median(times[n]) }]),
  );
}

// ---- cases ----------------------------------------------------------------------------------
const cases = fixtures.map((f) => {
  const vs = Array.from({ length: CFG.variants }, () => variant(f));
  return { name: f.name, texts: vs.map((v) => v.text), values: vs.map((v) => v.value) };
});
{
  const mix = shuffle(Array.from({ length: CFG.mix }, (_, i) => variant(fixtures[i % fixtures.length])));
  cases.push({ name: 'mix', texts: mix.map((v) => v.text), values: mix.map((v) => v.value), mix: true });
  // The large SystemDescription dominates the mix by bytes; this row shows everyday traffic.
  const small = fixtures.filter((f) => !f.name.endsWith('.large'));
  const mixSmall = shuffle(Array.from({ length: CFG.mix }, (_, i) => variant(small[i % small.length])));
  cases.push({ name: 'mix without .large', texts: mixSmall.map((v) => v.text), values: mixSmall.map((v) => v.value), mixSmall: true });
}

// Every benchmarked message must be valid, or we would be timing the (slower) failure path.
for (const c of cases) {
  for (const t of c.texts) {
    const r = decode(t);
    if (!r.ok) {
      console.log(`WARNING: ${c.name} does not decode (${r.error.diagnosticLabel}); its numbers time the failure path`);
      break;
    }
  }
}

// ---- run ------------------------------------------------------------------------------------
const cpus = os.cpus();
const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length;
console.log(`s2-engine codec benchmark${QUICK ? ' (--quick: numbers are not meaningful)' : ''}`);
console.log(`date     ${new Date().toISOString()}`);
console.log(
  `node     ${process.version} (${process.platform}/${process.arch})${typeof globalThis.gc === 'function' ? ', gc between rounds' : ', no --expose-gc: gc not forced between rounds'}`,
);
console.log(`cpu      ${cpus[0]?.model ?? 'unknown'} — ${cores} core(s)`);
console.log(
  `rounds   ${CFG.warmup} warm-up + ${CFG.rounds} measured (median), mix = ${CFG.mix} messages (seeded shuffle of ${fixtures.length} fixtures)`,
);
console.log('');
console.log('cold start (ms; performance.now() counts from performance.timeOrigin = process start):');
const cold = (label, ms, note = '') => console.log(`  ${label.padEnd(42)} ${ms.toFixed(1).padStart(7)}${note ? `   ${note}` : ''}`);
cold('node bootstrap to script start', tScriptStart);
cold(`read ${fixtures.length} fixtures`, tFixturesRead - tScriptStart);
cold('import dist/index.js', tImport1 - tImport0);
cold(`first decode (${first.name}${firstResult.ok ? '' : ', INVALID'})`, tFirstDecode - tImport1, 'compiles its validator');
cold('=> process start to first decode', tFirstDecode, `process.uptime() at that point: ${uptimeAtFirstDecode.toFixed(1)}`);
cold(`first decode of the ${fixtures.length - 1} other fixture types`, tOthers, 'in total, one validator compile each');
console.log('');

const fmtRate = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));
const cols = [
  'case',
  'bytes',
  'JSON.parse/s',
  'decode/s',
  'dec÷parse',
  'no-rules/s',
  'nr÷parse',
  'stringify/s',
  'encode/s',
  'enc÷strfy',
  'noise',
];
const widths = [28, 7, 12, 10, 9, 10, 8, 11, 9, 9, 6];
const row = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' ');
console.log(row(cols));
console.log(row(widths.map((w) => '-'.repeat(w))));

let mixRatio = NaN;
let mixSmallRatio = NaN;
for (const c of cases) {
  const n = c.texts.length;
  const bytes = Math.round(c.texts.reduce((s, t) => s + t.length, 0) / n);
  const dReps = calibrate(METHODS.parse, c.texts);
  const d = measure(['parse', 'decode', 'decodeNoRules'], c.texts, dReps);
  const eReps = calibrate(METHODS.stringify, c.values);
  const e = measure(['stringify', 'encode'], c.values, eReps);
  const rate = (ms, reps) => (n * reps) / (ms / 1000);
  const ratio = d.decode.median / d.parse.median;
  if (c.mix) mixRatio = ratio;
  if (c.mixSmall) mixSmallRatio = ratio;
  console.log(
    row([
      c.name,
      bytes,
      fmtRate(rate(d.parse.median, dReps)),
      fmtRate(rate(d.decode.median, dReps)),
      `${ratio.toFixed(2)}×`,
      fmtRate(rate(d.decodeNoRules.median, dReps)),
      `${(d.decodeNoRules.median / d.parse.median).toFixed(2)}×`,
      fmtRate(rate(e.stringify.median, eReps)),
      fmtRate(rate(e.encode.median, eReps)),
      `${(e.encode.median / e.stringify.median).toFixed(2)}×`,
      `${Math.round(d.decode.spread * 100)}%`,
    ]),
  );
}
console.log('');
console.log('dec÷parse, nr÷parse: decode time (rules on / { rules: false }) over JSON.parse time on the same texts;');
console.log('enc÷strfy: encode (validates, then stringifies) over JSON.stringify; noise: (max−min)/median of decode rounds.');
console.log(`goal: decode with rules ≤ ${GOAL}× JSON.parse on the mix — ${mixRatio.toFixed(2)}× — ${mixRatio <= GOAL ? 'PASS' : 'FAIL'}`);
console.log(
  `      (for information: ${mixSmallRatio.toFixed(2)}× on the mix without the large SystemDescription — ${mixSmallRatio <= GOAL ? 'within' : 'over'} ${GOAL}×)`,
);
if (sink === 0.5) console.log(''); // keep `sink` observable
