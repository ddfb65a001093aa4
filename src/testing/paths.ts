/**
 * Paths through a test model, generated with xstate/graph: together they reach every model state
 * and take every model transition (self-loops included, which are most of the ReceptionStatus
 * rules). For every (state, event) edge of the adjacency map, the path is the shortest path to
 * that state followed by the edge; a path that is a prefix of a longer one is dropped, since the
 * longer one checks the same steps.
 */
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths } from 'xstate/graph';

/** One generated path: the events from the model's initial state, and the state it ends in. */
export interface ModelPath {
  readonly events: readonly string[];
  readonly end: string;
}

/** The dotted path of a snapshot value: `connected.active`. */
export function leafOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const [k, sub] = Object.entries(value)[0] ?? [];
    if (k === undefined) return '';
    const rest = leafOf(sub);
    return rest ? `${k}.${rest}` : k;
  }
  return '';
}

const isModelEvent = (e: EventObject): boolean => !e.type.startsWith('xstate.');

export function coveringPaths(
  machine: AnyStateMachine,
  eventTypes: readonly string[],
): { paths: ModelPath[]; states: string[]; edges: number } {
  const events = eventTypes.map((type) => ({ type }));
  const shortest = new Map<string, string[]>();
  for (const p of getShortestPaths(machine, { events })) {
    const leaf = leafOf((p.state as AnyMachineSnapshot).value);
    const seq = p.steps
      .map((s) => s.event as EventObject)
      .filter(isModelEvent)
      .map((e) => e.type);
    const known = shortest.get(leaf);
    if (!known || seq.length < known.length) shortest.set(leaf, seq);
  }
  // Typed explicitly: AnyStateMachine's snapshot type is `any`, and the map's branded keys defeat Object.values.
  const adjacency = getAdjacencyMap<AnyMachineSnapshot, EventObject, unknown>(machine, { events });
  const edges = new Map<string, ModelPath>();
  for (const { state, event, nextState } of adjacencyMapToArray(adjacency)) {
    // Events the state has no transition for leave the snapshot as it is: not model transitions.
    if (!state.can(event)) continue;
    const from = leafOf(state.value);
    const head = shortest.get(from);
    if (!head) throw new Error(`test model ${machine.id}: no path to state ${from}`);
    const k = `${from} ${event.type}`;
    if (!edges.has(k)) edges.set(k, { events: [...head, event.type], end: leafOf(nextState.value) });
  }
  const candidates = [...edges.values()].sort((a, b) => b.events.length - a.events.length);
  const kept: ModelPath[] = [];
  for (const path of candidates) {
    if (kept.some((longer) => path.events.every((e, i) => longer.events[i] === e))) continue;
    kept.push(path);
  }
  kept.sort((a, b) => a.events.length - b.events.length || a.events.join(' ').localeCompare(b.events.join(' ')));
  return { paths: kept, states: [...shortest.keys()], edges: edges.size };
}
