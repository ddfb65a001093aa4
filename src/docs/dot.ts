import { isWithin, type ChartMachine, type ChartState } from './chart-model.js';
import { activityLines, internalLabel, internalTransitions, needsAnyBox, stateName, transitionLabel } from './labels.js';

/**
 * Draws a chart as Graphviz DOT, for the SVG beside each Markdown page. Same conventions as the
 * Mermaid drawing (see mermaid.ts): compound states are clusters, a state's entry/exit/invoke and
 * targetless transitions are written inside it, and the handlers a compound state (or the machine)
 * defines for all its substates start from its dashed "any state" box.
 *
 * Every state becomes exactly one SVG group whose id is `state:<XState id>` (a node for a simple
 * state, a cluster for a compound one), so tools and tests can find each state in the picture.
 */
export function toDot(chart: ChartMachine): string {
  const out: string[] = [];
  const edges: string[] = [];
  out.push(`digraph ${q(chart.id)} {`);
  out.push(
    `  graph [compound=true, fontname="Helvetica", fontsize=12, labelloc=t, label=<<B>${html(chart.id)}</B>>, nodesep=0.35, ranksep=0.45, pad=0.2];`,
  );
  out.push(
    '  node [shape=box, style="rounded,filled", fillcolor="#eef1fb", color="#3b4a8c", fontname="Helvetica", fontsize=10, margin="0.10,0.05"];',
  );
  out.push('  edge [fontname="Helvetica", fontsize=9, color="#444444", fontcolor="#222222", arrowsize=0.7];');
  renderScope(chart.root, 1);
  for (const state of chart.states.values()) {
    for (const t of state.transitions) {
      for (const target of t.targets) {
        const to = chart.states.get(target);
        if (!to) continue;
        const fromAny = state.children.length > 0 && isWithin(chart, target, state.id);
        const tail = fromAny ? anyNode(state) : anchor(state);
        const head = anchor(to);
        const attrs = [`label=${edgeLabel(transitionLabel(t))}`];
        if (!fromAny && state.children.length > 0 && !isWithin(chart, target, state.id)) attrs.push(`ltail=${q(cluster(state))}`);
        if (to.children.length > 0 && !isWithin(chart, state.id, to.id)) attrs.push(`lhead=${q(cluster(to))}`);
        edges.push(`  ${q(tail)} -> ${q(head)} [${attrs.join(', ')}];`);
      }
    }
  }
  out.push(...edges, '}');
  return `${out.join('\n')}\n`;

  function renderScope(scope: ChartState, depth: number): void {
    const pad = '  '.repeat(depth);
    if (scope.kind === 'compound' && scope.initial !== undefined) {
      const init = initialNode(scope);
      out.push(
        `${pad}${q(init)} [id=${q(`initial:${scope.id}`)}, label="", shape=point, width=0.14, style=filled, color="#222222", fillcolor="#222222"];`,
      );
      const target = chart.states.get(scope.initial);
      const lhead = target && target.children.length > 0 ? `, lhead=${q(cluster(target))}` : '';
      edges.push(`  ${q(init)} -> ${q(target ? anchor(target) : scope.initial)} [arrowsize=0.6${lhead}];`);
    }
    for (const child of scope.children) {
      if (child.children.length === 0) {
        const lines = [...activityLines(child), ...internalTransitions(child).map((t) => internalLabel(t))];
        const extra = child.kind === 'final' ? ', peripheries=2' : child.kind === 'history' ? ', shape=circle' : '';
        out.push(`${pad}${q(child.id)} [id=${q(`state:${child.id}`)}, label=${tableLabel(stateName(child), lines)}${extra}];`);
        continue;
      }
      out.push(`${pad}subgraph ${q(cluster(child))} {`);
      out.push(`${pad}  id=${q(`state:${child.id}`)}; label=${tableLabel(stateName(child), activityLines(child))};`);
      out.push(`${pad}  style="rounded,filled"; color="#3b4a8c"; fillcolor="#f8f9fe"; labeljust=l;`);
      renderScope(child, depth + 1);
      out.push(`${pad}}`);
    }
    if (needsAnyBox(chart, scope)) {
      const lines = internalTransitions(scope).map((t) => internalLabel(t));
      if (scope.id === chart.root.id) lines.unshift(...activityLines(scope).map((l) => `machine ${l}`));
      out.push(
        `${pad}${q(anyNode(scope))} [id=${q(`any:${scope.id}`)}, label=${tableLabel('any state', lines)}, style="rounded,dashed", fillcolor="#ffffff", color="#777777"];`,
      );
    }
  }

  /** The node an arrow to or from a state attaches to (for a compound state: one inside its cluster). */
  function anchor(state: ChartState): string {
    if (state.children.length === 0) return state.id;
    if (state.id === chart.root.id) return anyNode(state);
    if (state.kind === 'compound' && state.initial !== undefined) return initialNode(state);
    if (needsAnyBox(chart, state)) return anyNode(state);
    const first = state.children[0];
    return first ? anchor(first) : state.id;
  }
}

const initialNode = (state: ChartState) => `${state.id}#initial`;
const anyNode = (state: ChartState) => `${state.id}#any`;
const cluster = (state: ChartState) => `cluster_${state.id}`;

/** A quoted DOT string. */
function q(s: string): string {
  return `"${escape(s)}"`;
}

function escape(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/[\r\n]+/g, ' ');
}

/** An edge label (quoted): the trigger on one line, the actions on the next. */
function edgeLabel(label: string): string {
  const at = label.indexOf(' / ');
  const lines = at < 0 ? [label] : [label.slice(0, at), `/ ${label.slice(at + 3)}`];
  return `"${lines.map(escape).join('\\n')}"`;
}

function html(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A state box: its name in bold, then one left-aligned line per activity or internal transition. */
function tableLabel(title: string, lines: readonly string[]): string {
  const rows = [`<TR><TD><B>${html(title)}</B></TD></TR>`];
  if (lines.length > 0) rows.push('<HR/>', ...lines.map((l) => `<TR><TD ALIGN="LEFT">${html(l)}</TD></TR>`));
  return `<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">${rows.join('')}</TABLE>>`;
}
