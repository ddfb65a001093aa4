/**
 * What both of the kit's roles share: the ReceptionStatus ledger (R11–R13: one answer, with the
 * right subject, for every message the kit sends), the judgement of every frame the peer sends
 * (valid S2, unique message_id, Handshake first, allowed now — with the project's own permission
 * and control-type rules as the oracle), the kit's own answers to the peer (docs/design.md decision
 * table), and the model events about broken frames that mean the same for both roles.
 *
 * Two kinds of findings: a STEP failure (the peer did not answer a model event as the rules
 * demand; the scenario stops there) and a VIOLATION (something the peer sent on its own broke a
 * rule; recorded, the scenario goes on).
 */
import { NIL_UUID, type Codec } from '../codec/codec.js';
import type { SessionRole } from '../machines/events.js';
import type { Phase } from '../machines/permissions.js';
import type { ReceptionStatusValues } from '../typebox/common/enums.js';
import type { Problem } from '../typebox/problem.js';
import type { IdentifiedMessage, S2Message } from '../typebox/registry.js';
import type { ControlTypeShort } from '../typebox/message-spec.js';
import type { S2Version } from '../typebox/versions.js';
import type { Frame, Link, LogLine } from './link.js';
import { brokenFrames, newId, receptionStatus, sessionRequest } from './payloads/common.js';
import type { Scenario } from './scenarios.js';

/** One finding: the rules it breaks, the step, what the rules expect and what was on the wire. */
export interface Failure {
  readonly rules: readonly string[];
  /** The model event (or `connect`, `after the steps`) during which it was seen. */
  readonly step: string;
  readonly expected: string;
  /** The conversation of that step: `← frame` from the peer, `→ frame` from the kit. */
  readonly observed: readonly string[];
}

export class StepFailure extends Error {
  constructor(readonly failure: Failure) {
    super(`${failure.rules.join(', ')}: ${failure.expected}`);
  }
}

/** The scenario cannot run against this peer (e.g. it never instructs); not a failure. */
export class ScenarioSkip extends Error {}

/** Shared by the scenarios of one run. */
export interface RunContext {
  /** The codec of {@link RunContext.version}'s message set. */
  readonly codec: Codec;
  /** The S2 JSON version the kit speaks: offered as an RM, selected as a CEM. */
  readonly version: S2Version;
  /** How long to wait for an answer, a message or a close. */
  readonly timeoutMs: number;
  /** How long "nothing happens" is watched (R39). */
  readonly quietMs: number;
  /** How far ahead the kit's instructions are to be executed (so they can still be revoked). */
  readonly leadMs: number;
  /** CEM under test: control types it did not select when they were the only ones offered. */
  readonly unsupported: Map<ControlTypeShort, string>;
  /** CEM under test: control types it never instructed. */
  readonly noInstructions: Map<ControlTypeShort, string>;
}

/** How the kit answers a message of the peer, and why when it is not OK. */
export interface Verdict {
  readonly status: ReceptionStatusValues;
  readonly rules?: readonly string[];
  readonly reason?: string;
}
export const OK: Verdict = { status: 'OK' };
export const refuse = (rules: readonly string[], reason: string, status: ReceptionStatusValues = 'INVALID_CONTENT'): Verdict => ({
  status,
  rules,
  reason,
});

/** The rule ids (docs/rules.md) a reason names (`… (R46)` ⇒ R46), or `fallback`. */
export function rulesIn(reason: string, fallback: readonly string[]): string[] {
  const found = [...new Set(reason.match(/\b[RQ]\d+\b/g) ?? [])];
  return found.length ? found : [...fallback];
}

/** The rules a frame the codec refused breaks. */
function rulesOfProblems(problems: readonly Problem[]): string[] {
  const rules = problems.flatMap((p) =>
    p.rule ? [p.rule] : /additional propert/i.test(p.message) ? ['R5'] : /UUID/.test(p.message) ? ['R3'] : [],
  );
  return rules.length ? [...new Set(rules)] : ['R1'];
}

const MAX_FRAME_CHARS = 600;
const clipFrame = (text: string) => (text.length > MAX_FRAME_CHARS ? `${text.slice(0, MAX_FRAME_CHARS)}… (${text.length} chars)` : text);
const line = (l: LogLine) => `${l.dir} ${clipFrame(l.text)}`;

/** A message the kit sent that is owed one ReceptionStatus. */
export interface Entry {
  /** Lowercase message_id, or the nil UUID for an unreadable frame. */
  readonly subject: string;
  readonly what: string;
  readonly answers: Frame[];
  readonly onAnswer: ((status: ReceptionStatusValues) => void) | undefined;
}

