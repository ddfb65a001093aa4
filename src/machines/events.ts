import type { DecodeFailure } from '../codec/codec.js';
import type { ControlType, ReceptionStatusValues, SessionRequestType } from '../typebox/common/enums.js';
import type { ResourceManagerDetails } from '../typebox/common/resource-manager-details.js';
import type { MessageSpec } from '../typebox/message-spec.js';
import type { IdentifiedMessage, S2Message } from '../typebox/registry.js';
import type { ControlTypeNotice, ControlTypeReply, MachineReportKind } from './types.js';

// Declared in types.ts (no XState there, so the public declarations never load xstate's).
export type { SessionRole, SessionStatePath, MachineReportKind, ReportKind } from './types.js';

/** A decoded, schema- and rule-valid message from the peer: `s2.<message_type>`. */
export interface InboundEvent {
  readonly type: `s2.${string}`;
  readonly message: S2Message;
  readonly spec: MessageSpec;
}

/** Everything a session actor reacts to. */
export type SessionEvent =
  | InboundEvent
  /** A frame the codec refused (INVALID_DATA / INVALID_MESSAGE). */
  | { readonly type: 'frame.invalid'; readonly error: DecodeFailure }
  /** The connection is gone (any side, any reason). */
  | { readonly type: 'transport.closed'; readonly code: number; readonly reason: string }
  /** The application sends a message (already checked by `canSend`, message_id filled). */
  | { readonly type: 'app.send'; readonly message: IdentifiedMessage }
  /**
   * Observe mode (the checking proxy's shadows): the real side this session stands for sent this
   * message (already checked by `observeSent`). It is applied as `app.send` would be, but nothing
   * is put on the wire: the real side already did.
   */
  | { readonly type: 'observed.send'; readonly message: IdentifiedMessage }
  /** The application ends the session without a SessionRequest. */
  | { readonly type: 'app.close'; readonly code: number; readonly reason: string }
  /** The application asks the peer to reconnect or to terminate (SessionRequest), then closes. */
  | { readonly type: 'app.sessionRequest'; readonly request: SessionRequestType; readonly reason?: string }
  /** RM: the device's details changed; announce them again (docs/rules.md#control-types). */
  | { readonly type: 'app.updateDetails'; readonly details: Omit<ResourceManagerDetails, 'message_id' | 'message_type'> }
  /** CEM: select a control type now (instead of, or on top of, the policy). */
  | { readonly type: 'app.select'; readonly controlType: ControlType }
  /** A ReceptionStatus answered one of our messages (raised by the session itself). */
  | {
      readonly type: 'outgoing.answered';
      readonly messageId: string;
      readonly messageType: string;
      readonly status: ReceptionStatusValues;
      readonly diagnosticLabel: string | undefined;
    }
  /** No ReceptionStatus within the timeout (R21, Q5): the delayed event scheduled when it was sent. */
  | { readonly type: 'outgoing.timeout'; readonly messageId: string; readonly messageType: string }
  /** From the active control type: its verdict on a received message, or a notice. */
  | ControlTypeReply;

/** What a session actor emits for the layer above (roles) to carry out or report. */
export type SessionEmitted =
  /** Put this message on the wire. */
  | { readonly type: 'send'; readonly message: S2Message }
  /** A message passed every protocol check: hand it to the application, then answer with its status. */
  | { readonly type: 'deliver'; readonly message: IdentifiedMessage }
  /** A message was refused by the protocol engine; `reply` is already on its way. */
  | { readonly type: 'refused'; readonly message: S2Message | undefined; readonly status: ReceptionStatusValues; readonly reason: string }
  | {
      readonly type: 'answered';
      readonly messageId: string;
      readonly messageType: string;
      readonly status: ReceptionStatusValues;
      readonly diagnosticLabel: string | undefined;
    }
  | { readonly type: 'timeout'; readonly messageId: string; readonly messageType: string }
  /** Something worth knowing that is not fatal (R12: unknown or repeated ReceptionStatus …). */
  | { readonly type: 'report'; readonly kind: MachineReportKind; readonly detail: string }
  | { readonly type: 'handshake'; readonly version: string }
  | { readonly type: 'details'; readonly details: ResourceManagerDetails }
  | { readonly type: 'controlType'; readonly controlType: ControlType }
  /** Something the active control type reports: an instruction to handle, a status, a due time. */
  | { readonly type: 'notice'; readonly notice: ControlTypeNotice }
  /** Close the connection with this code (the transport's close then arrives as transport.closed). */
  | { readonly type: 'close'; readonly code: number; readonly reason: string };
