import type { AnyStateMachine } from 'xstate';

/**
 * A drawing-neutral model of one XState machine, read from its definition (`machine.root`):
 * the states as a tree, each with its own transitions in definition order. Both the Mermaid and
 * the DOT renderer draw from this one walk, so the two pictures cannot disagree.
 *
 * Only names are kept (guards, actions, delays, actors): the statecharts are built with named
 * implementations (docs/design.md §Statecharts) precisely so that they can be drawn by name.
 */

export type StateKind = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

/** An action or a guard by name, with its parameters as text when it has any. */
export interface NamedRef {
  readonly name: string;
  /** The parameters, formatted; undefined when there are none. */
  readonly params: string | undefined;
  /** True when the parameters are one short primitive, worth showing in a diagram label. */
  readonly simpleParams: boolean;
}

export interface ChartTransition {
  /** Id of the state that defines the transition. */
  readonly source: string;
  /** As shown: `s2.Handshake`, `s2.*`, `after handshakeTimeout`, `always`, `done(actorId)`. */
  readonly event: string;
  /** The guard as text (`hasCommonVersion`, `not(peerRoleOk)`, `selects(FILL_RATE_BASED_CONTROL)`). */
  readonly guard: string | undefined;
  /** Ids of the target states; empty for a targetless (internal) transition. */
  readonly targets: readonly string[];
  readonly actions: readonly NamedRef[];
  readonly reenter: boolean;
  /**
   * When the state has several transitions for this event: this one's place among them (1-based)
   * and their number. XState tries them in this order and takes the first whose guard holds.
   */
  readonly candidate: { readonly index: number; readonly of: number } | undefined;
}

export interface ChartInvoke {
  readonly id: string;
  readonly src: string;
}

export interface ChartState {
  /** XState's id: the machine id and the path joined by dots (`cemSession.connected.active.FRBC`). */
  readonly id: string;
  readonly key: string;
  readonly path: readonly string[];
  /** Id of the parent state; undefined for the root. */
  readonly parent: string | undefined;
  readonly kind: StateKind;
  /** For a history state. */
  readonly history: 'shallow' | 'deep' | undefined;
  /** Id of the initial child (compound states only). */
  readonly initial: string | undefined;
  readonly initialActions: readonly NamedRef[];
  readonly entry: readonly NamedRef[];
  readonly exit: readonly NamedRef[];
  readonly invoke: readonly ChartInvoke[];
  readonly children: readonly ChartState[];
  readonly transitions: readonly ChartTransition[];
}

export interface ChartMachine {
  readonly id: string;
  readonly root: ChartState;
  /** Every state by id, the root included, in document order. */
  readonly states: ReadonlyMap<string, ChartState>;
}

/** The structural view of an XState state node this module reads (kept loose on purpose). */
interface NodeLike {
  readonly id: string;
  readonly key: string;
  readonly path: readonly string[];
  readonly type: string;
  readonly history: false | 'shallow' | 'deep';
  readonly states: Record<string, NodeLike>;
  readonly initial?: { readonly target: readonly NodeLike[]; readonly actions: readonly unknown[] } | undefined;
  readonly entry: readonly unknown[];
  readonly exit: readonly unknown[];
  readonly invoke: readonly { readonly id: string; readonly src: unknown }[];
  readonly transitions: ReadonlyMap<string, readonly TransitionLike[]>;
  readonly always?: readonly TransitionLike[] | undefined;
  readonly after: readonly { readonly eventType: string; readonly delay: string | number }[];
}

interface TransitionLike {
  readonly target?: readonly NodeLike[] | undefined;
  readonly guard?: unknown;
  readonly actions: readonly unknown[];
  readonly reenter?: boolean;
}

const AFTER = 'xstate.after.';

/** Reads the state tree of a machine. Pure and deterministic: the order is the definition order. */
export function readChart(machine: AnyStateMachine): ChartMachine {
  const states = new Map<string, ChartState>();
  const root = readState(machine.root as unknown as NodeLike, undefined, states);
  return { id: machine.id, root, states };
}

function readState(node: NodeLike, parent: string | undefined, out: Map<string, ChartState>): ChartState {
  const placeholder = {} as ChartState;
  out.set(node.id, placeholder); // document order: parent before children
  const kind = (['atomic', 'compound', 'parallel', 'final', 'history'] as const).find((k) => k === node.type) ?? 'atomic';
  const children = Object.values(node.states).map((child) => readState(child, node.id, out));
  const transitions: ChartTransition[] = [];
  for (const [eventType, list] of node.transitions) {
    list.forEach((t, i) => transitions.push(readTransition(node, eventLabel(node, eventType), t, i, list.length)));
  }
  const always = node.always ?? [];
  always.forEach((t, i) => transitions.push(readTransition(node, 'always', t, i, always.length)));
  const state: ChartState = {
    id: node.id,
    key: node.key,
    path: [...node.path],
    parent,
    kind,
    history: node.history === false ? undefined : node.history,
    initial: kind === 'compound' ? node.initial?.target[0]?.id : undefined,
    initialActions: kind === 'compound' ? (node.initial?.actions ?? []).map(namedAction) : [],
    // The raise/cancel pairs XState adds for `after` are implementation detail: the delayed
    // transition itself is drawn (as `after <delay>`).
    entry: node.entry.filter((a) => !isDelayPlumbing(a)).map(namedAction),
    exit: node.exit.filter((a) => !isDelayPlumbing(a)).map(namedAction),
    invoke: node.invoke.map((i) => ({ id: i.id, src: actorName(i.src) })),
    children,
    transitions,
  };
  Object.assign(placeholder, state);
  return placeholder;
}