export abstract class KitBase {
  abstract readonly kitRole: SessionRole;
  phase: Phase = 'handshake';
  readonly violations: (Failure & { readonly seq: number })[] = [];
  protected readonly entries: Entry[] = [];
  private readonly bySubject = new Map<string, Entry>();
  /** ReceptionStatuses that answer nothing the kit sent (R12, R13), not yet reported. */
  protected strays: Frame[] = [];
  private readonly peerIds = new Set<string>();
  private peerSpoke = false;
  /** Message types whose next OK answer the current step gives itself. */
  protected readonly holds = new Set<string>();
  protected readonly held: Frame[] = [];
  /** Message types whose next answer is forced (PERMANENT_ERROR tests, R18). */
  protected readonly overrides = new Map<string, ReceptionStatusValues>();
  /** The peer asked to end the session (SessionRequest): the kit did as asked. */
  peerRequested = false;
  private step = 'connect';
  private stepLog = 0;
  protected stepFrame = 0;
  private finished = false;

  constructor(
    readonly link: Link,
    readonly ctx: RunContext,
    readonly scenario: Scenario,
  ) {
    link.start((f) => this.onFrame(f));
  }

  get peerRole(): SessionRole {
    return this.kitRole === 'CEM' ? 'RM' : 'CEM';
  }

  /** Waits for what the peer sends on its own when the connection opens. */
  abstract open(): Promise<void>;
  /** Executes one model event. */
  abstract run(event: string): Promise<void>;
  /** Ends the session the way the kit's role does it (not checked). */
  abstract teardown(): Promise<void>;
  /** How the kit judges a valid message of the peer (and learns from it when OK). */
  protected abstract judge(message: IdentifiedMessage, frame: Frame): Verdict;
  /** After the kit answered OK (also for held messages, once answered). */
  protected accepted(_message: IdentifiedMessage, _frame: Frame): void {}
  /** A schema violation the kit's role can send harmlessly (INVALID_MESSAGE expected). */
  protected abstract schemaViolation(messageId: string): string;

  beginStep(label: string): void {
    this.step = label;
    this.stepLog = this.link.log.length;
    this.stepFrame = this.link.frames.length;
  }

  /** The conversation since the step began. */
  observed(): string[] {
    const lines = this.link.log.slice(this.stepLog).map(line);
    return lines.length ? lines : ['(nothing)'];
  }

  fail(rules: readonly string[], expected: string): never {
    throw new StepFailure({ rules, step: this.step, expected, observed: this.observed() });
  }

  /** Drops the violations recorded for a frame that a step failure already reports. */
  protected forget(seq: number): void {
    for (let i = this.violations.length - 1; i >= 0; i--) if (this.violations[i]!.seq === seq) this.violations.splice(i, 1);
  }

  protected violate(rules: readonly string[], expected: string, frame: Frame): void {
    if (this.finished) return;
    if (this.violations.some((v) => v.seq === frame.seq && v.rules.join() === rules.join())) return;
    this.violations.push({ rules, step: this.step, expected, observed: [`← ${clipFrame(frame.text)}`], seq: frame.seq });
  }

  // ----------------------------------------------------------------------------------------
  // Sending

  /** Sends a message and records the ReceptionStatus it is owed. */
  send(message: IdentifiedMessage, what: string = message.message_type, onAnswer?: (status: ReceptionStatusValues) => void): Entry {
    const entry = this.owe(message.message_id, what, onAnswer);
    this.link.send(message);
    return entry;
  }

  /** Sends a raw frame; `subject` is the id its ReceptionStatus must name (nil UUID when unreadable), undefined when none is owed. */
  sendRaw(text: string, subject: string | undefined, what: string): Entry | undefined {
    const entry = subject === undefined ? undefined : this.owe(subject, what, undefined);
    this.link.sendRaw(text);
    return entry;
  }

  private owe(subject: string, what: string, onAnswer: Entry['onAnswer']): Entry {
    const entry: Entry = { subject: subject.toLowerCase(), what, answers: [], onAnswer };
    this.entries.push(entry);
    if (entry.subject !== NIL_UUID) this.bySubject.set(entry.subject, entry);
    return entry;
  }

  protected reply(subject: string, status: ReceptionStatusValues, reason?: string): void {
    this.link.send(receptionStatus(subject, status, reason));
  }

  // ----------------------------------------------------------------------------------------
  // Waiting

