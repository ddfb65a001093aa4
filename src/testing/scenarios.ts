/**
 * Scenarios: one per path generated from the test models (models.ts, paths.ts). A scenario is
 * one WebSocket session against the implementation under test: the set-up events that bring the
 * session to the model's initial state (`prefix`), then the path's events. Control-type scenarios
 * are generated per control type; the instruction model does not depend on the type, so its paths
 * take the tested types in turn.
 */
import type { AnyStateMachine } from 'xstate';
import type { ControlTypeShort } from '../typebox/message-spec.js';
import {
  CEM_ROLE_EVENTS,
  RM_ROLE_EVENTS,
  cemControlTypeModel,
  cemSessionModel,
  instructionModel,
  rmControlTypeModel,
  rmSessionModel,
  type EventInfo,
} from './models.js';
import { coveringPaths } from './paths.js';

/** The role of the implementation under test (the kit plays the other one). */
export type TestedRole = 'CEM' | 'RM';
export type ScenarioModel = 'discovery' | 'session' | 'control-type' | 'instruction';

export interface Scenario {
  /** `rm.session.03`, `cem.FRBC.02`, `cem.instruction.11` */
  readonly id: string;
  readonly role: TestedRole;
  readonly model: ScenarioModel;
  /** The control type the scenario selects, if any. */
  readonly controlType: ControlTypeShort | undefined;
  /** The path's events and the model state it ends in: `INSTRUCT → REVOKE_INSTRUCTION ⇒ revoked`. */
  readonly title: string;
  /** Events that bring the session to the model's initial state. */
  readonly prefix: readonly string[];
  /** The generated path. */
  readonly events: readonly string[];
  /** The model state the path ends in. */
  readonly end: string;
  /** The rule ids (docs/rules.md) the path's events check. */
  readonly rules: readonly string[];
}

/** What an RM announced in its ResourceManagerDetails (the discovery session). */
export interface RmOffer {
  /** The real control types offered, in the order offered. */
  readonly types: readonly ControlTypeShort[];
  readonly notControllable: boolean;
}

const RULE_ORDER = (r: string) => (r.startsWith('R') ? 0 : 1000) + Number(r.slice(1));
function rulesOf(events: readonly string[], table: Readonly<Record<string, EventInfo>>): string[] {
  const rules = new Set(events.flatMap((e) => table[e]?.rules ?? []));
  return [...rules].sort((a, b) => RULE_ORDER(a) - RULE_ORDER(b));
}

function fromModel(
  machine: AnyStateMachine,
  table: Readonly<Record<string, EventInfo>>,
  make: (path: { events: readonly string[]; end: string }, index: number) => Omit<Scenario, 'title' | 'events' | 'end' | 'rules'>,
): Scenario[] {
  const { paths } = coveringPaths(machine, Object.keys(table));
  return paths.map((p, i) => ({
    ...make(p, i),
    title: `${p.events.join(' → ')} ⇒ ${p.end}`,
    events: p.events,
    end: p.end,
    rules: rulesOf(p.events, table),
  }));
}

const seq = (n: number) => String(n + 1).padStart(2, '0');

/** The discovery scenario that opens every run against an RM: handshake and details (R22–R28). */
export const RM_DISCOVERY: Scenario = {
  id: 'rm.discovery',
  role: 'RM',
  model: 'discovery',
  controlType: undefined,
  title: 'Handshake, HandshakeResponse, ResourceManagerDetails (what the RM offers)',
  prefix: [],
  events: ['CEM_HANDSHAKE', 'HANDSHAKE_RESPONSE'],
  end: 'connected.awaitingSelection',
  rules: ['R11', 'R22', 'R24', 'R25', 'R26', 'R28'],
};

/** The scenarios against an RM that offered `offer`; `types` limits the control types tested. */
export function rmScenarios(offer: RmOffer, types: readonly ControlTypeShort[] = offer.types): Scenario[] {
  const first = types[0];
  const session = fromModel(
    rmSessionModel({ active: first !== undefined, notControllable: offer.notControllable }),
    RM_ROLE_EVENTS,
    (_p, i) => ({
      id: `rm.session.${seq(i)}`,
      role: 'RM',
      model: 'session',
      controlType: first,
      prefix: [],
    }),
  );
  const perType = types.flatMap((ct) =>
    fromModel(rmControlTypeModel(), RM_ROLE_EVENTS, (_p, i) => ({
      id: `rm.${ct}.${seq(i)}`,
      role: 'RM',
      model: 'control-type',
      controlType: ct,
      prefix: ['CEM_HANDSHAKE', 'HANDSHAKE_RESPONSE', 'SELECT_ACTIVE'],
    })),
  );
  return [...session, ...perType];
}

/** The scenarios against a CEM, for the control types the kit's RM offers (one per session). */
export function cemScenarios(types: readonly ControlTypeShort[]): Scenario[] {
  const first = types[0];
  if (!first) return [];
  const session = fromModel(cemSessionModel(), CEM_ROLE_EVENTS, (_p, i) => ({
    id: `cem.session.${seq(i)}`,
    role: 'CEM',
    model: 'session',
    controlType: first,
    prefix: [],
  }));
  const activation = ['RM_HANDSHAKE', 'DETAILS', 'SELECTION_OK'];
  const perType = types.flatMap((ct) =>
    fromModel(cemControlTypeModel({ statusEarly: ct !== 'PEBC', statusUnknown: ct !== 'PEBC' }), CEM_ROLE_EVENTS, (_p, i) => ({
      id: `cem.${ct}.${seq(i)}`,
      role: 'CEM',
      model: 'control-type',
      controlType: ct,
      prefix: activation,
    })),
  );
  const instruction = fromModel(instructionModel(), CEM_ROLE_EVENTS, (_p, i) => ({
    id: `cem.instruction.${seq(i)}`,
    role: 'CEM',
    model: 'instruction',
    controlType: types[i % types.length],
    prefix: [...activation, 'DESCRIBE', 'AWAIT_INSTRUCTION'],
  }));
  return [...session, ...perType, ...instruction];
}
