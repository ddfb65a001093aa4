import { Type, type Static } from '@sinclair/typebox';
import { ID } from './primitives.js';
import { RevokableObjects } from './enums.js';

/**
 * Withdraws an object sent earlier in the session, identified by `object_type` and `object_id`, so
 * it no longer applies. Each side revokes only what it issued (the RM its descriptions, constraints and
 * profiles; the CEM its instructions); the DOC table lists only the RM as sender, the AsyncAPI files allow both.
 */
export const RevokeObject = Type.Object(
  {
    message_type: Type.Literal('RevokeObject'),
    message_id: ID,
    object_type: RevokableObjects,
    object_id: ID,
  },
  { additionalProperties: false, title: 'RevokeObject' },
);
export type RevokeObject = Static<typeof RevokeObject>;
