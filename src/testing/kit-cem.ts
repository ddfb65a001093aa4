/**
 * The kit plays the CEM: it tests an RM. Every model event of `rmSessionModel` and
 * `rmControlTypeModel` (models.ts) as S2 frames, and what the RM must answer; every message the
 * RM sends on its own is judged with the project's rules (permissions, control-type references,
 * R46 instruction statuses) and answered the way a conforming CEM would.
 */
import { controlTypeRefusal, type InstructionRecord } from '../machines/control-type.js';
import { CONTROL_TYPE_RULES } from '../machines/control-types.js';
import { refusal } from '../machines/permissions.js';
import { FINAL_STATUSES, statusTransitionRefusal } from '../rules/instruction-status.js';
import type { ControlType, InstructionStatus } from '../typebox/common/enums.js';
import { CONTROL_TYPE_SHORT, type ControlTypeShort } from '../typebox/message-spec.js';
import { CONTROL_TYPE_OF_SHORT, messageSpec, shortOfControlType, type IdentifiedMessage, type MessageOf } from '../typebox/registry.js';
import { KitBase, OK, ScenarioSkip, refuse, rulesIn, type Entry, type Verdict } from './kit-base.js';
import type { Frame } from './link.js';
import {
  DESCRIPTION_TYPE,
  FOREIGN_TYPE,
  INSTRUCTION_TYPE,
  REFERENCE_RULE,
  instructionFor,
  strayInstruction,
} from './payloads/cem-messages.js';
import {
  brokenFrames,
  handshake,
  handshakeResponse,
  newId,
  powerMeasurement,
  revokeObject,
  selectControlType,
  sessionRequest,
  UNOFFERED_VERSION,
} from './payloads/common.js';

/** What the kit knows of one activation of a control type on the RM. */
interface Activation {
  readonly short: ControlTypeShort;
  knowledge: unknown;
  readonly instructions: Map<string, InstructionRecord>;
  /** The RM's accepted messages of this type, in order (what instructions are built from). */
  readonly observed: IdentifiedMessage[];
}

/** An instruction the kit gave, and what became of it. */
interface Given {
  readonly message: IdentifiedMessage & { readonly id: string };
  refused: boolean;
  /** Statuses the RM reported (accepted or not), with the frame they came in. */
  readonly reports: { readonly status: InstructionStatus; readonly seq: number }[];
}

const POLICY_ORDER: readonly ControlType[] = [...CONTROL_TYPE_SHORT.map((s) => CONTROL_TYPE_OF_SHORT[s]), 'NOT_CONTROLABLE'];

export class KitCem extends KitBase {
  readonly kitRole = 'CEM' as const;
  rmHandshake: MessageOf<'Handshake'> | undefined;
  details: MessageOf<'ResourceManagerDetails'> | undefined;
  /** The control type the kit asked for last, and the one the RM confirmed (OK). */
  private areaSent: ControlTypeShort | undefined;
  private areaConfirmed: ControlTypeShort | undefined;
  private act: Activation | undefined;
  private readonly given = new Map<string, Given>();
  private lastGiven: Given | undefined;

  protected schemaViolation(messageId: string): string {
    return brokenFrames.badSelectControlType(messageId);
  }

  async open(): Promise<void> {
    const f = await this.link.waitFor((x) => x.message?.message_type === 'Handshake', this.ctx.timeoutMs);
    if (!f) this.fail(['R22'], `the RM's Handshake, its first message, within ${this.ctx.timeoutMs} ms of the connection`);
  }

  /**
   * The version the kit selects: its own when the RM offers it; otherwise (an RM that does not, seen
   * in the discovery, which then ends the run when a version was asked for) the RM's first.
   */
  private get version(): string {
    const theirs = this.rmHandshake?.supported_protocol_versions ?? [];
    return theirs.includes(this.ctx.version) ? this.ctx.version : (theirs[0] ?? this.ctx.version);
  }

  private get type(): ControlTypeShort {
    const ct = this.scenario.controlType;
    if (!ct) throw new Error(`conformance kit bug: scenario ${this.scenario.id} has no control type`);
    return ct;
  }

