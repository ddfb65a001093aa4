import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { decode } from '../../src/codec/index.js';
import { ALL_RULES, checkRules } from '../../src/rules/index.js';
import type { Problem } from '../../src/typebox/problem.js';
import type { MessageOf, MessageType, S2Message } from '../../src/typebox/registry.js';
import { FIXTURE_DIR } from '../support/fixtures.js';

/** Shared helpers for the rule tests (not a test file itself). */

/** A fresh, mutable copy of a fixture (test/fixtures/, also what the benches read), typed as its message. */
export function fixture<K extends MessageType>(_type: K, file: string): MessageOf<K> {
  return JSON.parse(readFileSync(new URL(file, FIXTURE_DIR), 'utf8')) as MessageOf<K>;
}

/** The fixture folder test/fixtures/ (the benches read it too, hence the name). */
export const BENCH_DIR = FIXTURE_DIR;

/** A stable, realistic-looking UUID derived from a label (so tests read `uuid('mode:off')`). */
export function uuid(label: string): string {
  const h = createHash('sha1').update(label).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Problems the intra-message rules find in an (assumed schema-valid) message. */
export function ruleProblems(message: S2Message): Problem[] {
  return checkRules(ALL_RULES, message);
}

/** Asserts the message decodes through the public codec with the rules on. */
export function expectAccepted(message: S2Message): void {
  const result = decode(JSON.stringify(message));
  expect(result.ok ? [] : result.error.problems).toEqual([]);
  expect(result.ok).toBe(true);
}

/**
 * Asserts the codec rejects the message as INVALID_MESSAGE because of `rule` (at `path` when
 * given), that every problem is complete (path, value, sentence, rule), and that the same text is
 * schema-valid, i.e. accepted with `rules: false`. Returns the problems of that rule.
 */
export function expectRejected(message: S2Message, rule: string, path?: string): Problem[] {
  const text = JSON.stringify(message);
  expect(decode(text, { rules: false })).toMatchObject({ ok: true });
  const result = decode(text);
  const id = (message as { message_id?: string }).message_id;
  expect(result).toMatchObject({ ok: false, error: { status: 'INVALID_MESSAGE', subjectMessageId: id } });
  if (result.ok) throw new Error('unreachable');
  for (const p of result.error.problems) {
    expect(p.rule).toMatch(/^R\d+$/);
    expect(p.path).toMatch(/^\$/);
    expect(p.value).toBeDefined();
    expect(p.message.length).toBeGreaterThan(10);
  }
  const mine = result.error.problems.filter((p) => p.rule === rule);
  expect(mine.length, `no ${rule} problem in ${JSON.stringify(result.error.problems)}`).toBeGreaterThan(0);
  if (path !== undefined) expect(mine.map((p) => p.path)).toContain(path);
  expect(result.error.reply?.status).toBe('INVALID_MESSAGE');
  return mine;
}
