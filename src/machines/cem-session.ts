import { and, assign, enqueueActions, not } from 'xstate';
import type { ControlType } from '../typebox/common/enums.js';
import type { MessageOf } from '../typebox/registry.js';
import { CloseCode } from './close-codes.js';
import type { InboundEvent } from './events.js';
import {
  ACTIVE_STATES,
  activeState,
  defaultControlTypePolicy,
  endingStates,
  enqueueClose,
  enqueueRefuse,
  enqueueSend,
  handshakeTimeout,
  initialContext,
  sessionSetup,
  sharedRootHandlers,
} from './session-setup.js';

const deliverFromRm = { guard: 'sentByPeer', actions: 'deliver' } as const;

/**
 * The CEM side of one S2 session (docs/rules.md#phases, #handshake, #control-types). Handshake: sends its own Handshake at
 * once, answers the RM's with a HandshakeResponse naming the first version of ours the RM also
 * offers (R26, R27), or TERMINATEs when there is none (R29). Then it waits for the RM's details,
 * lets the policy pick a control type, and switches only when the RM has answered OK (R41).
 */
export const cemSessionMachine = sessionSetup
  .extend({
    actions: {
      sendHandshakeResponse: enqueueActions(({ context, enqueue }) =>
        enqueueSend(context, enqueue, {
          message_type: 'HandshakeResponse',
          message_id: context.deps.newId(),
          selected_protocol_version: context.version ?? '',
        }),
      ),
      refuseWrongRole: enqueueActions(({ context, event, enqueue }) => {
        enqueueRefuse(
          enqueue,
          event as InboundEvent,
          'INVALID_CONTENT',
          'Handshake.role must be RM: a session joins one CEM and one RM (R24)',
        );
        enqueueClose(context, enqueue, CloseCode.PROTOCOL_ERROR, 'peer is not an RM');
      }),
      /** INVALID_CONTENT for an RM Handshake without a version in common (R25, R27, R29). */
      refuseNoCommonVersion: enqueueActions(({ context, event, enqueue }) => {
        enqueueRefuse(enqueue, event as InboundEvent, 'INVALID_CONTENT', noCommonVersion(context.versions, event as InboundEvent));
      }),
      /** Then SessionRequest TERMINATE and close (R29, Q3); an observing CEM leaves that to the real one. */
      terminateNoCommonVersion: enqueueActions(({ context, event, enqueue }) => {
        const reason = noCommonVersion(context.versions, event as InboundEvent);
        enqueueSend(context, enqueue, {
          message_type: 'SessionRequest',
          message_id: context.deps.newId(),
          request: 'TERMINATE',
          diagnostic_label: reason,
        });
        enqueueClose(context, enqueue, CloseCode.NO_COMMON_VERSION, 'no common protocol version');
      }),
      storeDetails: assign(({ event }) => ({ rmDetails: (event as InboundEvent).message as MessageOf<'ResourceManagerDetails'> })),
      emitDetails: enqueueActions(({ context, enqueue }) => {
        if (context.rmDetails) enqueue.emit({ type: 'details', details: context.rmDetails });
      }),
      /** R34: select only what the RM offers; re-run whenever new details arrive (docs/rules.md#R34). */
      applyPolicy: enqueueActions(({ context, enqueue }) => {
        const details = context.rmDetails;
        if (!details) return;
        const policy = context.policy ?? defaultControlTypePolicy;
        let choice: ControlType | undefined = policy(details, context.controlType);
        const current = context.pendingSelection?.controlType ?? context.controlType;
        const stillOffered = current === 'NO_SELECTION' || details.available_control_types.includes(current);
        if (choice === undefined && !stillOffered) choice = 'NO_SELECTION';
        if (choice === undefined || choice === current) return;
        enqueueSend(context, enqueue, { message_type: 'SelectControlType', message_id: context.deps.newId(), control_type: choice });
      }),
      selectByApp: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'app.select') return;
        enqueueSend(context, enqueue, {
          message_type: 'SelectControlType',
          message_id: context.deps.newId(),
          control_type: event.controlType,
        });
      }),
      commitSelection: assign(({ context }) => ({
        controlType: context.pendingSelection?.controlType ?? context.controlType,
        pendingSelection: undefined,
      })),
      dropSelection: assign({ pendingSelection: undefined }),
      reportSelectionRefused: enqueueActions(({ event, enqueue }) => {
        if (event.type !== 'outgoing.answered') return;
        enqueue.emit({
          type: 'report',
          kind: 'selection-refused',
          detail: `the RM answered ${event.status} to SelectControlType${event.diagnosticLabel ? `: ${event.diagnosticLabel}` : ''}`,
        });
      }),
    },
  })
  .createMachine({
    id: 'cemSession',
    context: ({ input }) => initialContext(input),
    initial: 'handshake',
    on: sharedRootHandlers,
    states: {
      handshake: {
        entry: { type: 'sendOwnHandshake', params: { unless: 'observing' } },
        after: handshakeTimeout,
        on: {
          's2.Handshake': [
            { guard: not('peerRoleOk'), actions: 'refuseWrongRole', target: 'closing' },
            // Observe mode: the real CEM answers (observed.send below); until then the RM's offer is kept.
            { guard: and(['observing', 'peerHandshakeSeen']), actions: 'refuseSecondHandshake' },
            { guard: and(['observing', 'hasCommonVersion']), actions: ['deliver', 'storePeerOffer'] },
            { guard: 'observing', actions: 'refuseNoCommonVersion' },
            {
              guard: 'hasCommonVersion',
              actions: ['deliver', 'storeOfferedVersion', 'sendHandshakeResponse', 'emitHandshake'],
              target: 'connected',
            },
            { actions: ['refuseNoCommonVersion', 'terminateNoCommonVersion'], target: 'ending' },
          ],
          // Observe mode: the real CEM's Handshake and HandshakeResponse (checked by observeSent: R22, R26, R27, R30).
          'observed.send': [
            { guard: { type: 'observes', params: 'Handshake' }, actions: ['storeOwnHandshake', 'sendApp'] },
            {
              guard: { type: 'observes', params: 'HandshakeResponse' },
              actions: ['sendApp', 'storeSelectedVersion', 'emitHandshake'],
              target: 'connected',
            },
          ],
        },
      },
      connected: {
        entry: { type: 'setPhase', params: 'connected' },
        on: {
          's2.ResourceManagerDetails': [
            // Observe mode: no policy; the real CEM's SelectControlType is observed instead.
            { guard: 'observing', actions: ['deliver', 'storeDetails', 'emitDetails'] },
            { actions: ['deliver', 'storeDetails', 'emitDetails', 'applyPolicy'] },
          ],
          's2.PowerMeasurement': deliverFromRm,
          's2.PowerForecast': deliverFromRm,
          'app.select': { actions: 'selectByApp' },
          'outgoing.answered': [
            ...ACTIVE_STATES.map(([short, wire]) => ({
              guard: { type: 'selectionAccepted' as const, params: wire },
              actions: ['forgetPending', 'emitAnswered', 'commitSelection'] as const,
              target: `.active.${short}`,
            })),
            ...(['NO_SELECTION', 'NOT_CONTROLABLE'] as const).map((wire) => ({
              guard: { type: 'selectionAccepted' as const, params: wire },
              actions: ['forgetPending', 'emitAnswered', 'commitSelection', 'emitControlType'] as const,
              target: '.noControlType',
            })),
            // R18 first: PERMANENT_ERROR ends the session, even as the answer to a selection.
            { guard: 'isPermanentError', actions: ['forgetPending', 'emitAnswered', 'setCloseFromEvent'], target: '#cemSession.closing' },
            { guard: 'selectionRefused', actions: ['forgetPending', 'emitAnswered', 'dropSelection', 'reportSelectionRefused'] },
            { actions: ['forgetPending', 'emitAnswered'] },
          ],
        },
        initial: 'awaitingDetails',
        states: {
          /** Waiting for ResourceManagerDetails and the first selection's ReceptionStatus. */
          awaitingDetails: {},
          /** NO_SELECTION or NOT_CONTROLABLE: measurements and forecasts only (R38). */
          noControlType: {},
          active: {
            // Always entered through an explicit target; XState needs an initial child anyway.
            initial: 'FRBC',
            states: Object.fromEntries(
              ACTIVE_STATES.map(([short]) => [short, activeState(short, ['s2.InstructionStatusUpdate', 's2.RevokeObject'])]),
            ),
          },
        },
      },
      ...endingStates,
    },
  });

/**
 * How the refusal of an RM Handshake without a version in common begins: a mismatch, not a fault of
 * either side (the checking proxy does not report it as a violation).
 */
export const NO_COMMON_VERSION = 'no common protocol version';

/** Why an RM Handshake has no version in common with ours (R25, R27, R29). */
function noCommonVersion(ours: readonly string[], event: InboundEvent): string {
  const theirs = (event.message as MessageOf<'Handshake'>).supported_protocol_versions;
  return theirs?.length
    ? `${NO_COMMON_VERSION}: RM offers ${theirs.join(', ')}, CEM supports ${ours.join(', ')} (R27, R29)`
    : 'the RM Handshake must list supported_protocol_versions (R25)';
}
