import { isWithin, type ChartInvoke, type ChartMachine, type ChartState, type ChartTransition, type NamedRef } from './chart-model.js';

/**
 * The text of diagram labels, shared by the Mermaid and the DOT drawing so both read alike:
 * `event [guard] / action1, action2`. A label longer than {@link MAX_LABEL} characters keeps its
 * event and guard whole and lists as many actions as fit, then `+N more` — deterministic, and
 * the full list is in the transition table of the same page.
 */
export const MAX_LABEL = 72;

/** An action or guard as a diagram shows it: with its parameters only when they are one short value. */
export function refLabel(ref: NamedRef): string {
  return ref.simpleParams && ref.params !== undefined ? `${ref.name}(${ref.params})` : ref.name;
}

/** An action with all of its parameters (tables). */
export function refFull(ref: NamedRef): string {
  return ref.params === undefined ? ref.name : `${ref.name}(${ref.params})`;
}

/**
 * `event [guard]`. Where a state has several transitions for one event, XState tries them in
 * order and takes the first whose guard holds; the label then numbers them, `[2: guard]`, and
 * calls an unguarded last one `else`.
 */
export function trigger(t: ChartTransition): string {
  if (t.candidate) return `${t.event} [${t.candidate.index}: ${t.guard ?? 'else'}]`;
  return t.guard === undefined ? t.event : `${t.event} [${t.guard}]`;
}

/** The action part, abbreviated so that `prefix / actions` stays within `max` where possible. */
export function actionList(actions: readonly NamedRef[], prefix: string, max = MAX_LABEL): string {
  const names = actions.map(refLabel);
  const fits = (n: number) =>
    `${prefix} / ${names.slice(0, n).join(', ')}${n < names.length ? `, +${names.length - n} more` : ''}`.length <= max;
  let shown = names.length;
  while (shown > 1 && !fits(shown)) shown -= 1;
  const rest = names.length - shown;
  return names.slice(0, shown).join(', ') + (rest > 0 ? `, +${rest} more` : '');
}

/** The label of a transition drawn as an arrow. */
export function transitionLabel(t: ChartTransition, max = MAX_LABEL): string {
  const head = `${trigger(t)}${t.reenter ? ' (re-enter)' : ''}`;
  return t.actions.length === 0 ? head : `${head} / ${actionList(t.actions, head, max)}`;
}

/** A targetless transition written inside a state: it runs its actions and stays. */
export function internalLabel(t: ChartTransition, max = MAX_LABEL): string {
  const head = trigger(t);
  // No actions: the event is taken here and goes no further up (the parent's handler does not run).
  return t.actions.length === 0 ? `${head} / (no action)` : `${head} / ${actionList(t.actions, head, max)}`;
}

function invokeLabel(i: ChartInvoke): string {
  return i.id === i.src ? `invoke ${i.src}` : `invoke ${i.src} as ${i.id}`;
}

/** Entry, exit and invoke of a state, one line each (empty when it has none). */
export function activityLines(state: ChartState, max = MAX_LABEL): string[] {
  const lines: string[] = [];
  if (state.entry.length > 0) lines.push(`entry / ${actionList(state.entry, 'entry', max)}`);
  if (state.exit.length > 0) lines.push(`exit / ${actionList(state.exit, 'exit', max)}`);
  for (const i of state.invoke) lines.push(invokeLabel(i));
  return lines;
}

/** The transitions of a state that have no target. */
export function internalTransitions(state: ChartState): ChartTransition[] {
  return state.transitions.filter((t) => t.targets.length === 0);
}

/** The display name of a state: its key, `H`/`H*` for history states. */
export function stateName(state: ChartState): string {
  if (state.kind === 'history') return state.history === 'deep' ? `H* ${state.key}` : `H ${state.key}`;
  return state.key;
}

/**
 * Whether a compound state (or the machine root) gets an "any state" box: it defines targetless
 * handlers, or transitions into itself, which both drawings show from that box.
 */
export function needsAnyBox(chart: ChartMachine, state: ChartState): boolean {
  if (state.children.length === 0) return false;
  if (state.id === chart.root.id && activityLines(state).length > 0) return true;
  return state.transitions.some((t) => t.targets.length === 0 || t.targets.some((x) => isWithin(chart, x, state.id)));
}