  private get activation(): Activation {
    if (!this.act) throw new Error(`conformance kit bug: no activation in scenario ${this.scenario.id}`);
    return this.act;
  }

  // ------------------------------------------------------------------------------------------
  // Judging what the RM sends

  protected judge(m: IdentifiedMessage, f: Frame): Verdict {
    if (m.message_type === 'Handshake') {
      if (this.rmHandshake) return refuse(['R30'], 'a second Handshake in one session (R30)');
      if (m.role !== 'RM') return refuse(['R24'], `Handshake.role is ${m.role}; the RM's must be RM (R24)`);
      this.rmHandshake = m;
      if (!m.supported_protocol_versions?.length) return refuse(['R25'], 'the RM Handshake must list supported_protocol_versions (R25)');
      return OK;
    }
    const spec = messageSpec(m.message_type)!;
    let why = refusal('RM', spec, m.message_type, { phase: this.phase, activeArea: this.areaSent });
    if (why && this.areaConfirmed !== this.areaSent)
      why = refusal('RM', spec, m.message_type, { phase: this.phase, activeArea: this.areaConfirmed });
    if (why) return refuse(rulesIn(why, ['Q6']), why);
    if (m.message_type === 'ResourceManagerDetails') {
      this.details = m;
      return OK;
    }
    if (spec.area !== 'common' || m.message_type === 'InstructionStatusUpdate' || m.message_type === 'RevokeObject')
      return this.judgeActivation(m, f);
    return OK;
  }

  private judgeActivation(m: IdentifiedMessage, f: Frame): Verdict {
    const a = this.act;
    if (!a) return refuse(['R37'], `${m.message_type} while no control type is active (R37)`);
    const rules = CONTROL_TYPE_RULES[a.short];
    let why = controlTypeRefusal(rules, a, m, 'RM');
    if (!why && m.message_type === 'InstructionStatusUpdate')
      why = statusTransitionRefusal(a.instructions.get(m.instruction_id.toLowerCase())?.status, m.status_type);
    if (m.message_type === 'InstructionStatusUpdate') {
      const g = this.given.get(m.instruction_id.toLowerCase());
      if (g && !g.refused) g.reports.push({ status: m.status_type, seq: f.seq });
    }
    if (why) return refuse(rulesIn(why, ['R16']), why);
    if (m.message_type === 'InstructionStatusUpdate') {
      const k = m.instruction_id.toLowerCase();
      const record = a.instructions.get(k);
      if (record) a.instructions.set(k, { ...record, status: m.status_type });
    } else if (m.message_type === 'RevokeObject') {
      a.knowledge = rules.revoke(a.knowledge, m.object_type, m.object_id);
    } else {
      a.knowledge = rules.learn(a.knowledge, m);
      a.observed.push(m);
    }
    return OK;
  }

  // ------------------------------------------------------------------------------------------
  // What the kit sends

  /** SelectControlType(ct): the kit treats the type as active from now (lenient) and confirmed on OK (R41). */
  private select(ct: ControlType, rules: readonly string[]): Promise<void> {
    const short = shortOfControlType(ct);
    const previous = this.areaConfirmed;
    this.areaSent = short;
    // R36, R40: a new activation starts from nothing.
    if (short) this.act = { short, knowledge: CONTROL_TYPE_RULES[short].empty(), instructions: new Map(), observed: [] };
    const entry = this.send(selectControlType(ct), `SelectControlType(${ct})`, (status) => {
      if (status === 'OK') {
        this.areaConfirmed = short;
        if (!short) this.act = undefined;
      } else {
        this.areaSent = previous;
      }
    });
    return this.expectAnswer(entry, 'OK', rules);
  }

  private give(message: IdentifiedMessage & { readonly id: string }, remember: boolean): Entry {
    const a = this.activation;
    const key = message.id.toLowerCase();
    if (!remember) return this.send(message, `${message.message_type} reusing id ${message.id}`);
    const g: Given = { message, refused: false, reports: [] };
    this.given.set(key, g);
    a.instructions.set(key, { messageType: message.message_type, status: undefined, revoked: false });
    return this.send(message, `${message.message_type} ${message.id}`, (status) => {
      if (status === 'OK') return;
      // R16, R49: refused, so it never gets a status.
      g.refused = true;
      a.instructions.delete(key);
    });
  }

