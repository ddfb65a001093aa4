/**
 * What the kit says when it plays the CEM (testing an RM): instructions built from what THAT RM
 * described and reported, so they are well referenced whatever the device (R62, R75, R84, R87,
 * R96, R102), never abnormal-only (R50), and need no transition (R63): the operation-mode types
 * are told to stay in the mode they report as active, with a factor. `unknown: true` builds the
 * same instruction with one reference that names nothing the RM described (R49).
 */
import type { RevokableObjects } from '../../typebox/common/enums.js';
import type { ControlTypeShort } from '../../typebox/message-spec.js';
import type { IdentifiedMessage, MessageOf } from '../../typebox/registry.js';
import { iso, newId } from './common.js';

const MIN = 60_000;

/** The message type that describes a control type's flexibility, the one the RM sends first (R39). */
export const DESCRIPTION_TYPE: Readonly<Record<ControlTypeShort, RevokableObjects>> = {
  FRBC: 'FRBC.SystemDescription',
  OMBC: 'OMBC.SystemDescription',
  DDBC: 'DDBC.SystemDescription',
  PEBC: 'PEBC.PowerConstraints',
  PPBC: 'PPBC.PowerProfileDefinition',
};

/** The instruction type the kit gives per control type. */
export const INSTRUCTION_TYPE: Readonly<Record<ControlTypeShort, RevokableObjects>> = {
  FRBC: 'FRBC.Instruction',
  OMBC: 'OMBC.Instruction',
  DDBC: 'DDBC.Instruction',
  PEBC: 'PEBC.Instruction',
  PPBC: 'PPBC.ScheduleInstruction',
};

/** A revocable type of ANOTHER control type (R57). */
export const FOREIGN_TYPE: Readonly<Record<ControlTypeShort, RevokableObjects>> = {
  FRBC: 'OMBC.Instruction',
  OMBC: 'DDBC.Instruction',
  DDBC: 'FRBC.Instruction',
  PEBC: 'PPBC.ScheduleInstruction',
  PPBC: 'PEBC.Instruction',
};

/** The rule that names what an instruction of the type must refer to. */
export const REFERENCE_RULE: Readonly<Record<ControlTypeShort, string>> = {
  FRBC: 'R75',
  OMBC: 'R84',
  DDBC: 'R87',
  PEBC: 'R96',
  PPBC: 'R102',
};

export interface InstructionSpec {
  /** The instruction's `id` (R42: unique in the session, unless a test reuses it on purpose). */
  readonly id: string;
  readonly nowMs: number;
  /** How far ahead execution_time lies (clipped to what the description allows). */
  readonly leadMs: number;
  /** Name something the RM never described. */
  readonly unknown?: boolean;
}

const key = (id: string) => id.toLowerCase();
function latest<T extends IdentifiedMessage>(
  observed: readonly IdentifiedMessage[],
  type: T['message_type'],
  pred: (m: T) => boolean = () => true,
): T | undefined {
  for (let i = observed.length - 1; i >= 0; i--) {
    const m = observed[i];
    if (m && m.message_type === type && pred(m as T)) return m as T;
  }
  return undefined;
}

/**
 * A well-referenced instruction of `short` for the RM that sent `observed` (its accepted messages
 * of the active control type, in order), or why none can be built.
 */
