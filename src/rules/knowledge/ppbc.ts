import type { PPBCPowerProfileDefinition, PPBCPowerSequenceStatus } from '../../typebox/ppbc/index.js';
import type { IdentifiedMessage, MessageOf } from '../../typebox/registry.js';
import { emptyMap, emptySet } from './shared-empty.js';
import type { ControlTypeRules } from './types.js';

/*
 * PPBC session rules (docs/rules.md#ppbc) and how each is answered:
 * - R39/R99 described = at least one definition; a status before any is REFUSED (it names nothing).
 * - R102 instruction path, R105 status references/completeness: REFUSED (INVALID_CONTENT, R49):
 *   unknown objects leave the RM nothing to decide, and R16 says such a message changes nothing.
 * - R50, R103 (one sequence per container, time window), R104 (interruptible, EXECUTING /
 *   INTERRUPTED): REJECTED via `rejection` (OK then REJECTED, Q14, R48): the references hold; what
 *   fails depends on flags and on the device's reported state, which the RM alone owns.
 * - R54/R56/R58 RevokeObject of a definition by its `id`; Q21 several definitions by id.
 * Not checked: R103 max_pause_before (needs when the previous container's sequence really ends),
 * R106 status progression (SHOULD), R101 id reuse across a revocation (a re-sent id replaces, Q21).
 */

type PpbcInstruction = MessageOf<'PPBC.ScheduleInstruction' | 'PPBC.StartInterruptionInstruction' | 'PPBC.EndInterruptionInstruction'>;

interface Sequence {
  readonly interruptible: boolean;
  readonly abnormalOnly: boolean;
  /** Sum of the element durations (ms), for the R103 time window. */
  readonly durationMs: number;
}

interface Container {
  readonly id: string;
  readonly sequences: ReadonlyMap<string, Sequence>;
  /** From the latest PowerProfileStatus naming this container (R105); NOT_SCHEDULED until one does. */
  readonly status: PPBCPowerSequenceStatus;
  readonly selected: string | undefined;
  /** The accepted, not revoked ScheduleInstruction for this container (R103: at most one). */
  readonly schedule: { readonly id: string; readonly sequence: string } | undefined;
}

interface Profile {
  readonly definition: PPBCPowerProfileDefinition;
  readonly containers: ReadonlyMap<string, Container>;
}

/**
 * Every map is keyed by lowercase id (R4: ids compare canonically). Container states live inside
 * their profile, so replacing or revoking a definition drops them with it (Q12: what was based on
 * the old definition is void; R99: the RM reports a fresh status after a definition).
 */
export interface PpbcKnowledge {
  /** Every non-revoked definition by its `id` (Q21: several coexist; the same id replaces). */
  readonly profiles: ReadonlyMap<string, Profile>;
  /** Ids of revoked definitions, only to say so in a refusal (R58). */
  readonly revoked: ReadonlySet<string>;
}

const key = (id: string) => id.toLowerCase();

function index(d: PPBCPowerProfileDefinition): Profile {
  const containers = new Map<string, Container>();
  for (const c of d.power_sequences_containers) {
    const sequences = new Map<string, Sequence>();
    for (const s of c.power_sequences) {
      sequences.set(key(s.id), {
        interruptible: s.is_interruptible,
        abnormalOnly: s.abnormal_condition_only,
        durationMs: s.elements.reduce((sum, e) => sum + e.duration, 0),
      });
    }
    containers.set(key(c.id), { id: c.id, sequences, status: 'NOT_SCHEDULED', selected: undefined, schedule: undefined });
  }
  return { definition: d, containers };
}

/** The knowledge with one container replaced (immutable update). */
function withContainer(k: PpbcKnowledge, profileId: string, c: Container): PpbcKnowledge {
  const profile = k.profiles.get(key(profileId));
  if (!profile) return k;
  const containers = new Map(profile.containers).set(key(c.id), c);
  return { ...k, profiles: new Map(k.profiles).set(key(profileId), { ...profile, containers }) };
}

/**
 * R102 (instructions) and R105 (statuses): the profile → container → sequence path exists in a
 * current definition. REFUSED (INVALID_CONTENT, R49, Q14): the message names things that do not
 * exist, so there is nothing the RM could even reject.
 */
function pathRefusal(k: PpbcKnowledge, p: string, c: string, s: string | undefined, rule: string): string | undefined {
  const profile = k.profiles.get(key(p));
  if (!profile) {
    const gone = k.revoked.has(key(p)) ? 'was revoked (R58)' : 'is not a PPBC.PowerProfileDefinition the RM sent';
    return `unknown power_profile_id ${p}: it ${gone} (${rule})`;
  }
  const container = profile.containers.get(key(c));
  if (!container) return `unknown sequence_container_id ${c}: not a container of power profile ${p} (${rule})`;
  if (s !== undefined && !container.sequences.has(key(s)))
    return `unknown power sequence ${s}: not a sequence of container ${c} of power profile ${p} (${rule})`;
  return undefined;
}

