/**
 * The kit's TEST MODELS: small XState machines without actions, timers or children that mirror
 * the statecharts of s2-engine (src/machines) as seen from the OTHER side of the wire. Their
 * events are what the kit can do (or wait for); `xstate/graph` walks them (paths.ts) and every
 * generated path becomes one scenario, i.e. one WebSocket session against the implementation
 * under test. The drivers (kit-cem.ts, kit-rm.ts) say what each event is as S2 frames and what the
 * peer must answer.
 *
 * - RM under test (the kit plays the CEM): `rmSessionModel` mirrors rm-session.ts (handshake →
 *   connected.awaitingSelection / noControlType / active → closed); `rmControlTypeModel` mirrors the
 *   RM-side activation of control-type.ts (instructions given, revoked, the type deselected).
 * - CEM under test (the kit plays the RM): `cemSessionModel` mirrors cem-session.ts (handshake →
 *   awaitingDetails → selecting → active / refused → closed); `cemControlTypeModel` mirrors
 *   control-type.ts (awaitingDescription ⇄ described, instructed); `instructionModel` mirrors
 *   instruction.ts, built from the same R46 table (`nextStatuses`) the real machine is built from.
 */
import { createMachine, type AnyStateMachine } from 'xstate';
import { FINAL_STATUSES, nextStatuses } from '../rules/instruction-status.js';
import type { InstructionStatus } from '../typebox/common/enums.js';

/** What one model event checks: the rules (ids of docs/rules.md) and a few words for reports. */
export interface EventInfo {
  readonly rules: readonly string[];
  readonly says: string;
}

const FRAME_EVENTS = {
  INVALID_JSON: { rules: ['R15', 'R20'], says: 'a frame that is not JSON ⇒ INVALID_DATA, nil UUID' },
  NO_MESSAGE_ID: { rules: ['R15', 'R20'], says: 'JSON without message_id ⇒ INVALID_DATA, nil UUID' },
  SCHEMA_VIOLATION: { rules: ['R5', 'R15'], says: 'a schema violation ⇒ INVALID_MESSAGE' },
  UNKNOWN_TYPE: { rules: ['R1', 'R15'], says: 'an unknown message_type ⇒ INVALID_MESSAGE' },
  INVALID_RS: { rules: ['R11'], says: 'a malformed ReceptionStatus ⇒ no answer' },
  RS_UNKNOWN: { rules: ['R11', 'R14'], says: 'a ReceptionStatus for an id never sent ⇒ no answer' },
  SESSION_REQUEST_RECONNECT: { rules: ['R11', 'Q11'], says: 'SessionRequest RECONNECT ⇒ OK, then the peer closes' },
  SESSION_REQUEST_TERMINATE: { rules: ['R11', 'Q11'], says: 'SessionRequest TERMINATE ⇒ OK, then the peer closes' },
} as const satisfies Record<string, EventInfo>;

