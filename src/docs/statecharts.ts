import type { AnyStateMachine } from 'xstate';
import { readChart, type ChartMachine, type ChartState } from './chart-model.js';
import { toDot } from './dot.js';
import type { DotRenderer } from './graphviz.js';
import { refFull, trigger } from './labels.js';
import { toMermaid } from './mermaid.js';

/** One documented machine. */
export interface StatechartEntry {
  /** File base name in the output folder: `cem-session` ⇒ `cem-session.md` and `cem-session.svg`. */
  readonly name: string;
  /** Human title: `CEM session`. */
  readonly title: string;
  /** Where it is defined, relative to the repository root. */
  readonly source: string;
  readonly machine: AnyStateMachine;
  /** What the machine does and which rules of docs/rules.md it enforces (Markdown, one paragraph). */
  readonly summary: string;
}

const GENERATED = '<!-- Generated from the statechart definitions by `npm run statecharts` (`s2 statecharts`). Do not edit by hand. -->';

const LEGEND = [
  '- An arrow reads `event [guard] / action1, action2`; guards, actions and delays are the names the machine',
  '  gives them (`after handshakeTimeout` is the delayed transition of the named delay `handshakeTimeout`).',
  '  A long action list ends in `+N more`; the transition table of the page has every action.',
  '- `[2: guard]` numbers the transitions one state has for the same event: they are tried in that order and',
  '  the first whose guard holds is taken; `else` is the unguarded last one.',
  '- Lines inside a state are its `entry` and `exit` actions, its invoked actor (`invoke <actor> as <id>`) and',
  '  the transitions that stay in it (they run actions, no state change). `(no action)` means the event is',
  '  taken there and does nothing, so no enclosing handler sees it. A composite state shows its entry/exit in a',
  '  note beside it.',
  '- The dashed **any state** box holds the handlers that its enclosing state — or, at the top level, the whole',
  '  machine — defines for all of its substates: wildcards such as `s2.*` and `status.*`, closing and routing.',
  '  A substate that handles the same event itself wins over these.',
  '- `[*]` marks where a composite state starts and the final states.',
].join('\n');

/**
 * The whole `docs/statecharts/` folder as { file name → text }: per machine a Markdown page with
 * a Mermaid `stateDiagram-v2` and the tables of its states and transitions, an SVG drawn by
 * Graphviz from the same walk, and `index.md`. Pure apart from `renderSvg`, and deterministic: no
 * clock, no absolute path, the order is the definitions' order.
 */
export function generateStatecharts(entries: readonly StatechartEntry[], renderSvg: DotRenderer): Record<string, string> {
  const files: Record<string, string> = {};
  files['index.md'] = indexPage(entries);
  for (const entry of entries) {
    const chart = readChart(entry.machine);
    files[`${entry.name}.md`] = machinePage(entry, chart);
    files[`${entry.name}.svg`] = endWithNewline(renderSvg(toDot(chart)));
  }
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function indexPage(entries: readonly StatechartEntry[]): string {
  const parts = [
    GENERATED,
    '',
    '# Statecharts',
    '',
    's2-engine enforces the ordering rules of S2 (those the JSON Schemas cannot express) with XState statecharts.',
    'The pages below are drawn from the machine definitions themselves, so they show what the code does. Each',
    'page has a Mermaid diagram (rendered by GitHub), an SVG drawn by Graphviz from the same walk, and tables of',
    'every state and transition. Rule numbers (R…, Q…) refer to the rule catalogue, [docs/rules.md](../rules.md) (`docs/rules.md#R46`).',
    '',
    'After changing a machine, run `npm run statecharts` (or `s2 statecharts --out docs/statecharts`); a test',
    'fails while these files are out of date.',
    '',
    '## How to read the diagrams',
    '',
    LEGEND,
    '',
    '## Machines',
    '',
  ];
  for (const entry of entries) {
    parts.push(
      `### [${entry.title} (\`${entry.machine.id}\`)](${entry.name}.md)`,
      '',
      entry.summary.trim(),
      '',
      `Defined in \`${entry.source}\` · [SVG](${entry.name}.svg)`,
      '',
    );
  }
  return `${parts.join('\n').trimEnd()}\n`;
}

function machinePage(entry: StatechartEntry, chart: ChartMachine): string {
  const parts = [
    GENERATED,
    '',
    `# ${entry.title} — \`${chart.id}\``,
    '',
    `Defined in \`${entry.source}\` · [SVG drawing](${entry.name}.svg) · [All statecharts](index.md)`,
    '',
    entry.summary.trim(),
    '',
    '```mermaid',
    toMermaid(chart).trimEnd(),
    '```',
    '',
    '<details><summary>How to read this diagram</summary>',
    '',
    LEGEND,
    '',
    '</details>',
    '',
    '## States',
    '',
    '| State | Kind | Entry | Exit | Invoke |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const state of chart.states.values()) {
    if (state === chart.root) continue;
    parts.push(
      row([
        code(statePath(chart, state)),
        kind(chart, state),
        list(state.entry.map(refFull)),
        list(state.exit.map(refFull)),
        list(state.invoke.map((i) => (i.id === i.src ? i.src : `${i.src} as ${i.id}`))),
      ]),
    );
  }
  parts.push(
    '',
    '## Transitions',
    '',
    'In definition order; a targetless transition stays in its state (no exit, no entry).',
    '',
    '| From | Event [guard] | To | Actions |',
    '| --- | --- | --- | --- |',
  );
  for (const state of chart.states.values()) {
    for (const t of state.transitions) {
      const to = t.targets.length === 0 ? '(stays)' : t.targets.map((id) => code(statePath(chart, chart.states.get(id)))).join(', ');
      parts.push(
        row([
          state === chart.root ? 'any state' : code(statePath(chart, state)),
          code(trigger(t)) + (t.reenter ? ' (re-enter)' : ''),
          to,
          list(t.actions.map(refFull)),
        ]),
      );
    }
  }
  return `${parts.join('\n')}\n`;
}

/** A state's path below the root: `connected.active.FRBC`. */
function statePath(chart: ChartMachine, state: ChartState | undefined): string {
  if (!state) return '?';
  return state === chart.root ? chart.id : state.path.join('.');
}

function kind(chart: ChartMachine, state: ChartState): string {
  const parent = state.parent === undefined ? undefined : chart.states.get(state.parent);
  const initial = parent?.initial === state.id ? 'initial ' : '';
  return `${initial}${state.kind}`;
}

function code(s: string): string {
  return `\`${s}\``;
}

function list(items: readonly string[]): string {
  return items.length === 0 ? '' : items.map(code).join(', ');
}

/** A Markdown table row; a `|` inside a cell would end it. */
function row(cells: readonly string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ')).join(' | ')} |`;
}

function endWithNewline(s: string): string {
  return `${s.trimEnd()}\n`;
}