function statusRefusal(k: PpbcKnowledge, m: MessageOf<'PPBC.PowerProfileStatus'>): string | undefined {
  if (k.profiles.size === 0) return `PPBC.PowerProfileStatus before any PPBC.PowerProfileDefinition (R39, R99)`;
  const seen = new Map<string, Set<string>>();
  for (const s of m.sequence_container_status) {
    // R105: selected_sequence_id lives per container status and must be a sequence of that container.
    const why = pathRefusal(k, s.power_profile_id, s.sequence_container_id, s.selected_sequence_id, 'R105');
    if (why) return why;
    const containers = seen.get(key(s.power_profile_id)) ?? new Set<string>();
    if (containers.has(key(s.sequence_container_id)))
      return `sequence container ${s.sequence_container_id} of power profile ${s.power_profile_id} has two statuses (R105)`;
    seen.set(key(s.power_profile_id), containers.add(key(s.sequence_container_id)));
  }
  // R105 (E, MUST): a status covers every container of each definition it reports on. Other
  // definitions may be left out (Q21 gives no rule for several definitions).
  for (const [p, containers] of seen) {
    for (const c of k.profiles.get(p)!.containers.values()) {
      if (!containers.has(key(c.id)))
        return `PPBC.PowerProfileStatus omits sequence container ${c.id} of power profile ${p}: it must report every container (R105)`;
    }
  }
  return undefined;
}

const shown = (c: Container) => `${c.status}${c.selected ? ` (sequence ${c.selected})` : ''}`;

/**
 * RM side. These instructions are well referenced but cannot be carried out as asked: the RM
 * answers OK, then REJECTED (Q14, R48) rather than INVALID_CONTENT, because whether they can be
 * executed depends on the device's state and on flags, not on the message naming unknown things.
 */
function rejection(k: PpbcKnowledge, m: IdentifiedMessage): string | undefined {
  if (
    m.message_type !== 'PPBC.ScheduleInstruction' &&
    m.message_type !== 'PPBC.StartInterruptionInstruction' &&
    m.message_type !== 'PPBC.EndInterruptionInstruction'
  )
    return undefined;
  const profile = k.profiles.get(key(m.power_profile_id));
  const container = profile?.containers.get(key(m.sequence_container_id));
  const sequence = container?.sequences.get(key(m.power_sequence_id));
  if (!profile || !container || !sequence) return undefined; // unknown path: refusal's business (R102)
  if (m.message_type === 'PPBC.ScheduleInstruction') return scheduleRejection(profile.definition, container, sequence, m);
  // R104 (I, MUST): only an interruptible sequence, only the one the latest status reports as
  // selected, Start while EXECUTING and End while INTERRUPTED.
  if (!sequence.interruptible) return `power sequence ${m.power_sequence_id} is not interruptible (is_interruptible: false) (R104)`;
  const needed: PPBCPowerSequenceStatus = m.message_type === 'PPBC.StartInterruptionInstruction' ? 'EXECUTING' : 'INTERRUPTED';
  if (container.status !== needed || container.selected !== key(m.power_sequence_id)) {
    return `${m.message_type} needs power sequence ${m.power_sequence_id} ${needed}, but the latest PPBC.PowerProfileStatus reports container ${container.id} ${shown(container)} (R104)`;
  }
  return undefined;
}

function scheduleRejection(d: PPBCPowerProfileDefinition, c: Container, s: Sequence, m: PpbcInstruction): string | undefined {
  // R50: an abnormal-only sequence may be scheduled only with abnormal_condition: true.
  if (s.abnormalOnly && !m.abnormal_condition)
    return `power sequence ${m.power_sequence_id} is for abnormal conditions only and abnormal_condition is false (R50)`;
  // R103: at most one scheduled sequence per container. A pending ScheduleInstruction counts until
  // it is revoked (R52: a newer instruction does not replace it implicitly)…
  if (c.schedule)
    return `container ${c.id} already has sequence ${c.schedule.sequence} scheduled by instruction ${c.schedule.id}; revoke that first (R103, R52)`;
  // …and so does what the RM reports: a scheduled, running or ended container takes no other sequence (R106).
  if (c.status !== 'NOT_SCHEDULED')
    return `container ${c.id} is ${shown(c)} per the latest PPBC.PowerProfileStatus: at most one sequence per container (R103, R106)`;
  // R103: the sequence runs inside the definition's [start_time, end_time], judged at execution_time.
  const start = Date.parse(m.execution_time);
  if (start < Date.parse(d.start_time))
    return `execution_time ${m.execution_time} is before the power profile's start_time ${d.start_time} (R103)`;
  if (start + s.durationMs > Date.parse(d.end_time))
    return `sequence ${m.power_sequence_id} (${s.durationMs} ms) from ${m.execution_time} ends after the power profile's end_time ${d.end_time} (R103)`;
  return undefined;
}

