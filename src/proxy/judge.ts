import { NIL_UUID, type DecodeFailure } from '../codec/index.js';
import { NO_COMMON_VERSION } from '../machines/cem-session.js';
import { S2Session, SESSION_DEFAULTS, type SendResult } from '../roles/session.js';
import type { SessionClock, SessionInspector } from '../roles/types.js';
import type { Transport, TransportHandlers } from '../transport/transport.js';
import type { ReceptionStatusValues } from '../typebox/common/enums.js';
import { messageSpec } from '../typebox/registry.js';
import { S2_VERSIONS } from '../typebox/versions.js';

/** A side of a proxied session. */
export type Side = 'CEM' | 'RM';

/** One rule broken by one side, as the judge reports it. */
export interface Violation {
  /** The judge's id. */
  readonly session: string;
  /** The side at fault. */
  readonly side: Side;
  /** docs/rules.md ids, e.g. `['R39']`; never empty. */
  readonly rules: readonly string[];
  /** What happened: "RM sent FRBC.ActuatorStatus: … (R39)". */
  readonly text: string;
  /** What a correct peer does instead. */
  readonly expected: string;
  readonly messageId?: string;
  readonly messageType?: string;
  /** The offending frame's text, clipped to 2,000 characters. */
  readonly frame?: string;
  /** ISO time from the judge's `now`. */
  readonly at: string;
}

/** The judge's verdict on one frame. */
export interface FrameVerdict {
  readonly from: Side;
  /** 1, 2, … per judge. */
  readonly seq: number;
  readonly messageType?: string;
  readonly messageId?: string;
  /** Empty: a conforming frame. */
  readonly violations: readonly Violation[];
  /** Strict mode: the frame a correct receiver answers instead (a ReceptionStatus text), when the frame violates a rule. */
  readonly reply?: string;
}

/** One session's outcome. */
export interface JudgeSummary {
  readonly session: string;
  readonly frames: { readonly CEM: number; readonly RM: number };
  readonly violations: number;
  readonly version?: string;
  readonly states: { readonly CEM: string; readonly RM: string };
  /** Every rule id checked in this session → how often it held and how often it was broken (for JUnit). */
  readonly rules: Readonly<Record<string, { readonly passed: number; readonly failed: number }>>;
  readonly close?: { readonly by: Side | 'proxy'; readonly code: number; readonly reason: string };
}

export interface JudgeOptions {
  readonly id?: string;
  /** Timers of both shadows (the missing-ReceptionStatus wait); tests pass XState's SimulatedClock. */
  readonly clock?: SessionClock;
  readonly now?: () => number;
  /** How long a message may wait for its ReceptionStatus before R21 is reported; default SESSION_DEFAULTS.receptionTimeoutMs. */
  readonly receptionTimeoutMs?: number;
  /**
   * Verdicts carry `reply` for violating frames; the judge then treats the frame as not delivered
   * and the reply as its answer. A violating ReceptionStatus has no reply (R11: it is never answered).
   */
  readonly strict?: boolean;
  /** Passed to both shadows. */
  readonly inspect?: SessionInspector;
  /** Called for every violation, also for timing ones (no frame). */
  readonly onViolation?: (v: Violation) => void;
}

/** Follows one proxied session with two observing shadows and reports who breaks which rule. */
export interface SessionJudge {
  readonly id: string;
  /** The two shadow sessions (for the inspector: attach both). */
  readonly shadows: { readonly CEM: S2Session; readonly RM: S2Session };
  /** A frame `from` sent, as the proxy saw it (before relaying it). */
  frame(from: Side, text: string): FrameVerdict;
  /** A side closed the connection (code/reason as seen by the proxy). Returns violations it reveals. */
  closed(by: Side | 'proxy', code: number, reason: string): readonly Violation[];
  violations(): readonly Violation[];
  summary(): JudgeSummary;
  /** Stops both shadows' timers; later frames are not judged. */
  stop(): void;
}

const FRAME_CLIP = 2000;
const other = (side: Side): Side => (side === 'CEM' ? 'RM' : 'CEM');
const REFUSALS: ReadonlySet<string> = new Set(['INVALID_DATA', 'INVALID_MESSAGE', 'INVALID_CONTENT']);

/** The rule ids a reason names (`(R39, R73)`, `Q6`); Q6 (a message at the wrong moment) when it names none. */
export function rulesOf(reason: string): string[] {
  const ids = [...new Set(reason.match(/\b[RQ]\d+\b/g) ?? [])];
  return ids.length ? ids : ['Q6'];
}

