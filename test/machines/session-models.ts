/**
 * TEST MODELS of the two session machines: small XState machines without invoke/after whose
 * states mirror the real session states and whose events are what the peer, the application,
 * the transport and the clock can do. Time is a model event (HANDSHAKE_TIMEOUT, RS_TIMEOUT,
 * CLOSE_GRACE). The model says which state the real session must be in after each event; the
 * drivers (session-drivers.ts) say which frames it must have sent.
 *
 * Model-only states (the real machine keeps these facts in its context, not in its state value):
 * - RM `handshake.awaitingCem` / `handshake.cemSeen`: whether the CEM's Handshake has arrived.
 * - CEM `connected.selecting`: RM details are in and the policy's SelectControlType waits for its
 *   ReceptionStatus (R41: the real state stays `connected.awaitingDetails`).
 * - CEM `connected.unselected`: details are in, the first selection was refused; nothing is active.
 * - CEM `connected.selectionTimedOut`: the policy's SelectControlType got no ReceptionStatus in time
 *   (every message the session sent has timed out, so no RS events are modelled from here).
 *
 * Scope decision: with the default policy a CEM re-selects whenever new details arrive and its
 * current type is not the policy's first choice. RM details are therefore modelled only where they
 * cause no switch or the first selection (awaitingDetails, unselected, selectionTimedOut,
 * selecting, active.<policy choice>); switching by policy is not modelled, switching by
 * `select()` is.
 */
import { createMachine, type AnyStateMachine, type EventObject } from 'xstate';
import type { ControlType, SessionRequestType } from '../../src/typebox/common/enums.js';
import type { ControlTypeShort } from '../../src/typebox/message-spec.js';
import { CONTROL_TYPE_RULES } from '../../src/machines/control-types.js';
import { WIRE } from '../support/session-messages.js';

/** One configuration of the model: what the RM offers. */
export interface ModelConfig {
  readonly name: string;
  /** available_control_types of the RM (the CEM's peer, or the RM under test). */
  readonly offer: readonly ControlType[];
}

/** The five control types, in the CEM default policy's order. */
export const SHORTS: readonly ControlTypeShort[] = ['FRBC', 'PPBC', 'OMBC', 'PEBC', 'DDBC'];
const POLICY_ORDER: readonly ControlType[] = [...SHORTS.map((s) => WIRE[s]), 'NOT_CONTROLABLE'];

export const offeredShorts = (cfg: ModelConfig): ControlTypeShort[] => SHORTS.filter((s) => cfg.offer.includes(WIRE[s]));
/** What s2-engine's default CEM policy selects for this offer. */
export const policyChoice = (cfg: ModelConfig): ControlType => POLICY_ORDER.find((ct) => cfg.offer.includes(ct)) ?? 'NO_SELECTION';
/** A control type the RM does not offer (never NO_SELECTION, which needs no offer, Q8). */
export const notOffered = (cfg: ModelConfig): ControlType => {
  const ct = POLICY_ORDER.find((c) => !cfg.offer.includes(c));
  if (!ct) throw new Error(`config ${cfg.name} offers everything`);
  return ct;
};
/** Values the CEM may select (R34, Q8): the offer plus NO_SELECTION. */
export const selectable = (cfg: ModelConfig): ControlType[] => [...cfg.offer, 'NO_SELECTION'];

export const CONFIG_ALL_TYPES: ModelConfig = { name: 'offer: all five control types', offer: SHORTS.map((s) => WIRE[s]) };
export const CONFIG_DDBC_NOT_CONTROLABLE: ModelConfig = {
  name: 'offer: NOT_CONTROLABLE, DDBC',
  offer: ['NOT_CONTROLABLE', 'DEMAND_DRIVEN_BASED_CONTROL'],
};
export const CONFIGS: readonly ModelConfig[] = [CONFIG_ALL_TYPES, CONFIG_DDBC_NOT_CONTROLABLE];

// ---------------------------------------------------------------------------------------------
// Events