  private build(opts: { id?: string; unknown?: boolean } = {}): IdentifiedMessage & { readonly id: string } {
    const built = instructionFor(this.type, this.activation.observed, {
      id: opts.id ?? newId(),
      nowMs: Date.now(),
      leadMs: this.ctx.leadMs,
      ...(opts.unknown ? { unknown: true } : {}),
    });
    if ('skip' in built) throw new ScenarioSkip(`no ${this.type} instruction can be built from what the RM described: ${built.skip}`);
    return built as IdentifiedMessage & { readonly id: string };
  }

  private latestGiven(): Given {
    if (!this.lastGiven) throw new Error(`conformance kit bug: no instruction given in scenario ${this.scenario.id}`);
    return this.lastGiven;
  }

  // ------------------------------------------------------------------------------------------
  // Model events

  async run(event: string): Promise<void> {
    if (await this.runShared(event)) return;
    switch (event) {
      case 'CEM_HANDSHAKE':
        return this.expectAnswer(this.send(handshake('CEM', [this.ctx.version])), 'OK', ['R11', 'R23']);
      case 'CEM_HANDSHAKE_AGAIN':
        return this.expectAnswer(this.send(handshake('CEM', [this.ctx.version]), 'a second CEM Handshake'), 'INVALID_CONTENT', ['R30']);
      case 'CEM_HANDSHAKE_WRONG_ROLE':
        await this.expectAnswer(this.send(handshake('RM', [this.ctx.version]), 'a Handshake with role RM'), 'INVALID_CONTENT', ['R24']);
        return this.expectClosed(['R24'], 'a session needs one CEM and one RM');
      case 'EARLY_MESSAGE':
        return this.expectAnswer(
          this.send(selectControlType('NO_SELECTION'), 'SelectControlType before the HandshakeResponse'),
          'INVALID_CONTENT',
          ['R28', 'Q6'],
        );
      case 'HANDSHAKE_RESPONSE':
        return this.handshakeResponse();
      case 'HANDSHAKE_RESPONSE_AGAIN':
        return this.expectAnswer(this.send(handshakeResponse(this.version), 'a second HandshakeResponse'), 'INVALID_CONTENT', ['R30']);
      case 'HANDSHAKE_RESPONSE_NOT_OFFERED':
        await this.expectAnswer(
          this.send(handshakeResponse(UNOFFERED_VERSION), `HandshakeResponse(${UNOFFERED_VERSION})`),
          'INVALID_CONTENT',
          ['R27'],
        );
        return this.expectClosed(['R27'], 'a version the RM did not offer ends the session');
      case 'DETAILS_PERMANENT_ERROR':
        this.overrides.set('ResourceManagerDetails', 'PERMANENT_ERROR');
        await this.handshakeResponse();
        return this.expectClosed(['R18'], 'after PERMANENT_ERROR for its ResourceManagerDetails the RM closes');
      case 'SELECT_ACTIVE':
        return this.selectActive();
      case 'SELECT_NOT_CONTROLABLE':
        return this.select('NOT_CONTROLABLE', ['R34', 'Q8']);
      case 'SELECT_NO_SELECTION':
        return this.select('NO_SELECTION', ['R36', 'R40', 'Q8']);
      case 'DESELECT':
        return this.select('NO_SELECTION', ['R36', 'R40']);
      case 'SELECT_NOT_OFFERED': {
        const offered = this.details?.available_control_types ?? [];
        const ct = POLICY_ORDER.find((c) => !offered.includes(c)) ?? 'NOT_CONTROLABLE';
        return this.expectAnswer(this.send(selectControlType(ct), `SelectControlType(${ct}), not offered`), 'INVALID_CONTENT', ['R35']);
      }
      case 'WRONG_SENDER':
        return this.expectAnswer(this.send(powerMeasurement(Date.now()), 'a PowerMeasurement from the CEM'), 'INVALID_CONTENT', ['Q6']);
      case 'OTHER_CT_MESSAGE': {
        const other = this.areaSent ? CONTROL_TYPE_SHORT.find((s) => s !== this.areaSent)! : (this.scenario.controlType ?? 'FRBC');
        const m = strayInstruction(other, Date.now());
        return this.expectAnswer(this.send(m, `${m.message_type} while ${other} is not active`), 'INVALID_CONTENT', ['R37']);
      }
      case 'INSTRUCT':
        return this.instruct();
      case 'INSTRUCT_UNKNOWN': {
        const m = this.build({ unknown: true });
        return this.expectAnswer(this.give(m, true), 'INVALID_CONTENT', ['R49', REFERENCE_RULE[this.type]]);
      }
      case 'INSTRUCT_REUSED_ID': {
        const m = this.build({ id: this.latestGiven().message.id });
        return this.expectAnswer(this.give(m, false), 'INVALID_CONTENT', ['R42']);
      }
      case 'REVOKE_INSTRUCTION':
        return this.revokeInstruction();
      case 'REVOKE_AGAIN': {
        const g = this.latestGiven();
        return this.expectAnswer(
          this.send(revokeObject(g.message.message_type as never, g.message.id), 'RevokeObject of a revoked instruction'),
          'INVALID_CONTENT',
          ['R54'],
        );
      }
      case 'REVOKE_UNKNOWN':
        return this.expectAnswer(
          this.send(revokeObject(INSTRUCTION_TYPE[this.type], newId()), 'RevokeObject of an unknown instruction'),
          'INVALID_CONTENT',
          ['R54'],
        );
      case 'REVOKE_RM_OBJECT': {
        const d = [...this.activation.observed].reverse().find((m) => m.message_type === DESCRIPTION_TYPE[this.type]);
        if (!d) throw new ScenarioSkip(`the RM sent no ${DESCRIPTION_TYPE[this.type]}`);
        const objectId = 'id' in d && typeof d.id === 'string' ? d.id : d.message_id;
        return this.expectAnswer(
          this.send(revokeObject(DESCRIPTION_TYPE[this.type], objectId), `RevokeObject of the RM's ${d.message_type}`),
          'INVALID_CONTENT',
          ['R55'],
        );
      }
      case 'REVOKE_OTHER_TYPE':
        return this.expectAnswer(
          this.send(revokeObject(FOREIGN_TYPE[this.type], newId()), `RevokeObject of a ${FOREIGN_TYPE[this.type]}`),
          'INVALID_CONTENT',
          ['R57'],
        );
      case 'REVOKE_AFTER_DESELECT': {
        const g = this.latestGiven();
        return this.expectAnswer(
          this.send(revokeObject(g.message.message_type as never, g.message.id), 'RevokeObject after NO_SELECTION'),
          'INVALID_CONTENT',
          ['R37', 'R40'],
        );
      }
      default:
        throw new Error(`conformance kit bug: no driver for ${event} (RM under test)`);
    }
  }