export function instructionFor(
  short: ControlTypeShort,
  observed: readonly IdentifiedMessage[],
  spec: InstructionSpec,
): IdentifiedMessage | { readonly skip: string } {
  const base = { message_id: newId(), id: spec.id, abnormal_condition: false } as const;
  const at = iso(spec.nowMs + spec.leadMs);
  const never = newId();
  switch (short) {
    case 'FRBC': {
      const d = latest<MessageOf<'FRBC.SystemDescription'>>(observed, 'FRBC.SystemDescription');
      const a = d?.actuators[0];
      if (!a) return { skip: 'no FRBC.SystemDescription with an actuator' };
      const st = latest<MessageOf<'FRBC.ActuatorStatus'>>(
        observed,
        'FRBC.ActuatorStatus',
        (s) => key(s.actuator_id) === key(a.id) && a.operation_modes.some((m) => key(m.id) === key(s.active_operation_mode_id)),
      );
      const mode = st?.active_operation_mode_id ?? a.operation_modes.find((m) => !m.abnormal_condition_only)?.id;
      if (!mode) return { skip: 'the FRBC actuator has no operation mode for normal conditions' };
      return {
        ...base,
        message_type: 'FRBC.Instruction',
        actuator_id: a.id,
        operation_mode: spec.unknown ? never : mode,
        operation_mode_factor: st?.operation_mode_factor ?? 0,
        execution_time: at,
      };
    }
    case 'OMBC': {
      const d = latest<MessageOf<'OMBC.SystemDescription'>>(observed, 'OMBC.SystemDescription');
      if (!d) return { skip: 'no OMBC.SystemDescription' };
      const st = latest<MessageOf<'OMBC.Status'>>(observed, 'OMBC.Status', (s) =>
        d.operation_modes.some((m) => key(m.id) === key(s.active_operation_mode_id)),
      );
      const mode = st?.active_operation_mode_id ?? d.operation_modes.find((m) => !m.abnormal_condition_only)?.id;
      if (!mode) return { skip: 'the OMBC description has no operation mode for normal conditions' };
      return {
        ...base,
        message_type: 'OMBC.Instruction',
        operation_mode_id: spec.unknown ? never : mode,
        operation_mode_factor: st?.operation_mode_factor ?? 0,
        execution_time: at,
      };
    }
    case 'DDBC': {
      const d = latest<MessageOf<'DDBC.SystemDescription'>>(observed, 'DDBC.SystemDescription');
      const a = d?.actuators[0];
      if (!a) return { skip: 'no DDBC.SystemDescription with an actuator' };
      const st = latest<MessageOf<'DDBC.ActuatorStatus'>>(
        observed,
        'DDBC.ActuatorStatus',
        (s) => key(s.actuator_id) === key(a.id) && a.operation_modes.some((m) => key(m.Id) === key(s.active_operation_mode_id)),
      );
      const mode = st?.active_operation_mode_id ?? a.operation_modes.find((m) => !m.abnormal_condition_only)?.Id;
      if (!mode) return { skip: 'the DDBC actuator has no operation mode for normal conditions' };
      return {
        ...base,
        message_type: 'DDBC.Instruction',
        actuator_id: a.id,
        operation_mode_id: spec.unknown ? never : mode,
        operation_mode_factor: st?.operation_mode_factor ?? 0,
        execution_time: at,
      };
    }
    case 'PEBC':
      return pebcInstruction(observed, spec, base);
    case 'PPBC':
      return ppbcInstruction(observed, spec, base);
  }
}

/** R92, R96, R97: loosest upper limit and no curtailment, inside the constraints' validity. */
function pebcInstruction(
  observed: readonly IdentifiedMessage[],
  spec: InstructionSpec,
  base: { message_id: string; id: string; abnormal_condition: false },
): IdentifiedMessage | { skip: string } {
  const c = latest<MessageOf<'PEBC.PowerConstraints'>>(observed, 'PEBC.PowerConstraints');
  if (!c) return { skip: 'no PEBC.PowerConstraints' };
  const usable = c.allowed_limit_ranges.filter((r) => !r.abnormal_condition_only);
  for (const cq of new Set(usable.map((r) => r.commodity_quantity))) {
    const uppers = usable.filter((r) => r.commodity_quantity === cq && r.limit_type === 'UPPER_LIMIT');
    const lowers = usable.filter((r) => r.commodity_quantity === cq && r.limit_type === 'LOWER_LIMIT');
    if (!uppers.length || !lowers.length) continue;
    const upper = Math.max(...uppers.map((r) => r.range_boundary.end_of_range));
    const lowerRange = lowers.find((r) => r.range_boundary.start_of_range <= upper);
    if (!lowerRange) continue;
    const lower = lowerRange.range_boundary.start_of_range;
    const from = Math.max(spec.nowMs, Date.parse(c.valid_from));
    const until = c.valid_until === undefined ? Infinity : Date.parse(c.valid_until);
    let start = from + spec.leadMs;
    if (start + 15 * MIN > until) start = from;
    const duration = Math.floor(Math.min(15 * MIN, until - start));
    if (!(duration >= 1)) return { skip: `PEBC.PowerConstraints ${c.id} expire too soon for an envelope (R96)` };
    return {
      ...base,
      message_type: 'PEBC.Instruction',
      execution_time: iso(start),
      power_constraints_id: spec.unknown ? newId() : c.id,
      // R98: a fresh envelope id per instruction.
      power_envelopes: [
        { id: newId(), commodity_quantity: cq, power_envelope_elements: [{ duration, upper_limit: upper, lower_limit: lower }] },
      ],
    };
  }
  return { skip: `PEBC.PowerConstraints ${c.id} have no usable UPPER_LIMIT and LOWER_LIMIT pair (R92, R50)` };
}

