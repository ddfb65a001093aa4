import { describe, expect, it } from 'vitest';
import { CONTROL_TYPE_OF_SHORT } from '../../src/typebox/registry.js';
import { CONTROL_TYPE_SHORT } from '../../src/typebox/message-spec.js';
import { createDevice } from '../../src/sim/index.js';
import { manualTicker, runPair } from './harness.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('simulated devices: details and life cycle', () => {
  it.each(CONTROL_TYPE_SHORT)('[R3, R32, R35] %s device details: lowercase UUIDs, one control type, a measurement type', (type) => {
    const device = createDevice(type);
    expect(device.controlType).toBe(type);
    expect(device.details.resource_id).toMatch(UUID);
    expect(device.details.available_control_types).toEqual([CONTROL_TYPE_OF_SHORT[type]]);
    expect(device.details.provides_power_measurement_types.length).toBeGreaterThan(0);
    expect(device.details.name).toBeTruthy();
    device.stop();
  });

  it.each(CONTROL_TYPE_SHORT)(
    '[R36, R40] %s: the tick runs only while the control type is active; deactivation, close and stop() leave nothing running',
    async (type) => {
      const ticker = manualTicker();
      const device = createDevice(type, { tickMs: 10, speed: 1000, ticker });
      const run = runPair(device, { price: () => 0.05, interruptionMs: false });
      try {
        await run.until(
          () => run.rm.state === `connected.active.${type}` && run.events.some((e) => e.kind === 'instructed'),
          'an instruction',
        );
        expect(ticker.live).toBe(1);
        ticker.tick();
        await run.until(() => run.rmSent.some((m) => m.message_type === 'PowerMeasurement'), 'a measurement on the tick');

        // Deactivation (NO_SELECTION) stops the tick; nothing of the control type is sent afterwards.
        run.cem.select('NO_SELECTION');
        await run.until(() => run.rm.state === 'connected.noControlType', 'no control type');
        expect(ticker.live).toBe(0);
        const count = run.rmSent.length;
        ticker.tick();
        await new Promise((r) => setTimeout(r, 20));
        expect(run.rmSent.slice(count).filter((m) => m.message_type !== 'ReceptionStatus')).toEqual([]);

        // Selected again: the device describes itself afresh and ticks again; stop() ends that.
        run.cem.select(CONTROL_TYPE_OF_SHORT[type]);
        await run.until(() => run.rm.state === `connected.active.${type}` && ticker.live === 1, 'active again');
        device.stop();
        device.stop();
        expect(ticker.live).toBe(0);
        expect(run.problems).toEqual([]);
      } finally {
        await run.close();
      }
      expect(ticker.live).toBe(0);
    },
  );

  it('[R40] with real timers nothing is sent after the session closed', async () => {
    const device = createDevice('FRBC', { tickMs: 5 });
    const run = runPair(device, { price: () => 0.05 });
    await run.until(() => run.rmSent.filter((m) => m.message_type === 'PowerMeasurement').length >= 2, 'two ticks');
    await run.close();
    const count = run.rmSent.length;
    await new Promise((r) => setTimeout(r, 40));
    expect(run.rmSent.length).toBe(count);
    expect(run.problems).toEqual([]);
  });
});