/** The rule ids of a frame the codec refused, as the conformance kit cites them (src/testing/kit-base.ts). */
export function decodeRules(failure: DecodeFailure): string[] {
  if (failure.status === 'INVALID_DATA') return ['R15', 'R20'];
  if (failure.problems.some((p) => p.path === '$.message_type')) return ['R1', 'R15'];
  const own = failure.problems.flatMap((p) => (p.rule ? rulesOf(p.rule) : []));
  return [...new Set(own.length ? [...own, 'R15'] : ['R5', 'R15'])];
}

/** The rules a frame of this type is checked against (the passed side of the summary's tally). */
function checkedRules(type: string | undefined): string[] {
  const rules = ['R1', 'R5', 'Q6'];
  if (type === undefined) return rules;
  const spec = messageSpec(type);
  if (type === 'Handshake') rules.push('R22', 'R24', 'R25', 'R30');
  else if (type === 'HandshakeResponse') rules.push('R26', 'R27');
  else if (type === 'SelectControlType') rules.push('R34', 'R35');
  else if (type === 'InstructionStatusUpdate') rules.push('R45', 'R46');
  else if (type === 'RevokeObject') rules.push('R54', 'R55');
  else if (spec && spec.area !== 'common') rules.push('R37', ...(spec.instruction ? ['R39', 'R42'] : []));
  return rules;
}

/**
 * A transport that is never a socket: what the shadow sends (its ReceptionStatuses) and its close
 * are captured, and the judge hands it the frames it receives.
 */
class SinkTransport implements Transport {
  readonly peer: string;
  private handlers: TransportHandlers | undefined;
  private open = true;
  private captured: string[] = [];
  /** The close the shadow asked for (what a correct side of its role would do). */
  closeAsked: { code: number; reason: string } | undefined;

  constructor(peer: string) {
    this.peer = peer;
  }
  get isOpen(): boolean {
    return this.open;
  }
  start(handlers: TransportHandlers): void {
    this.handlers = handlers;
  }
  send(text: string): void {
    if (this.open) this.captured.push(text);
  }
  close(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.closeAsked = { code, reason };
    // As a socket would: the close is confirmed after the call returns.
    queueMicrotask(() => this.handlers?.close(code, reason));
  }
  /** A frame the shadow receives (the normal receive path). */
  receive(text: string): void {
    if (this.open) this.handlers?.text(text);
  }
  /** The connection ended elsewhere (the real side or the proxy closed it). */
  lost(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.handlers?.close(code, reason);
  }
  /** What the shadow sent since the last call. */
  drain(): string[] {
    const out = this.captured;
    this.captured = [];
    return out;
  }
}

/** A ReceptionStatus a correct receiver sent (captured from its shadow). */
interface Expected {
  readonly messageType: string;
  readonly status: ReceptionStatusValues;
  readonly reason: string | undefined;
}

interface Shadow {
  readonly session: S2Session;
  readonly sink: SinkTransport;
  /** The last refusal it emitted (set by its `refused` listener). */
  refusal: { status: ReceptionStatusValues; reason: string } | undefined;
}

/** What the judge reads off a frame's text before the shadows decode it: one JSON.parse per frame. */
interface Peeked {
  readonly type?: string;
  readonly id?: string;
  /** A ReceptionStatus's subject, status and label, when it has them. */
  readonly rs?: { readonly subject: string; readonly status: ReceptionStatusValues; readonly label?: string };
}

/** message_type, message_id and a ReceptionStatus's fields as far as the text says (frames that do not decode included). */
function peek(text: string): Peeked {
  let v: Record<string, unknown> | null;
  try {
    v = JSON.parse(text) as Record<string, unknown> | null;
  } catch {
    return {};
  }
  if (!v || typeof v !== 'object') return {};
  const { message_type: type, message_id: id, subject_message_id: subject, status, diagnostic_label: label } = v;
  return {
    ...(typeof type === 'string' ? { type } : {}),
    ...(typeof id === 'string' ? { id } : {}),
    ...(typeof subject === 'string' && typeof status === 'string'
      ? { rs: { subject, status: status as ReceptionStatusValues, ...(typeof label === 'string' ? { label } : {}) } }
      : {}),
  };
}

let judges = 0;

/** How many answered (and timed-out) ids each side's judge remembers. */
const RECENT_IDS = 4096;

