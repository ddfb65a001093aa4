import { STATECHARTS } from '../docs/catalogue.js';
import { loadDotRenderer } from '../docs/graphviz.js';
import { generateStatecharts } from '../docs/statecharts.js';
import type { ActorView } from './model.js';

/** Machine id (`cemSession`, `FRBC`, `instruction`) → chart name (`cem-session`), as in docs/statecharts/. */
const CHART_BY_MACHINE: ReadonlyMap<string, string> = new Map(STATECHARTS.map((e) => [e.machine.id, e.name]));

/** The names the page may ask for under `/charts/<name>.svg`. */
export const CHART_NAMES: ReadonlySet<string> = new Set(STATECHARTS.map((e) => e.name));

/**
 * The ids of the state nodes active in a snapshot value: every level, parents first. XState names
 * a state node `<machine id>.<path>` unless the machine gives it another id (ours do not), and
 * the SVG generator names its group `state:<that id>`, so the page can highlight them.
 */
export function activeStateIds(machine: string, value: unknown): string[] {
  const ids: string[] = [];
  const walk = (prefix: string, v: unknown) => {
    if (typeof v === 'string') ids.push(`${prefix}.${v}`);
    else if (v && typeof v === 'object') {
      for (const [key, sub] of Object.entries(v)) {
        ids.push(`${prefix}.${key}`);
        walk(`${prefix}.${key}`, sub);
      }
    }
  };
  walk(machine, value);
  return ids;
}

/** The dotted path of a value (`connected.active.FRBC`); parallel regions are joined with `, `. */
export function valuePath(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!value || typeof value !== 'object') return '';
  return Object.entries(value)
    .map(([key, sub]) => {
      const rest = valuePath(sub);
      return rest ? `${key}.${rest}` : key;
    })
    .join(', ');
}

/** A path back to a value, for sessions known only from their `state` events. */
function pathValue(path: string): unknown {
  const parts = path.split('.').filter(Boolean);
  let value: unknown = parts.pop() ?? '';
  while (parts.length) value = { [parts.pop()!]: value };
  return value;
}

export function actorView(machine: string, value: unknown, status: string): ActorView {
  return { machine, chart: CHART_BY_MACHINE.get(machine), state: valuePath(value), active: activeStateIds(machine, value), status };
}

export function actorViewFromPath(machine: string, path: string, status: string): ActorView {
  return actorView(machine, pathValue(path), status);
}

/**
 * The SVGs of docs/statecharts/, drawn on first request by the same generator (`generateStatecharts`
 * with Graphviz in WebAssembly, offline) and kept: the page gets exactly the committed drawings.
 */
export class ChartCache {
  private svgs: Promise<ReadonlyMap<string, string>> | undefined;

  svg(name: string): Promise<string | undefined> {
    if (!CHART_NAMES.has(name)) return Promise.resolve(undefined);
    this.svgs ??= loadDotRenderer().then((render) => {
      const files = generateStatecharts(STATECHARTS, render);
      return new Map(
        Object.entries(files)
          .filter(([file]) => file.endsWith('.svg'))
          .map(([file, text]) => [file.slice(0, -'.svg'.length), text]),
      );
    });
    // A failed load is not cached: the next request tries again.
    this.svgs.catch(() => (this.svgs = undefined));
    return this.svgs.then((m) => m.get(name));
  }
}