  /** The first ReceptionStatus for `entry`, waiting up to the timeout. */
  async answer(entry: Entry): Promise<Frame | undefined> {
    await this.link.until(() => entry.answers.length > 0, this.ctx.timeoutMs);
    return entry.answers[0];
  }

  /** The peer must answer `entry` with `status` (R11, R13, then the rules of the event). */
  async expectAnswer(entry: Entry, status: ReceptionStatusValues, rules: readonly string[]): Promise<void> {
    const f = await this.answer(entry);
    const want = `ReceptionStatus ${status} for ${entry.what} (subject ${entry.subject})`;
    if (!f) {
      const strayNow = this.strays.filter((s) => s.seq >= this.stepFrame);
      if (strayNow.length) {
        this.strays = this.strays.filter((s) => !strayNow.includes(s));
        this.fail(
          entry.subject === NIL_UUID ? ['R13', 'R20', ...rules] : ['R13', ...rules],
          `${want}; the ReceptionStatus that came names another subject`,
        );
      }
      this.fail(
        ['R11', ...rules.filter((r) => r !== 'R11')],
        `${want} within ${this.ctx.timeoutMs} ms${this.link.isOpen ? '' : ' (the connection closed instead)'}`,
      );
    }
    const got = (f.message as { status?: string } | undefined)?.status;
    if (got !== status) this.fail(rules, `${want}, got ${got}`);
  }

  /** The peer must close the connection within the timeout. */
  async expectClosed(rules: readonly string[], what: string): Promise<void> {
    if (!(await this.link.waitClosed(this.ctx.timeoutMs)))
      this.fail(rules, `${what}: the connection closed within ${this.ctx.timeoutMs} ms`);
  }

  /** A message of `type` from the peer since the step began, waiting up to the timeout. */
  awaitMessage(type: string, pred: (m: S2Message) => boolean = () => true): Promise<Frame | undefined> {
    return this.link.waitFor((f) => f.message?.message_type === type && pred(f.message), this.ctx.timeoutMs, this.stepFrame);
  }

