// Compares two V8 heap snapshots and prints what was added, by kind of object, divided by a count
// (e.g. the number of sessions opened in between): "per session: 61 closures, 3.1 kB". A tool for
// bench/RESULTS.md, not a benchmark: `npm run bench` does not run it.
//
//   node bench/sessions.mjs --n 1000 --heap-snapshot /tmp/snap      (writes base + after per CEM process)
//   node --max-old-space-size=8192 bench/heap-summary.mjs /tmp/snap/cem-PID-base.heapsnapshot \
//        /tmp/snap/cem-PID-after.heapsnapshot --per 1000 [--top 40] [--retainers IncomingMessage]
//
// --retainers NAME also prints, for a few objects of that constructor in AFTER, the chain of
// first retainers up to a GC root (which field of which object keeps it alive).
// Self sizes only (what each object itself takes, as DevTools' "Shallow Size"); objects are grouped
// by node type and name (constructor for objects, function name for closures, "(string)" etc.).

import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
let per = 1;
let top = 40;
let retainersOf;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--per') per = Number(args[++i]);
  else if (args[i] === '--top') top = Number(args[++i]);
  else if (args[i] === '--retainers') retainersOf = args[++i];
  else files.push(args[i]);
}
if (files.length !== 2) {
  console.error('usage: node bench/heap-summary.mjs BASE.heapsnapshot AFTER.heapsnapshot [--per N] [--top N] [--retainers NAME]');
  process.exit(2);
}

function summarise(file, retainers) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  if (retainers) printRetainers(snap, retainers);
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const nodes = snap.nodes;
  const strings = snap.strings;
  const groups = new Map();
  let total = 0;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    let name = strings[nodes[i + iName]];
    // Group strings and numbers by type only; names of code objects are too many to be useful.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)';
    else if (type === 'number' || type === 'heap number') name = '(number)';
    else if (type === 'code') name = '(code)';
    else if (type === 'array') name = `(array) ${name.length > 40 ? '' : name}`.trim();
    else if (type === 'hidden') name = name.length > 60 ? `${name.slice(0, 57)}…` : name;
    else if (type === 'object' && name.length > 60) name = `${name.slice(0, 57)}…`;
    const key = `${type}\u0000${name}`;
    const size = nodes[i + iSize];
    total += size;
    const g = groups.get(key);
    if (g) {
      g.count++;
      g.size += size;
    } else groups.set(key, { count: 1, size });
  }
  return { groups, total, nodeCount: nodes.length / width };
}

function printRetainers(snap, name) {
  const meta = snap.snapshot.meta;
  const nf = meta.node_fields;
  const ef = meta.edge_fields;
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const W = nf.length;
  const EW = ef.length;
  const { nodes, edges, strings } = snap;
  const iType = nf.indexOf('type');
  const iName = nf.indexOf('name');
  const iEdges = nf.indexOf('edge_count');
  const eType = ef.indexOf('type');
  const eName = ef.indexOf('name_or_index');
  const eTo = ef.indexOf('to_node');
  // Shortest retaining path: breadth-first from the root (node 0), ignoring weak edges; the BFS
  // parent of a node is its retainer on the way to a GC root.
  const count = nodes.length / W;
  const firstEdge = new Uint32Array(count + 1);
  for (let i = 0, acc = 0; i < count; i++) {
    firstEdge[i] = acc;
    acc += nodes[i * W + iEdges] * EW;
    firstEdge[i + 1] = acc;
  }
  const retainer = new Int32Array(count).fill(-1);
  const via = new Array(count);
  const queue = new Uint32Array(count);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  retainer[0] = 0;
  while (head < tail) {
    const n = queue[head++];
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += EW) {
      const type = edgeTypes[edges[e + eType]];
      if (type === 'weak' || type === 'shortcut') continue;
      const to = edges[e + eTo] / W;
      if (retainer[to] !== -1) continue;
      retainer[to] = n;
      via[to] =
        type === 'element' || type === 'hidden'
          ? `[${edges[e + eName]}]`
          : type === 'context'
            ? `context.${strings[edges[e + eName]]}`
            : `.${strings[edges[e + eName]]}`;
      queue[tail++] = to;
    }
  }
  const describe = (i) => `${nodeTypes[nodes[i * W + iType]]} ${strings[nodes[i * W + iName]].slice(0, 50)}`;
  let shown = 0;
  for (let i = 0; i < nodes.length / W && shown < 3; i++) {
    if (strings[nodes[i * W + iName]] !== name || nodeTypes[nodes[i * W + iType]] !== 'object') continue;
    shown++;
    console.log(`retainers of ${describe(i)} (#${i}):`);
    for (let cur = i, depth = 0; cur !== 0 && retainer[cur] !== -1 && depth < 14; cur = retainer[cur], depth++) {
      console.log(`  ${'  '.repeat(depth)}${via[cur]} of ${describe(retainer[cur])}`);
    }
  }
  if (!shown) console.log(`no object named ${name}`);
  console.log('');
}

const base = summarise(files[0]);
const after = summarise(files[1], retainersOf);
const rows = [];
for (const [key, g] of after.groups) {
  const b = base.groups.get(key) ?? { count: 0, size: 0 };
  const dc = g.count - b.count;
  const ds = g.size - b.size;
  if (dc !== 0 || ds !== 0) rows.push({ key, dc, ds });
}
for (const [key, b] of base.groups) if (!after.groups.has(key)) rows.push({ key, dc: -b.count, ds: -b.size });
rows.sort((x, y) => y.ds - x.ds);

const fmt = (n) => (Math.abs(n) >= 1024 ? `${(n / 1024).toFixed(2)} KiB` : `${n.toFixed(0)} B`);
console.log(`base  ${files[0]}: ${(base.total / 2 ** 20).toFixed(1)} MiB in ${base.nodeCount} objects`);
console.log(`after ${files[1]}: ${(after.total / 2 ** 20).toFixed(1)} MiB in ${after.nodeCount} objects`);
console.log(
  `added: ${fmt((after.total - base.total) / per)} and ${((after.nodeCount - base.nodeCount) / per).toFixed(1)} objects per 1/${per} (self sizes)\n`,
);
console.log(`${'per unit: size'.padStart(16)} ${'count'.padStart(8)}  type / name`);
for (const r of rows.slice(0, top)) {
  const [type, name] = r.key.split('\u0000');
  console.log(`${fmt(r.ds / per).padStart(16)} ${(r.dc / per).toFixed(1).padStart(8)}  ${type.padEnd(8)} ${name}`);
}
