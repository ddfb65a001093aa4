/**
 * DRIVERS: what each test-model event means for the real session, and what the rules demand
 * that the session sends in reply. A driver executes one model event against a
 * {@link SessionHarness} (peer frames, application calls, `clock.increment`) and asserts the
 * frames and reports that follow; `checkState` asserts the real state after every step.
 *
 * ReceptionStatus expectations follow the docs/design.md decision table: OK for accepted messages,
 * INVALID_CONTENT for messages not allowed now / from the wrong role / naming a type that was not
 * offered (Q6, R35), INVALID_DATA with the nil UUID for unreadable frames (R20, Q7),
 * INVALID_MESSAGE for schema violations (R15), nothing for a ReceptionStatus (R11).
 * Close codes follow src/machines/close-codes.ts.
 */
import { expect } from 'vitest';
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { getStateNodes, type TestParam } from 'xstate/graph';
import { CloseCode } from '../../src/machines/close-codes.js';
import type { ControlType, SessionRequestType } from '../../src/typebox/common/enums.js';
import { S2Error } from '../../src/typebox/errors.js';
import type { ControlTypeShort } from '../../src/typebox/message-spec.js';
import type { IdentifiedMessage } from '../../src/typebox/registry.js';
import { SESSION_DEFAULTS } from '../../src/roles/session.js';
import {
  description,
  handshake,
  handshakeResponse,
  instructionFor,
  instructionStatusUpdate,
  powerForecast,
  powerMeasurement,
  revokeDescription,
  revokeInstruction,
  rmDetails,
  rmDetailsBody,
  selectControlType,
  sessionRequest,
  VERSION,
} from '../support/session-messages.js';
import { leafOf, NIL_UUID, rsFrame, TIMING, type ModelPath, type SessionHarness } from './model-kit.js';
import { notOffered, policyChoice, realPathOf, SHORTS, type ModelConfig } from './session-models.js';

/** The code a transport reports when the connection died without a close frame. */
export const LOST_CODE = CloseCode.ABNORMAL;

type Status = 'OK' | 'INVALID_CONTENT' | 'TEMPORARY_ERROR' | 'PERMANENT_ERROR';

/** A parameter of a parameterised model event (APP_SELECT_OK.ct, PEER_SESSION_REQUEST.request …). */
export function param<T>(event: EventObject, key: string): T {
  const value = (event as unknown as Record<string, unknown>)[key];
  if (value === undefined) throw new Error(`model event ${event.type} has no ${key}`);
  return value as T;
}

export abstract class SessionDriver {
  /** The model state the session is in before the event being executed. */
  leaf = '';
  expectedControlType: ControlType = 'NO_SELECTION';
  private appSeq = 0;

  constructor(
    readonly h: SessionHarness,
    readonly cfg: ModelConfig,
  ) {}

  protected get phase(): 'handshake' | 'connected' | 'ending' | 'closing' | 'closed' {
    const top = this.leaf.split('.')[0];
    return top === 'handshake' || top === 'connected' || top === 'ending' || top === 'closing' ? top : 'closed';
  }

  /** The short name of the active control type, if the model is in `connected.active.X`. */
  protected get active(): ControlTypeShort | undefined {
    const m = /^connected\.active\.(\w+)$/.exec(this.leaf);
    return m ? (m[1] as ControlTypeShort) : undefined;
  }

  protected otherThanActive(): ControlTypeShort {
    return SHORTS.find((s) => s !== this.active) ?? 'FRBC';
  }

  protected appId(): string {
    return `a0000000-0000-4000-8000-${String(++this.appSeq).padStart(12, '0')}`;
  }

  /** A fresh instruction `id` (R42: unique within the session). */
  protected instructionId(): string {
    return `f0000000-0000-4000-8000-${String(++this.appSeq).padStart(12, '0')}`;
  }

