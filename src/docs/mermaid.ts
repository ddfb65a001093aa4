import { commonAncestor, isWithin, type ChartMachine, type ChartState } from './chart-model.js';
import { activityLines, actionList, internalLabel, internalTransitions, needsAnyBox, stateName, transitionLabel } from './labels.js';

/**
 * Draws a chart as a Mermaid `stateDiagram-v2` (GitHub renders it).
 *
 * - Compound states are composite states; each starts at `[*]`; final states go to `[*]`.
 * - Entry/exit actions and invocations of a simple state, and its targetless transitions, are
 *   written inside its box (UML's internal transitions); a composite's entry/exit/invoke go in a
 *   note beside it.
 * - Mermaid has no arrow that starts at a composite and ends inside it, and the machine itself is
 *   no box. So the handlers a compound state (or the machine root) defines for all its substates
 *   are drawn from a dashed "any state" box inside it: its targetless handlers are written in the
 *   box, the others are arrows from it. A compound state's transitions to states outside it are
 *   arrows from its composite box, as usual.
 * - Every arrow is written in the innermost composite that holds both ends, before the states
 *   of that composite are declared (see renderScope).
 */
export function toMermaid(chart: ChartMachine): string {
  const ids = allocateIds(chart);
  const edgesByScope = new Map<string, string[]>();
  const addEdge = (scope: string, line: string) => {
    const list = edgesByScope.get(scope) ?? [];
    list.push(line);
    edgesByScope.set(scope, list);
  };

  for (const state of chart.states.values()) {
    for (const t of state.transitions) {
      for (const target of t.targets) {
        const fromAny = state.children.length > 0 && isWithin(chart, target, state.id);
        const from = fromAny ? ids.any(state.id) : ids.state(state.id);
        const fromScope = fromAny ? state.id : (state.parent ?? chart.root.id);
        const to = chart.states.get(target);
        const toState = to && to.id === chart.root.id ? chart.states.get(chart.root.initial ?? '') : to;
        if (!toState) continue;
        const scope = commonAncestor(chart, fromScope, toState.parent ?? chart.root.id);
        addEdge(scope, `${from} --> ${ids.state(toState.id)} : ${text(transitionLabel(t))}`);
      }
    }
  }

  const lines = ['stateDiagram-v2'];
  renderScope(chart.root, 1);
  const anyIds = [...chart.states.values()].filter((s) => needsAnyBox(chart, s)).map((s) => ids.any(s.id));
  if (anyIds.length > 0) {
    lines.push('  classDef anyState fill:#ffffff,stroke:#777777,stroke-dasharray:4 3,color:#333333');
    lines.push(`  class ${anyIds.join(',')} anyState`);
  }
  return `${lines.join('\n')}\n`;

  function renderScope(scope: ChartState, depth: number): void {
    const pad = '  '.repeat(depth);
    if (scope.kind === 'compound' && scope.initial !== undefined) {
      const actions = scope.initialActions.length > 0 ? ` : ${text(`/ ${actionList(scope.initialActions, '')}`)}` : '';
      lines.push(`${pad}[*] --> ${ids.state(scope.initial)}${actions}`);
    }
    // Arrows first: Mermaid puts a state in the last composite that names it, so an arrow into a
    // nested state must come before that state's own declaration inside its composite.
    for (const edge of edgesByScope.get(scope.id) ?? []) lines.push(`${pad}${edge}`);
    scope.children.forEach((child, index) => {
      if (scope.kind === 'parallel' && index > 0) lines.push(`${pad}--`);
      const id = ids.state(child.id);
      if (child.children.length === 0) {
        lines.push(`${pad}state "${text(stateName(child))}" as ${id}`);
        for (const line of activityLines(child)) lines.push(`${pad}${id} : ${text(line)}`);
        for (const t of internalTransitions(child)) lines.push(`${pad}${id} : ${text(internalLabel(t))}`);
        if (child.kind === 'final') lines.push(`${pad}${id} --> [*]`);
        return;
      }
      lines.push(`${pad}state "${text(stateName(child))}" as ${id} {`);
      renderScope(child, depth + 1);
      lines.push(`${pad}}`);
      const notes = activityLines(child);
      if (notes.length > 0) {
        lines.push(`${pad}note right of ${id}`, ...notes.map((n) => `${pad}  ${text(n)}`), `${pad}end note`);
      }
    });
    if (needsAnyBox(chart, scope)) {
      const any = ids.any(scope.id);
      lines.push(`${pad}state "any state" as ${any}`);
      if (scope.id === chart.root.id) for (const line of activityLines(scope)) lines.push(`${pad}${any} : ${text(`machine ${line}`)}`);
      for (const t of internalTransitions(scope)) lines.push(`${pad}${any} : ${text(internalLabel(t))}`);
    }
  }
}

/** Mermaid identifiers for the states and "any state" boxes: readable, unique, never a keyword. */
function allocateIds(chart: ChartMachine) {
  const used = new Set<string>();
  const byState = new Map<string, string>();
  const byAny = new Map<string, string>();
  const reserved = new Set([
    'state',
    'note',
    'end',
    'direction',
    'class',
    'classdef',
    'style',
    'as',
    'left',
    'right',
    'of',
    'click',
    'root',
    'default',
  ]);
  const take = (base: string): string => {
    let id = base.replace(/[^A-Za-z0-9_]/g, '_');
    if (!/^[A-Za-z]/.test(id) || reserved.has(id.toLowerCase())) id = `s_${id}`;
    let unique = id;
    for (let n = 2; used.has(unique); n++) unique = `${id}_${n}`;
    used.add(unique);
    return unique;
  };
  for (const s of chart.states.values()) if (s.id !== chart.root.id) byState.set(s.id, take(s.path.join('_')));
  for (const s of chart.states.values()) {
    if (s.children.length > 0) byAny.set(s.id, take(s.id === chart.root.id ? 'any_state' : `${s.path.join('_')}_any`));
  }
  return {
    state: (id: string) => byState.get(id) ?? take(id),
    any: (id: string) => byAny.get(id) ?? take(`${id}_any`),
  };
}

/** Text that cannot break a Mermaid statement: entity codes for the few characters Mermaid reads. */
function text(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[#;"<>{}]/g, (c) => ENTITY[c] ?? c);
}

const ENTITY: Record<string, string> = { '#': '#35;', ';': '#59;', '"': '#quot;', '<': '#lt;', '>': '#gt;', '{': '#123;', '}': '#125;' };