  /** R26, R28: HandshakeResponse ⇒ OK, then ResourceManagerDetails. */
  private async handshakeResponse(): Promise<void> {
    this.phase = 'connected';
    await this.expectAnswer(this.send(handshakeResponse(this.version), `HandshakeResponse(${this.version})`), 'OK', ['R11', 'R26']);
    if (!(await this.awaitMessage('ResourceManagerDetails')))
      this.fail(['R28'], `ResourceManagerDetails after the HandshakeResponse, within ${this.ctx.timeoutMs} ms`);
  }

  /** R39: the description comes first; R60: then the active operation mode(s). */
  private async selectActive(): Promise<void> {
    const ct = this.type;
    const from = this.link.frames.length;
    await this.select(CONTROL_TYPE_OF_SHORT[ct], ['R34', 'R41']);
    const first = await this.link.waitFor((f) => messageSpec(f.message?.message_type ?? '')?.area === ct, this.ctx.timeoutMs, from);
    const want = DESCRIPTION_TYPE[ct];
    if (!first) this.fail(['R39'], `${want} once ${ct} is active, within ${this.ctx.timeoutMs} ms`);
    if (first.message?.message_type !== want)
      this.fail(['R39'], `${want} as the first ${ct} message after the activation, not ${first.message?.message_type}`);
    const d = first.message;
    const actuators =
      d.message_type === 'FRBC.SystemDescription' || d.message_type === 'DDBC.SystemDescription'
        ? d.actuators.map((a) => a.id.toLowerCase())
        : [];
    const statusType =
      ct === 'FRBC' ? 'FRBC.ActuatorStatus' : ct === 'DDBC' ? 'DDBC.ActuatorStatus' : ct === 'OMBC' ? 'OMBC.Status' : undefined;
    if (!statusType) return;
    for (const actuator of actuators.length ? actuators : [undefined]) {
      const f = await this.link.waitFor(
        (x) =>
          x.message?.message_type === statusType &&
          (actuator === undefined || (x.message as { actuator_id: string }).actuator_id.toLowerCase() === actuator),
        this.ctx.timeoutMs,
        first.seq,
      );
      if (!f)
        this.fail(
          ['R60'],
          `${statusType}${actuator ? ` for actuator ${actuator}` : ''} after the ${want} (the active operation mode), within ${this.ctx.timeoutMs} ms`,
        );
    }
  }