/** Events both models share. */
export type CommonModelEvent =
  | { type: 'PEER_HANDSHAKE' } // a good Handshake from the peer (or a second one)
  | { type: 'PEER_HANDSHAKE_WRONG_ROLE' } // Handshake naming our own role (R24)
  | { type: 'PEER_EARLY_MESSAGE' } // a post-handshake message during the handshake (R28)
  | { type: 'PEER_WRONG_SENDER' } // a message only our role may send (docs/rules.md#senders)
  | { type: 'PEER_CT_MESSAGE' } // a message of the active control type
  | { type: 'PEER_OTHER_CT_MESSAGE' } // a message of a control type that is not active (R37)
  | { type: 'PEER_REVOKE' } // RevokeObject of an existing object (needs an active control type, R37)
  | { type: 'PEER_UNKNOWN_REFERENCE' } // RevokeObject of an object that does not exist (R54)
  | { type: 'PEER_SESSION_REQUEST'; request: SessionRequestType }
  | { type: 'INVALID_JSON' } // not JSON (INVALID_DATA, nil UUID)
  | { type: 'INVALID_MESSAGE' } // schema violation (INVALID_MESSAGE, its id)
  | { type: 'INVALID_RS' } // a malformed ReceptionStatus (never answered, R11)
  | { type: 'PEER_RS_OK' } // OK for every message of ours still waiting (except a SelectControlType)
  | { type: 'PEER_RS_UNKNOWN' } // a ReceptionStatus for an id we never sent
  | { type: 'PEER_RS_PERMANENT_ERROR' } // PERMANENT_ERROR for our latest waiting message (R18)
  | { type: 'APP_SEND' } // the application sends a message of its own (instruction / measurement)
  | { type: 'APP_SESSION_REQUEST'; request: SessionRequestType }
  | { type: 'APP_CLOSE' }
  | { type: 'HANDLER_THROWS' } // the application's handler throws on the next accepted message: TEMPORARY_ERROR, no state change
  | { type: 'TRANSPORT_LOST' }
  | { type: 'HANDSHAKE_TIMEOUT' }
  | { type: 'RS_TIMEOUT' }
  | { type: 'CLOSE_GRACE' }
  | { type: 'CLOSE_CONFIRMED' }; // the transport reports the close the session asked for

export type CemModelEvent =
  | CommonModelEvent
  | { type: 'PEER_HANDSHAKE_NO_COMMON_VERSION' }
  | { type: 'PEER_DETAILS' }
  | { type: 'PEER_MEASUREMENT' }
  | { type: 'PEER_FORECAST' }
  | { type: 'PEER_INSTRUCTION_STATUS' }
  | { type: 'SELECTION_OK' } // the RM answers OK to the policy's SelectControlType
  | { type: 'SELECTION_REFUSED' } // … INVALID_CONTENT
  | { type: 'APP_SELECT_OK'; ct: ControlType } // select(ct), the RM answers OK
  | { type: 'APP_SELECT_REFUSED' } // select(policy choice), the RM answers INVALID_CONTENT
  | { type: 'APP_SELECT_NOT_OFFERED' }; // select(a type the RM did not offer) (R34)

export type RmModelEvent =
  | CommonModelEvent
  | { type: 'PEER_HANDSHAKE_RESPONSE' }
  | { type: 'PEER_HANDSHAKE_RESPONSE_NOT_OFFERED' }
  | { type: 'PEER_SELECT'; ct: ControlType }
  | { type: 'APP_UPDATE_DETAILS' };

/** The concrete events to explore for parameterised event types. */
export function modelEvents(role: 'CEM' | 'RM', cfg: ModelConfig): EventObject[] {
  const requests: SessionRequestType[] = ['RECONNECT', 'TERMINATE'];
  const common: EventObject[] = [
    ...requests.map((request) => ({ type: 'PEER_SESSION_REQUEST', request })),
    ...requests.map((request) => ({ type: 'APP_SESSION_REQUEST', request })),
  ];
  if (role === 'CEM') return [...common, ...selectable(cfg).map((ct) => ({ type: 'APP_SELECT_OK', ct }))];
  return [...common, ...[...selectable(cfg), notOffered(cfg)].map((ct) => ({ type: 'PEER_SELECT', ct }))];
}

// ---------------------------------------------------------------------------------------------
// Model construction

type Transition = string | { target?: string; guard?: (args: { event: EventObject }) => boolean; actions?: () => void };
type On = Record<string, Transition | Transition[]>;

/**
 * A targetless transition: the model state does not change. It needs an action, because XState
 * does not count a transition without target and actions among a state's own events, so
 * xstate/graph would never explore it.
 */
const stay = (): void => {};
const STAY = { actions: stay };

/**
 * Control types whose activation statechart checks references (src/machines/control-types.ts);
 * only there does the session know objects, so only there is an unknown reference modelled.
 */
const checksReferences = (short: ControlTypeShort): boolean => CONTROL_TYPE_RULES[short] !== undefined;
const unknownReference = (short: ControlTypeShort): On => (checksReferences(short) ? { PEER_UNKNOWN_REFERENCE: STAY } : {});

