import type { TSchema } from '@sinclair/typebox';

/** Who may put a message on the wire (docs/rules.md#senders, checked against the AsyncAPI role files). */
export type Sender = 'CEM' | 'RM' | 'both';

/** The five control types by their short names, as used in message_type prefixes. */
export const CONTROL_TYPE_SHORT = ['FRBC', 'PPBC', 'OMBC', 'PEBC', 'DDBC'] as const;
export type ControlTypeShort = (typeof CONTROL_TYPE_SHORT)[number];

/** The area a message belongs to: common, or one control type. */
export type MessageArea = 'common' | ControlTypeShort;

/** What the registry knows of one message type. */
export interface MessageSpec<S extends TSchema = TSchema> {
  readonly schema: S;
  readonly sender: Sender;
  readonly area: MessageArea;
  /** Answered with a ReceptionStatus (R11): every message except ReceptionStatus itself. */
  readonly answered: boolean;
  /** An instruction of a control type (R42–R52): carries `id`, `execution_time`, `abnormal_condition`. */
  readonly instruction: boolean;
  /**
   * Present when the message creates an object that RevokeObject may name (R53). `idField` is the
   * field whose value RevokeObject.object_id refers to: `id`, or `message_id` for system
   * descriptions, which have no id of their own (R56, Q10).
   */
  readonly revocable?: { readonly idField: 'id' | 'message_id' };
}

/** Builds a spec with the defaults that hold for nearly every message. */
export function spec<S extends TSchema, Snd extends Sender, A extends MessageArea>(
  schema: S,
  sender: Snd,
  area: A,
  extra: { instruction?: boolean; revocable?: 'id' | 'message_id'; answered?: boolean } = {},
): MessageSpec<S> & { readonly sender: Snd; readonly area: A } {
  return {
    schema,
    sender,
    area,
    answered: extra.answered ?? true,
    instruction: extra.instruction ?? false,
    ...(extra.revocable ? { revocable: { idField: extra.revocable } } : {}),
  };
}
