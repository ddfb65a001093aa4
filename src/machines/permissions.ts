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
    return `${type} is sent by the ${spec.sender}, never by the ${sender} (Q6, docs/rules.md#senders)`;
  if (ctx.phase === 'closing') return `${type} is not allowed: the session is closing (Q6, docs/rules.md#phases)`;
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

/** What observe mode knows of the handshake (see `SessionContext`). */
export interface HandshakeKnowledge extends PermissionContext {
  /** The versions our side supports: those of its observed Handshake, or the configured ones. */
  readonly versions: readonly string[];
  readonly peerHandshake: boolean;
  /** CEM: the versions the RM's Handshake offered. */
  readonly peerVersions: readonly string[] | undefined;
  readonly ownHandshake: boolean;
}

/** A Handshake or HandshakeResponse as far as these rules read it. */
export type HandshakeMessage =
  | { readonly message_type: 'Handshake'; readonly role: SessionRole; readonly supported_protocol_versions?: readonly string[] | undefined }
  | { readonly message_type: 'HandshakeResponse'; readonly selected_protocol_version: string };

/**
 * Observe mode: why the real `sender` may not send this Handshake or HandshakeResponse now, or
 * undefined when it may (a normal session sends its own and never lets the application send one).
 * The phase and the sender were already checked by {@link refusal}.
 */
export function handshakeRefusal(sender: SessionRole, message: HandshakeMessage, ctx: HandshakeKnowledge): string | undefined {
  if (message.message_type === 'Handshake') {
    if (ctx.ownHandshake) return 'a second Handshake in one session (R30)';
    if (message.role !== sender) return `Handshake.role must be ${sender}: it names the sender's role (R24)`;
    if (sender === 'RM' && !message.supported_protocol_versions?.length)
      return 'the RM Handshake must list supported_protocol_versions (R25)';
    return undefined;
  }
  if (!ctx.peerHandshake) return "HandshakeResponse before the RM's Handshake (R26)";
  const chosen = message.selected_protocol_version;
  if (!ctx.peerVersions?.includes(chosen))
    return `selected_protocol_version ${chosen} was not offered; the RM offers ${ctx.peerVersions?.join(', ') || 'nothing'} (R27)`;
  if (!ctx.versions.includes(chosen))
    return `selected_protocol_version ${chosen} is not in the CEM's own Handshake (${ctx.versions.join(', ')}) (R27)`;
  return undefined;
}
