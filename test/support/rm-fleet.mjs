// Runs N `s2 rm` commands in one Node process, for tests that need many RMs on a 2-core CI machine:
// each one is the real command (dist/cli/run.js's `runCli(['rm', …])`, the code behind
// `node dist/cli/main.js rm …`: its option parsing, its createRmClient with the default reconnect
// back-off, its simulated device, its log lines), without the start-up cost and memory of N Node
// processes.
//
//   node test/support/rm-fleet.mjs URL TYPES N [extra s2 rm options…]
//
// TYPES is a comma-separated list of control types, handed out in turn (rm0 FRBC, rm1 PPBC, …).
// Every line an RM prints becomes `<epoch ms> rm<i> <line>` on the same stream, so a test can time
// what each RM saw. SIGTERM or SIGINT stops every RM as it stops `s2 rm` (each closes its session
// with 1000); the exit status is the highest of the RMs'.
import { Readable, Writable } from 'node:stream';
import { runCli } from '../../dist/cli/run.js';

const [url, types, count, ...extra] = process.argv.slice(2);
const n = Number(count);
if (!url || !types || !Number.isInteger(n) || n < 1) {
  process.stderr.write('usage: node test/support/rm-fleet.mjs URL TYPES N [s2 rm options…]\n');
  process.exit(2);
}
const typeList = types.split(',');

// Each `s2 rm` listens for SIGINT and SIGTERM itself: 2 N listeners on one process is expected here.
process.setMaxListeners(0);

/** A stream that prefixes every complete line with the time and the RM's name. */
function lines(prefix, out) {
  let pending = '';
  return new Writable({
    write(chunk, _encoding, done) {
      pending += chunk.toString();
      let i;
      while ((i = pending.indexOf('\n')) >= 0) {
        out.write(`${Date.now()} ${prefix} ${pending.slice(0, i)}\n`);
        pending = pending.slice(i + 1);
      }
      done();
    },
  });
}

const codes = await Promise.all(
  Array.from({ length: n }, (_, i) =>
    runCli(['rm', '--url', url, '--control-type', typeList[i % typeList.length], ...extra], {
      stdout: lines(`rm${i}`, process.stdout),
      stderr: lines(`rm${i}`, process.stderr),
      stdin: Readable.from([]),
    }),
  ),
);
process.exitCode = Math.max(...codes);
