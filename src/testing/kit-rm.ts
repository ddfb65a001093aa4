/**
 * The kit plays the RM: it tests a CEM. Every model event of `cemSessionModel`,
 * `cemControlTypeModel` and `instructionModel` (models.ts) as S2 frames, and what the CEM must
 * answer. The kit's RM offers exactly one control type per session and describes it with the
 * realistic devices of payloads/rm-messages.ts; every instruction the CEM gives is judged against
 * what the kit had described (R39, R42 and the type's reference rules, with the project's rules).
 *
 * Timing: the CEM may instruct against a description the kit has sent but the CEM has not
 * acknowledged yet, and against one the kit has revoked while the revocation is unanswered. So an
 * instruction is judged against every state of the kit's descriptions from the last one the CEM
 * acknowledged to the latest one sent, and refused only if all of them refuse it.
 */
import { controlTypeRefusal, type InstructionRecord } from '../machines/control-type.js';
import { CONTROL_TYPE_RULES } from '../machines/control-types.js';
import { refusal } from '../machines/permissions.js';
import { nextStatuses } from '../rules/instruction-status.js';
import type { ControlType, InstructionStatus } from '../typebox/common/enums.js';
import { CONTROL_TYPE_SHORT, type ControlTypeShort } from '../typebox/message-spec.js';
import { CONTROL_TYPE_OF_SHORT, messageSpec, shortOfControlType, type IdentifiedMessage, type MessageOf } from '../typebox/registry.js';
import { KitBase, OK, ScenarioSkip, refuse, rulesIn, type Verdict } from './kit-base.js';
import { strayInstruction } from './payloads/cem-messages.js';
import {
  brokenFrames,
  handshake,
  instructionStatusUpdate,
  newId,
  powerMeasurement,
  revokeObject,
  rmDetails,
  selectControlType,
  UNOFFERED_VERSION,
} from './payloads/common.js';
import { rmMessageSet, type RmMessageSet } from './payloads/rm-messages.js';

/** The kit's descriptions as the CEM may know them: one state per message sent, from the last acknowledged one. */
class Timeline {
  private readonly states: { readonly id: string; readonly knowledge: unknown }[];
  private acked = 0;
  constructor(initial: unknown) {
    this.states = [{ id: '', knowledge: initial }];
  }
  get latest(): unknown {
    return this.states[this.states.length - 1]!.knowledge;
  }
  apply(messageId: string, change: (k: unknown) => unknown): void {
    this.states.push({ id: messageId.toLowerCase(), knowledge: change(this.latest) });
  }
  ack(messageId: string): void {
    const i = this.states.findIndex((s) => s.id === messageId.toLowerCase());
    if (i > this.acked) this.acked = i;
  }
  candidates(): unknown[] {
    return this.states.slice(this.acked).map((s) => s.knowledge);
  }
}

interface Activation {
  readonly short: ControlTypeShort;
  readonly set: RmMessageSet;
  readonly timeline: Timeline;
  readonly instructions: Map<string, InstructionRecord>;
  /** The CEM's instructions the kit accepted, in order. */
  readonly accepted: IdentifiedMessage[];
  description: IdentifiedMessage | undefined;
  described: number;
}

export class KitRm extends KitBase {
  readonly kitRole = 'RM' as const;
  /** What the kit's Handshake offers: the run's version only (R25), so that the CEM must select it. */
  private kitVersions: readonly string[] = [this.ctx.version];
  private kitHandshakeSent = false;
  private cemHandshake: MessageOf<'Handshake'> | undefined;
  private handshakeResponse: MessageOf<'HandshakeResponse'> | undefined;
  private detailsSent = false;
  private offer: readonly ControlType[] = [];
  /** The type the kit answered OK to (the CEM may act on it from then, R41). */
  private activeArea: ControlTypeShort | undefined;
  private act: Activation | undefined;
  private readonly resourceId = newId();
  private readonly salt = newId();
  /** The CEM's instruction the instruction model drives, and the status the CEM accepted last. */
  private instruction: { readonly message: IdentifiedMessage & { readonly id: string }; status: InstructionStatus | undefined } | undefined;

  protected schemaViolation(messageId: string): string {
    return brokenFrames.measurementWithExtraField(messageId, Date.now());
  }

  private get type(): ControlTypeShort {
    const ct = this.scenario.controlType;
    if (!ct) throw new Error(`conformance kit bug: scenario ${this.scenario.id} has no control type`);
    return ct;
  }

