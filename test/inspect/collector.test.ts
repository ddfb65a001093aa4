import { describe, expect, it } from 'vitest';
import { Collector } from '../../src/inspect/collector.js';
import { DEFAULT_LIMITS, ViewStore, type SessionSnapshot } from '../../src/inspect/model.js';
import type { Sanitizer } from '../../src/inspect/sanitize.js';
import { BAD_FRAMES, RM_NAME, runScenario, type Hooks } from './scenario.js';

const NIL = '00000000-0000-0000-0000-000000000000';

/** Runs the scenario with a collector wired as asked; returns the picture a page would get. */
async function inspected(
  wire: { inspect?: boolean; attach?: boolean; sanitize?: Sanitizer; rmVersions?: readonly string[] } = { inspect: true, attach: true },
) {
  const store = new ViewStore();
  const collector = new Collector({ sanitize: wire.sanitize, limits: DEFAULT_LIMITS, output: (ops) => store.apply(ops), flushMs: 5 });
  const hooks: Hooks = {
    ...(wire.inspect ? { inspect: collector.inspect } : {}),
    ...(wire.attach ? { attach: (s) => collector.attach(s) } : {}),
    ...(wire.rmVersions ? { rmVersions: wire.rmVersions } : {}),
  };
  const run = await runScenario(hooks);
  collector.flush();
  collector.stop();
  const sessions = store.snapshot();
  const byRole = (role: string) => sessions.find((s) => s.header.role === role)!;
  return { run, sessions, cem: byRole('CEM'), rm: byRole('RM') };
}

const nonStatus = (s: SessionSnapshot) => s.messages.filter((m) => m.type !== 'ReceptionStatus' && !m.invalid);

