// S2 Connect costs, measured on this machine over real HTTPS on 127.0.0.1 (`npm run bench:connect`):
//  1. time to pair and time to initiate a session (HTTPS calls + WebSocket upgrade), median of N,
//     the server being a real `s2 cem --connect` process and the client this process;
//  2. pairing throughput of one server: concurrent clients pairing with the nodes of one endpoint
//     (one live attempt per node), attempts per second;
// each next to a baseline measured in the same run: one plain HTTPS JSON round trip on a fresh
// connection (what any S2 Connect call costs at least). `--quick` runs fewer rounds (CI smoke).
import { spawn } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createS2ConnectServer, connectPaired, generateCertificates, MemoryPairingStore, pair } from '../dist/connect/index.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 5 : 30;
const THROUGHPUT_NODES = quick ? 4 : 16;
const THROUGHPUT_SECONDS = quick ? 1 : 5;
const resolve = (host) => (host.endsWith('.local') ? '127.0.0.1' : undefined);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(1)} ms`;
const uuid = () => crypto.randomUUID();
const rmNode = () => ({ id: uuid(), brand: 'bench', type: 'battery', modelName: 'bench RM', role: 'RM' });

/** Baseline: a plain HTTPS server answering a small JSON body; one request per fresh TLS connection. */
async function httpsBaseline(certs) {
  const server = https.createServer({ cert: certs.chainPem, key: certs.keyPem }, (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('["v1"]'));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  const one = () =>
    new Promise((ok, fail) => {
      const t0 = performance.now();
      https
        .get({ host: '127.0.0.1', port, servername: 'cem.local', path: '/', ca: certs.rootPem, agent: false }, (res) => {
          res.resume();
          res.on('end', () => ok(performance.now() - t0));
        })
        .on('error', fail);
    });
  const times = [];
  for (let i = 0; i < ROUNDS; i++) times.push(await one());
  server.close();
  return median(times);
}

/** A real `s2 cem --connect` process; resolves with its pairing URL and a way to ask for more codes. */
async function startCemProcess(store) {
  const port = await freePort();
  const child = spawn(process.execPath, [
    new URL('../dist/cli/main.js', import.meta.url).pathname,
    'cem',
    '--connect',
    '--store',
    store,
    '--quiet',
    '--port',
    String(port),
    '--public-url',
    `https://cem.local:${port}/`,
  ]);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  for (let i = 0; i < 200 && !/pairing url: /.test(out); i++) await new Promise((r) => setTimeout(r, 25));
  const code = /pairing code: (\S+)/.exec(out)?.[1];
  const url = /pairing url: (\S+)/.exec(out)?.[1];
  if (!code || !url) throw new Error(`s2 cem did not start:\n${out}`);
  return { child, code, url };
}

async function freePort() {
  const net = await import('node:net');
  return new Promise((ok) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function main() {
  const certs = await generateCertificates({ hostname: 'cem.local' });
  const baseline = await httpsBaseline(certs);

  // 1. Pairing and session initiation against s2 cem processes (a one-time code per process run).
  const pairTimes = [];
  const initTimes = [];
  for (let i = 0; i < ROUNDS; i++) {
    const dir = mkdtempSync(path.join(tmpdir(), 's2-bench-connect-'));
    const cem = await startCemProcess(dir);
    const store = new MemoryPairingStore();
    const node = rmNode();
    let t0 = performance.now();
    await pair({ code: cem.code, pairingUrl: cem.url, node, endpoint: { deployment: 'LAN' }, store, resolve });
    pairTimes.push(performance.now() - t0);
    for (let j = 0; j < 3; j++) {
      t0 = performance.now();
      const { transport } = await connectPaired({ store, resolve });
      initTimes.push(performance.now() - t0);
      transport.close(1000, 'bench');
    }
    cem.child.kill('SIGTERM');
    await new Promise((ok) => cem.child.once('exit', ok));
    rmSync(dir, { recursive: true, force: true });
  }

  // 2. Pairing throughput of one endpoint with several nodes, each with a long-lived token.
  const nodes = Array.from({ length: THROUGHPUT_NODES }, () => ({
    description: { id: uuid(), brand: 'bench', type: 'CEM', modelName: 'bench CEM', role: 'CEM' },
  }));
  const server = await createS2ConnectServer({
    nodes,
    endpoint: { deployment: 'LAN' },
    tls: { cert: certs.chainPem, key: certs.keyPem },
    hostname: 'cem.local',
    store: new MemoryPairingStore(),
    onConnection: (t) => t.close(1000, 'bench'),
  });
  const codes = nodes.map((n) => server.allowPairingRepeated(undefined, n.description.id).code);
  let done = 0;
  const until = performance.now() + THROUGHPUT_SECONDS * 1000;
  await Promise.all(
    nodes.map(async (n, i) => {
      while (performance.now() < until) {
        await pair({
          code: codes[i],
          pairingUrl: server.url,
          nodeId: n.description.id,
          node: rmNode(),
          endpoint: { deployment: 'LAN' },
          store: new MemoryPairingStore(),
          resolve,
        });
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - (until - THROUGHPUT_SECONDS * 1000)) / 1000;
  await server.close();

  const pairMedian = median(pairTimes);
  const initMedian = median(initTimes);
  console.log(`S2 Connect on 127.0.0.1 (${quick ? 'quick' : 'full'} run; Node ${process.version})`);
  console.log(`baseline: one HTTPS JSON round trip on a fresh TLS connection   median ${ms(baseline)}`);
  console.log(
    `pair with s2 cem --connect (version probe + 4 HTTPS calls)      median ${ms(pairMedian)}  = ${(pairMedian / baseline).toFixed(1)}× baseline  (n=${pairTimes.length})`,
  );
  console.log(
    `initiate a session + open its WebSocket (probe, 2 calls, WSS)   median ${ms(initMedian)}  = ${(initMedian / baseline).toFixed(1)}× baseline  (n=${initTimes.length})`,
  );
  console.log(
    `pairing throughput, one server, ${THROUGHPUT_NODES} nodes, clients in this process: ${(done / elapsed).toFixed(0)} pairings/s (${done} in ${elapsed.toFixed(1)} s; baseline ${(1000 / baseline).toFixed(0)} fresh HTTPS round trips/s sequentially)`,
  );
}

await main();