  private set(short: ControlTypeShort): RmMessageSet {
    return rmMessageSet(short, this.salt, Date.now(), this.ctx.version);
  }

  private get activation(): Activation {
    if (!this.act) throw new Error(`conformance kit bug: no activation in scenario ${this.scenario.id}`);
    return this.act;
  }

  async open(): Promise<void> {
    // R23: the CEM sends its Handshake without waiting for the RM's.
    const f = await this.link.waitFor((x) => x.message?.message_type === 'Handshake', this.ctx.timeoutMs);
    if (!f)
      this.fail(['R22', 'R23'], `the CEM's Handshake, its first message, within ${this.ctx.timeoutMs} ms and without waiting for the RM's`);
  }

  // ------------------------------------------------------------------------------------------
  // Judging what the CEM sends

  protected judge(m: IdentifiedMessage): Verdict {
    switch (m.message_type) {
      case 'Handshake':
        if (this.cemHandshake) return refuse(['R30'], 'a second Handshake in one session (R30)');
        if (m.role !== 'CEM') return refuse(['R24'], `Handshake.role is ${m.role}; the CEM's must be CEM (R24)`);
        this.cemHandshake = m;
        return OK;
      case 'HandshakeResponse':
        if (this.handshakeResponse) return refuse(['R26', 'R30'], 'a second HandshakeResponse in one session (R26, R30)');
        if (!this.kitHandshakeSent) return refuse(['R26'], 'a HandshakeResponse before the RM sent its Handshake (R26)');
        if (!this.kitVersions.includes(m.selected_protocol_version)) {
          return refuse(
            ['R27'],
            `selected_protocol_version ${m.selected_protocol_version} was not offered; the RM offered ${this.kitVersions.join(', ')} (R27)`,
          );
        }
        this.handshakeResponse = m;
        this.phase = 'connected';
        return OK;
    }
    const spec = messageSpec(m.message_type)!;
    const why = refusal('CEM', spec, m.message_type, { phase: this.phase, activeArea: this.activeArea });
    if (why) return refuse(rulesIn(why, ['Q6']), why);
    if (m.message_type === 'SelectControlType') {
      if (!this.detailsSent) return refuse(['R34'], 'SelectControlType before the RM sent its ResourceManagerDetails (R34)');
      if (m.control_type !== 'NO_SELECTION' && !this.offer.includes(m.control_type)) {
        return refuse(['R34'], `control type ${m.control_type} was not offered; the RM offered ${this.offer.join(', ')} (R34)`);
      }
      return OK;
    }
    if (spec.instruction || m.message_type === 'RevokeObject') return this.judgeInstruction(m);
    return OK;
  }

  private judgeInstruction(m: IdentifiedMessage): Verdict {
    const a = this.act;
    if (!a) return refuse(['R37'], `${m.message_type} while no control type is active (R37)`);
    const rules = CONTROL_TYPE_RULES[a.short];
    const reasons = a.timeline
      .candidates()
      .map((knowledge) => controlTypeRefusal(rules, { knowledge, instructions: a.instructions }, m, 'CEM'));
    const why = reasons.every((r) => r !== undefined) ? reasons[reasons.length - 1] : undefined;
    if (why) return refuse(rulesIn(why, ['R49']), why);
    if (m.message_type === 'RevokeObject') {
      const record = a.instructions.get(m.object_id.toLowerCase());
      if (record) a.instructions.set(m.object_id.toLowerCase(), { ...record, revoked: true });
      return OK;
    }
    const id = (m as { id: string }).id.toLowerCase();
    a.instructions.set(id, { messageType: m.message_type, status: undefined, revoked: false });
    a.accepted.push(m);
    return OK;
  }

  protected override accepted(m: IdentifiedMessage): void {
    if (m.message_type !== 'SelectControlType') return;
    // R36, R40: whatever was active is gone; a real type starts from nothing.
    const short = shortOfControlType(m.control_type);
    this.activeArea = short;
    this.act = short
      ? {
          short,
          set: this.set(short),
          timeline: new Timeline(CONTROL_TYPE_RULES[short].empty()),
          instructions: new Map(),
          accepted: [],
          description: undefined,
          described: 0,
        }
      : undefined;
  }

  // ------------------------------------------------------------------------------------------
  // What the kit sends