function readTransition(node: NodeLike, event: string, t: TransitionLike, index: number, of: number): ChartTransition {
  return {
    source: node.id,
    event,
    guard: t.guard === undefined ? undefined : guardText(t.guard),
    targets: (t.target ?? []).map((n) => n.id),
    actions: t.actions.map(namedAction),
    reenter: t.reenter === true,
    candidate: of > 1 ? { index: index + 1, of } : undefined,
  };
}

/** The event as a reader knows it: delays by their name, XState's internal events shortened. */
function eventLabel(node: NodeLike, eventType: string): string {
  if (eventType.startsWith(AFTER)) {
    const delayed = node.after.find((a) => a.eventType === eventType);
    const delay = delayed?.delay ?? eventType.slice(AFTER.length).split('.')[0] ?? '?';
    return typeof delay === 'number' ? `after ${delay} ms` : `after ${delay}`;
  }
  for (const [prefix, name] of [
    ['xstate.done.actor.', 'done'],
    ['xstate.error.actor.', 'error'],
    ['xstate.snapshot.', 'snapshot'],
  ] as const) {
    if (eventType.startsWith(prefix)) return `${name}(${eventType.slice(prefix.length)})`;
  }
  if (eventType.startsWith('xstate.done.state.')) return 'done';
  return eventType;
}

function isDelayPlumbing(action: unknown): boolean {
  if (typeof action !== 'function') return false;
  const a = action as { type?: unknown; id?: unknown; sendId?: unknown };
  if (a.type === 'xstate.raise') return typeof a.id === 'string' && a.id.startsWith(AFTER);
  if (a.type === 'xstate.cancel') return typeof a.sendId === 'string' && a.sendId.startsWith(AFTER);
  return false;
}

/** A parameter value as text; `simple` when it is one primitive. */
function formatParams(params: unknown): { params: string | undefined; simpleParams: boolean } {
  if (params === undefined) return { params: undefined, simpleParams: false };
  switch (typeof params) {
    case 'function':
      return { params: '…', simpleParams: false };
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'symbol':
      return { params: String(params), simpleParams: true };
  }
  if (params === null) return { params: 'null', simpleParams: true };
  if (Array.isArray(params)) return { params: params.map((p) => formatParams(p).params ?? '').join(', '), simpleParams: false };
  const parts = Object.entries(params).map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
  return { params: parts.join(', '), simpleParams: false };
}

/** An action by name: a string, `{ type, params }`, an XState built-in (`assign`, `raise`…) or an inline function. */
export function namedAction(action: unknown): NamedRef {
  if (typeof action === 'string') return { name: action, params: undefined, simpleParams: false };
  if (typeof action === 'function') {
    const type = (action as { type?: unknown }).type;
    const name = typeof type === 'string' ? type.replace(/^xstate\./, '') : action.name || 'inline';
    return { name, params: undefined, simpleParams: false };
  }
  if (action && typeof action === 'object' && 'type' in action) {
    const { type, params } = action as { type: unknown; params?: unknown };
    return { name: typeof type === 'string' ? type : 'inline', ...formatParams(params) };
  }
  return { name: 'inline', params: undefined, simpleParams: false };
}

/** A guard as text: names, parameters in parentheses, `not`/`and`/`or` spelt out. */
export function guardText(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const g = guard as { guards?: unknown; stateValue?: unknown; name: string };
    if (Array.isArray(g.guards) && ['not', 'and', 'or'].includes(g.name)) return `${g.name}(${g.guards.map(guardText).join(', ')})`;
    if (g.stateValue !== undefined) return `stateIn(${typeof g.stateValue === 'string' ? g.stateValue : JSON.stringify(g.stateValue)})`;
    return g.name || 'inline';
  }
  if (guard && typeof guard === 'object' && 'type' in guard) {
    const { type, params } = guard as { type: unknown; params?: unknown };
    const p = formatParams(params).params;
    return `${typeof type === 'string' ? type : 'inline'}${p === undefined ? '' : `(${p})`}`;
  }
  return 'inline';
}

function actorName(src: unknown): string {
  if (typeof src === 'string') return src;
  const id = (src as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : 'inline actor';
}

/** True when state `id` is `ancestor` or lies inside it. */
export function isWithin(chart: ChartMachine, id: string, ancestor: string): boolean {
  for (let at: string | undefined = id; at !== undefined; at = chart.states.get(at)?.parent) {
    if (at === ancestor) return true;
  }
  return false;
}

/** The deepest state that contains both `a` and `b` (either may be that state itself). */
export function commonAncestor(chart: ChartMachine, a: string, b: string): string {
  for (let at: string | undefined = a; at !== undefined; at = chart.states.get(at)?.parent) {
    if (isWithin(chart, b, at)) return at;
  }
  return chart.root.id;
}
