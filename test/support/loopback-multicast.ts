/**
 * Multicast on the loopback interface, which the mDNS discovery tests need: they join 224.0.0.251 on 127.0.0.1
 * and use a random free UDP port, so that no packet ever leaves the host. Linux creates `lo` without the
 * MULTICAST flag on some systems (containers); as root we switch it on, otherwise
 *
 * - the suite is reported as skipped, with one line on stderr saying what to do;
 * - with `CI` set (CI=true), the suite FAILS with that message instead: CI must run everything
 *   (the convention of outside-material.ts).
 *
 * Use: `describeWithLoopbackMulticast('title', () => { … })`, and `freeUdpPort()` for each socket group.
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { isCi } from './outside-material.js';

/** IFF_MULTICAST in /sys/class/net/<if>/flags (linux/if.h). */
const IFF_MULTICAST = 0x1000;
const LO_FLAGS = '/sys/class/net/lo/flags';

/** The interface address every discovery test passes (never another). */
export const LOOPBACK = '127.0.0.1';

export interface LoopbackMulticast {
  readonly usable: boolean;
  /** Why not, when not usable. */
  readonly problem: string | undefined;
}

function loFlags(): number | undefined {
  try {
    return Number.parseInt(readFileSync(LO_FLAGS, 'utf8').trim(), 16);
  } catch {
    return undefined;
  }
}

let cached: LoopbackMulticast | undefined;

/** Whether loopback multicast works here; as root on Linux, switches it on (`ip link set lo multicast on`). */
export function loopbackMulticast(): LoopbackMulticast {
  if (cached !== undefined) return cached;
  cached = probe();
  return cached;
}

function probe(): LoopbackMulticast {
  // macOS and the BSDs create lo0 with MULTICAST; only Linux exposes (and may lack) the flag.
  if (process.platform === 'darwin' || process.platform === 'freebsd') return { usable: true, problem: undefined };
  if (process.platform !== 'linux') return { usable: false, problem: `not known how to check loopback multicast on ${process.platform}` };
  const before = loFlags();
  if (before === undefined) return { usable: false, problem: `${LO_FLAGS} is not readable` };
  if ((before & IFF_MULTICAST) !== 0) return { usable: true, problem: undefined };
  if (process.getuid?.() !== 0) {
    return { usable: false, problem: 'lo has no MULTICAST flag; run `ip link set lo multicast on` as root' };
  }
  try {
    execFileSync('ip', ['link', 'set', 'lo', 'multicast', 'on'], { stdio: 'ignore', timeout: 5000 });
  } catch (err) {
    return { usable: false, problem: `lo has no MULTICAST flag and \`ip link set lo multicast on\` failed: ${(err as Error).message}` };
  }
  const after = loFlags();
  return after !== undefined && (after & IFF_MULTICAST) !== 0
    ? { usable: true, problem: undefined }
    : { usable: false, problem: 'lo still has no MULTICAST flag after `ip link set lo multicast on`' };
}

/** A UDP port that is free on 127.0.0.1 right now (never 5353, the real mDNS port). */
export async function freeUdpPort(): Promise<number> {
  for (;;) {
    const socket = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, LOOPBACK, () => resolve(socket.address().port));
    });
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (port !== 5353) return port;
  }
}

/**
 * `describe(title, factory)` when loopback multicast works. Otherwise the suite is one test under `title`:
 * skipped after one `skipped: …` line on stderr, or with CI set, failing with the same message.
 */
export function describeWithLoopbackMulticast(title: string, factory: () => void): void {
  const state = loopbackMulticast();
  if (state.usable) {
    describe(title, factory);
    return;
  }
  const notice = `loopback multicast — ${state.problem ?? 'unavailable'}`;
  if (isCi()) {
    describe(title, () => {
      it('needs loopback multicast', () => {
        throw new Error(`missing loopback multicast with CI set: ${notice}`);
      });
    });
    return;
  }
  process.stderr.write(`skipped: ${notice} [suite: ${title}]\n`);
  describe(title, () => {
    it.skip('needs loopback multicast', () => undefined);
  });
}