  /** A description or status: learnt by the timeline when sent, acknowledged when the CEM answers. */
  private describe(message: IdentifiedMessage): Promise<void> {
    const a = this.activation;
    const rules = CONTROL_TYPE_RULES[a.short];
    a.timeline.apply(message.message_id, (k) => rules.learn(k, message));
    return this.expectAnswer(
      this.send(message, message.message_type, () => a.timeline.ack(message.message_id)),
      'OK',
      ['R11'],
    );
  }

  // ------------------------------------------------------------------------------------------
  // Model events

  async run(event: string): Promise<void> {
    if (await this.runShared(event)) return;
    if (event.startsWith('STATUS_') && event !== 'STATUS_EARLY' && event !== 'STATUS_UNKNOWN') return this.reportStatus(event);
    switch (event) {
      case 'RM_HANDSHAKE':
        return this.rmHandshake();
      case 'RM_HANDSHAKE_AGAIN':
        return this.expectAnswer(this.send(handshake('RM', this.kitVersions), 'a second RM Handshake'), 'INVALID_CONTENT', ['R30']);
      case 'RM_HANDSHAKE_NO_COMMON_VERSION':
        return this.noCommonVersion();
      case 'RM_HANDSHAKE_WRONG_ROLE':
        this.kitHandshakeSent = true;
        await this.expectAnswer(this.send(handshake('CEM', this.kitVersions), 'a Handshake with role CEM from the RM'), 'INVALID_CONTENT', [
          'R24',
        ]);
        return this.expectClosed(['R24'], 'a session needs one CEM and one RM');
      case 'EARLY_MESSAGE':
        return this.expectAnswer(this.send(powerMeasurement(Date.now()), 'a PowerMeasurement before the RM Handshake'), 'INVALID_CONTENT', [
          'R28',
          'Q6',
        ]);
      case 'DETAILS':
        return this.details();
      case 'SELECTION_OK':
        return this.answerSelection('OK');
      case 'SELECTION_REFUSED':
        return this.answerSelection('INVALID_CONTENT');
      case 'SELECTION_PERMANENT_ERROR':
        await this.answerSelection('PERMANENT_ERROR');
        return this.expectClosed(['R18'], 'after PERMANENT_ERROR for its SelectControlType the CEM closes');
      case 'MEASUREMENT':
        return this.expectAnswer(this.send(powerMeasurement(Date.now())), 'OK', ['R14', 'R38']);
      case 'WRONG_SENDER':
        return this.expectAnswer(this.send(selectControlType('NO_SELECTION'), 'SelectControlType from the RM'), 'INVALID_CONTENT', ['Q6']);
      case 'CT_MESSAGE_INACTIVE': {
        const m = this.set(this.type).describe(1);
        return this.expectAnswer(this.send(m, `${m.message_type} while ${this.type} is not active`), 'INVALID_CONTENT', ['R37', 'R41']);
      }
      case 'CT_MESSAGE_OTHER_TYPE': {
        const other = CONTROL_TYPE_SHORT.find((s) => s !== this.activeArea)!;
        const m = this.set(other).describe(1);
        return this.expectAnswer(this.send(m, `${m.message_type} while ${this.activeArea ?? 'nothing'} is active`), 'INVALID_CONTENT', [
          'R37',
        ]);
      }
      case 'ISU_NO_CONTROL_TYPE':
        return this.expectAnswer(
          this.send(instructionStatusUpdate(newId(), 'ACCEPTED', Date.now()), 'InstructionStatusUpdate with no type active'),
          'INVALID_CONTENT',
          ['R37'],
        );
      case 'RM_INSTRUCTION': {
        const m = strayInstruction(this.type, Date.now());
        return this.expectAnswer(this.send(m, `${m.message_type} from the RM`), 'INVALID_CONTENT', ['Q6']);
      }
      case 'WAIT_QUIET':
        return this.waitQuiet();
      case 'STATUS_EARLY': {
        const a = this.activation;
        const m = a.set.statuses(1)[0]!;
        return this.expectAnswer(
          this.send(m, `${m.message_type} before any description`),
          'INVALID_CONTENT',
          a.set.statusWithoutDescriptionRules,
        );
      }
      case 'DESCRIBE':
      case 'DESCRIBE_AGAIN': {
        const a = this.activation;
        const n = ++a.described;
        a.description = a.set.describe(n);
        await this.describe(a.description);
        for (const s of a.set.statuses(n)) await this.describe(s);
        return;
      }
      case 'AWAIT_INSTRUCTION':
        return this.awaitInstruction();
      case 'STATUS_UNKNOWN': {
        const a = this.activation;
        const m = a.set.statusUnknown!(a.described);
        return this.expectAnswer(this.send(m, `${m.message_type} naming an unknown object`), 'INVALID_CONTENT', a.set.statusUnknownRules);
      }
      case 'ISU_UNKNOWN':
        return this.expectAnswer(
          this.send(instructionStatusUpdate(newId(), 'ACCEPTED', Date.now()), 'InstructionStatusUpdate for an unknown instruction'),
          'INVALID_CONTENT',
          ['R45'],
        );
      case 'REVOKE_DESCRIPTION': {
        const a = this.activation;
        const d = a.description!;
        const m = revokeObject(a.set.descriptionType, a.set.objectIdOf(d));
        const rules = CONTROL_TYPE_RULES[a.short];
        a.timeline.apply(m.message_id, (k) => rules.revoke(k, m.object_type, m.object_id));
        return this.expectAnswer(
          this.send(m, `RevokeObject of the RM's ${d.message_type}`, () => a.timeline.ack(m.message_id)),
          'OK',
          ['R54', 'R56'],
        );
      }
      case 'REVOKE_UNKNOWN': {
        const a = this.activation;
        return this.expectAnswer(
          this.send(revokeObject(a.set.descriptionType, newId()), `RevokeObject of an unknown ${a.set.descriptionType}`),
          'INVALID_CONTENT',
          ['R54'],
        );
      }
      case 'REVOKE_OTHER_TYPE': {
        const a = this.activation;
        return this.expectAnswer(
          this.send(revokeObject(a.set.foreignType, newId()), `RevokeObject of a ${a.set.foreignType}`),
          'INVALID_CONTENT',
          ['R57'],
        );
      }
      case 'REVOKE_CEM_INSTRUCTION': {
        const i = this.theInstruction();
        return this.expectAnswer(
          this.send(revokeObject(i.message.message_type as never, i.message.id), 'RevokeObject of the CEM’s instruction by the RM'),
          'INVALID_CONTENT',
          ['R55'],
        );
      }
      default:
        throw new Error(`conformance kit bug: no driver for ${event} (CEM under test)`);
    }
  }