  protected requireActive(what: string): ControlTypeShort {
    const active = this.active;
    if (!active) throw new Error(`driver: ${what} outside an active state (${this.leaf})`);
    return active;
  }

  /** The application sends `message`; it must go out unchanged. */
  protected async appSends(message: IdentifiedMessage): Promise<void> {
    void this.h.session.send(message);
    await this.h.flush();
    this.h.expectStep(`send(${message.message_type})`, [message.message_type]);
  }

  /** The peer sends `message`; the session must answer exactly one RS with `status`, then `then`. */
  protected async peerMessage(message: IdentifiedMessage, status: Status, then: readonly string[] = []): Promise<void> {
    this.h.peerSends(message);
    await this.h.flush();
    this.h.expectStep(`the peer sent ${message.message_type}`, [rsFrame(message.message_id, status), ...then]);
  }

  /**
   * R15: our handler failing on a valid message is the receiver's problem: TEMPORARY_ERROR, the
   * failure reported to the application, and the session stays where it was.
   */
  protected async handlerThrowsOn(message: IdentifiedMessage): Promise<void> {
    this.h.peerSends(message);
    await this.h.flush();
    this.h.expectStep(`the handler threw on ${message.message_type}`, [rsFrame(message.message_id, 'TEMPORARY_ERROR')], ['handler-error']);
    this.expectStateUnchanged('a throwing handler does not end the session');
  }

  protected expectStateUnchanged(why: string): void {
    expect(this.h.session.state, why).toBe(realPathOf(this.leaf));
  }

  /** The step being executed (left set when it fails, for the known-bug check). */
  current: { readonly from: string; readonly event: EventObject } | undefined;

  /** Executes one model event. */
  async step(event: EventObject): Promise<void> {
    this.current = { from: this.leaf, event };
    if (!(await this.roleStep(event))) await this.commonStep(event);
  }

  protected abstract roleStep(event: EventObject): Promise<boolean>;

