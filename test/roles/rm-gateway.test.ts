/**
 * `createRmGateway`: many RMs in one process, each with its own session to one CEM, dialled at a
 * bounded rate. Real sockets on 127.0.0.1; the rate limit itself is checked with a fake clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createCemServer, type CemServer } from '../../src/roles/cem-server.js';
import { createDialGate, createRmGateway, type GatewayDevice, type RmGateway } from '../../src/roles/rm-gateway.js';
import type { RmDetailsInput } from '../../src/machines/session-setup.js';
import type { S2Session } from '../../src/roles/session.js';
import { S2Error } from '../../src/typebox/errors.js';

const base: RmDetailsInput = {
  resource_id: 'c2b6d9a6-1d2b-4a8e-9a43-2f4a51e3c001',
  roles: [{ role: 'ENERGY_STORAGE', commodity: 'ELECTRICITY' }],
  instruction_processing_delay: 100,
  available_control_types: ['FILL_RATE_BASED_CONTROL', 'NOT_CONTROLABLE'],
  provides_forecast: false,
  provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
};
/** Device i: its own resource_id, so the CEM can tell which session is whose. */
const device = (i: number): GatewayDevice => ({
  id: `meter-${i}`,
  details: { ...base, resource_id: `c2b6d9a6-1d2b-4a8e-9a43-${String(i).padStart(12, '0')}` },
});

const servers: CemServer[] = [];
const gateways: RmGateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function cem(): Promise<CemServer> {
  const server = await createCemServer({ logger: false });
  servers.push(server);
  return server;
}

/** Resolves once `count` devices have FRBC active (counted from the gateway's events). */
function allActive(gateway: RmGateway, count: number): Promise<Map<string, S2Session>> {
  const seen = new Map<string, S2Session>();
  return new Promise((resolve) =>
    gateway.on('controlType', ({ device: id, session, controlType }) => {
      if (controlType !== 'FILL_RATE_BASED_CONTROL') return;
      seen.set(id, session);
      if (seen.size === count) resolve(seen);
    }),
  );
}