/** Events of the kit playing the CEM against an RM. */
export const RM_ROLE_EVENTS = {
  ...FRAME_EVENTS,
  CEM_HANDSHAKE: { rules: ['R11', 'R23'], says: 'the CEM Handshake ⇒ OK' },
  CEM_HANDSHAKE_AGAIN: { rules: ['R30'], says: 'a second CEM Handshake ⇒ INVALID_CONTENT' },
  CEM_HANDSHAKE_WRONG_ROLE: { rules: ['R24'], says: 'a Handshake with role RM ⇒ INVALID_CONTENT, close' },
  EARLY_MESSAGE: { rules: ['R28', 'Q6'], says: 'SelectControlType before the handshake is complete ⇒ INVALID_CONTENT' },
  HANDSHAKE_RESPONSE: { rules: ['R26', 'R28'], says: 'HandshakeResponse ⇒ OK, then ResourceManagerDetails' },
  HANDSHAKE_RESPONSE_AGAIN: { rules: ['R30'], says: 'a second HandshakeResponse ⇒ INVALID_CONTENT' },
  HANDSHAKE_RESPONSE_NOT_OFFERED: { rules: ['R27'], says: 'a version the RM never offered ⇒ INVALID_CONTENT, close' },
  DETAILS_PERMANENT_ERROR: { rules: ['R18'], says: 'ResourceManagerDetails answered PERMANENT_ERROR ⇒ the RM closes' },
  SELECT_ACTIVE: { rules: ['R34', 'R39', 'R41', 'R60'], says: 'SelectControlType(type under test) ⇒ OK, then the description first' },
  SELECT_NOT_CONTROLABLE: { rules: ['R34', 'Q8'], says: 'SelectControlType(NOT_CONTROLABLE) ⇒ OK' },
  SELECT_NO_SELECTION: { rules: ['R36', 'R40', 'Q8'], says: 'SelectControlType(NO_SELECTION) ⇒ OK, the type goes quiet' },
  SELECT_NOT_OFFERED: { rules: ['R35'], says: 'SelectControlType of a type not offered ⇒ INVALID_CONTENT' },
  WRONG_SENDER: { rules: ['Q6'], says: 'a PowerMeasurement from the CEM ⇒ INVALID_CONTENT' },
  OTHER_CT_MESSAGE: { rules: ['R37'], says: 'an instruction of an inactive control type ⇒ INVALID_CONTENT' },
  INSTRUCT: { rules: ['R17', 'R44', 'R46'], says: 'a well-referenced instruction ⇒ OK, then InstructionStatusUpdates' },
  INSTRUCT_UNKNOWN: { rules: ['R49'], says: 'an instruction naming an unknown object ⇒ INVALID_CONTENT, no status' },
  INSTRUCT_REUSED_ID: { rules: ['R42'], says: 'an instruction reusing an instruction id ⇒ INVALID_CONTENT' },
  REVOKE_INSTRUCTION: { rules: ['R54', 'R58'], says: 'RevokeObject of the open instruction ⇒ OK, then REVOKED' },
  REVOKE_AGAIN: { rules: ['R54'], says: 'RevokeObject of a revoked instruction ⇒ INVALID_CONTENT' },
  REVOKE_UNKNOWN: { rules: ['R54'], says: 'RevokeObject of an unknown instruction ⇒ INVALID_CONTENT' },
  REVOKE_RM_OBJECT: { rules: ['R55'], says: 'the CEM revokes the RM’s description ⇒ INVALID_CONTENT' },
  REVOKE_OTHER_TYPE: { rules: ['R57'], says: 'RevokeObject of another control type’s object ⇒ INVALID_CONTENT' },
  DESELECT: { rules: ['R36', 'R40'], says: 'SelectControlType(NO_SELECTION) with an instruction open ⇒ OK' },
  REVOKE_AFTER_DESELECT: { rules: ['R37', 'R40'], says: 'RevokeObject after the type was deselected ⇒ INVALID_CONTENT' },
} as const satisfies Record<string, EventInfo>;

