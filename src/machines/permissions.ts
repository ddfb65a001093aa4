import type { MessageArea, MessageSpec } from '../typebox/message-spec.js';
import type { SessionRole } from './events.js';

/** The session phase as far as message permissions are concerned (docs/rules.md#phases). */
export type Phase = 'handshake' | 'connected' | 'closing';

const HANDSHAKE_PHASE_TYPES = new Set(['Handshake', 'HandshakeResponse', 'ReceptionStatus', 'SessionRequest']);
const NEEDS_CONTROL_TYPE = new Set(['InstructionStatusUpdate', 'RevokeObject']);

export interface PermissionContext {
  readonly phase: Phase;
  /** The active control type's area, or undefined (none, NO_SELECTION, NOT_CONTROLABLE). */
  readonly activeArea: MessageArea | undefined;
}

/**
 * Why `sender` may not send a message of this kind now, or undefined when it may. One function
 * serves both directions: the receiver answers a refusal with INVALID_CONTENT (Q6) and the
 * sender's own API refuses to put such a message on the wire.
 */
export function refusal(sender: SessionRole, spec: MessageSpec, type: string, ctx: PermissionContext): string | undefined {
  if (spec.sender !== 'both' && spec.sender !== sender)
    return `${type} is sent by the ${spec.sender}, never by the ${sender} (docs/rules.md#senders)`;
  if (ctx.phase === 'closing') return `${type} is not allowed: the session is closing (docs/rules.md#phases)`;
  if (ctx.phase === 'handshake') {
    if (!HANDSHAKE_PHASE_TYPES.has(type)) return `${type} is not allowed before the handshake is complete (R28)`;
    return undefined;
  }
  if (type === 'Handshake' || type === 'HandshakeResponse') return `${type} is not allowed: the handshake is over (R30)`;
  if (spec.area !== 'common' && spec.area !== ctx.activeArea) {
    return `${type} is not allowed: control type ${spec.area} is not active (R37)`;
  }
  if (NEEDS_CONTROL_TYPE.has(type) && ctx.activeArea === undefined) {
    return `${type} is not allowed: no control type is active (R37)`;
  }
  return undefined;
}
