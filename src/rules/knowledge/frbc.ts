import type { FRBCActuatorDescription, FRBCSystemDescription } from '../../typebox/frbc/system-description.js';
import type { IdentifiedMessage } from '../../typebox/registry.js';
import type { ControlTypeRules } from './types.js';

/** An actuator of the current description, indexed for reference checks. */
interface Actuator {
  readonly description: FRBCActuatorDescription;
  readonly modes: ReadonlyMap<string, { readonly abnormalOnly: boolean }>;
  readonly timers: ReadonlySet<string>;
}

export interface FrbcKnowledge {
  /** Every non-revoked system description, by message_id (R56, Q10: RevokeObject names the message_id). */
  readonly descriptions: ReadonlyMap<string, FRBCSystemDescription>;
  /** The actuators of the most recent description (R72: a new description supersedes the previous). */
  readonly actuators: ReadonlyMap<string, Actuator>;
  readonly storage: FRBCSystemDescription['storage'] | undefined;
}

function index(description: FRBCSystemDescription | undefined): Pick<FrbcKnowledge, 'actuators' | 'storage'> {
  const actuators = new Map<string, Actuator>();
  for (const a of description?.actuators ?? []) {
    actuators.set(a.id, {
      description: a,
      modes: new Map(a.operation_modes.map((m) => [m.id, { abnormalOnly: m.abnormal_condition_only }])),
      timers: new Set(a.timers.map((t) => t.id)),
    });
  }
  return { actuators, storage: description?.storage };
}

function latest(descriptions: ReadonlyMap<string, FRBCSystemDescription>): FRBCSystemDescription | undefined {
  let last: FRBCSystemDescription | undefined;
  for (const d of descriptions.values()) last = d;
  return last;
}

function actuatorRefusal(k: FrbcKnowledge, actuatorId: string, modeIds: readonly (string | undefined)[], rule: string): string | undefined {
  if (!k.storage) return `no FRBC.SystemDescription has been received yet (R39)`;
  const actuator = k.actuators.get(actuatorId);
  if (!actuator) return `unknown actuator_id ${actuatorId}: not in the current FRBC.SystemDescription (${rule})`;
  for (const mode of modeIds) {
    if (mode !== undefined && !actuator.modes.has(mode)) return `unknown operation mode ${mode} for actuator ${actuatorId} (${rule})`;
  }
  return undefined;
}

/** FRBC (S2-RULES.md §3.7, §3.8): references of statuses and instructions to the current description. */
export const frbcRules: ControlTypeRules<FrbcKnowledge> = {
  area: 'FRBC',
  descriptions: new Set(['FRBC.SystemDescription']),
  instructions: new Set(['FRBC.Instruction']),
  empty: () => ({ descriptions: new Map(), actuators: new Map(), storage: undefined }),
  described: (k) => k.storage !== undefined,
  refusal(k, m: IdentifiedMessage) {
    switch (m.message_type) {
      case 'FRBC.ActuatorStatus':
        // R62: the active (and previous) mode are modes of that actuator.
        return actuatorRefusal(k, m.actuator_id, [m.active_operation_mode_id, m.previous_operation_mode_id], 'R62');
      case 'FRBC.TimerStatus': {
        const why = actuatorRefusal(k, m.actuator_id, [], 'R71');
        if (why) return why;
        return k.actuators.get(m.actuator_id)!.timers.has(m.timer_id) ? undefined : `unknown timer ${m.timer_id} for actuator ${m.actuator_id} (R71)`;
      }
      case 'FRBC.Instruction':
        // R75: the actuator and its operation mode exist in the current description.
        return actuatorRefusal(k, m.actuator_id, [m.operation_mode], 'R75');
      case 'FRBC.StorageStatus':
      case 'FRBC.LeakageBehaviour':
      case 'FRBC.UsageForecast':
      case 'FRBC.FillLevelTargetProfile':
        // These describe the storage of the current description; without one they refer to nothing (R39, R73).
        return k.storage ? undefined : `${m.message_type} before any FRBC.SystemDescription (R39, R73)`;
      default:
        return undefined;
    }
  },
  learn(k, m) {
    if (m.message_type !== 'FRBC.SystemDescription') return k;
    const descriptions = new Map(k.descriptions);
    descriptions.delete(m.message_id);
    descriptions.set(m.message_id, m);
    return { descriptions, ...index(m) };
  },
  hasObject: (k, type, id) => type === 'FRBC.SystemDescription' && k.descriptions.has(id),
  revoke(k, type, id) {
    if (type !== 'FRBC.SystemDescription') return k;
    const descriptions = new Map(k.descriptions);
    descriptions.delete(id);
    return { descriptions, ...index(latest(descriptions)) };
  },
  rejection(k, m) {
    // R50: an abnormal-only mode needs abnormal_condition: true. Q14: known but not acceptable ⇒ REJECTED.
    if (m.message_type !== 'FRBC.Instruction') return undefined;
    const mode = k.actuators.get(m.actuator_id)?.modes.get(m.operation_mode);
    if (mode?.abnormalOnly && !m.abnormal_condition) return `operation mode ${m.operation_mode} is for abnormal conditions only (R50)`;
    return undefined;
  },
};