/** Events of the kit playing the RM against a CEM. */
export const CEM_ROLE_EVENTS = {
  ...FRAME_EVENTS,
  SCHEMA_VIOLATION: { rules: ['R5', 'R15'], says: 'a PowerMeasurement with a field no schema has ⇒ INVALID_MESSAGE' },
  RM_HANDSHAKE: { rules: ['R11', 'R26', 'R27'], says: 'the RM Handshake ⇒ OK, then HandshakeResponse with an offered version' },
  RM_HANDSHAKE_AGAIN: { rules: ['R30'], says: 'a second RM Handshake ⇒ INVALID_CONTENT' },
  RM_HANDSHAKE_NO_COMMON_VERSION: {
    rules: ['R27', 'R29'],
    says: 'no common version ⇒ INVALID_CONTENT, no HandshakeResponse, the session ends',
  },
  RM_HANDSHAKE_WRONG_ROLE: { rules: ['R24'], says: 'a Handshake with role CEM ⇒ INVALID_CONTENT, close' },
  EARLY_MESSAGE: { rules: ['R28', 'Q6'], says: 'a PowerMeasurement before the handshake ⇒ INVALID_CONTENT' },
  DETAILS: { rules: ['R11', 'R34'], says: 'ResourceManagerDetails ⇒ OK, then SelectControlType of an offered type' },
  MEASUREMENT: { rules: ['R14', 'R38'], says: 'a PowerMeasurement ⇒ OK' },
  WRONG_SENDER: { rules: ['Q6'], says: 'a SelectControlType from the RM ⇒ INVALID_CONTENT' },
  CT_MESSAGE_INACTIVE: { rules: ['R37', 'R41'], says: 'a description of a type not (yet) active ⇒ INVALID_CONTENT' },
  CT_MESSAGE_OTHER_TYPE: { rules: ['R37'], says: 'a description of another control type ⇒ INVALID_CONTENT' },
  ISU_NO_CONTROL_TYPE: { rules: ['R37'], says: 'an InstructionStatusUpdate with no type active ⇒ INVALID_CONTENT' },
  RM_INSTRUCTION: { rules: ['Q6'], says: 'an instruction sent by the RM ⇒ INVALID_CONTENT' },
  SELECTION_OK: { rules: ['R41'], says: 'the RM answers the selection OK' },
  SELECTION_REFUSED: { rules: ['R41'], says: 'the RM answers the selection INVALID_CONTENT' },
  SELECTION_PERMANENT_ERROR: { rules: ['R18'], says: 'the RM answers the selection PERMANENT_ERROR ⇒ the CEM closes' },
  WAIT_QUIET: { rules: ['R39'], says: 'no instruction while nothing is described' },
  STATUS_EARLY: { rules: ['R39'], says: 'a status before the description ⇒ INVALID_CONTENT' },
  DESCRIBE: { rules: ['R11', 'R39'], says: 'the description and statuses ⇒ OK' },
  DESCRIBE_AGAIN: { rules: ['R72', 'Q21'], says: 'a second description ⇒ OK' },
  AWAIT_INSTRUCTION: { rules: ['R39', 'R42', 'R50'], says: 'the CEM instructs against the description' },
  STATUS_UNKNOWN: { rules: ['R62', 'R105'], says: 'a status naming an unknown mode / container ⇒ INVALID_CONTENT' },
  ISU_UNKNOWN: { rules: ['R45'], says: 'an InstructionStatusUpdate for an unknown instruction ⇒ INVALID_CONTENT' },
  REVOKE_DESCRIPTION: { rules: ['R54', 'R56'], says: 'RevokeObject of the RM’s description ⇒ OK' },
  REVOKE_UNKNOWN: { rules: ['R54'], says: 'RevokeObject of an unknown description ⇒ INVALID_CONTENT' },
  REVOKE_OTHER_TYPE: { rules: ['R57'], says: 'RevokeObject of another control type’s object ⇒ INVALID_CONTENT' },
  REVOKE_CEM_INSTRUCTION: { rules: ['R55'], says: 'the RM revokes the CEM’s instruction ⇒ INVALID_CONTENT' },
  ...Object.fromEntries(
    (['NEW', 'ACCEPTED', 'STARTED', 'SUCCEEDED', 'ABORTED', 'REJECTED', 'REVOKED'] as const).map((s) => [
      `STATUS_${s}`,
      { rules: ['R46'], says: `InstructionStatusUpdate ${s} ⇒ OK where R46 allows it, else INVALID_CONTENT` },
    ]),
  ),
  STATUS_AFTER_FINAL: { rules: ['R44', 'R46'], says: 'a status after a final one ⇒ INVALID_CONTENT' },
} as const satisfies Record<string, EventInfo>;

// ---------------------------------------------------------------------------------------------

/** A transition that keeps the state: xstate/graph explores only transitions with a target or an action. */
const stay = (): void => {};
const STAY = { actions: stay } as const;
type On = Record<string, string | typeof STAY>;

/** Builds a model machine from leaf paths (`a.b`) and their transitions; `closed` is final. */
function model(id: string, initialLeaf: string, leaves: Record<string, On>): AnyStateMachine {
  interface Node {
    initial?: string;
    type?: 'final';
    on?: On;
    states?: Record<string, Node>;
  }
  const root: Node = { states: {} };
  for (const [path, on] of Object.entries(leaves)) {
    let node = root;
    for (const part of path.split('.')) {
      node.states ??= {};
      node = node.states[part] ??= {};
    }
    if (path === 'closed') node.type = 'final';
    else node.on = on;
  }
  const want = initialLeaf.split('.');
  const setInitial = (node: Node, depth: number, onPath: boolean): void => {
    if (!node.states) return;
    const keys = Object.keys(node.states);
    const w = onPath ? want[depth] : undefined;
    node.initial = w !== undefined && keys.includes(w) ? w : keys[0]!;
    for (const [k, child] of Object.entries(node.states)) setInitial(child, depth + 1, onPath && k === node.initial);
  };
  setInitial(root, 0, true);
  return createMachine({ id, ...root });
}

