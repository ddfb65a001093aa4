import { Type, type Static } from '@sinclair/typebox';
import { ID } from './primitives.js';
import { ControlType, SessionRequestType } from './enums.js';

/**
 * Sent by the CEM, once it has the RM's ResourceManagerDetails, to switch on one of the control types
 * the RM offered (or to fall back to none). Control-type specific messages may only flow after this.
 */
export const SelectControlType = Type.Object(
  {
    message_type: Type.Literal('SelectControlType'),
    message_id: ID,
    control_type: ControlType,
  },
  { additionalProperties: false, title: 'SelectControlType' },
);
export type SelectControlType = Static<typeof SelectControlType>;

/**
 * Either side can send this to ask for the WebSocket session to be re-established (`RECONNECT`)
 * or ended (`TERMINATE`), with an optional diagnostic note.
 */
export const SessionRequest = Type.Object(
  {
    message_type: Type.Literal('SessionRequest'),
    message_id: ID,
    request: SessionRequestType,
    diagnostic_label: Type.Optional(Type.String()),
  },
  { additionalProperties: false, title: 'SessionRequest' },
);
export type SessionRequest = Static<typeof SessionRequest>;
