// Loaded with `node --import` into `s2 cem` by bench/sessions.mjs --cem cli (not a benchmark itself):
// it lets the bench read memory, CPU, GC pauses and event-loop delay of the real command without
// changing it. With --workers N the agent runs in the cluster primary too (workers inherit
// execArgv): the primary passes each request to every worker and answers with all their parts
// plus its own (`primary: true`). Requests come over the IPC channel the bench opened:
// { benchAgent: { type: 'baseline' | 'status' | 'snapshot' | 'loop-reset' | 'latencies' | 'stop', id } }.

import cluster from 'node:cluster';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { gcPauses, memory, settleHeap } from './_lib.mjs';

const gc = gcPauses();
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
let baseline;

/** This process's answer to one request. */
async function part(type) {
  switch (type) {
    case 'baseline':
      await settleHeap();
      baseline = memory();
      Object.assign(gc, { count: 0, ms: 0, max: 0 }); // the forced collections above are not the CEM's
      return { pid: process.pid };
    case 'status':
      return { pid: process.pid, cpu: process.cpuUsage(), at: Date.now(), gc: { ...gc } };
    case 'snapshot':
      await settleHeap();
      return { pid: process.pid, baseline, mem: memory() };
    case 'loop-reset':
      loop.reset();
      Object.assign(gc, { count: 0, ms: 0, max: 0 });
      return {};
    case 'latencies':
      return { latencies: [], loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6 };
    default:
      return {};
  }
}

if (cluster.isWorker) {
  process.on('message', async (m) => {
    if (m?.benchAgent === undefined) return;
    process.send({ benchAgentReply: { id: m.benchAgent.id, part: await part(m.benchAgent.type) } });
  });
} else if (process.send) {
  const pending = new Map();
  cluster.on('message', (_worker, m) => {
    const reply = m?.benchAgentReply;
    if (reply === undefined) return;
    const p = pending.get(reply.id);
    if (!p) return;
    p.parts.push(reply.part);
    if (p.parts.length === p.expected) {
      pending.delete(reply.id);
      process.send({ type: 'reply', id: reply.id, parts: p.parts });
    }
  });
  process.on('message', async (m) => {
    const request = m?.benchAgent;
    if (request === undefined) return;
    const own = { ...(await part(request.type)), primary: true };
    const workers = Object.values(cluster.workers ?? {});
    if (request.type === 'stop') {
      process.send({ type: 'reply', id: request.id, parts: [own] });
      // What a service manager does: SIGTERM, every worker closes its sessions with 1001.
      process.kill(process.pid, 'SIGTERM');
      return;
    }
    if (workers.length === 0) return process.send({ type: 'reply', id: request.id, parts: [own] });
    pending.set(request.id, { parts: [own], expected: workers.length + 1 });
    for (const w of workers) w.send({ benchAgent: request });
  });
  // The bench's IPC channel must not keep a stopped CEM alive.
  process.channel?.unref();
}
