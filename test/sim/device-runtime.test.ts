import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { RmControlContext } from '../../src/roles/rm-control.js';
import { DeviceRuntime, FINISHED_KEPT } from '../../src/sim/device.js';
import { manualTicker } from './harness.js';

/** A context that records the statuses the device reports, without a session behind it. */
function fakeContext() {
  const statuses: [string, string][] = [];
  const ctx = {
    active: true,
    session: { now: () => new Date(), report: vi.fn() },
    send: vi.fn(() => Promise.resolve({ status: 'OK' })),
    status: vi.fn((id: string, status: string) => {
      statuses.push([id, status]);
      return Promise.resolve({ status: 'OK' });
    }),
  } as unknown as RmControlContext<'FRBC'>;
  return { ctx, statuses };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('simulated devices: DeviceRuntime', () => {
  it('[R44, R46] remembers only the latest finished instructions: a long activation keeps no id of every instruction it finished', async () => {
    const rt = new DeviceRuntime<'FRBC'>('test', { ticker: manualTicker() });
    const { ctx, statuses } = fakeContext();
    rt.start(ctx, () => {});
    const ids = Array.from({ length: FINISHED_KEPT * 10 }, () => randomUUID());
    for (const [i, id] of ids.entries()) {
      rt.status(id, 'STARTED');
      if (i % 2) rt.status(id, 'SUCCEEDED');
      else rt.revoked(id);
    }
    await flush();
    const held = (rt as unknown as { finished: ReadonlySet<string> }).finished;
    expect(held.size).toBe(FINISHED_KEPT);

    // The recent ones are still silent after their end: a late status is dropped (R46).
    const recent = ids.slice(-FINISHED_KEPT);
    expect(recent.every((id) => rt.isFinished(id.toUpperCase()))).toBe(true);
    const before = statuses.length;
    for (const id of recent) rt.status(id, 'ABORTED');
    await flush();
    expect(statuses.length).toBe(before);
    expect(rt.isFinished(ids[0]!)).toBe(false);
    rt.stop();
  });
});