const t = (id: string) => (path: string) => `#${id}.${path}`;
const frameErrors: On = {
  INVALID_JSON: STAY,
  NO_MESSAGE_ID: STAY,
  SCHEMA_VIOLATION: STAY,
  UNKNOWN_TYPE: STAY,
  INVALID_RS: STAY,
  RS_UNKNOWN: STAY,
};

export interface RmSessionModelConfig {
  /** The RM offers a real control type: the model has `connected.active`. */
  readonly active: boolean;
  /** The RM offers NOT_CONTROLABLE. */
  readonly notControllable: boolean;
}

/** The RM session (rm-session.ts) as the kit, playing the CEM, drives it. */
export function rmSessionModel(cfg: RmSessionModelConfig): AnyStateMachine {
  const to = t('rmSession');
  const select: On = {
    ...(cfg.active ? { SELECT_ACTIVE: to('connected.active') } : {}),
    ...(cfg.notControllable ? { SELECT_NOT_CONTROLABLE: to('connected.noControlType') } : {}),
  };
  return model('rmSession', 'handshake.awaitingCem', {
    'handshake.awaitingCem': {
      CEM_HANDSHAKE: to('handshake.cemSeen'),
      CEM_HANDSHAKE_WRONG_ROLE: to('closed'),
      EARLY_MESSAGE: STAY,
      INVALID_JSON: STAY,
    },
    'handshake.cemSeen': {
      HANDSHAKE_RESPONSE: to('connected.awaitingSelection'),
      HANDSHAKE_RESPONSE_NOT_OFFERED: to('closed'),
      CEM_HANDSHAKE_AGAIN: STAY,
      DETAILS_PERMANENT_ERROR: to('closed'),
    },
    'connected.awaitingSelection': {
      ...frameErrors,
      ...select,
      SELECT_NO_SELECTION: to('connected.noControlType'),
      SELECT_NOT_OFFERED: STAY,
      CEM_HANDSHAKE_AGAIN: STAY,
      HANDSHAKE_RESPONSE_AGAIN: STAY,
      WRONG_SENDER: STAY,
      OTHER_CT_MESSAGE: STAY,
      SESSION_REQUEST_RECONNECT: to('closed'),
      SESSION_REQUEST_TERMINATE: to('closed'),
    },
    ...(cfg.active
      ? {
          'connected.active': {
            SELECT_NO_SELECTION: to('connected.noControlType'),
            OTHER_CT_MESSAGE: STAY,
            SCHEMA_VIOLATION: STAY,
            SESSION_REQUEST_TERMINATE: to('closed'),
          },
        }
      : {}),
    'connected.noControlType': { ...(cfg.active ? { SELECT_ACTIVE: to('connected.active') } : {}), OTHER_CT_MESSAGE: STAY },
    closed: {},
  });
}

/** The RM side of one activation (control-type.ts, instruction.ts) as the kit, playing the CEM, drives it. */
export function rmControlTypeModel(): AnyStateMachine {
  const to = t('rmControlType');
  return model('rmControlType', 'uninstructed', {
    uninstructed: {
      INSTRUCT: to('instructed'),
      INSTRUCT_UNKNOWN: STAY,
      REVOKE_UNKNOWN: STAY,
      REVOKE_RM_OBJECT: STAY,
      REVOKE_OTHER_TYPE: STAY,
    },
    instructed: {
      INSTRUCT: STAY,
      INSTRUCT_UNKNOWN: STAY,
      INSTRUCT_REUSED_ID: STAY,
      REVOKE_INSTRUCTION: to('revoked'),
      DESELECT: to('deselected'),
    },
    revoked: { REVOKE_AGAIN: STAY, INSTRUCT_REUSED_ID: STAY },
    deselected: { REVOKE_AFTER_DESELECT: STAY },
  });
}