  private async commonStep(event: EventObject): Promise<void> {
    const h = this.h;
    switch (event.type) {
      case 'PEER_SESSION_REQUEST': {
        // Q11, Q22: acknowledged and ends the session in any phase.
        await this.peerMessage(sessionRequest(h.nextPeerId(), param<SessionRequestType>(event, 'request')), 'OK');
        h.closeBecause(CloseCode.NORMAL);
        return;
      }
      case 'INVALID_JSON': {
        h.peerSendsRaw('{"message_type": "PowerMeasurement", "message_id": ', NIL_UUID);
        await h.flush();
        h.expectStep('a frame that is not JSON', [rsFrame(NIL_UUID, 'INVALID_DATA')]);
        return;
      }
      case 'INVALID_MESSAGE': {
        const id = h.nextPeerId();
        // PowerMeasurement without its required `values`.
        h.peerSendsRaw(
          JSON.stringify({ message_type: 'PowerMeasurement', message_id: id, measurement_timestamp: '2026-01-01T00:00:00Z' }),
          id,
        );
        await h.flush();
        h.expectStep('a schema violation', [rsFrame(id, 'INVALID_MESSAGE')]);
        return;
      }
      case 'INVALID_RS': {
        // A malformed ReceptionStatus naming our latest waiting message: not answered (R11), and
        // not taken as that message's status either (pendingCount is checked after the step).
        const subject = h.pending.at(-1)?.id ?? h.nextPeerId();
        h.peerSendsRaw(JSON.stringify({ message_type: 'ReceptionStatus', subject_message_id: subject, status: 'MAYBE' }), undefined);
        await h.flush();
        h.expectStep('a malformed ReceptionStatus', []);
        return;
      }
      case 'PEER_RS_OK': {
        // R4: ids compare case-insensitively, so the peer may echo them in upper case.
        for (const sent of h.pending.filter((p) => p.type !== 'SelectControlType')) h.answer(sent, 'OK', true);
        await h.flush();
        h.expectStep('ReceptionStatus OK for our messages', []);
        return;
      }
      case 'PEER_RS_UNKNOWN': {
        h.peer.send({ message_type: 'ReceptionStatus', subject_message_id: h.nextPeerId(), status: 'OK' });
        await h.flush();
        h.expectStep('a ReceptionStatus for an unknown id', [], ['unknown-reception-status']);
        return;
      }
      case 'PEER_RS_PERMANENT_ERROR': {
        h.answer(h.latestPending(), 'PERMANENT_ERROR');
        await h.flush();
        h.expectStep('ReceptionStatus PERMANENT_ERROR', []);
        h.closeBecause(CloseCode.PERMANENT_ERROR);
        return;
      }
      case 'APP_SESSION_REQUEST': {
        const request = param<SessionRequestType>(event, 'request');
        if (this.phase === 'ending' || this.phase === 'closing') {
          // docs/rules.md#phases: after a SessionRequest (or once closing) nothing more goes out; the session
          // may refuse the call (S2Error, like send()) or ignore it, but must not act on it.
          try {
            h.session.request(request);
          } catch (err) {
            expect(err).toBeInstanceOf(S2Error);
          }
          await h.flush();
          h.expectStep('session.request() while ending', []);
          return;
        }
        h.session.request(request);
        await h.flush();
        h.expectStep('session.request()', [`SessionRequest(${request})`]);
        h.closeBecause(CloseCode.NORMAL);
        return;
      }
      case 'APP_CLOSE': {
        // In `closing` a second close() must change nothing (one close, one grace period).
        void h.session.close();
        await h.flush();
        h.expectStep('session.close()', []);
        h.closeBecause(CloseCode.NORMAL);
        return;
      }
      case 'TRANSPORT_LOST': {
        h.peer.close(LOST_CODE, 'connection lost');
        await h.flush();
        h.expectStep('transport loss', []);
        h.closeBecause(LOST_CODE);
        return;
      }
      case 'HANDSHAKE_TIMEOUT': {
        expect(h.clock.now(), 'no time passed before the handshake timeout').toBe(0);
        h.clock.increment(TIMING.handshakeTimeoutMs - 1);
        await h.flush();
        this.expectStateUnchanged('1 ms before the handshake timeout');
        h.clock.increment(1);
        await h.flush();
        h.expectStep('the handshake timeout', []);
        h.closeBecause(CloseCode.HANDSHAKE_TIMEOUT);
        return;
      }
      case 'RS_TIMEOUT': {
        const waiting = h.pending.length;
        h.clock.increment(TIMING.receptionTimeoutMs - 1);
        await h.flush();
        h.expectStep('1 ms before the ReceptionStatus timeout', []);
        h.clock.increment(1);
        await h.flush();
        // R21, Q5: each waiting message is reported, the session goes on.
        h.expectStep('the ReceptionStatus timeout', [], Array<string>(waiting).fill('reception-status-timeout'));
        h.pending.length = 0;
        return;
      }
      case 'CLOSE_GRACE': {
        h.clock.increment(TIMING.closeGraceMs - 1);
        await h.flush();
        this.expectStateUnchanged('1 ms before the close grace ends');
        h.clock.increment(1);
        await h.flush();
        h.expectStep('the close grace', []);
        return;
      }
      case 'CLOSE_CONFIRMED': {
        h.transport.confirmClose();
        await h.flush();
        h.expectStep('the transport closed', []);
        expect(h.peer.closed?.code, 'close code the peer saw').toBe(h.expectedCloseCode);
        return;
      }
      default:
        throw new Error(`driver: no mapping for model event ${event.type} in ${this.leaf}`);
    }
  }

