import { Type, type Static } from '@sinclair/typebox';
import { ID } from './primitives.js';
import { EnergyManagementRole } from './enums.js';

/**
 * Opening message each side sends as soon as the WebSocket is up, stating its role (CEM or RM)
 * and which S2 protocol versions it understands. The RM must fill `supported_protocol_versions`;
 * for the CEM the list is optional.
 */
export const Handshake = Type.Object(
  {
    message_type: Type.Literal('Handshake'),
    message_id: ID,
    role: EnergyManagementRole,
    supported_protocol_versions: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
  },
  { additionalProperties: false, title: 'Handshake' },
);
export type Handshake = Static<typeof Handshake>;

/**
 * Sent by the CEM after receiving the RM's Handshake to finish version negotiation;
 * `selected_protocol_version` is the version both parties use from then on and ends the handshake phase.
 */
export const HandshakeResponse = Type.Object(
  {
    message_type: Type.Literal('HandshakeResponse'),
    message_id: ID,
    selected_protocol_version: Type.String(),
  },
  { additionalProperties: false, title: 'HandshakeResponse' },
);
export type HandshakeResponse = Static<typeof HandshakeResponse>;