describe('inspector collector', () => {
  it('[R11, R12, R13] pairs every logged message with the ReceptionStatus that answered it, both ways', async () => {
    const { cem, rm } = await inspected();
    for (const s of [cem, rm]) {
      const answered = nonStatus(s).filter((m) => m.dir === 'sent' || m.type !== 'SelectControlType');
      expect(answered.length).toBeGreaterThan(5);
      for (const m of answered) {
        expect(m.reception, `${s.header.role} ${m.dir} ${m.summary}`).toBeDefined();
        const rs = s.messages.find((x) => x.seq === m.reception!.seq)!;
        expect(rs.type).toBe('ReceptionStatus');
        expect(rs.answers).toBe(m.seq);
        // A message we sent is answered by a status we received, and the other way round.
        expect(rs.dir).not.toBe(m.dir);
      }
    }
    expect(cem.header.counts.sent).toBe(cem.messages.filter((m) => m.dir === 'sent').length);
  });

  it("[R11, R16] shows invalid frames and refused messages with their status, reason and the codec's problems", async () => {
    const { cem } = await inspected();
    const invalid = cem.messages.filter((m) => m.invalid);
    expect(invalid).toHaveLength(2);
    const [notJson, schema] = invalid as [(typeof invalid)[0], (typeof invalid)[0]];
    expect(notJson.body).toBe(BAD_FRAMES.notJson);
    expect(notJson.messageId).toBeUndefined();
    expect(notJson.refused?.status).toBe('INVALID_DATA');
    expect(notJson.reception?.status).toBe('INVALID_DATA');
    expect(cem.messages.find((m) => m.seq === notJson.reception!.seq)!.body).toContain(NIL);

    expect(schema.messageId).toBe('5e1f0000-0000-4000-8000-00000000bad1');
    expect(schema.refused?.status).toBe('INVALID_MESSAGE');
    expect(schema.reception?.status).toBe('INVALID_MESSAGE');
    expect(schema.refused?.problems?.map((p) => p.path)).toEqual(expect.arrayContaining(['$.values']));

    const notAllowed = cem.messages.find((m) => m.messageId === '5e1f0000-0000-4000-8000-00000000bad2')!;
    expect(notAllowed.type).toBe('SelectControlType');
    expect(notAllowed.refused).toMatchObject({ status: 'INVALID_CONTENT' });
    expect(notAllowed.refused!.reason.length).toBeGreaterThan(10);
    expect(notAllowed.reception?.status).toBe('INVALID_CONTENT');
    expect(cem.header.counts.refused).toBe(3);
  });

  it('follows the session actor, its control type and its instruction to their states', async () => {
    const { cem, rm } = await inspected();
    const seen = cem.header.history.map((h) => h.state);
    expect(seen.slice(0, 3)).toEqual(['handshake', 'connected.awaitingDetails', 'connected.active.FRBC']);
    expect(cem.header.version).toBe('0.0.2-beta');
    expect(cem.header.controlType).toBe('FILL_RATE_BASED_CONTROL');
    expect(cem.header.name).toBe(RM_NAME);
    expect(cem.header.closed?.code).toBe(1000);
    for (const s of [cem, rm]) {
      expect(s.header.inspected && s.header.attached).toBe(true);
      const [instruction] = s.instructions;
      expect(s.instructions).toHaveLength(1);
      expect(instruction).toMatchObject({
        id: 'dddddddd-0000-4000-8000-000000000001',
        messageType: 'FRBC.Instruction',
        status: 'SUCCEEDED',
        final: true,
      });
      expect(instruction!.actor).toMatchObject({
        machine: 'instruction',
        chart: 'instruction',
        state: 'SUCCEEDED',
        active: ['instruction.SUCCEEDED'],
        status: 'done',
      });
    }
    expect(cem.header.session.chart).toBe('cem-session');
    expect(rm.header.session.chart).toBe('rm-session');
  });

  it('shows the live control type while the session runs (one batch at a time)', async () => {
    const store = new ViewStore();
    const collector = new Collector({ sanitize: undefined, limits: DEFAULT_LIMITS, output: (ops) => store.apply(ops), flushMs: 1 });
    const states = new Set<string>();
    store.subscribe((ops) => {
      for (const op of ops) {
        if (op.op === 'session' && op.header.role === 'CEM' && op.header.controlTypeActor)
          states.add(`${op.header.session.state} / ${op.header.controlTypeActor.active.join(',')}`);
      }
    });
    await runScenario({ inspect: collector.inspect, attach: (s) => collector.attach(s) });
    collector.stop();
    expect(states).toContain('connected.active.FRBC / FRBC.described');
  });

  it("the sanitize hook decides what is shown; the engine's messages and the wire stay untouched", async () => {
    const sanitize: Sanitizer = (m) => {
      if (m.message_type === 'ResourceManagerDetails') m.name = '(name hidden)';
      return m;
    };
    const { cem, rm, run } = await inspected({ inspect: true, attach: true, sanitize });
    for (const s of [cem, rm]) {
      expect(s.header.name).toBe('(name hidden)');
      expect(JSON.stringify(s)).not.toContain(RM_NAME);
    }
    expect(run.rmFrames.some((f) => f.includes(RM_NAME))).toBe(true);
  });

  it('a sanitize hook that throws hides the body instead of showing it', async () => {
    const { cem } = await inspected({
      inspect: true,
      attach: true,
      sanitize: () => {
        throw new Error('no');
      },
    });
    expect(cem.messages.every((m) => m.body.startsWith('(hidden') || m.body.startsWith('('))).toBe(true);
    expect(JSON.stringify(cem)).not.toContain(RM_NAME);
  });

  it('[R26, R27] shows the version each session selected, from its events and from its actor alone', async () => {
    for (const wire of [{ attach: true }, { inspect: true }, { attach: true, inspect: true }]) {
      const v1 = await inspected({ ...wire, rmVersions: ['1.0.0-beta'] });
      expect([v1.cem.header.version, v1.rm.header.version], JSON.stringify(wire)).toEqual(['1.0.0-beta', '1.0.0-beta']);
      const both = await inspected({ ...wire, rmVersions: ['0.0.2-beta', '1.0.0-beta'] });
      // The CEM's preference (1.0.0-beta first) decides among the common versions.
      expect([both.cem.header.version, both.rm.header.version], JSON.stringify(wire)).toEqual(['1.0.0-beta', '1.0.0-beta']);
      const old = await inspected({ ...wire, rmVersions: ['0.0.2-beta'] });
      expect([old.cem.header.version, old.rm.header.version], JSON.stringify(wire)).toEqual(['0.0.2-beta', '0.0.2-beta']);
    }
  });

  it('the hook alone shows the actors; attach alone shows the messages', async () => {
    const hookOnly = await inspected({ inspect: true });
    expect(hookOnly.sessions).toHaveLength(2);
    expect(hookOnly.cem.header).toMatchObject({ attached: false, inspected: true });
    expect(hookOnly.cem.header.key).toMatch(/^actor:/);
    expect(hookOnly.cem.messages).toHaveLength(0);
    expect(hookOnly.cem.instructions[0]?.status).toBe('SUCCEEDED');
    expect(hookOnly.cem.header.history.map((h) => h.state)).toContain('connected.active.FRBC');
    expect(hookOnly.cem.header.closed).toBeDefined();

    const attachOnly = await inspected({ attach: true });
    expect(attachOnly.cem.header).toMatchObject({ attached: true, inspected: false, controlTypeActor: undefined });
    expect(attachOnly.cem.header.history.map((h) => h.state)).toContain('connected.active.FRBC');
    expect(attachOnly.cem.header.session).toMatchObject({
      chart: 'cem-session',
      state: 'closed',
      active: ['cemSession.closed'],
      status: 'stopped',
    });
    expect(attachOnly.cem.instructions[0]).toMatchObject({ status: 'SUCCEEDED', actor: undefined });
  });

  it('never lets a bearer token through, wherever it hides in a frame', async () => {
    const store = new ViewStore();
    const collector = new Collector({ sanitize: undefined, limits: DEFAULT_LIMITS, output: (ops) => store.apply(ops), flushMs: 5 });
    const { memorySession } = await import('../support/memory-peer.js');
    const { session, peer } = memorySession({ role: 'CEM', inspect: collector.inspect });
    collector.attach(session);
    peer.sendRaw('{"message_type":"Handshake","message_id":"Bearer s3cr3t-token","role":"RM"}');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await session.close();
    collector.flush();
    const text = JSON.stringify(store.snapshot());
    expect(text).not.toContain('s3cr3t-token');
  });
});