/** Adds `key`, forgetting the oldest beyond RECENT_IDS (a Set keeps insertion order). */
function remember(set: Set<string>, key: string): void {
  set.add(key);
  if (set.size > RECENT_IDS) set.delete(set.values().next().value!);
}

/**
 * Creates the judge of one proxied session: a CEM shadow and an RM shadow (S2Sessions in observe
 * mode on sink transports). A side's own frames go to its shadow (`observeSent`: may it send this
 * now?), the other side's shadow receives them as a correct receiver would and its ReceptionStatus
 * is the expected answer, which the real receiver's is compared with.
 */
export function createSessionJudge(options: JudgeOptions = {}): SessionJudge {
  const id = options.id ?? `judge-${++judges}`;
  const now = options.now ?? Date.now;
  const receptionTimeoutMs = options.receptionTimeoutMs ?? SESSION_DEFAULTS.receptionTimeoutMs;
  const all: Violation[] = [];
  const tally = new Map<string, { passed: number; failed: number }>();
  const frames = { CEM: 0, RM: 0 };
  let seq = 0;
  let stopped = false;
  let closeInfo: JudgeSummary['close'];
  /** Per side: the other side's messages it has to answer → the answer its shadow gave. */
  const awaiting: Record<Side, Map<string, Expected>> = { CEM: new Map(), RM: new Map() };
  /** Per side: frames without a readable message_id it has to answer with the nil UUID (R20). */
  const nilAwaiting: Record<Side, Expected[]> = { CEM: [], RM: [] };
  /**
   * Per side: the latest RECENT_IDS ids it answered, and whose answer timed out (R12, R21). They only
   * tell a second answer from an unknown one, and a late answer from an unknown one; bounded, so a
   * proxied session of months holds no more than a session of minutes.
   */
  const answered: Record<Side, Set<string>> = { CEM: new Set(), RM: new Set() };
  const timedOut: Record<Side, Set<string>> = { CEM: new Set(), RM: new Set() };

  const count = (rule: string, held: boolean) => {
    const t = tally.get(rule) ?? { passed: 0, failed: 0 };
    if (held) t.passed++;
    else t.failed++;
    tally.set(rule, t);
  };

  const shadowOf = (role: Side): Shadow => {
    const sink = new SinkTransport(`proxy:${role === 'CEM' ? 'RM' : 'CEM'}`);
    const session = new S2Session(sink, {
      role,
      observe: true,
      // Every version s2-engine speaks, until the side's own Handshake says which it supports.
      versions: [...S2_VERSIONS],
      receptionTimeoutMs,
      logger: false,
      sessionId: `${id}:${role}`,
      clock: options.clock,
      now,
      inspect: options.inspect,
    });
    const shadow: Shadow = { session, sink, refusal: undefined };
    session.on('refused', ({ status, reason }) => (shadow.refusal = { status, reason }));
    session.start();
    return shadow;
  };
  const shadows: Record<Side, Shadow> = { CEM: shadowOf('CEM'), RM: shadowOf('RM') };

  const report = (v: Omit<Violation, 'session' | 'at'>): Violation => {
    const full: Violation = { session: id, at: new Date(now()).toISOString(), ...v };
    all.push(full);
    for (const r of full.rules) count(r, false);
    // The inspector lists it under the shadow of the side at fault, highlighted.
    shadows[full.side].session.report('violation', full.text);
    options.onViolation?.(full);
    return full;
  };

  /** R21: the sender's shadow waited `receptionTimeoutMs` for the answer (its own timeout). */
  const onAnswer = (from: Side, messageType: string, messageId: string) => (result: SendResult) => {
    if (stopped || result.status === 'CLOSED') return;
    const to = other(from);
    if (result.status !== 'TIMEOUT') {
      count('R21', true);
      return;
    }
    const key = messageId.toLowerCase();
    awaiting[to].delete(key);
    remember(timedOut[to], key);
    report({
      side: to,
      rules: ['R21'],
      text: `${to} never answered ${from}'s ${messageType} ${messageId} with a ReceptionStatus within ${receptionTimeoutMs} ms (R21)`,
      expected: `answer every message with one ReceptionStatus at once (R11, R14)`,
      messageId,
      messageType,
    });
  };

  /** Phases in which a shadow no longer judges: it, or a correct peer of it, is ending the session. */
  const ending = (s: Shadow) => s.session.isClosed || s.sink.closeAsked !== undefined || /^(ending|closing|closed)/.test(s.session.state);

  function judgeMessage(from: Side, text: string, peeked: Peeked, clipped: string, n: number): FrameVerdict {
    const to = other(from);
    const own = shadows[from];
    const peer = shadows[to];
    const { type, id: messageId } = peeked;
    const base = { from, seq: n, ...(type ? { messageType: type } : {}), ...(messageId ? { messageId } : {}) };
    if (ending(own) || ending(peer)) {
      // One side is closing the session: what still crosses is not judged (it may have been on its way).
      peer.sink.receive(text);
      peer.sink.drain();
      return { ...base, violations: [] };
    }
    const ownWhy = own.session.observeSent(text, messageId && type ? onAnswer(from, type, messageId) : undefined);
    peer.refusal = undefined;
    peer.sink.receive(text);
    const answers = peer.sink.drain();
    const answer = answers.length ? peek(answers[0]!).rs : undefined;
    const peerRefusal = peer.refusal as Shadow['refusal'];
    const violations: Violation[] = [];
    const where = { ...(type ? { messageType: type } : {}), ...(messageId ? { messageId } : {}), frame: clipped };
    let rules: string[] = [];
    if (ownWhy !== undefined && typeof ownWhy !== 'string') {
      rules = decodeRules(ownWhy);
      const problems = ownWhy.problems.map((p) => `${p.path} ${p.message}`).join('; ');
      violations.push(
        report({
          side: from,
          rules,
          text: `${from} sent a frame that does not decode (${ownWhy.status}): ${problems || ownWhy.diagnosticLabel} (${rules.join(', ')})`,
          expected: `send one schema-valid S2 message per frame; a correct ${to} answers ${ownWhy.status}`,
          ...where,
        }),
      );
    } else if (ownWhy === undefined && type === 'Handshake' && peerRefusal?.reason.startsWith(NO_COMMON_VERSION)) {
      // Two sides without a version in common break no rule (R27, R29 say what the CEM then does):
      // the expected answer is still recorded below, and the CEM's TERMINATE ends the session.
    } else if (ownWhy !== undefined || peerRefusal) {
      const reasons = [...new Set([ownWhy, peerRefusal?.reason].filter((r): r is string => r !== undefined))];
      rules = [...new Set(reasons.flatMap(rulesOf))];
      const status = peerRefusal?.status ?? 'INVALID_CONTENT';
      violations.push(
        report({
          side: from,
          rules,
          text: `${from} sent ${type ?? 'a message'}${messageId ? ` ${messageId}` : ''}: ${reasons.join('; ')}`,
          expected: `send only what the session allows now; a correct ${to} answers ${status}`,
          ...where,
        }),
      );
    }
    for (const r of checkedRules(type)) if (!rules.includes(r)) count(r, true);
    // What the receiver owes: the answer a correct one gave.
    if (answer) {
      const expected: Expected = { messageType: type ?? '?', status: answer.status, reason: peerRefusal?.reason ?? answer.label };
      if (answer.subject === NIL_UUID) nilAwaiting[to].push(expected);
      else awaiting[to].set(answer.subject.toLowerCase(), expected);
    }
    if (!options.strict || violations.length === 0) return { ...base, violations };
    // Strict: the proxy answers instead of forwarding; the receiver never sees the frame.
    const subject = answer?.subject ?? messageId ?? NIL_UUID;
    const reply =
      answer && REFUSALS.has(answer.status)
        ? answers[0]!
        : JSON.stringify({
            message_type: 'ReceptionStatus',
            subject_message_id: subject,
            status: 'INVALID_CONTENT',
            diagnostic_label: typeof ownWhy === 'string' ? ownWhy : (peerRefusal?.reason ?? 'refused by the checking proxy'),
          });
    if (subject === NIL_UUID) nilAwaiting[to].pop();
    else awaiting[to].delete(subject.toLowerCase());
    own.sink.receive(reply);
    own.sink.drain();
    return { ...base, violations, reply };
  }

  function judgeReceptionStatus(from: Side, text: string, peeked: Peeked, clipped: string, n: number): FrameVerdict {
    const to = other(from);
    const peer = shadows[to];
    const rs = peeked.rs;
    const base = { from, seq: n, messageType: 'ReceptionStatus' };
    peer.refusal = undefined;
    peer.sink.receive(text);
    peer.sink.drain();
    const refused = peer.refusal as Shadow['refusal'];
    const violations: Violation[] = [];
    const where = { messageType: 'ReceptionStatus', frame: clipped };
    if (refused || !rs) {
      const rules = ['R5', 'R15'];
      violations.push(
        report({
          side: from,
          rules,
          text: `${from} sent a ReceptionStatus that does not decode: ${refused?.reason ?? 'not a ReceptionStatus'} (R5, R15)`,
          expected: 'a ReceptionStatus with subject_message_id and one of the six status values',
          ...where,
        }),
      );
      return { ...base, violations };
    }
    const key = rs.subject.toLowerCase();
    let expected: Expected | undefined;
    if (key === NIL_UUID) expected = nilAwaiting[from].shift();
    else {
      expected = awaiting[from].get(key);
      awaiting[from].delete(key);
    }
    if (!expected) {
      if (timedOut[from].delete(key)) {
        // Late, and already reported as missing (R21).
        remember(answered[from], key);
        return { ...base, violations };
      }
      const twice = answered[from].has(key);
      violations.push(
        report({
          side: from,
          rules: ['R12'],
          text: twice
            ? `${from} sent two ReceptionStatuses for one message ${rs.subject} (R12)`
            : `${from} sent a ReceptionStatus ${rs.status} for ${rs.subject}, which is no message of ${to} awaiting an answer (R12)`,
          expected: 'exactly one ReceptionStatus per received message, and none for anything else',
          messageId: rs.subject,
          ...where,
        }),
      );
      return { ...base, violations };
    }
    count('R12', true);
    if (key !== NIL_UUID) remember(answered[from], key);
    if (rs.status === 'OK' && REFUSALS.has(expected.status)) {
      const rules = rulesOf(expected.reason ?? '');
      violations.push(
        report({
          side: from,
          rules,
          text: `${from} answered OK to ${to}'s ${expected.messageType} ${rs.subject}, which a correct ${from} refuses: ${expected.reason ?? expected.status}`,
          expected: `answer ${expected.status}${expected.reason ? ` (${expected.reason})` : ''} and change nothing (R16)`,
          messageId: rs.subject,
          ...where,
        }),
      );
    } else if (REFUSALS.has(rs.status) && expected.status === 'OK') {
      violations.push(
        report({
          side: from,
          rules: ['R15'],
          text: `${from} answered ${rs.status} to a valid ${expected.messageType} ${rs.subject}${rs.label ? `: ${rs.label}` : ''} (R15)`,
          expected: `answer OK (or TEMPORARY_ERROR / PERMANENT_ERROR when it cannot process it) (R15)`,
          messageId: rs.subject,
          ...where,
        }),
      );
    } else count('R15', true);
    return { ...base, violations };
  }

  return {
    id,
    shadows: { CEM: shadows.CEM.session, RM: shadows.RM.session },
    frame(from, text) {
      const n = ++seq;
      frames[from]++;
      if (stopped) return { from, seq: n, violations: [] };
      const clipped = text.length > FRAME_CLIP ? text.slice(0, FRAME_CLIP) : text;
      const peeked = peek(text);
      return peeked.type === 'ReceptionStatus'
        ? judgeReceptionStatus(from, text, peeked, clipped, n)
        : judgeMessage(from, text, peeked, clipped, n);
    },
    closed(by, code, reason) {
      closeInfo ??= { by, code, reason };
      for (const s of Object.values(shadows)) s.sink.lost(code, reason);
      return [];
    },
    violations: () => all,
    summary() {
      const rules: Record<string, { passed: number; failed: number }> = {};
      for (const [r, t] of [...tally].sort(([a], [b]) => ruleOrder(a) - ruleOrder(b))) rules[r] = { ...t };
      const version = shadows.CEM.session.version ?? shadows.RM.session.version;
      return {
        session: id,
        frames: { ...frames },
        violations: all.length,
        ...(version ? { version } : {}),
        states: { CEM: shadows.CEM.session.state, RM: shadows.RM.session.state },
        rules,
        ...(closeInfo ? { close: closeInfo } : {}),
      };
    },
    stop() {
      if (stopped) return;
      stopped = true;
      for (const s of Object.values(shadows)) s.sink.lost(1000, 'judge stopped');
    },
  };
}

/** R1 < R2 < … < R112 < Q1 < …: the order of docs/rules.md. */
function ruleOrder(rule: string): number {
  const n = Number(rule.slice(1));
  return rule.startsWith('Q') ? 1000 + n : n;
}
