import { Type, type Static } from '@sinclair/typebox';
import { ID } from './primitives.js';
import { ReceptionStatusValues } from './enums.js';

/**
 * Acknowledgement that either side returns for each message it receives, except for another
 * ReceptionStatus, telling the sender whether the message was accepted. It points at the acknowledged
 * message through `subject_message_id` and carries no `message_id` of its own.
 */
export const ReceptionStatus = Type.Object(
  {
    message_type: Type.Literal('ReceptionStatus'),
    subject_message_id: ID,
    status: ReceptionStatusValues,
    diagnostic_label: Type.Optional(Type.String()),
  },
  { additionalProperties: false, title: 'ReceptionStatus' },
);
export type ReceptionStatus = Static<typeof ReceptionStatus>;