  /** R17, R44: OK for the message, then the RM reports a status. */
  private async instruct(): Promise<void> {
    const m = this.build();
    const entry = this.give(m, true);
    this.lastGiven = this.given.get(m.id.toLowerCase());
    await this.expectAnswer(entry, 'OK', [REFERENCE_RULE[this.type], 'R17']);
    const g = this.lastGiven!;
    if (!(await this.link.until(() => g.reports.length > 0, this.ctx.timeoutMs))) {
      this.fail(['R44'], `an InstructionStatusUpdate for instruction ${m.id} within ${this.ctx.timeoutMs} ms`);
    }
  }

  /** R54, R58: an open instruction ⇒ OK, then a final status (REVOKED, or one that crossed); a final one ⇒ INVALID_CONTENT. */
  private async revokeInstruction(): Promise<void> {
    const g = this.latestGiven();
    const finalSeen = () => g.reports.find((r) => FINAL_STATUSES.has(r.status));
    const wasFinal = finalSeen();
    const key = g.message.id.toLowerCase();
    const entry = this.send(
      revokeObject(g.message.message_type as never, g.message.id),
      `RevokeObject of instruction ${g.message.id}`,
      (status) => {
        const a = this.act;
        const record = a?.instructions.get(key);
        if (status === 'OK' && a && record) a.instructions.set(key, { ...record, revoked: true });
      },
    );
    if (wasFinal) return this.expectAnswer(entry, 'INVALID_CONTENT', ['R54']);
    const answer = await this.answer(entry);
    if (!answer) return this.expectAnswer(entry, 'OK', ['R54']);
    const status = (answer.message as MessageOf<'ReceptionStatus'>).status;
    if (status === 'INVALID_CONTENT') {
      // Only if the instruction became final before the RM read the RevokeObject.
      const final = finalSeen();
      if (final && final.seq < answer.seq) return;
      this.fail(['R54'], `ReceptionStatus OK for the RevokeObject of open instruction ${g.message.id}, got INVALID_CONTENT`);
    }
    if (status !== 'OK') this.fail(['R54'], `ReceptionStatus OK for the RevokeObject of instruction ${g.message.id}, got ${status}`);
    if (!(await this.link.until(() => finalSeen() !== undefined, this.ctx.timeoutMs))) {
      this.fail(['R58'], `a final InstructionStatusUpdate (REVOKED) for instruction ${g.message.id} within ${this.ctx.timeoutMs} ms`);
    }
  }

  /** Asks the RM to reconnect (SessionRequest RECONNECT) and closes; not checked. */
  async teardown(): Promise<void> {
    if (this.link.isOpen && !this.peerRequested) {
      const entry = this.send(sessionRequest('RECONNECT', 'conformance kit: next scenario'), 'SessionRequest(RECONNECT) at the end');
      await this.link.until(() => entry.answers.length > 0, Math.min(this.ctx.timeoutMs, 2000));
      await this.link.waitClosed(Math.min(this.ctx.timeoutMs, 500));
    }
    this.link.close(1000, 'conformance kit: scenario done');
  }
}