/** R102, R103: the first container not scheduled yet, its first normal sequence, inside the profile window. */
function ppbcInstruction(
  observed: readonly IdentifiedMessage[],
  spec: InstructionSpec,
  base: { message_id: string; id: string; abnormal_condition: false },
): IdentifiedMessage | { skip: string } {
  const d = latest<MessageOf<'PPBC.PowerProfileDefinition'>>(observed, 'PPBC.PowerProfileDefinition');
  if (!d) return { skip: 'no PPBC.PowerProfileDefinition' };
  const status = latest<MessageOf<'PPBC.PowerProfileStatus'>>(observed, 'PPBC.PowerProfileStatus', (s) =>
    s.sequence_container_status.some((c) => key(c.power_profile_id) === key(d.id)),
  );
  const stateOf = (containerId: string) =>
    status?.sequence_container_status.find((c) => key(c.sequence_container_id) === key(containerId))?.status ?? 'NOT_SCHEDULED';
  const container = d.power_sequences_containers.find((c) => stateOf(c.id) === 'NOT_SCHEDULED');
  if (!container) return { skip: 'every PPBC container is scheduled already' };
  const sequence = container.power_sequences.find((s) => !s.abnormal_condition_only);
  if (!sequence) return { skip: `PPBC container ${container.id} has only abnormal-condition sequences (R50)` };
  const duration = sequence.elements.reduce((sum, e) => sum + e.duration, 0);
  const earliest = Math.max(spec.nowMs, Date.parse(d.start_time));
  const latestStart = Date.parse(d.end_time) - duration;
  if (latestStart < earliest) return { skip: `PPBC sequence ${sequence.id} no longer fits before end_time (R103)` };
  return {
    ...base,
    message_type: 'PPBC.ScheduleInstruction',
    power_profile_id: d.id,
    sequence_container_id: container.id,
    power_sequence_id: spec.unknown ? newId() : sequence.id,
    execution_time: iso(Math.min(earliest + spec.leadMs, latestStart)),
  };
}

/** An instruction of `short` that names nothing at all: for messages that must be refused before their references matter (R37, wrong sender). */
export function strayInstruction(short: ControlTypeShort, nowMs: number): IdentifiedMessage {
  const base = { message_id: newId(), id: newId(), execution_time: iso(nowMs), abnormal_condition: false } as const;
  switch (short) {
    case 'FRBC':
      return { ...base, message_type: 'FRBC.Instruction', actuator_id: newId(), operation_mode: newId(), operation_mode_factor: 0.5 };
    case 'OMBC':
      return { ...base, message_type: 'OMBC.Instruction', operation_mode_id: newId(), operation_mode_factor: 0.5 };
    case 'DDBC':
      return { ...base, message_type: 'DDBC.Instruction', actuator_id: newId(), operation_mode_id: newId(), operation_mode_factor: 0.5 };
    case 'PEBC':
      return {
        ...base,
        message_type: 'PEBC.Instruction',
        power_constraints_id: newId(),
        power_envelopes: [
          {
            id: newId(),
            commodity_quantity: 'ELECTRIC.POWER.3_PHASE_SYMMETRIC',
            power_envelope_elements: [{ duration: 15 * MIN, upper_limit: 0, lower_limit: -1000 }],
          },
        ],
      };
    case 'PPBC':
      return {
        ...base,
        message_type: 'PPBC.ScheduleInstruction',
        power_profile_id: newId(),
        sequence_container_id: newId(),
        power_sequence_id: newId(),
      };
  }
}