  /** R26, R27: the CEM answers the RM's Handshake with one HandshakeResponse naming an offered version. */
  private async rmHandshake(): Promise<void> {
    this.kitHandshakeSent = true;
    await this.expectAnswer(this.send(handshake('RM', this.kitVersions)), 'OK', ['R11']);
    const f = await this.awaitMessage('HandshakeResponse');
    if (!f) this.fail(['R26'], `HandshakeResponse after the RM's Handshake, within ${this.ctx.timeoutMs} ms`);
    const version = (f.message as MessageOf<'HandshakeResponse'>).selected_protocol_version;
    if (!this.kitVersions.includes(version))
      this.fail(['R27'], `HandshakeResponse naming a version the RM offered (${this.kitVersions.join(', ')}), not ${version}`);
  }

  /** R27, R29: no HandshakeResponse, INVALID_CONTENT, and the CEM ends the session. */
  private async noCommonVersion(): Promise<void> {
    this.kitHandshakeSent = true;
    this.kitVersions = [UNOFFERED_VERSION];
    await this.expectAnswer(
      this.send(handshake('RM', this.kitVersions), `a Handshake offering only ${UNOFFERED_VERSION}`),
      'INVALID_CONTENT',
      ['R27', 'R29'],
    );
    if (!(await this.link.waitClosed(this.ctx.timeoutMs)))
      this.fail(['R29'], `the CEM ends the session (SessionRequest TERMINATE or close) within ${this.ctx.timeoutMs} ms`);
    if (this.link.frames.some((f) => f.seq >= this.stepFrame && f.message?.message_type === 'HandshakeResponse')) {
      this.fail(['R27'], 'no HandshakeResponse when no version is common');
    }
  }

