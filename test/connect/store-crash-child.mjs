// Child process of store-crash.test.ts: writes pairings to a DirectoryPairingStore as fast as it can until it is
// killed with SIGKILL: by the test at a random time, or (argument `begins:turns`) by itself, `turns` event-loop
// turns after it announced its `begins`-th write — which lands the kill between two steps of that write's I/O. Before each write it prints `B <remote> <expected state>`, after the awaited write `D <remote>`;
// stdout is a pipe, and writes to a pipe are synchronous in Node on POSIX, so a printed line is really out.
// Plain .mjs on the built dist/ (the suite runs after `npm run build`): the repository has no TypeScript loader.
import { randomBytes } from 'node:crypto';
import { DirectoryPairingStore } from '../../dist/connect/store/index.js';

const [dir, seedText, selfKill] = process.argv.slice(2);
const [killAtBegin, killTurns] = (selfKill ?? '0:0').split(':').map(Number);
let seed = Number(seedText) >>> 0;
const random = () => {
  // mulberry32, as test/support/rng.ts
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const LOCAL = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
const REMOTES = Array.from({ length: 6 }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`);
const record = (remote) => ({
  localNodeId: LOCAL,
  remoteNodeId: remote,
  localRole: 'CEM',
  remoteNode: { id: remote, brand: 'Acme', type: 'battery', modelName: 'B-1', role: 'RM', userDefinedName: 'x'.repeat(2000) },
  remoteEndpoint: { name: 'crash test', deployment: 'LAN' },
  communicationRole: 'client',
  pairedAt: new Date().toISOString(),
  initiateSessionUrl: 'https://cs.local:8000',
});
const token = () => randomBytes(32).toString('base64');
const line = (text) => process.stdout.write(`${text}\n`);
let begins = 0;
const begin = (text) => {
  line(text);
  if (++begins !== killAtBegin) return;
  let turns = killTurns;
  const hop = () => (turns-- > 0 ? setImmediate(hop) : process.kill(process.pid, 'SIGKILL'));
  hop();
};

const store = new DirectoryPairingStore(dir);
await store.list(); // opens the directory (and deletes the temp files a previous kill left)
line('ready');

/** One writer per group of pairs: writes to different pairs overlap (as in a server), each pair's writes are sequential. */
async function writer(remotes) {
  for (;;) {
    const remote = remotes[Math.floor(random() * remotes.length)];
    const current = await store.get(LOCAL, remote);
    const roll = random();
    if (current === undefined || roll < 0.05) {
      const tokens = [token()];
      begin(`B ${remote} ${JSON.stringify({ kind: 'pairing', tokens })}`);
      await store.put(record(remote), tokens);
    } else if (roll < 0.12) {
      begin(`B ${remote} ${JSON.stringify({ kind: 'tombstone' })}`);
      await store.remove(LOCAL, remote, { tombstone: true });
    } else {
      // The client side of a rotation: [A_old, A_new] first, then [A_new].
      const held = current.tokens.tokens;
      const tokens = held.length === 1 ? [held[0], token()] : [held[1]];
      begin(`B ${remote} ${JSON.stringify({ kind: 'pairing', tokens })}`);
      if (!(await store.swapTokens(LOCAL, remote, current.tokens.version, tokens))) throw new Error('lost a swap with no other writer');
    }
    line(`D ${remote}`);
  }
}

const WRITERS = 6;
await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(REMOTES.filter((_, i) => i % WRITERS === w))));
