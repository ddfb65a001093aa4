/**
 * The public types and constants of the session statecharts that need no XState. The public entry
 * points (`s2-engine`, `s2-engine/frbc` …, `s2-engine/sim`) take them from here, never from a
 * module that builds a machine: a consumer's compiler then never loads xstate's declarations, which
 * do not compile with `skipLibCheck: false` under `exactOptionalPropertyTypes` (an upstream issue,
 * statelyai/xstate#4613). So nothing here may import xstate, or a module whose declarations do;
 * `npm run check:package` fails when an entry point's declarations reach xstate. The machine
 * modules (events.ts, control-type.ts, session-setup.ts) re-export what they used to declare.
 */
import type { ControlType, EnergyManagementRole, InstructionStatus } from '../typebox/common/enums.js';
import type { ResourceManagerDetails } from '../typebox/common/resource-manager-details.js';
import type { ControlTypeShort } from '../typebox/message-spec.js';
import type { IdentifiedMessage } from '../typebox/registry.js';

/** The S2 message version this library speaks: that of the s2-ws-json schemas it implements (negotiated: docs/rules.md#R27). */
export const S2_VERSION = '0.0.2-beta';

/**
 * The side a session plays: `'CEM'` or `'RM'` (the wire's EnergyManagementRole). Named apart from
 * `Role`, which is the S2 schema of ResourceManagerDetails.roles[] (a RoleType with a commodity).
 */
export type SessionRole = EnergyManagementRole;

/**
 * Every state path a session of either role can be in (`S2Session.state`, the `state` event).
 * `awaitingDetails` is the CEM's wait for ResourceManagerDetails, `awaitingSelection` the RM's
 * wait for SelectControlType; `ending` waits for the peer's close after our SessionRequest.
 */
export type SessionStatePath =
  | 'handshake'
  | 'connected.awaitingDetails'
  | 'connected.awaitingSelection'
  | 'connected.noControlType'
  | `connected.active.${ControlTypeShort}`
  | 'ending'
  | 'closing'
  | 'closed';

/**
 * What the session machine itself reports (the `report` events it emits). Inlined in the API
 * reference: users meet these kinds in {@link ReportKind}.
 *
 * @inline
 */
export type MachineReportKind = 'unknown-reception-status' | 'reception-status-timeout' | 'selection-refused';

/**
 * Every kind of `report` a session emits. Reports are non-fatal and informational; failures of the
 * application's own code are also raised as the session's `error` event.
 * - `unknown-reception-status`: a ReceptionStatus for no message we are waiting for (R12).
 * - `reception-status-timeout`: no ReceptionStatus for one of our messages in time (R21).
 * - `selection-refused`: the RM did not answer OK to our SelectControlType.
 * - `instruction-rejected`: the RM rejected an instruction (the reason follows, R48).
 * - `handler-error`: an application handler threw or rejected (also an `error` event).
 * - `internal-error`: a bug inside s2-engine ended the session (close 1011).
 * - `send-failed`: a message the application sent was not answered OK (reported by helpers such
 *   as the simulated devices; `send` itself returns the status as a value).
 * - `violation`: on a checking proxy's shadow session only: the side this shadow stands for broke a
 *   rule (the judge's violation text, with its rule ids).
 */
export type ReportKind = MachineReportKind | 'instruction-rejected' | 'handler-error' | 'internal-error' | 'send-failed' | 'violation';

/** What a control type tells its session (relayed to the application by the roles layer). */
export type ControlTypeNotice =
  | { readonly kind: 'instruction'; readonly instruction: IdentifiedMessage; readonly rejection: string | undefined }
  | { readonly kind: 'status'; readonly instructionId: string; readonly status: InstructionStatus | undefined }
  | { readonly kind: 'due'; readonly instructionId: string }
  | { readonly kind: 'revoked'; readonly instructionId: string };

/** Events a control-type actor sends its parent session. */
export type ControlTypeReply =
  | { readonly type: 'ct.accepted'; readonly message: IdentifiedMessage }
  | { readonly type: 'ct.refused'; readonly message: IdentifiedMessage; readonly reason: string }
  | { readonly type: 'ct.notice'; readonly notice: ControlTypeNotice };

/** Chooses the control type to select after (new) RM details; undefined = keep the current one. */
export type ControlTypePolicy = (details: ResourceManagerDetails, current: ControlType) => ControlType | undefined;

/** The CEM's default policy: the first type the RM offers in the order FRBC, PPBC, OMBC, PEBC, DDBC, NOT_CONTROLABLE. */
export const defaultControlTypePolicy: ControlTypePolicy = (details) => {
  const order: ControlType[] = [
    'FILL_RATE_BASED_CONTROL',
    'POWER_PROFILE_BASED_CONTROL',
    'OPERATION_MODE_BASED_CONTROL',
    'POWER_ENVELOPE_BASED_CONTROL',
    'DEMAND_DRIVEN_BASED_CONTROL',
    'NOT_CONTROLABLE',
  ];
  return order.find((ct) => details.available_control_types.includes(ct)) ?? 'NO_SELECTION';
};

/** ResourceManagerDetails as the application gives them: without message_type and message_id. */
export type RmDetailsInput = Omit<ResourceManagerDetails, 'message_id' | 'message_type'>;