function nest(id: string, leaves: Record<string, On>, initial: Record<string, string>): AnyStateMachine {
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
  const setInitial = (node: Node, prefix: string): void => {
    if (!node.states) return;
    const first = initial[prefix] ?? Object.keys(node.states)[0];
    if (first !== undefined) node.initial = first;
    for (const [key, child] of Object.entries(node.states)) setInitial(child, prefix ? `${prefix}.${key}` : key);
  };
  setInitial(root, '');
  return createMachine({ id, ...root });
}

const eventCt = (event: EventObject): ControlType => (event as unknown as { ct: ControlType }).ct;

/** The transitions every non-ending state shares: the ways a session ends, and frame errors. */
function endings(t: (path: string) => string): On {
  return {
    PEER_SESSION_REQUEST: t('closing'),
    PEER_RS_PERMANENT_ERROR: t('closing'),
    APP_SESSION_REQUEST: t('ending'),
    APP_CLOSE: t('closing'),
    TRANSPORT_LOST: t('closed'),
    INVALID_JSON: STAY,
    INVALID_MESSAGE: STAY,
    INVALID_RS: STAY,
    PEER_RS_OK: STAY,
    PEER_RS_UNKNOWN: STAY,
  };
}

function endingStates(t: (path: string) => string): Record<string, On> {
  return {
    ending: {
      PEER_RS_OK: STAY,
      PEER_RS_PERMANENT_ERROR: t('closing'),
      PEER_SESSION_REQUEST: t('closing'),
      PEER_WRONG_SENDER: STAY,
      INVALID_JSON: STAY,
      TRANSPORT_LOST: t('closed'),
      CLOSE_GRACE: t('closing'),
      APP_CLOSE: t('closing'),
      APP_SESSION_REQUEST: STAY, // already asked: nothing more to send (docs/rules.md#phases)
    },
    closing: {
      CLOSE_CONFIRMED: t('closed'),
      CLOSE_GRACE: t('closed'),
      TRANSPORT_LOST: t('closed'),
      APP_SESSION_REQUEST: STAY, // too late: the session is closing
      APP_CLOSE: STAY, // already closing
    },
    closed: {},
  };
}

export const CEM_MODEL_ID = 'cemModel';
export const RM_MODEL_ID = 'rmModel';

/** The CEM session's test model for one RM offer. */
export function createCemModel(cfg: ModelConfig): AnyStateMachine {
  const t = (path: string) => `#${CEM_MODEL_ID}.${path}`;
  const choice = policyChoice(cfg);
  const targetOf = (ct: ControlType) => {
    const short = SHORTS.find((s) => WIRE[s] === ct);
    return short ? t(`connected.active.${short}`) : t('connected.noControlType');
  };
  const connected: On = {
    ...endings(t),
    PEER_HANDSHAKE: STAY, // R30
    PEER_WRONG_SENDER: STAY,
    PEER_MEASUREMENT: STAY,
    PEER_FORECAST: STAY,
    PEER_OTHER_CT_MESSAGE: STAY,
    PEER_INSTRUCTION_STATUS: STAY,
    PEER_REVOKE: STAY,
    APP_SEND: STAY,
    HANDLER_THROWS: STAY,
    RS_TIMEOUT: STAY,
  };
  const selecting: On = {
    APP_SELECT_OK: selectable(cfg).map((ct) => ({ guard: ({ event }) => eventCt(event) === ct, target: targetOf(ct) })),
    APP_SELECT_REFUSED: STAY,
    APP_SELECT_NOT_OFFERED: STAY,
  };
  const leaves: Record<string, On> = {
    handshake: {
      ...endings(t),
      PEER_HANDSHAKE: t('connected.awaitingDetails'),
      PEER_HANDSHAKE_WRONG_ROLE: t('closing'),
      PEER_HANDSHAKE_NO_COMMON_VERSION: t('ending'),
      PEER_EARLY_MESSAGE: STAY,
      PEER_WRONG_SENDER: STAY,
      APP_SEND: STAY,
      HANDSHAKE_TIMEOUT: t('closing'),
    },
    'connected.awaitingDetails': { ...connected, PEER_DETAILS: t('connected.selecting'), APP_SELECT_NOT_OFFERED: STAY },
    'connected.selecting': {
      PEER_DETAILS: STAY,
      PEER_MEASUREMENT: STAY,
      SELECTION_OK: targetOf(choice),
      SELECTION_REFUSED: t('connected.unselected'),
      PEER_RS_PERMANENT_ERROR: t('closing'),
      RS_TIMEOUT: t('connected.selectionTimedOut'),
      INVALID_JSON: STAY,
      APP_CLOSE: t('closing'),
      TRANSPORT_LOST: t('closed'),
    },
    'connected.selectionTimedOut': {
      PEER_DETAILS: t('connected.selecting'),
      PEER_MEASUREMENT: STAY,
      APP_CLOSE: t('closing'),
      TRANSPORT_LOST: t('closed'),
    },
    'connected.unselected': { ...connected, ...selecting, PEER_DETAILS: t('connected.selecting') },
    'connected.noControlType': { ...connected, ...selecting },
    ...Object.fromEntries(
      offeredShorts(cfg).map((short) => [
        `connected.active.${short}`,
        {
          ...connected,
          ...selecting,
          PEER_CT_MESSAGE: STAY,
          ...unknownReference(short),
          ...(WIRE[short] === choice ? { PEER_DETAILS: STAY } : {}),
        },
      ]),
    ),
    ...endingStates(t),
  };
  // A message the CEM would accept while connected is refused once the session is ending.
  leaves.ending = { ...leaves.ending, PEER_MEASUREMENT: STAY };
  const firstActive = offeredShorts(cfg)[0];
  return nest(CEM_MODEL_ID, leaves, { connected: 'awaitingDetails', ...(firstActive ? { 'connected.active': firstActive } : {}) });
}