  /** Asserts the real session against the model state reached. */
  checkState(snapshot: AnyMachineSnapshot): void {
    const h = this.h;
    const leaf = leafOf(snapshot);
    if (this.leaf === '') {
      // R22: the session's first message is its own Handshake, sent without waiting (R23), with the
      // role's default versions (a CEM both, newest first; an RM 0.0.2-beta, which the CEM then selects).
      h.expectStep('start', [`Handshake(${h.role}, ${JSON.stringify(SESSION_DEFAULTS.versions[h.role])})`]);
    }
    expect(h.session.state, `real state for model state ${leaf}`).toBe(realPathOf(leaf));
    if (leaf === 'closing') {
      expect(
        h.transport.closeRequests.map((c) => c.code),
        'close code the session asked the transport for',
      ).toEqual([h.expectedCloseCode]);
    } else if (leaf === 'closed') {
      expect(h.session.isClosed).toBe(true);
      expect(
        h.sessionCloses.map((c) => c.code),
        'close code the session reported',
      ).toEqual([h.expectedCloseCode]);
    } else {
      expect(h.transport.closeRequests, 'no close yet').toEqual([]);
      expect(h.session.isClosed).toBe(false);
      expect(h.session.pendingCount, 'messages waiting for a ReceptionStatus').toBe(h.pending.length);
    }
    if (leaf.startsWith('connected')) {
      expect(h.session.controlType, 'selected control type').toBe(this.expectedControlType);
      expect(h.session.version, 'negotiated version').toBe(VERSION);
    }
    h.expectLedgerBalanced();
    this.leaf = leaf;
  }

  /** Parameters for TestModel.testPath: every model event runs through `step`. */
  params(model: AnyStateMachine): TestParam<AnyMachineSnapshot, EventObject> {
    const types = new Set([model.root, ...getStateNodes(model.root)].flatMap((n) => [...n.transitions.keys()]));
    const exec = async (step: { event: EventObject }) => this.step(step.event);
    return {
      events: Object.fromEntries([...types].map((t) => [t, exec])),
      states: { '*': (state) => this.checkState(state) },
    };
  }
}

export class CemDriver extends SessionDriver {
  private get choice(): ControlType {
    return policyChoice(this.cfg);
  }

  private async select(ct: ControlType, answer: 'OK' | 'INVALID_CONTENT'): Promise<void> {
    const h = this.h;
    h.session.select(ct);
    await h.flush();
    h.expectStep(`select(${ct})`, [`SelectControlType(${ct})`]);
    this.expectStateUnchanged('R41: the selection takes effect only with the RM’s OK');
    h.answer(
      h.latestPending((m) => m.type === 'SelectControlType'),
      answer,
    );
    await h.flush();
    h.expectStep(`the RM answered ${answer} to SelectControlType`, [], answer === 'OK' ? [] : ['selection-refused']);
    if (answer === 'OK') this.expectedControlType = ct;
  }

