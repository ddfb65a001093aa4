import { assign, enqueueActions, not } from 'xstate';
import type { ResourceManagerDetails } from '../typebox/common/resource-manager-details.js';
import type { MessageOf } from '../typebox/registry.js';
import { CloseCode } from './close-codes.js';
import type { InboundEvent } from './events.js';
import {
  ACTIVE_STATES,
  activeState,
  endingStates,
  enqueueClose,
  enqueueRefuse,
  enqueueSend,
  handshakeTimeout,
  initialContext,
  isObserving,
  sessionSetup,
  type RmDetailsInput,
  sharedRootHandlers,
} from './session-setup.js';

/** The stored form of our own details; message_id is given anew on every send. */
const asDetails = (details: RmDetailsInput): ResourceManagerDetails => ({
  ...details,
  message_type: 'ResourceManagerDetails',
  message_id: '',
});

/**
 * The RM side of one S2 session (docs/rules.md#phases, #handshake, #control-types). Sends its Handshake at once (R22, R23),
 * accepts the CEM's Handshake in either order, and on a HandshakeResponse naming a version it
 * offered (R27) announces its ResourceManagerDetails (R28). SelectControlType activates a type
 * it offered (R35, Q8: NO_SELECTION is always accepted); another selection switches (R36).
 */
export const rmSessionMachine = sessionSetup
  .extend({
    actions: {
      /** R28: our details once connected; `unless: 'observing'` skips it in observe mode (the real RM's are observed). */
      sendDetails: enqueueActions(({ context, enqueue }, params: { unless?: 'observing' } | undefined) => {
        if (params?.unless === 'observing' && isObserving(context)) return;
        const details = context.rmDetails;
        if (details) enqueueSend(context, enqueue, { ...details, message_id: context.deps.newId() });
      }),
      storeOwnDetails: assign(({ context, event }) =>
        event.type === 'app.updateDetails' ? { rmDetails: asDetails(event.details) } : { rmDetails: context.rmDetails },
      ),
      refuseWrongRole: enqueueActions(({ context, event, enqueue }) => {
        enqueueRefuse(
          enqueue,
          event as InboundEvent,
          'INVALID_CONTENT',
          'Handshake.role must be CEM: a session joins one CEM and one RM (R24)',
        );
        enqueueClose(context, enqueue, CloseCode.PROTOCOL_ERROR, 'peer is not a CEM');
      }),
      /** Observe mode: the details the real RM sent are its current ones (R35 judges selections against them). */
      storeObservedDetails: assign(({ context, event }) =>
        event.type === 'observed.send' && event.message.message_type === 'ResourceManagerDetails'
          ? { rmDetails: event.message }
          : { rmDetails: context.rmDetails },
      ),
      refuseVersion: enqueueActions(({ context, event, enqueue }) => {
        const chosen = ((event as InboundEvent).message as MessageOf<'HandshakeResponse'>).selected_protocol_version;
        enqueueRefuse(
          enqueue,
          event as InboundEvent,
          'INVALID_CONTENT',
          `selected_protocol_version ${chosen} was not offered; the RM supports ${context.versions.join(', ')} (R27)`,
        );
        enqueueClose(context, enqueue, CloseCode.NO_COMMON_VERSION, `CEM selected version ${chosen}, which the RM did not offer`);
      }),
      refuseNotOffered: enqueueActions(({ context, event, enqueue }) => {
        const ct = ((event as InboundEvent).message as MessageOf<'SelectControlType'>).control_type;
        const offered = context.rmDetails?.available_control_types.join(', ') ?? 'nothing';
        enqueueRefuse(
          enqueue,
          event as InboundEvent,
          'INVALID_CONTENT',
          `control type ${ct} was not offered; available: ${offered} (R34, R35)`,
        );
      }),
      storeSelection: assign(({ event }) => ({
        controlType: ((event as InboundEvent).message as MessageOf<'SelectControlType'>).control_type,
      })),
    },
  })
  .createMachine({
    id: 'rmSession',
    context: ({ input }) => ({ ...initialContext(input), rmDetails: input.details ? asDetails(input.details) : undefined }),
    initial: 'handshake',
    on: sharedRootHandlers,
    states: {
      handshake: {
        entry: { type: 'sendOwnHandshake', params: { unless: 'observing' } },
        after: handshakeTimeout,
        on: {
          's2.Handshake': [
            { guard: 'peerHandshakeSeen', actions: 'refuseSecondHandshake' },
            { guard: not('peerRoleOk'), actions: 'refuseWrongRole', target: 'closing' },
            { actions: ['deliver', 'markPeerHandshake'] },
          ],
          's2.HandshakeResponse': [
            { guard: not('offeredVersion'), actions: 'refuseVersion', target: 'closing' },
            { actions: ['deliver', 'storeSelectedVersion', 'emitHandshake'], target: 'connected' },
          ],
          // Observe mode: the real RM's own Handshake (checked by observeSent: R22, R24, R25, R30).
          'observed.send': { guard: { type: 'observes', params: 'Handshake' }, actions: ['storeOwnHandshake', 'sendApp'] },
        },
      },
      connected: {
        entry: [
          { type: 'setPhase', params: 'connected' },
          { type: 'sendDetails', params: { unless: 'observing' } },
        ],
        on: {
          'observed.send': {
            guard: { type: 'observes', params: 'ResourceManagerDetails' },
            actions: ['storeObservedDetails', 'sendApp'],
          },
          'app.updateDetails': { actions: ['storeOwnDetails', 'sendDetails'] },
          's2.SelectControlType': [
            { guard: not('offeredControlType'), actions: 'refuseNotOffered' },
            ...ACTIVE_STATES.map(([short, wire]) => ({
              guard: { type: 'selects' as const, params: wire },
              actions: ['deliver', 'storeSelection'] as const,
              target: `.active.${short}`,
            })),
            { guard: 'selectsNoControl', actions: ['deliver', 'storeSelection', 'emitControlType'], target: '.noControlType' },
          ],
        },
        initial: 'awaitingSelection',
        states: {
          /** Details sent; the CEM has not selected a control type yet. */
          awaitingSelection: {},
          /** NO_SELECTION or NOT_CONTROLABLE: measurements and forecasts only (R38). */
          noControlType: {},
          active: {
            // Always entered through an explicit target; XState needs an initial child anyway.
            initial: 'FRBC',
            states: Object.fromEntries(ACTIVE_STATES.map(([short]) => [short, activeState(short, ['s2.RevokeObject'])])),
          },
        },
      },
      ...endingStates,
    },
  });