/** What an activation knows before any PPBC message: one frozen value for all (copy-on-write). */
const EMPTY: PpbcKnowledge = Object.freeze({ profiles: emptyMap<string, Profile>(), revoked: emptySet<string>() });

/** PPBC (docs/rules.md#ppbc): references to the RM's power profile definitions and their state. */
export const ppbcRules: ControlTypeRules<PpbcKnowledge> = {
  area: 'PPBC',
  descriptions: new Set(['PPBC.PowerProfileDefinition']),
  instructions: new Set(['PPBC.ScheduleInstruction', 'PPBC.StartInterruptionInstruction', 'PPBC.EndInterruptionInstruction']),
  // Shared by every activation (bench/RESULTS.md §5.6 B): `learn` and `revoke` never write into k.
  empty: () => EMPTY,
  // R39: the CEM may instruct once at least one definition is known.
  described: (k) => k.profiles.size > 0,
  refusal(k, m) {
    switch (m.message_type) {
      case 'PPBC.ScheduleInstruction':
      case 'PPBC.StartInterruptionInstruction':
      case 'PPBC.EndInterruptionInstruction':
        return pathRefusal(k, m.power_profile_id, m.sequence_container_id, m.power_sequence_id, 'R102');
      case 'PPBC.PowerProfileStatus':
        return statusRefusal(k, m);
      default:
        // A definition with a known id replaces it (Q21); its own consistency is the codec's (R100, R101).
        return undefined;
    }
  },
  learn(k, m) {
    switch (m.message_type) {
      case 'PPBC.PowerProfileDefinition': {
        const revoked = new Set(k.revoked);
        revoked.delete(key(m.id));
        return { profiles: new Map(k.profiles).set(key(m.id), index(m)), revoked };
      }
      case 'PPBC.PowerProfileStatus': {
        let next = k;
        for (const s of m.sequence_container_status) {
          const c = next.profiles.get(key(s.power_profile_id))?.containers.get(key(s.sequence_container_id));
          if (!c) continue;
          // The RM is authoritative: NOT_SCHEDULED means no schedule is in force (e.g. the RM rejected it).
          const schedule = s.status === 'NOT_SCHEDULED' ? undefined : c.schedule;
          const selected = s.selected_sequence_id === undefined ? undefined : key(s.selected_sequence_id);
          next = withContainer(next, s.power_profile_id, { ...c, status: s.status, selected, schedule });
        }
        return next;
      }
      case 'PPBC.ScheduleInstruction': {
        // An instruction the rules reject (Q14) will end REJECTED: it schedules nothing.
        const c = k.profiles.get(key(m.power_profile_id))?.containers.get(key(m.sequence_container_id));
        if (!c || rejection(k, m)) return k;
        return withContainer(k, m.power_profile_id, { ...c, schedule: { id: key(m.id), sequence: key(m.power_sequence_id) } });
      }
      default:
        return k;
    }
  },
  // R56, Q10: a definition has an `id`, so RevokeObject names that id (not its message_id).
  hasObject: (k, type, id) => type === 'PPBC.PowerProfileDefinition' && k.profiles.has(key(id)),
  revoke(k, type, id) {
    if (type === 'PPBC.PowerProfileDefinition') {
      // R58: gone, with the container states based on it; later instructions naming it are refused.
      const profiles = new Map(k.profiles);
      profiles.delete(key(id));
      return { profiles, revoked: new Set(k.revoked).add(key(id)) };
    }
    if (type !== 'PPBC.ScheduleInstruction') return k;
    // R58, R103: a revoked schedule frees its container. If it had not started, the container is
    // no longer scheduled; a running one stays as reported until the RM's next status.
    for (const [p, profile] of k.profiles) {
      for (const c of profile.containers.values()) {
        if (c.schedule?.id !== key(id)) continue;
        const unstarted = c.status === 'SCHEDULED' && (c.selected === undefined || c.selected === c.schedule.sequence);
        return withContainer(
          k,
          p,
          unstarted ? { ...c, schedule: undefined, status: 'NOT_SCHEDULED', selected: undefined } : { ...c, schedule: undefined },
        );
      }
    }
    return k;
  },
  rejection,
};