  protected async roleStep(event: EventObject): Promise<boolean> {
    const h = this.h;
    const id = () => h.nextPeerId();
    const connected = this.phase === 'connected';
    const active = this.active;
    switch (event.type) {
      case 'PEER_HANDSHAKE':
        // R26: the CEM answers the RM's Handshake with one HandshakeResponse; R30: never twice.
        if (this.phase === 'handshake') await this.peerMessage(handshake(id(), 'RM'), 'OK', [`HandshakeResponse(${VERSION})`]);
        else await this.peerMessage(handshake(id(), 'RM'), 'INVALID_CONTENT');
        return true;
      case 'PEER_HANDSHAKE_WRONG_ROLE':
        await this.peerMessage(handshake(id(), 'CEM'), 'INVALID_CONTENT');
        h.closeBecause(CloseCode.PROTOCOL_ERROR);
        return true;
      case 'PEER_HANDSHAKE_NO_COMMON_VERSION':
        // R29, Q3: INVALID_CONTENT, then SessionRequest TERMINATE, then close.
        await this.peerMessage(handshake(id(), 'RM', ['9.9.9']), 'INVALID_CONTENT', ['SessionRequest(TERMINATE)']);
        h.closeBecause(CloseCode.NO_COMMON_VERSION);
        return true;
      case 'PEER_EARLY_MESSAGE':
        await this.peerMessage(rmDetails(id(), this.cfg.offer), 'INVALID_CONTENT'); // R28
        return true;
      case 'PEER_WRONG_SENDER': {
        const message =
          this.phase === 'handshake'
            ? handshakeResponse(id())
            : active
              ? instructionFor(id(), active, this.instructionId())
              : selectControlType(id(), this.choice);
        await this.peerMessage(message, 'INVALID_CONTENT');
        return true;
      }
      case 'PEER_DETAILS': {
        // R34: the CEM selects only after the details, and only what they offer.
        const selects = ['connected.awaitingDetails', 'connected.unselected', 'connected.selectionTimedOut'].includes(this.leaf);
        await this.peerMessage(rmDetails(id(), this.cfg.offer), 'OK', selects ? [`SelectControlType(${this.choice})`] : []);
        return true;
      }
      case 'PEER_MEASUREMENT':
        await this.peerMessage(powerMeasurement(id()), connected ? 'OK' : 'INVALID_CONTENT'); // R38
        return true;
      case 'PEER_FORECAST':
        await this.peerMessage(powerForecast(id()), connected ? 'OK' : 'INVALID_CONTENT');
        return true;
      case 'PEER_CT_MESSAGE':
        // R39: right after activation the RM describes its flexibility.
        await this.peerMessage(description(id(), this.requireActive('PEER_CT_MESSAGE')), 'OK');
        return true;
      case 'PEER_OTHER_CT_MESSAGE':
        await this.peerMessage(description(id(), this.otherThanActive()), 'INVALID_CONTENT'); // R37
        return true;
      case 'PEER_INSTRUCTION_STATUS':
        if (active) {
          // The RM describes, the CEM instructs, the RM reports on that instruction (R45).
          await this.peerMessage(description(id(), active), 'OK');
          const instruction = instructionFor(this.appId(), active, this.instructionId());
          await this.appSends(instruction);
          await this.peerMessage(instructionStatusUpdate(id(), (instruction as { id: string }).id), 'OK');
        } else {
          await this.peerMessage(instructionStatusUpdate(id(), this.instructionId()), 'INVALID_CONTENT'); // R37
        }
        return true;
      case 'PEER_REVOKE':
        if (active) {
          // R55, R56: the RM revokes its own description.
          const described = description(id(), active);
          await this.peerMessage(described, 'OK');
          await this.peerMessage(revokeDescription(id(), described), 'OK');
        } else {
          await this.peerMessage(revokeDescription(id(), description(h.nextPeerId(), 'FRBC')), 'INVALID_CONTENT'); // R37
        }
        return true;
      case 'PEER_UNKNOWN_REFERENCE': {
        // R54: revoking a description that was never sent.
        const active = this.requireActive('PEER_UNKNOWN_REFERENCE');
        await this.peerMessage(revokeDescription(id(), description(h.nextPeerId(), active)), 'INVALID_CONTENT');
        return true;
      }
      case 'SELECTION_OK':
      case 'SELECTION_REFUSED': {
        const ok = event.type === 'SELECTION_OK';
        h.answer(
          h.latestPending((m) => m.type === 'SelectControlType'),
          ok ? 'OK' : 'INVALID_CONTENT',
        );
        await h.flush();
        h.expectStep(`the RM answered the policy's SelectControlType`, [], ok ? [] : ['selection-refused']);
        if (ok) this.expectedControlType = this.choice;
        return true;
      }
      case 'APP_SELECT_OK':
        await this.select(param<ControlType>(event, 'ct'), 'OK');
        return true;
      case 'APP_SELECT_REFUSED':
        await this.select(this.choice, 'INVALID_CONTENT');
        return true;
      case 'APP_SELECT_NOT_OFFERED': {
        // R34: before the details nothing is offered; after them, only what they list.
        const ct = this.leaf === 'connected.awaitingDetails' ? this.choice : notOffered(this.cfg);
        expect(() => h.session.select(ct), `select(${ct}) must be refused (R34)`).toThrow(S2Error);
        await h.flush();
        h.expectStep(`select(${ct})`, []);
        return true;
      }
      case 'APP_SEND':
        if (active) {
          // R39: the CEM instructs once the RM has described.
          await this.peerMessage(description(id(), active), 'OK');
          await this.appSends(instructionFor(this.appId(), active, this.instructionId()));
        } else {
          // R28, R37: no instruction before the handshake is done or without that type active.
          expect(() => h.session.send(instructionFor(this.appId(), 'FRBC', this.instructionId()))).toThrow(S2Error);
          await h.flush();
          h.expectStep('send(instruction) refused', []);
        }
        return true;
      case 'HANDLER_THROWS':
        h.throwInHandler = true;
        await this.handlerThrowsOn(powerMeasurement(id()));
        return true;
      default:
        return false;
    }
  }
}

