// Summarises a V8 CPU profile (`node --cpu-prof`) in text: the functions with the most self time,
// the most inclusive ("total") time, and self time per source file. A tool for bench/RESULTS.md,
// not a benchmark: `npm run bench` does not run it.
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/actor.mjs --only session
//   node bench/profile-summary.mjs /tmp/prof/*.cpuprofile [--top 30] [--filter dist/]
//
// Self time is where the CPU was; total time counts a function once per sample even when it is on
// the stack several times (recursion), so the totals of nested functions overlap.

import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
let top = 30;
let filter = '';
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i]);
  else if (args[i] === '--filter') filter = args[++i];
  else files.push(args[i]);
}
if (!files.length) {
  console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile… [--top N] [--filter SUBSTRING]');
  process.exit(2);
}

const short = (url) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, 'node_modules/')
    .replace(/^.*\/main\/(dist|bench|src)\//, '$1/')
    .replace(/^node:/, 'node:');

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Sample durations: timeDeltas[i] is the time before sample i.
  const dt = new Map();
  const deltas = profile.timeDeltas ?? [];
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const d = deltas[i + 1] ?? deltas[i] ?? 0;
    dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + d);
    totalUs += d;
  }
  const key = (n) => `${n.callFrame.functionName || '(anonymous)'}  ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const self = new Map();
  const total = new Map();
  const byFile = new Map();
  let idleUs = 0;
  let gcUs = 0;
  for (const [id, us] of dt) {
    const n = nodes.get(id);
    const k = key(n);
    const name = n.callFrame.functionName;
    if (name === '(idle)') idleUs += us;
    if (name === '(garbage collector)') gcUs += us;
    self.set(k, (self.get(k) ?? 0) + us);
    const f = short(n.callFrame.url) || name;
    byFile.set(f, (byFile.get(f) ?? 0) + us);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const ck = key(nodes.get(cur));
      if (seen.has(ck)) continue;
      seen.add(ck);
      total.set(ck, (total.get(ck) ?? 0) + us);
    }
  }
  const busy = totalUs - idleUs;
  const pct = (us) => `${((us / busy) * 100).toFixed(1).padStart(5)} %`;
  const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const list = (m) =>
    [...m]
      .filter(([k]) => !filter || k.includes(filter))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
  console.log(`${file}`);
  console.log(
    `  sampled ${(totalUs / 1000).toFixed(0)} ms, busy (not idle) ${(busy / 1000).toFixed(0)} ms, of which GC ${(gcUs / 1000).toFixed(0)} ms (${((gcUs / busy) * 100).toFixed(1)} %); percentages are of busy time`,
  );
  console.log('\n  self time by function');
  for (const [k, us] of list(self)) if (!k.startsWith('(idle)')) console.log(`  ${ms(us)} ${pct(us)}  ${k}`);
  console.log('\n  total (inclusive) time by function');
  for (const [k, us] of list(total)) if (!k.startsWith('(root)') && !k.startsWith('(idle)')) console.log(`  ${ms(us)} ${pct(us)}  ${k}`);
  console.log('\n  self time by file');
  for (const [k, us] of list(byFile)) if (k !== '(idle)') console.log(`  ${ms(us)} ${pct(us)}  ${k}`);
  console.log('');
}