describe('createRmGateway', () => {
  it(
    '300 devices over 127.0.0.1: every device active, each in its own session, the CEM sees each resource once',
    { timeout: 20_000 },
    async () => {
      const server = await cem();
      const devices = Array.from({ length: 300 }, (_, i) => device(i));
      const sessionEvents: string[] = [];
      const gateway = createRmGateway({ url: server.url, devices, connectRate: 3000, logger: false });
      gateways.push(gateway);
      gateway.on('session', ({ device: id }) => sessionEvents.push(id));
      const active = await allActive(gateway, devices.length);

      expect(gateway.devices).toEqual(devices.map((d) => d.id));
      expect(new Set(sessionEvents)).toEqual(new Set(gateway.devices));
      const sessions = gateway.sessions();
      expect(sessions.size).toBe(300);
      // Every device has its own session, announcing its own details.
      expect(new Set(sessions.values()).size).toBe(300);
      for (const d of devices) {
        const s = gateway.session(d.id)!;
        expect(s).toBe(sessions.get(d.id));
        expect(s).toBe(active.get(d.id));
        expect(s.state).toBe('connected.active.FRBC');
        expect(s.rmDetails?.resource_id).toBe(d.details.resource_id);
      }
      const status = gateway.status();
      expect(status).toMatchObject({
        devices: 300,
        connected: 300,
        active: 300,
        byControlType: { FILL_RATE_BASED_CONTROL: 300 },
        queuedDials: 0,
      });
      // The CEM side: 300 sessions, one per resource_id.
      const cemSide = [...server.sessions].map((s) => s.rmDetails?.resource_id);
      expect(new Set(cemSide)).toEqual(new Set(devices.map((d) => d.details.resource_id)));
    },
  );

  it('remove() stops one device for good; close() ends the others; close events name the device', { timeout: 10_000 }, async () => {
    const server = await cem();
    const gateway = createRmGateway({ url: server.url, devices: [device(1), device(2), device(3)], logger: false });
    gateways.push(gateway);
    await allActive(gateway, 3);
    const closes: Array<{ device: string; code: number }> = [];
    gateway.on('close', ({ device: id, code }) => closes.push({ device: id, code }));

    await gateway.remove('meter-2');
    expect(gateway.devices).toEqual(['meter-1', 'meter-3']);
    expect(() => gateway.session('meter-2')).toThrow(/no device 'meter-2'/);
    await expect.poll(() => server.sessions.size).toBe(2);
    expect(closes).toEqual([{ device: 'meter-2', code: 1000 }]);

    await gateway.close();
    expect(gateway.status()).toMatchObject({ devices: 2, connected: 0, active: 0 });
    expect(closes.map((c) => c.device).sort()).toEqual(['meter-1', 'meter-2', 'meter-3']);
    await expect(gateway.nextSession('meter-1')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(() => gateway.add(device(4))).toThrow(/closed/);
  });

  it('add() starts a new device; a duplicate id is refused', { timeout: 10_000 }, async () => {
    const server = await cem();
    const gateway = createRmGateway({ url: server.url, devices: [device(1)], logger: false });
    gateways.push(gateway);
    const next = gateway.nextSession('meter-1');
    gateway.add(device(2));
    const second = await gateway.nextSession('meter-2');
    expect(second).not.toBe(await next);
    expect(() => gateway.add(device(2))).toThrow(/'meter-2' is used twice/);
  });

  it('options are checked up front and a bad device is named', () => {
    const bad = (o: object) => {
      try {
        createRmGateway({ url: 'ws://127.0.0.1:1/', logger: false, devices: [], ...o });
      } catch (err) {
        expect(err).toBeInstanceOf(S2Error);
        expect(err).toMatchObject({ code: 'INVALID_OPTIONS' });
        return (err as Error).message;
      }
      throw new Error('no error');
    };
    expect(bad({ devices: [device(1), device(1)] })).toMatch(/devices\[1\]\.id 'meter-1' is used twice/);
    expect(bad({ devices: [device(1), { id: 'x', details: { ...base, available_control_types: 'FRBC' } }] })).toMatch(
      /devices\[1\] \(id 'x'\)/,
    );
    expect(bad({ devices: [{ id: '', details: base }] })).toMatch(/devices\[0\]\.id must be a non-empty string/);
    expect(bad({ connectRate: 0 })).toMatch(/connectRate must be a number > 0 \(got 0\)/);
    expect(bad({ url: undefined })).toMatch(/url is required/);
  });
});

describe('createDialGate (the rate limit of the gateway)', () => {
  /** A fake clock: timers fire only when `advance` passes their time. */
  function fakeClock() {
    let now = 0;
    let timers: Array<{ at: number; fn: () => void; id: number }> = [];
    let nextId = 0;
    return {
      now: () => now,
      setTimeout: (fn: () => void, ms: number) => {
        const id = ++nextId;
        timers.push({ at: now + ms, fn, id });
        return id;
      },
      clearTimeout: (id: unknown) => void (timers = timers.filter((t) => t.id !== id)),
      async advance(ms: number) {
        const end = now + ms;
        for (;;) {
          const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
          if (!due) break;
          timers = timers.filter((t) => t !== due);
          now = due.at;
          due.fn();
          await Promise.resolve();
        }
        now = end;
        await Promise.resolve();
      },
    };
  }

  it('lets `burst` dials through at once, then one per 1/rate seconds, in order', async () => {
    const clock = fakeClock();
    const gate = createDialGate(10, 2, clock); // 10 per second, burst 2
    const went: Array<[number, number]> = [];
    for (let i = 0; i < 5; i++) void gate.acquire(() => true).then(() => went.push([i, clock.now()]));
    await clock.advance(0);
    expect(went).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(gate.queued).toBe(3);
    await clock.advance(1000);
    expect(went).toEqual([
      [0, 0],
      [1, 0],
      [2, 100],
      [3, 200],
      [4, 300],
    ]);
  });

  it('a waiter whose device stopped gives up its turn without using it; close() rejects the rest', async () => {
    const clock = fakeClock();
    const gate = createDialGate(10, 1, clock);
    let stopped = false;
    const first = gate.acquire(() => true);
    const gone = gate.acquire(() => !stopped);
    const third = gate.acquire(() => true);
    const fourth = gate.acquire(() => true);
    await first;
    stopped = true;
    const thirdAt = third.then(() => clock.now());
    await clock.advance(100);
    await expect(gone).rejects.toMatchObject({ code: 'INVALID_STATE' });
    // The stopped device's turn went to the next one: at 100 ms, not 200 ms.
    expect(await thirdAt).toBe(100);
    gate.close(new S2Error('INVALID_STATE', 'closed'));
    await expect(fourth).rejects.toThrow(/closed/);
    await expect(gate.acquire(() => true)).rejects.toThrow(/closed/);
  });
});
