import type { Static, TSchema } from '@sinclair/typebox';
import { COMMON_MESSAGES } from './common/index.js';
import { DDBC_MESSAGES } from './ddbc/index.js';
import { DDBC_MESSAGES_V1 } from './ddbc/v1.js';
import { FRBC_MESSAGES } from './frbc/index.js';
import type { ControlTypeShort, MessageArea, MessageSpec } from './message-spec.js';
import { OMBC_MESSAGES } from './ombc/index.js';
import { PEBC_MESSAGES } from './pebc/index.js';
import { PPBC_MESSAGES } from './ppbc/index.js';
import type { ControlType } from './common/enums.js';
import type { S2Version } from './versions.js';

/** Every one of the 35 S2 JSON 0.0.2-beta messages, keyed by its `message_type`. */
export const MESSAGES = {
  ...COMMON_MESSAGES,
  ...FRBC_MESSAGES,
  ...PPBC_MESSAGES,
  ...OMBC_MESSAGES,
  ...PEBC_MESSAGES,
  ...DDBC_MESSAGES,
} as const;

/**
 * Every one of the 36 S2 JSON 1.0.0-beta messages, keyed by its `message_type`: the 0.0.2-beta
 * entries (the same objects) except DDBC's, see `DDBC_MESSAGES_V1`.
 */
export const MESSAGES_V1 = {
  ...COMMON_MESSAGES,
  ...FRBC_MESSAGES,
  ...PPBC_MESSAGES,
  ...OMBC_MESSAGES,
  ...PEBC_MESSAGES,
  ...DDBC_MESSAGES_V1,
} as const;

type Registry = typeof MESSAGES;
type RegistryV1 = typeof MESSAGES_V1;
/** The registry of each version. */
interface Registries {
  '0.0.2-beta': Registry;
  '1.0.0-beta': RegistryV1;
}

/** The `message_type` of any S2 message of either version. */
export type MessageType = keyof Registry | keyof RegistryV1;
/** The `message_type`s of one version. */
export type MessageTypeIn<V extends S2Version> = keyof Registries[V];

/** The schema (or schemas: one per version that has the message) of each message type. */
type Schemas = {
  [K in MessageType]:
    (K extends keyof Registry ? Registry[K]['schema'] : never) | (K extends keyof RegistryV1 ? RegistryV1[K]['schema'] : never);
};

/**
 * The message whose `message_type` is K, in either version: where the versions differ
 * (`DDBC.SystemDescription`) the union of both shapes — narrow with `'present_demand_rate' in m`.
 */
export type MessageOf<K extends MessageType> = Static<Schemas[K]>;
/** The message whose `message_type` is K in version V. */
export type MessageIn<V extends S2Version, K extends MessageTypeIn<V>> = Registries[V][K] extends {
  readonly schema: infer S extends TSchema;
}
  ? Static<S>
  : never;
/** Any S2 message of either version. */
export type S2Message = { [K in MessageType]: MessageOf<K> }[MessageType];
/** Any S2 message of version V. */
export type S2MessageIn<V extends S2Version> = { [K in MessageTypeIn<V>]: MessageIn<V, K> }[MessageTypeIn<V>];
/** Any message that carries a `message_id` (all but ReceptionStatus). */
export type IdentifiedMessage = Exclude<S2Message, { message_type: 'ReceptionStatus' }>;

/**
 * The messages of one area (a control type, or 'common') that `sender` may send; in version V
 * when given, else in either version.
 */
export type MessageFrom<A extends MessageArea, S extends 'CEM' | 'RM', V extends S2Version = S2Version> = {
  [Ver in V]: {
    [K in MessageTypeIn<Ver>]: Registries[Ver][K] extends { readonly area: infer Ar; readonly sender: infer Snd }
      ? Ar extends A
        ? Snd extends S | 'both'
          ? MessageIn<Ver, K>
          : never
        : never
      : never;
  }[MessageTypeIn<Ver>];
}[V];

/** The registry of one version, keyed by `message_type`. */
export function messagesOf(version: S2Version): Readonly<Record<string, MessageSpec>> {
  return version === '1.0.0-beta' ? MESSAGES_V1 : MESSAGES;
}

const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

/**
 * The registry entry of a message type in either version, or undefined for a string that names
 * none. Sender, area, answered, instruction and revocable do not differ between the versions; the
 * schema does for `DDBC.SystemDescription`, and this returns the 0.0.2-beta one there: validate
 * with {@link messageSpecIn} (or a codec of the version).
 */
export function messageSpec(type: string): MessageSpec | undefined {
  if (hasOwn(MESSAGES, type)) return (MESSAGES as Record<string, MessageSpec>)[type];
  return hasOwn(MESSAGES_V1, type) ? (MESSAGES_V1 as Record<string, MessageSpec>)[type] : undefined;
}

/** The registry entry of a message type in one version, or undefined when that version has no such message. */
export function messageSpecIn(version: S2Version, type: string): MessageSpec | undefined {
  const messages = messagesOf(version);
  return hasOwn(messages, type) ? messages[type] : undefined;
}

/** The message types of one version, in registry order. */
export function messageTypesOf<V extends S2Version>(version: V): MessageTypeIn<V>[] {
  return Object.keys(messagesOf(version)) as MessageTypeIn<V>[];
}

/**
 * All message types of either version in registry order: the 0.0.2-beta ones, then those only
 * 1.0.0-beta has (`DDBC.PresentDemandStatus`).
 */
export const MESSAGE_TYPES = [...new Set([...Object.keys(MESSAGES), ...Object.keys(MESSAGES_V1)])] as MessageType[];

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
