/**
 * s2-engine/sim — the simulated devices and the CEM policy that `s2 demo`, `s2 rm` and `s2 cem`
 * run: complete, working examples of all five RM handlers and of the CEM side, and ready-made
 * peers for testing your own CEM or RM.
 *
 * ```ts
 * import { createCemServer, createRmClient } from 's2-engine';
 * import { createCemPolicy, createDevice } from 's2-engine/sim';
 *
 * const policy = createCemPolicy();                      // instructs every control type
 * const cem = await createCemServer({ port: 0, controlTypes: policy.handlers });
 * const battery = createDevice('FRBC', { speed: 60 });   // an FRBC home battery, a minute per second
 * const rm = createRmClient({ url: cem.url, details: battery.details, controlTypes: { FRBC: battery.handler } });
 * ```
 *
 * The devices: FRBC home battery (`createBattery`), PPBC washing machine (`createWashingMachine`),
 * OMBC heat pump (`createHeatPump`), PEBC curtailable PV (`createPvInverter`), DDBC heat buffer
 * (`createHeatBuffer`); `createDevice(type)` picks one by control type.
 *
 * @module s2-engine/sim
 */
export * from './sim/index.js';
