import type { MessageOf, MessageType, S2Message } from '../typebox/registry.js';
import type { Problem } from '../typebox/problem.js';

/**
 * One semantic rule of the catalogue (docs/rules.md) that can be checked on a single message, without session
 * knowledge. `id` is the rule id (e.g. `R68`); `check` returns the problems, each tagged with it.
 */
export interface Rule<M = S2Message> {
  readonly id: string;
  /** One line: what the rule demands. */
  readonly summary: string;
  check(message: M): Problem[];
}

/** Rules per message type. */
export type RuleTable = { readonly [K in MessageType]?: readonly Rule<MessageOf<K>>[] };

/** Runs the rules the table has for this message's type. */
export function checkRules(table: RuleTable, message: S2Message): Problem[] {
  const rules = table[message.message_type] as readonly Rule[] | undefined;
  if (!rules) return [];
  let out: Problem[] | undefined;
  for (const rule of rules) {
    const found = rule.check(message);
    if (found.length) (out ??= []).push(...found);
  }
  return out ?? [];
}

/** Merges rule tables (per-area tables into one). */
export function mergeRuleTables(...tables: RuleTable[]): RuleTable {
  const out: Record<string, Rule[]> = {};
  for (const t of tables) for (const [k, rules] of Object.entries(t)) (out[k] ??= []).push(...(rules as Rule[]));
  return out;
}
