/**
 * s2-engine/machines — the session statecharts themselves, as XState v5 machines: the CEM side and
 * the RM side of one S2 session. `S2Session` (and so `createCemServer`, `createRmClient`) runs
 * them; import them to draw them, to walk their states and transitions (xstate/graph), or to
 * name them in an inspector.
 *
 * ```ts
 * import { cemSessionMachine, rmSessionMachine } from 's2-engine/machines';
 * console.log(Object.keys(cemSessionMachine.root.states)); // handshake, connected, ending, closing, closed
 * ```
 *
 * Their types are XState's, so this entry point loads xstate's type declarations, and those do not
 * compile with `skipLibCheck: false` under `exactOptionalPropertyTypes` (an upstream issue,
 * statelyai/xstate#4613): a project that imports it with that flag needs `skipLibCheck: true`.
 * That is why the machines are not exported from `s2-engine`: the engine's entry points
 * (`s2-engine`, `s2-engine/frbc` …, `s2-engine/sim`) never load xstate's types.
 *
 * @module s2-engine/machines
 */
export { cemSessionMachine } from './cem-session.js';
export { rmSessionMachine } from './rm-session.js';