  /** R34: details offering only the type under test ⇒ OK, then SelectControlType of it (held for the next event). */
  private async details(): Promise<void> {
    const ct = this.type;
    const unsupported = this.ctx.unsupported.get(ct);
    if (unsupported) throw new ScenarioSkip(unsupported);
    this.offer = [CONTROL_TYPE_OF_SHORT[ct]];
    this.detailsSent = true;
    this.holds.add('SelectControlType');
    await this.expectAnswer(this.send(rmDetails(this.offer, this.resourceId), `ResourceManagerDetails offering ${ct}`), 'OK', ['R11']);
    const f = await this.awaitMessage('SelectControlType');
    if (!f) return this.unsupported(ct, `the CEM selected nothing within ${this.ctx.timeoutMs} ms when the RM offered only ${ct}`);
    const chosen = (f.message as MessageOf<'SelectControlType'>).control_type;
    if (!this.held.includes(f)) this.fail(['R34'], `SelectControlType of an offered type (${ct}) or NO_SELECTION, not ${chosen}`);
    if (chosen !== CONTROL_TYPE_OF_SHORT[ct]) {
      this.answerHeld(f, 'OK');
      return this.unsupported(ct, `the CEM selected ${chosen} when the RM offered only ${ct}`);
    }
  }

  private unsupported(ct: ControlTypeShort, why: string): never {
    this.ctx.unsupported.set(ct, why);
    throw new ScenarioSkip(why);
  }

  private answerSelection(status: 'OK' | 'INVALID_CONTENT' | 'PERMANENT_ERROR'): Promise<void> {
    const f = this.held.shift();
    if (!f) throw new Error(`conformance kit bug: no SelectControlType held in scenario ${this.scenario.id}`);
    this.answerHeld(f, status, status === 'OK' ? undefined : 'conformance kit: this selection is refused on purpose');
    return Promise.resolve();
  }

  /** R39: nothing is described, so the CEM must not instruct. */
  private async waitQuiet(): Promise<void> {
    const from = this.link.frames.length;
    await this.sleep(this.ctx.quietMs);
    const early = this.link.frames.find(
      (f) => f.seq >= from && f.message !== undefined && messageSpec(f.message.message_type)?.instruction,
    );
    if (early) this.forget(early.seq);
    if (early)
      this.fail(
        ['R39'],
        `no instruction while the RM has described nothing (watched for ${this.ctx.quietMs} ms); the CEM sent ${early.message!.message_type}`,
      );
  }

  /** The CEM instructs against the description (accepted by the kit's judgement); a CEM that never does is skipped. */
  private async awaitInstruction(): Promise<void> {
    const ct = this.type;
    const none = this.ctx.noInstructions.get(ct);
    if (none) throw new ScenarioSkip(none);
    const a = this.activation;
    if (!(await this.link.until(() => a.accepted.length > 0, this.ctx.timeoutMs))) {
      const why = `the CEM gave no valid ${ct} instruction within ${this.ctx.timeoutMs} ms of a description`;
      if (!this.violations.length) this.ctx.noInstructions.set(ct, why);
      throw new ScenarioSkip(why);
    }
    this.instruction = { message: a.accepted[0] as IdentifiedMessage & { readonly id: string }, status: undefined };
  }

  private theInstruction(): NonNullable<KitRm['instruction']> {
    if (!this.instruction) throw new Error(`conformance kit bug: no instruction in scenario ${this.scenario.id}`);
    return this.instruction;
  }

  /** R44, R46: the CEM accepts a status R46 allows after the current one, refuses any other. */
  private async reportStatus(event: string): Promise<void> {
    const i = this.theInstruction();
    const to = (event === 'STATUS_AFTER_FINAL' ? 'STARTED' : event.slice('STATUS_'.length)) as InstructionStatus;
    const allowed = nextStatuses(i.status).includes(to);
    const m = instructionStatusUpdate(i.message.id, to, Date.now());
    await this.expectAnswer(
      this.send(m, `InstructionStatusUpdate ${i.status ?? '(none)'} → ${to}`),
      allowed ? 'OK' : 'INVALID_CONTENT',
      event === 'STATUS_AFTER_FINAL' ? ['R44', 'R46'] : ['R46'],
    );
    if (allowed) {
      i.status = to;
      const key = i.message.id.toLowerCase();
      const record = this.act?.instructions.get(key);
      if (record && this.act) this.act.instructions.set(key, { ...record, status: to });
    }
  }

  /** Closes the connection: an RM that is done (the next scenario dials anew; nothing to wait for). */
  teardown(): Promise<void> {
    this.link.close(1000, 'conformance kit: scenario done');
    return Promise.resolve();
  }
}
