import type { ControlTypeShort } from '../typebox/message-spec.js';
import { createBattery, type BatteryOptions } from './battery.js';
import type { SimOptions, SimulatedDevice } from './device.js';
import { createHeatBuffer, type HeatBufferOptions } from './heat-buffer.js';
import { createHeatPump, type HeatPumpOptions } from './heat-pump.js';
import { createPvInverter, type PvInverterOptions } from './pv-inverter.js';
import { createWashingMachine, type WashingMachineOptions } from './washing-machine.js';

export { createBattery, createWashingMachine, createHeatPump, createPvInverter, createHeatBuffer };
export type { BatteryOptions, WashingMachineOptions, HeatPumpOptions, PvInverterOptions, HeatBufferOptions };
export { realTicker, type SimOptions, type SimulatedDevice, type Ticker } from './device.js';
export { createCemPolicy, type CemPolicy, type CemPolicyOptions, type PolicyEvent, type PolicySummary } from './cem-policy.js';
export { simulatedPrice } from './price.js';

/** Options per control type's device. */
export interface DeviceOptions {
  readonly FRBC: BatteryOptions;
  readonly PPBC: WashingMachineOptions;
  readonly OMBC: HeatPumpOptions;
  readonly PEBC: PvInverterOptions;
  readonly DDBC: HeatBufferOptions;
}

const FACTORIES: { readonly [T in ControlTypeShort]: (options: DeviceOptions[T]) => SimulatedDevice<T> } = {
  FRBC: createBattery,
  PPBC: createWashingMachine,
  OMBC: createHeatPump,
  PEBC: createPvInverter,
  DDBC: createHeatBuffer,
};

/**
 * The simulated device of a control type: FRBC home battery, PPBC washing machine, OMBC heat pump,
 * PEBC curtailable PV, DDBC heat buffer. Defaults are a real device in real time; pass
 * e.g. `{ speed: 60 }` for a demo where minutes pass in seconds.
 */
export function createDevice<T extends ControlTypeShort>(type: T, options: DeviceOptions[T] | SimOptions = {}): SimulatedDevice<T> {
  const factory = FACTORIES[type] as (options: DeviceOptions[T] | SimOptions) => SimulatedDevice<T>;
  return factory(options);
}