export class RmDriver extends SessionDriver {
  protected async roleStep(event: EventObject): Promise<boolean> {
    const h = this.h;
    const id = () => h.nextPeerId();
    const active = this.active;
    const inHandshake = this.phase === 'handshake';
    switch (event.type) {
      case 'PEER_HANDSHAKE':
        // R23: accepted before or after our own; R30: a second one is refused.
        await this.peerMessage(handshake(id(), 'CEM'), this.leaf === 'handshake.awaitingCem' ? 'OK' : 'INVALID_CONTENT');
        return true;
      case 'PEER_HANDSHAKE_WRONG_ROLE':
        await this.peerMessage(handshake(id(), 'RM'), 'INVALID_CONTENT'); // R24
        if (this.leaf === 'handshake.awaitingCem') h.closeBecause(CloseCode.PROTOCOL_ERROR);
        return true;
      case 'PEER_HANDSHAKE_RESPONSE':
        // R28: ResourceManagerDetails right after the HandshakeResponse.
        if (inHandshake) await this.peerMessage(handshakeResponse(id()), 'OK', [`ResourceManagerDetails(${this.cfg.offer.join(',')})`]);
        else await this.peerMessage(handshakeResponse(id()), 'INVALID_CONTENT');
        return true;
      case 'PEER_HANDSHAKE_RESPONSE_NOT_OFFERED':
        await this.peerMessage(handshakeResponse(id(), '9.9.9'), 'INVALID_CONTENT'); // R27
        h.closeBecause(CloseCode.NO_COMMON_VERSION);
        return true;
      case 'PEER_EARLY_MESSAGE':
        await this.peerMessage(selectControlType(id(), policyChoice(this.cfg)), 'INVALID_CONTENT'); // R28
        return true;
      case 'PEER_WRONG_SENDER':
        await this.peerMessage(active ? description(id(), active) : powerMeasurement(id()), 'INVALID_CONTENT');
        return true;
      case 'PEER_SELECT': {
        const ct = param<ControlType>(event, 'ct');
        // R35, Q8: a type that was not offered is refused and changes nothing; NO_SELECTION needs no offer.
        const ok = ct === 'NO_SELECTION' || this.cfg.offer.includes(ct);
        await this.peerMessage(selectControlType(id(), ct), ok ? 'OK' : 'INVALID_CONTENT');
        if (ok) this.expectedControlType = ct;
        return true;
      }
      case 'PEER_CT_MESSAGE': {
        // R39: the RM application describes, then the CEM instructs against that description.
        const active = this.requireActive('PEER_CT_MESSAGE');
        await this.appSends(description(this.appId(), active));
        await this.peerMessage(instructionFor(id(), active, this.instructionId()), 'OK');
        return true;
      }
      case 'PEER_OTHER_CT_MESSAGE':
        await this.peerMessage(instructionFor(id(), this.otherThanActive(), this.instructionId()), 'INVALID_CONTENT'); // R37
        return true;
      case 'PEER_REVOKE':
        if (active) {
          // R55: the CEM revokes its own instruction.
          await this.appSends(description(this.appId(), active));
          const instruction = instructionFor(id(), active, this.instructionId());
          await this.peerMessage(instruction, 'OK');
          await this.peerMessage(revokeInstruction(id(), instruction), 'OK');
        } else {
          await this.peerMessage(revokeInstruction(id(), instructionFor(h.nextPeerId(), 'FRBC', this.instructionId())), 'INVALID_CONTENT'); // R37
        }
        return true;
      case 'PEER_UNKNOWN_REFERENCE': {
        // R54: revoking an instruction that was never sent.
        const active = this.requireActive('PEER_UNKNOWN_REFERENCE');
        await this.peerMessage(revokeInstruction(id(), instructionFor(h.nextPeerId(), active, this.instructionId())), 'INVALID_CONTENT');
        return true;
      }
      case 'APP_SEND':
        if (inHandshake) {
          expect(() => h.session.send(powerMeasurement(this.appId()))).toThrow(S2Error); // R28
          await h.flush();
          h.expectStep('send(PowerMeasurement) refused', []);
        } else {
          void h.session.send(powerMeasurement(this.appId()));
          await h.flush();
          h.expectStep('send(PowerMeasurement)', ['PowerMeasurement']);
        }
        return true;
      case 'APP_UPDATE_DETAILS':
        h.session.updateDetails(rmDetailsBody(this.cfg.offer, 'renamed RM'));
        await h.flush();
        h.expectStep('updateDetails()', [`ResourceManagerDetails(${this.cfg.offer.join(',')})`]);
        return true;
      case 'HANDLER_THROWS': {
        const active = this.requireActive('HANDLER_THROWS');
        await this.appSends(description(this.appId(), active));
        h.throwInHandler = true;
        await this.handlerThrowsOn(instructionFor(id(), active, this.instructionId()));
        return true;
      }
      default:
        return false;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rule tags and known bugs

const EVENT_TAGS: Record<string, readonly string[]> = {
  PEER_HANDSHAKE: ['R23'],
  PEER_HANDSHAKE_WRONG_ROLE: ['R24'],
  PEER_HANDSHAKE_NO_COMMON_VERSION: ['R25', 'R27', 'R29', 'Q3'],
  PEER_HANDSHAKE_RESPONSE: ['R26', 'R27', 'R28'],
  PEER_HANDSHAKE_RESPONSE_NOT_OFFERED: ['R27', 'Q3'],
  PEER_EARLY_MESSAGE: ['R28', 'Q6', 'R15', 'R16'],
  PEER_WRONG_SENDER: ['Q6', 'R15', 'R16'],
  PEER_DETAILS: ['R34'],
  PEER_MEASUREMENT: ['R38'],
  PEER_FORECAST: ['R38'],
  PEER_CT_MESSAGE: ['R37', 'R39'],
  PEER_UNKNOWN_REFERENCE: ['R16', 'R54'],
  PEER_OTHER_CT_MESSAGE: ['R37', 'Q6', 'R15', 'R16'],
  PEER_INSTRUCTION_STATUS: ['R37', 'R45'],
  PEER_REVOKE: ['R37', 'R55'],
  PEER_SELECT: ['R34', 'R36'],
  SELECTION_OK: ['R34', 'R41'],
  SELECTION_REFUSED: ['R41'],
  APP_SELECT_OK: ['R34', 'R36', 'R41'],
  APP_SELECT_REFUSED: ['R41'],
  APP_SELECT_NOT_OFFERED: ['R34'],
  APP_SEND: ['R28', 'R37', 'R39'],
  APP_UPDATE_DETAILS: ['R28'],
  PEER_SESSION_REQUEST: ['Q11', 'Q22'],
  APP_SESSION_REQUEST: ['Q11'],
  INVALID_JSON: ['R15', 'R16', 'R20', 'Q7'],
  INVALID_MESSAGE: ['R15', 'R16'],
  INVALID_RS: ['R11'],
  PEER_RS_OK: ['R4', 'R13'],
  PEER_RS_UNKNOWN: ['R12'],
  PEER_RS_PERMANENT_ERROR: ['R18'],
  HANDLER_THROWS: ['R15', 'R19'],
  RS_TIMEOUT: ['R21', 'Q5'],
  HANDSHAKE_TIMEOUT: ['R22'],
  CLOSE_GRACE: ['Q11'],
};

function tagOrder(tag: string): number {
  return (tag.startsWith('R') ? 0 : 1000) + Number(tag.slice(1));
}

/** `[R11, R12, R22, …, Q8]`: the rules a path checks. */
export function tagsOf(role: 'CEM' | 'RM', cfg: ModelConfig, path: ModelPath): string {
  // Every path checks the session's first message (R22) and the one-RS-per-frame ledger (R11, R12).
  const tags = new Set<string>(['R11', 'R12', 'R22']);
  for (let i = 1; i < path.steps.length; i++) {
    const before = path.steps[i - 1];
    const step = path.steps[i];
    if (!before || !step) continue;
    const from = leafOf(before.state);
    const type = step.event.type;
    for (const tag of EVENT_TAGS[type] ?? []) tags.add(tag);
    if (type === 'PEER_HANDSHAKE' && role === 'CEM' && from === 'handshake') tags.add('R26');
    if (
      ['PEER_HANDSHAKE', 'PEER_HANDSHAKE_RESPONSE', 'PEER_HANDSHAKE_WRONG_ROLE'].includes(type) &&
      !from.startsWith('handshake.awaitingCem') &&
      from !== 'handshake'
    )
      tags.add('R30');
    const ct = (step.event as { ct?: ControlType }).ct;
    if (type === 'PEER_SELECT' && ct !== undefined && ct !== 'NO_SELECTION' && !cfg.offer.includes(ct)) tags.add('R35');
    if (ct === 'NO_SELECTION' || ct === 'NOT_CONTROLABLE' || (type === 'SELECTION_OK' && leafOf(step.state) === 'connected.noControlType'))
      tags.add('Q8');
  }
  return `[${[...tags].sort((a, b) => tagOrder(a) - tagOrder(b)).join(', ')}]`;
}

export interface KnownBug {
  readonly id: string;
  /** Does this step (model state before, event) run into the bug? */
  readonly hits: (from: string, event: EventObject) => boolean;
  /** The assertion failure the bug causes at that step. */
  readonly symptom: RegExp;
  readonly description: string;
}

// Bugs found by these tests are fixed in src; a new one is listed here (id, the step that hits
// it, its symptom) so that its paths run as it.fails until the fix lands.
const CEM_ONLY_BUGS: readonly KnownBug[] = [];

/** Bugs of the shared root handlers (session-setup.ts), seen from both roles. */
export const SESSION_KNOWN_BUGS: readonly KnownBug[] = [];

export const CEM_KNOWN_BUGS: readonly KnownBug[] = [...CEM_ONLY_BUGS, ...SESSION_KNOWN_BUGS];
export const RM_KNOWN_BUGS: readonly KnownBug[] = SESSION_KNOWN_BUGS;

export function bugsOf(bugs: readonly KnownBug[], path: ModelPath): KnownBug[] {
  const hit = new Set<KnownBug>();
  for (let i = 1; i < path.steps.length; i++) {
    const before = path.steps[i - 1];
    const step = path.steps[i];
    if (!before || !step) continue;
    for (const bug of bugs) if (bug.hits(leafOf(before.state), step.event)) hit.add(bug);
  }
  return [...hit];
}