/** The RM session's test model for one offer of the RM under test. */
export function createRmModel(cfg: ModelConfig): AnyStateMachine {
  const t = (path: string) => `#${RM_MODEL_ID}.${path}`;
  const select = [...selectable(cfg), notOffered(cfg)].map((ct) => {
    const short = SHORTS.find((s) => WIRE[s] === ct);
    const offered = ct === 'NO_SELECTION' || cfg.offer.includes(ct);
    const target = !offered ? undefined : short ? t(`connected.active.${short}`) : t('connected.noControlType');
    return { guard: ({ event }: { event: EventObject }) => eventCt(event) === ct, ...(target ? { target } : { actions: stay }) };
  });
  const connected: On = {
    ...endings(t),
    PEER_HANDSHAKE: STAY, // R30
    PEER_HANDSHAKE_RESPONSE: STAY, // R30
    PEER_SELECT: select,
    PEER_WRONG_SENDER: STAY,
    PEER_OTHER_CT_MESSAGE: STAY,
    PEER_REVOKE: STAY,
    APP_SEND: STAY,
    APP_UPDATE_DETAILS: STAY,
    RS_TIMEOUT: STAY,
  };
  const leaves: Record<string, On> = {
    'handshake.awaitingCem': {
      ...endings(t),
      PEER_HANDSHAKE: t('handshake.cemSeen'),
      PEER_HANDSHAKE_WRONG_ROLE: t('closing'),
      PEER_HANDSHAKE_RESPONSE: t('connected.awaitingSelection'),
      PEER_HANDSHAKE_RESPONSE_NOT_OFFERED: t('closing'),
      PEER_EARLY_MESSAGE: STAY,
      PEER_WRONG_SENDER: STAY,
      APP_SEND: STAY,
      HANDSHAKE_TIMEOUT: t('closing'),
    },
    'handshake.cemSeen': {
      PEER_HANDSHAKE: STAY, // R30: a second Handshake
      PEER_HANDSHAKE_WRONG_ROLE: STAY, // a second Handshake, whatever its role
      PEER_HANDSHAKE_RESPONSE: t('connected.awaitingSelection'),
      PEER_HANDSHAKE_RESPONSE_NOT_OFFERED: t('closing'),
      PEER_EARLY_MESSAGE: STAY,
      PEER_SESSION_REQUEST: t('closing'),
      PEER_RS_PERMANENT_ERROR: t('closing'),
      INVALID_JSON: STAY,
      APP_CLOSE: t('closing'),
      TRANSPORT_LOST: t('closed'),
      HANDSHAKE_TIMEOUT: t('closing'),
    },
    'connected.awaitingSelection': connected,
    'connected.noControlType': connected,
    ...Object.fromEntries(
      offeredShorts(cfg).map((short) => [
        `connected.active.${short}`,
        { ...connected, PEER_CT_MESSAGE: STAY, ...unknownReference(short), HANDLER_THROWS: STAY },
      ]),
    ),
    ...endingStates(t),
  };
  const firstActive = offeredShorts(cfg)[0];
  return nest(RM_MODEL_ID, leaves, {
    handshake: 'awaitingCem',
    connected: 'awaitingSelection',
    ...(firstActive ? { 'connected.active': firstActive } : {}),
  });
}

/** The real session's state path for a model state. */
export function realPathOf(modelLeaf: string): string {
  if (modelLeaf.startsWith('handshake')) return 'handshake';
  if (['connected.selecting', 'connected.unselected', 'connected.selectionTimedOut'].includes(modelLeaf))
    return 'connected.awaitingDetails';
  return modelLeaf;
}