  /** A frame the peer must answer INVALID_MESSAGE: a sync point that proves earlier frames were handled (the peer answers in order). */
  async probe(): Promise<void> {
    const id = newId();
    const entry = this.sendRaw(brokenFrames.unknownType(id), id, 'a probe with an unknown message_type')!;
    await this.expectAnswer(entry, 'INVALID_MESSAGE', ['R1', 'R15']);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  // ----------------------------------------------------------------------------------------
  // Receiving

  private onFrame(f: Frame): void {
    if (f.error) {
      this.violate(rulesOfProblems(f.error.problems), `valid S2 (${f.error.diagnosticLabel})`, f);
      if (f.error.reply) this.link.send(f.error.reply);
      return;
    }
    const m = f.message!;
    if (m.message_type === 'ReceptionStatus') return this.onReceptionStatus(f, m.subject_message_id, m.status);
    const id = m.message_id.toLowerCase();
    if (this.peerIds.has(id)) this.violate(['R2'], `a message_id used once in the session (${m.message_id} came again)`, f);
    this.peerIds.add(id);
    if (!this.peerSpoke) {
      this.peerSpoke = true;
      if (m.message_type !== 'Handshake')
        this.violate(['R22'], `the ${this.peerRole}'s first message is its Handshake, not ${m.message_type}`, f);
    }
    const verdict = this.judge(m, f);
    if (verdict.rules) this.violate(verdict.rules, `the ${this.peerRole} does not send this: ${verdict.reason ?? ''}`, f);
    const forced = this.overrides.get(m.message_type);
    if (forced) this.overrides.delete(m.message_type);
    const status = forced ?? verdict.status;
    if (!forced && status === 'OK' && this.holds.has(m.message_type)) {
      this.holds.delete(m.message_type);
      this.held.push(f);
      return;
    }
    this.reply(m.message_id, status, verdict.reason);
    if (status === 'OK') this.accepted(m, f);
    // The peer asks to end the session (Q11): acknowledged above, the kit closes as asked.
    if (m.message_type === 'SessionRequest') {
      this.peerRequested = true;
      this.link.close(1000, 'conformance kit: SessionRequest received');
    }
  }

  /** Answers a held message now. */
  answerHeld(f: Frame, status: ReceptionStatusValues, reason?: string): void {
    const m = f.message as IdentifiedMessage;
    this.reply(m.message_id, status, reason);
    if (status === 'OK') this.accepted(m, f);
  }

  private onReceptionStatus(f: Frame, subject: string, status: ReceptionStatusValues): void {
    const key = subject.toLowerCase();
    const entry = key === NIL_UUID ? this.entries.find((e) => e.subject === NIL_UUID && e.answers.length === 0) : this.bySubject.get(key);
    if (!entry) {
      this.strays.push(f);
      return;
    }
    entry.answers.push(f);
    if (entry.answers.length > 1) this.violate(['R12'], `exactly one ReceptionStatus for ${entry.what} ${entry.subject}`, f);
    else entry.onAnswer?.(status);
  }

  // ----------------------------------------------------------------------------------------
  // Events both roles share

  /** Runs an event about frames and sessions that means the same for both roles; false when it is not one. */
  protected async runShared(event: string): Promise<boolean> {
    switch (event) {
      case 'INVALID_JSON':
        return this.expectBroken(brokenFrames.notJson(), NIL_UUID, 'a frame that is not JSON', 'INVALID_DATA', ['R15', 'R20']);
      case 'NO_MESSAGE_ID':
        return this.expectBroken(brokenFrames.noMessageId(Date.now()), NIL_UUID, 'a PowerMeasurement without message_id', 'INVALID_DATA', [
          'R15',
          'R20',
        ]);
      case 'UNKNOWN_TYPE': {
        const id = newId();
        return this.expectBroken(brokenFrames.unknownType(id), id, 'a frame with an unknown message_type', 'INVALID_MESSAGE', [
          'R1',
          'R15',
        ]);
      }
      case 'SCHEMA_VIOLATION': {
        const id = newId();
        return this.expectBroken(this.schemaViolation(id), id, 'a schema violation', 'INVALID_MESSAGE', ['R5', 'R15']);
      }
      case 'INVALID_RS':
        this.sendRaw(brokenFrames.invalidReceptionStatus(), undefined, 'a malformed ReceptionStatus');
        await this.noAnswerSince(this.stepFrame, 'no ReceptionStatus for a (malformed) ReceptionStatus');
        return true;
      case 'RS_UNKNOWN':
        this.link.send(receptionStatus(newId(), 'OK'));
        await this.noAnswerSince(this.stepFrame, 'no ReceptionStatus for a ReceptionStatus, and the session goes on');
        return true;
      case 'SESSION_REQUEST_RECONNECT':
      case 'SESSION_REQUEST_TERMINATE': {
        const request = event === 'SESSION_REQUEST_RECONNECT' ? 'RECONNECT' : 'TERMINATE';
        await this.expectAnswer(this.send(sessionRequest(request)), 'OK', ['R11', 'Q11']);
        await this.expectClosed(['Q11'], `SessionRequest ${request} ends the session`);
        return true;
      }
      default:
        return false;
    }
  }

  private async expectBroken(
    text: string,
    subject: string,
    what: string,
    status: ReceptionStatusValues,
    rules: readonly string[],
  ): Promise<true> {
    await this.expectAnswer(this.sendRaw(text, subject, what)!, status, rules);
    return true;
  }

  /** R11: a ReceptionStatus is never answered. The probe's answer proves the peer has handled it. */
  private async noAnswerSince(from: number, expected: string): Promise<void> {
    await this.probe();
    const answered = this.strays.filter((s) => s.seq >= from);
    if (answered.length) {
      this.strays = this.strays.filter((s) => !answered.includes(s));
      this.fail(['R11'], expected);
    }
  }

  // ----------------------------------------------------------------------------------------

  /** After the last step: every message the kit sent is answered (R11), no ReceptionStatus answers nothing (R13). */
  async finish(): Promise<void> {
    this.beginStep('after the steps');
    if (this.link.isOpen) await this.link.until(() => this.entries.every((e) => e.answers.length > 0), this.ctx.timeoutMs);
    if (this.link.isOpen) {
      for (const e of this.entries.filter((x) => x.answers.length === 0)) {
        this.violations.push({
          rules: ['R11'],
          step: 'after the steps',
          expected: `a ReceptionStatus for ${e.what} (${e.subject})`,
          observed: ['(none came)'],
          seq: -1,
        });
      }
    }
    for (const s of this.strays) {
      const subject = (s.message as { subject_message_id?: string } | undefined)?.subject_message_id ?? '?';
      this.violate(
        subject === NIL_UUID ? ['R12'] : ['R13'],
        `a ReceptionStatus only for a message the kit sent, once (subject ${subject})`,
        s,
      );
    }
    this.strays = [];
    this.finished = true;
  }
}