describe('view store', () => {
  it('keeps the last messages per session and the last closed sessions, and tells pages what it dropped', async () => {
    const store = new ViewStore({ maxMessages: 3, maxInstructions: 2, maxClosedSessions: 1 });
    const dropped: string[] = [];
    store.subscribe((ops) => ops.forEach((op) => op.op === 'drop' && dropped.push(op.key)));
    const { cem } = await inspected();
    const header = (key: string, closed: boolean) => ({ ...cem.header, key, closed: closed ? { code: 1000, reason: '' } : undefined });
    store.apply([
      { op: 'session', key: 'a', header: header('a', false) },
      ...cem.messages.slice(0, 5).map((entry) => ({ op: 'message' as const, key: 'a', entry })),
    ]);
    expect(store.snapshot()[0]!.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
    // Ops for a session the store does not know (yet) are ignored: the header comes first.
    store.apply([{ op: 'message', key: 'nobody', entry: cem.messages[0]! }]);
    expect(store.snapshot()).toHaveLength(1);
    store.apply([{ op: 'session', key: 'b', header: header('b', true) }]);
    store.apply([{ op: 'session', key: 'c', header: header('c', true) }]);
    expect(store.snapshot().map((s) => s.header.key)).toEqual(['a', 'c']);
    expect(dropped).toEqual(['b']);
    store.ownerGone('nobody', 'gone');
    expect(store.snapshot()[0]!.header.closed).toBeUndefined();
  });
});
