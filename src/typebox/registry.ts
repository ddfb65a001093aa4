import type { Static } from '@sinclair/typebox';
import { COMMON_MESSAGES } from './common/index.js';
import { DDBC_MESSAGES } from './ddbc/index.js';
import { FRBC_MESSAGES } from './frbc/index.js';
import type { ControlTypeShort, MessageArea, MessageSpec } from './message-spec.js';
import { OMBC_MESSAGES } from './ombc/index.js';
import { PEBC_MESSAGES } from './pebc/index.js';
import { PPBC_MESSAGES } from './ppbc/index.js';
import type { ControlType } from './common/enums.js';

/** Every one of the 35 S2 messages, keyed by its `message_type`. */
export const MESSAGES = {
  ...COMMON_MESSAGES,
  ...FRBC_MESSAGES,
  ...PPBC_MESSAGES,
  ...OMBC_MESSAGES,
  ...PEBC_MESSAGES,
  ...DDBC_MESSAGES,
} as const;

type Registry = typeof MESSAGES;
/** The `message_type` of any S2 message. */
export type MessageType = keyof Registry;
/** The message whose `message_type` is K. */
export type MessageOf<K extends MessageType> = Static<Registry[K]['schema']>;
/** Any S2 message. */
export type S2Message = { [K in MessageType]: MessageOf<K> }[MessageType];
/** Any message that carries a `message_id` (all but ReceptionStatus). */
export type IdentifiedMessage = Exclude<S2Message, { message_type: 'ReceptionStatus' }>;

/** The messages of one area (a control type, or 'common') that `sender` may send. */
export type MessageFrom<A extends MessageArea, S extends 'CEM' | 'RM'> = {
  [K in MessageType]: Registry[K]['area'] extends A ? (Registry[K]['sender'] extends S | 'both' ? MessageOf<K> : never) : never;
}[MessageType];

/** The registry entry of a message type, or undefined for a string that names none. */
export function messageSpec(type: string): MessageSpec | undefined {
  return Object.prototype.hasOwnProperty.call(MESSAGES, type) ? (MESSAGES as Record<string, MessageSpec>)[type] : undefined;
}

/** All message types in registry order. */
export const MESSAGE_TYPES = Object.keys(MESSAGES) as MessageType[];

/** Wire ControlType value ↔ short name (`FILL_RATE_BASED_CONTROL` ↔ `FRBC`). */
export const CONTROL_TYPE_OF_SHORT = {
  PEBC: 'POWER_ENVELOPE_BASED_CONTROL',
  PPBC: 'POWER_PROFILE_BASED_CONTROL',
  OMBC: 'OPERATION_MODE_BASED_CONTROL',
  FRBC: 'FILL_RATE_BASED_CONTROL',
  DDBC: 'DEMAND_DRIVEN_BASED_CONTROL',
} as const satisfies Record<ControlTypeShort, ControlType>;

/** The short name of a wire control type, or undefined for NOT_CONTROLABLE / NO_SELECTION. */
export function shortOfControlType(ct: ControlType): ControlTypeShort | undefined {
  for (const [short, wire] of Object.entries(CONTROL_TYPE_OF_SHORT)) if (wire === ct) return short as ControlTypeShort;
  return undefined;
}