/** The CEM session (cem-session.ts) as the kit, playing the RM, drives it. */
export function cemSessionModel(): AnyStateMachine {
  const to = t('cemSession');
  return model('cemSession', 'handshake', {
    handshake: {
      RM_HANDSHAKE: to('connected.awaitingDetails'),
      RM_HANDSHAKE_NO_COMMON_VERSION: to('closed'),
      RM_HANDSHAKE_WRONG_ROLE: to('closed'),
      EARLY_MESSAGE: STAY,
      INVALID_JSON: STAY,
    },
    'connected.awaitingDetails': {
      ...frameErrors,
      DETAILS: to('connected.selecting'),
      MEASUREMENT: STAY,
      RM_HANDSHAKE_AGAIN: STAY,
      WRONG_SENDER: STAY,
      CT_MESSAGE_INACTIVE: STAY,
      ISU_NO_CONTROL_TYPE: STAY,
      SESSION_REQUEST_RECONNECT: to('closed'),
      SESSION_REQUEST_TERMINATE: to('closed'),
    },
    'connected.selecting': {
      SELECTION_OK: to('connected.active'),
      SELECTION_REFUSED: to('connected.refused'),
      SELECTION_PERMANENT_ERROR: to('closed'),
      MEASUREMENT: STAY,
    },
    'connected.refused': { CT_MESSAGE_INACTIVE: STAY, MEASUREMENT: STAY },
    'connected.active': { CT_MESSAGE_OTHER_TYPE: STAY, RM_INSTRUCTION: STAY, MEASUREMENT: STAY, SESSION_REQUEST_TERMINATE: to('closed') },
    closed: {},
  });
}

export interface CemControlTypeModelConfig {
  /** A status before the description is a fault for this type (not PEBC). */
  readonly statusEarly: boolean;
  /** A status can name an unknown mode / container (not PEBC). */
  readonly statusUnknown: boolean;
}

/** One activation on the CEM side (control-type.ts) as the kit, playing the RM, drives it. */
export function cemControlTypeModel(cfg: CemControlTypeModelConfig): AnyStateMachine {
  const to = t('cemControlType');
  return model('cemControlType', 'awaitingDescription.never', {
    'awaitingDescription.never': {
      WAIT_QUIET: STAY,
      ...(cfg.statusEarly ? { STATUS_EARLY: STAY } : {}),
      DESCRIBE: to('described.uninstructed'),
      REVOKE_UNKNOWN: STAY,
    },
    // The real machine is back in awaitingDescription; the model remembers that it was revoked (R58).
    'awaitingDescription.revoked': { WAIT_QUIET: STAY, DESCRIBE: to('described.uninstructed') },
    'described.uninstructed': {
      AWAIT_INSTRUCTION: to('described.instructed'),
      ...(cfg.statusUnknown ? { STATUS_UNKNOWN: STAY } : {}),
      ISU_UNKNOWN: STAY,
      REVOKE_DESCRIPTION: to('awaitingDescription.revoked'),
      REVOKE_OTHER_TYPE: STAY,
      DESCRIBE_AGAIN: STAY,
    },
    'described.instructed': { REVOKE_CEM_INSTRUCTION: STAY },
  });
}

export const INSTRUCTION_STATUSES: readonly InstructionStatus[] = [
  'NEW',
  'ACCEPTED',
  'STARTED',
  'SUCCEEDED',
  'ABORTED',
  'REJECTED',
  'REVOKED',
];

/** One instruction (instruction.ts) as the kit, playing the RM, reports its statuses; transitions from R46 (`nextStatuses`). */
export function instructionModel(): AnyStateMachine {
  const to = t('instruction');
  const leaves: Record<string, On> = {};
  for (const from of [undefined, 'NEW', 'ACCEPTED', 'STARTED'] as const) {
    const allowed = nextStatuses(from);
    leaves[from ?? 'received'] = Object.fromEntries(INSTRUCTION_STATUSES.map((s) => [`STATUS_${s}`, allowed.includes(s) ? to(s) : STAY]));
  }
  for (const final of FINAL_STATUSES) leaves[final] = { STATUS_AFTER_FINAL: STAY };
  return model('instruction', 'received', leaves);
}
