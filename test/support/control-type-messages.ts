/**
 * One realistic, schema- and rule-valid S2 message set per control type, for the model-based tests
 * of the control-type activation statechart and the instruction statechart (test/machines). Every
 * id is a UUID (R3) derived deterministically from a label, so runs are reproducible and every
 * message decodes with `decode(…, { ids: 'uuid' })` (checked by `expectDecodes`, which the drivers
 * call on every message they send).
 *
 * The devices:
 * - FRBC: a heat pump on a buffer tank (one actuator: off / on / boost, boost for abnormal
 *   conditions only; minimum run and minimum off timers).
 * - OMBC: a combined heat-and-power unit (off / half / full / boost, boost abnormal-only).
 * - DDBC: a heat pump meeting a heat demand (low / high / emergency heater, the last abnormal-only).
 * - PEBC: a PV inverter whose production the CEM may curtail (UPPER_LIMIT and LOWER_LIMIT ranges,
 *   a deeper LOWER_LIMIT range for abnormal conditions only); the "status" is a PEBC.EnergyConstraint.
 * - PPBC: a washing machine programme (four containers: prewash, wash, rinse, spin; each with a
 *   normal and an interruptible eco sequence and an abnormal-only express sequence).
 *
 * A control type's flexibility can be described more than once (`n` = 1, 2, …): description n uses
 * its own actuator / mode / constraints / profile ids, so an instruction can name an older
 * description on purpose (R72 for the types that supersede, Q21 for PEBC/PPBC, whose objects coexist).
 */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { decode } from '../../src/codec/index.js';
import type { InstructionStatus, RevokableObjects } from '../../src/typebox/common/enums.js';
import type { ControlTypeShort } from '../../src/typebox/message-spec.js';
import type { IdentifiedMessage, MessageOf } from '../../src/typebox/registry.js';

/** A deterministic version-4-shaped UUID for a label (R3, R4: emitted lowercase). */
export function uuidFor(label: string): string {
  const h = createHash('sha1').update(label).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The harness' default "now": 2026-01-01T00:00:00Z. */
export const BASE_MS = Date.parse('2026-01-01T00:00:00Z');
export const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
/** Descriptions are valid from an hour before BASE (R72: in force at once). */
const VALID_FROM = iso(BASE_MS - HOUR);

/** How a control type keeps its descriptions (R72 vs Q21). */
export type DescriptionKind =
  /** FRBC/OMBC/DDBC: a new SystemDescription supersedes the previous one, revoked by message_id (Q10). */
  | 'supersede'
  /** PEBC/PPBC: PowerConstraints / PowerProfileDefinitions coexist by their `id` (Q21), revoked by id (R56). */
  | 'coexist';

/** PPBC: what a ScheduleInstruction made of its container (R105, R106); unlisted containers are NOT_SCHEDULED. */
export interface ContainerState {
  readonly sequence: string;
  readonly status: 'SCHEDULED' | 'FINISHED';
}

export interface InstructionSpec {
  /** The instruction's `id` (not its message_id). */
  readonly id: string;
  readonly executionMs: number;
  /** Which description (1, 2, …) the instruction refers to. */
  readonly n: number;
  /** PPBC: which sequence container (0–3) to schedule; each schedule takes its own (R103). */
  readonly slot: number;
}

/** The S2 rule ids a refusal reason must name, per kind of refusal. */
export interface RefusalRules {
  /** A status while no description is in force. */
  readonly statusWithoutDescription: readonly string[];
  /** A status naming an unknown mode / container. */
  readonly statusUnknown: readonly string[];
  /** An instruction naming an unknown mode / constraints / sequence. */
  readonly instructionUnknown: readonly string[];
  /** An instruction naming the superseded description (kind 'supersede' only). */
  readonly instructionSuperseded: readonly string[];
}

export interface ControlTypeMessageSet {
  readonly short: ControlTypeShort;
  readonly kind: DescriptionKind;
  readonly descriptionType: RevokableObjects;
  readonly instructionType: RevokableObjects;
  /** A revocable object type of ANOTHER control type (R57). */
  readonly foreignType: RevokableObjects;
  readonly refusals: RefusalRules;
  /** The type-specific reference rules a path exercises (for test titles). */
  readonly referenceTags: readonly string[];
  /** Description n (R39: what the CEM instructs against). */
  describe(messageId: string, n: number): IdentifiedMessage;
  /** What RevokeObject names for description n (R56, Q10). */
  objectIdOf(description: IdentifiedMessage): string;
  /**
   * A status of the current situation, naming description n (FRBC/DDBC ActuatorStatus, OMBC
   * Status, PPBC PowerProfileStatus with what became of each container); PEBC: an EnergyConstraint.
   */
  status(messageId: string, n: number, containers?: ReadonlyMap<number, ContainerState>): IdentifiedMessage;
  /** A status naming a mode / container that description n lacks; undefined for PEBC (nothing to name). */
  statusUnknown?: (messageId: string, n: number) => IdentifiedMessage;
  /** A well-referenced instruction the RM can carry out. */
  instruction(messageId: string, spec: InstructionSpec): IdentifiedMessage;
  /** A well-referenced instruction that needs abnormal_condition: true (R50 ⇒ REJECTED on the RM, Q14). */
  abnormalOnlyInstruction(messageId: string, spec: InstructionSpec): IdentifiedMessage;
  /** An instruction naming something description n does not have. */
  unknownInstruction(messageId: string, spec: InstructionSpec): IdentifiedMessage;
}

const L1 = 'ELECTRIC.POWER.L1' as const;
const THREE_PHASE = 'ELECTRIC.POWER.3_PHASE_SYMMETRIC' as const;

export function revokeObject(messageId: string, objectType: RevokableObjects, objectId: string): MessageOf<'RevokeObject'> {
  return { message_type: 'RevokeObject', message_id: messageId, object_type: objectType, object_id: objectId };
}

export function statusUpdate(
  messageId: string,
  instructionId: string,
  status: InstructionStatus,
  atMs: number,
): MessageOf<'InstructionStatusUpdate'> {
  return {
    message_type: 'InstructionStatusUpdate',
    message_id: messageId,
    instruction_id: instructionId,
    status_type: status,
    timestamp: iso(atMs),
  };
}

// ---------------------------------------------------------------------------------------------
// FRBC: heat pump on a buffer tank

const frbcIds = (n: number) => ({
  actuator: uuidFor(`frbc:${n}:actuator:heat-pump`),
  off: uuidFor(`frbc:${n}:mode:off`),
  on: uuidFor(`frbc:${n}:mode:on`),
  boost: uuidFor(`frbc:${n}:mode:boost`),
  minRun: uuidFor(`frbc:${n}:timer:min-run`),
  minOff: uuidFor(`frbc:${n}:timer:min-off`),
  offOn: uuidFor(`frbc:${n}:transition:off-on`),
  onOff: uuidFor(`frbc:${n}:transition:on-off`),
  onBoost: uuidFor(`frbc:${n}:transition:on-boost`),
});

const FRBC: ControlTypeMessageSet = {
  short: 'FRBC',
  kind: 'supersede',
  descriptionType: 'FRBC.SystemDescription',
  instructionType: 'FRBC.Instruction',
  foreignType: 'OMBC.SystemDescription',
  refusals: {
    statusWithoutDescription: ['R39', 'R62'],
    statusUnknown: ['R62'],
    instructionUnknown: ['R75'],
    instructionSuperseded: ['R75', 'R72'],
  },
  referenceTags: ['R62', 'R75'],
  describe(messageId, n) {
    const id = frbcIds(n);
    const element = (rate: [number, number], power: [number, number]) => ({
      fill_level_range: { start_of_range: 20, end_of_range: 80 },
      fill_rate: { start_of_range: rate[0], end_of_range: rate[1] },
      power_ranges: [{ start_of_range: power[0], end_of_range: power[1], commodity_quantity: L1 }],
    });
    return {
      message_type: 'FRBC.SystemDescription',
      message_id: messageId,
      valid_from: VALID_FROM,
      actuators: [
        {
          id: id.actuator,
          diagnostic_label: 'heat pump',
          supported_commodities: ['ELECTRICITY'],
          operation_modes: [
            { id: id.off, diagnostic_label: 'off', elements: [element([0, 0], [0, 0])], abnormal_condition_only: false },
            { id: id.on, diagnostic_label: 'on', elements: [element([0.5, 1.5], [1000, 3000])], abnormal_condition_only: false },
            {
              id: id.boost,
              diagnostic_label: 'boost (electric element)',
              elements: [element([2, 2], [5000, 5000])],
              abnormal_condition_only: true,
            },
          ],
          transitions: [
            {
              id: id.offOn,
              from: id.off,
              to: id.on,
              start_timers: [id.minRun],
              blocking_timers: [id.minOff],
              transition_duration: 60_000,
              abnormal_condition_only: false,
            },
            {
              id: id.onOff,
              from: id.on,
              to: id.off,
              start_timers: [id.minOff],
              blocking_timers: [id.minRun],
              abnormal_condition_only: false,
            },
            { id: id.onBoost, from: id.on, to: id.boost, start_timers: [], blocking_timers: [], abnormal_condition_only: true },
          ],
          timers: [
            { id: id.minRun, diagnostic_label: 'minimum run time', duration: 20 * MIN },
            { id: id.minOff, diagnostic_label: 'minimum off time', duration: 10 * MIN },
          ],
        },
      ],
      storage: {
        diagnostic_label: 'buffer tank',
        fill_level_label: '°C',
        provides_leakage_behaviour: false,
        provides_fill_level_target_profile: false,
        provides_usage_forecast: false,
        fill_level_range: { start_of_range: 20, end_of_range: 80 },
      },
    };
  },
  objectIdOf: (d) => d.message_id,
  status: (messageId, n) => ({
    message_type: 'FRBC.ActuatorStatus',
    message_id: messageId,
    actuator_id: frbcIds(n).actuator,
    active_operation_mode_id: frbcIds(n).off,
    operation_mode_factor: 0,
  }),
  statusUnknown: (messageId, n) => ({
    message_type: 'FRBC.ActuatorStatus',
    message_id: messageId,
    actuator_id: frbcIds(n).actuator,
    active_operation_mode_id: uuidFor('frbc:mode:never-described'),
    operation_mode_factor: 0,
  }),
  instruction: (messageId, s) => frbcInstruction(messageId, s, frbcIds(s.n).on),
  abnormalOnlyInstruction: (messageId, s) => frbcInstruction(messageId, s, frbcIds(s.n).boost),
  unknownInstruction: (messageId, s) => frbcInstruction(messageId, s, uuidFor('frbc:mode:never-described')),
};

function frbcInstruction(messageId: string, s: InstructionSpec, mode: string): MessageOf<'FRBC.Instruction'> {
  return {
    message_type: 'FRBC.Instruction',
    message_id: messageId,
    id: s.id,
    actuator_id: frbcIds(s.n).actuator,
    operation_mode: mode,
    operation_mode_factor: 0.5,
    execution_time: iso(s.executionMs),
    abnormal_condition: false,
  };
}

// ---------------------------------------------------------------------------------------------
// OMBC: combined heat and power unit

const ombcIds = (n: number) => ({
  off: uuidFor(`ombc:${n}:mode:off`),
  half: uuidFor(`ombc:${n}:mode:half`),
  full: uuidFor(`ombc:${n}:mode:full`),
  boost: uuidFor(`ombc:${n}:mode:boost`),
  minRun: uuidFor(`ombc:${n}:timer:min-run`),
  minOff: uuidFor(`ombc:${n}:timer:min-off`),
  transition: (name: string) => uuidFor(`ombc:${n}:transition:${name}`),
});

const OMBC: ControlTypeMessageSet = {
  short: 'OMBC',
  kind: 'supersede',
  descriptionType: 'OMBC.SystemDescription',
  instructionType: 'OMBC.Instruction',
  foreignType: 'DDBC.SystemDescription',
  // ombc.ts names R62 and R83 (not R39) for a status without a description.
  refusals: {
    statusWithoutDescription: ['R62', 'R83'],
    statusUnknown: ['R62'],
    instructionUnknown: ['R84'],
    instructionSuperseded: ['R84'],
  },
  referenceTags: ['R62', 'R84'],
  describe(messageId, n) {
    const id = ombcIds(n);
    const mode = (modeId: string, label: string, kw: number, abnormal = false) => ({
      id: modeId,
      diagnostic_label: label,
      power_ranges: [{ start_of_range: -kw * 1000, end_of_range: -kw * 800, commodity_quantity: THREE_PHASE }],
      abnormal_condition_only: abnormal,
    });
    const t = (name: string, from: string, to: string, start: string[], blocking: string[]) => ({
      id: id.transition(name),
      from,
      to,
      start_timers: start,
      blocking_timers: blocking,
      abnormal_condition_only: false,
    });
    return {
      message_type: 'OMBC.SystemDescription',
      message_id: messageId,
      valid_from: VALID_FROM,
      operation_modes: [
        mode(id.off, 'off', 0),
        mode(id.half, 'half load', 3),
        mode(id.full, 'full load', 6),
        mode(id.boost, 'boost', 7, true),
      ],
      transitions: [
        t('off-half', id.off, id.half, [id.minRun], [id.minOff]),
        t('half-full', id.half, id.full, [], []),
        t('full-half', id.full, id.half, [], []),
        t('half-off', id.half, id.off, [id.minOff], [id.minRun]),
        t('full-boost', id.full, id.boost, [], []),
      ],
      timers: [
        { id: id.minRun, diagnostic_label: 'minimum run time', duration: 15 * MIN },
        { id: id.minOff, diagnostic_label: 'minimum off time', duration: 10 * MIN },
      ],
    };
  },
  objectIdOf: (d) => d.message_id,
  status: (messageId, n) => ({
    message_type: 'OMBC.Status',
    message_id: messageId,
    active_operation_mode_id: ombcIds(n).off,
    operation_mode_factor: 0,
  }),
  statusUnknown: (messageId) => ({
    message_type: 'OMBC.Status',
    message_id: messageId,
    active_operation_mode_id: uuidFor('ombc:mode:never-described'),
    operation_mode_factor: 0,
  }),
  instruction: (messageId, s) => ombcInstruction(messageId, s, ombcIds(s.n).half),
  abnormalOnlyInstruction: (messageId, s) => ombcInstruction(messageId, s, ombcIds(s.n).boost),
  unknownInstruction: (messageId, s) => ombcInstruction(messageId, s, uuidFor('ombc:mode:never-described')),
};

function ombcInstruction(messageId: string, s: InstructionSpec, mode: string): MessageOf<'OMBC.Instruction'> {
  return {
    message_type: 'OMBC.Instruction',
    message_id: messageId,
    id: s.id,
    operation_mode_id: mode,
    operation_mode_factor: 0.5,
    execution_time: iso(s.executionMs),
    abnormal_condition: false,
  };
}

// ---------------------------------------------------------------------------------------------
// DDBC: heat pump meeting a heat demand

const ddbcIds = (n: number) => ({
  actuator: uuidFor(`ddbc:${n}:actuator:heat-pump`),
  low: uuidFor(`ddbc:${n}:mode:low`),
  high: uuidFor(`ddbc:${n}:mode:high`),
  emergency: uuidFor(`ddbc:${n}:mode:emergency-heater`),
  antiCycle: uuidFor(`ddbc:${n}:timer:anti-cycle`),
  transition: (name: string) => uuidFor(`ddbc:${n}:transition:${name}`),
});

const DDBC: ControlTypeMessageSet = {
  short: 'DDBC',
  kind: 'supersede',
  descriptionType: 'DDBC.SystemDescription',
  instructionType: 'DDBC.Instruction',
  foreignType: 'FRBC.SystemDescription',
  refusals: {
    statusWithoutDescription: ['R39', 'R62'],
    statusUnknown: ['R62'],
    instructionUnknown: ['R87'],
    instructionSuperseded: ['R87', 'R72'],
  },
  referenceTags: ['R62', 'R87', 'R88'],
  describe(messageId, n) {
    const id = ddbcIds(n);
    const mode = (modeId: string, label: string, power: [number, number], supply: [number, number], abnormal = false) => ({
      Id: modeId,
      diagnostic_label: label,
      power_ranges: [{ start_of_range: power[0], end_of_range: power[1], commodity_quantity: L1 }],
      supply_range: { start_of_range: supply[0], end_of_range: supply[1] },
      abnormal_condition_only: abnormal,
    });
    return {
      message_type: 'DDBC.SystemDescription',
      message_id: messageId,
      valid_from: VALID_FROM,
      actuators: [
        {
          id: id.actuator,
          diagnostic_label: 'heat pump',
          supported_commodites: ['ELECTRICITY'],
          operation_modes: [
            mode(id.low, 'low', [500, 1500], [2, 5]),
            mode(id.high, 'high', [1500, 3000], [5, 9]),
            mode(id.emergency, 'emergency heater', [6000, 6000], [6, 6], true),
          ],
          transitions: [
            {
              id: id.transition('low-high'),
              from: id.low,
              to: id.high,
              start_timers: [id.antiCycle],
              blocking_timers: [],
              abnormal_condition_only: false,
            },
            {
              id: id.transition('high-low'),
              from: id.high,
              to: id.low,
              start_timers: [],
              blocking_timers: [id.antiCycle],
              abnormal_condition_only: false,
            },
            {
              id: id.transition('low-emergency'),
              from: id.low,
              to: id.emergency,
              start_timers: [],
              blocking_timers: [],
              abnormal_condition_only: true,
            },
          ],
          timers: [{ id: id.antiCycle, diagnostic_label: 'anti-cycling', duration: 5 * MIN }],
        },
      ],
      present_demand_rate: { start_of_range: 3, end_of_range: 4 },
      provides_average_demand_rate_forecast: false,
    };
  },
  objectIdOf: (d) => d.message_id,
  status: (messageId, n) => ({
    message_type: 'DDBC.ActuatorStatus',
    message_id: messageId,
    actuator_id: ddbcIds(n).actuator,
    active_operation_mode_id: ddbcIds(n).low,
    operation_mode_factor: 0.3,
  }),
  statusUnknown: (messageId, n) => ({
    message_type: 'DDBC.ActuatorStatus',
    message_id: messageId,
    actuator_id: ddbcIds(n).actuator,
    active_operation_mode_id: uuidFor('ddbc:mode:never-described'),
    operation_mode_factor: 0.3,
  }),
  instruction: (messageId, s) => ddbcInstruction(messageId, s, ddbcIds(s.n).high),
  abnormalOnlyInstruction: (messageId, s) => ddbcInstruction(messageId, s, ddbcIds(s.n).emergency),
  unknownInstruction: (messageId, s) => ddbcInstruction(messageId, s, uuidFor('ddbc:mode:never-described')),
};

function ddbcInstruction(messageId: string, s: InstructionSpec, mode: string): MessageOf<'DDBC.Instruction'> {
  return {
    message_type: 'DDBC.Instruction',
    message_id: messageId,
    id: s.id,
    actuator_id: ddbcIds(s.n).actuator,
    operation_mode_id: mode,
    operation_mode_factor: 0.8,
    execution_time: iso(s.executionMs),
    abnormal_condition: false,
  };
}

// ---------------------------------------------------------------------------------------------
// PEBC: PV inverter

const pebcConstraintsId = (n: number) => uuidFor(`pebc:${n}:power-constraints`);

const PEBC: ControlTypeMessageSet = {
  short: 'PEBC',
  kind: 'coexist',
  descriptionType: 'PEBC.PowerConstraints',
  instructionType: 'PEBC.Instruction',
  foreignType: 'PPBC.PowerProfileDefinition',
  refusals: { statusWithoutDescription: [], statusUnknown: [], instructionUnknown: ['R96'], instructionSuperseded: [] },
  referenceTags: ['R91', 'R96', 'R97', 'R98'],
  describe: (messageId, n) => ({
    message_type: 'PEBC.PowerConstraints',
    message_id: messageId,
    id: pebcConstraintsId(n),
    valid_from: VALID_FROM,
    consequence_type: 'VANISH',
    allowed_limit_ranges: [
      {
        commodity_quantity: THREE_PHASE,
        limit_type: 'UPPER_LIMIT',
        range_boundary: { start_of_range: -4000, end_of_range: 0 },
        abnormal_condition_only: false,
      },
      {
        commodity_quantity: THREE_PHASE,
        limit_type: 'LOWER_LIMIT',
        range_boundary: { start_of_range: -4000, end_of_range: 0 },
        abnormal_condition_only: false,
      },
      {
        commodity_quantity: THREE_PHASE,
        limit_type: 'LOWER_LIMIT',
        range_boundary: { start_of_range: -6000, end_of_range: -4000 },
        abnormal_condition_only: true,
      },
    ],
  }),
  objectIdOf: (d) => (d as MessageOf<'PEBC.PowerConstraints'>).id,
  // PEBC has no status message; the RM's other description, the optional EnergyConstraint (R91), takes its place.
  status: (messageId) => ({
    message_type: 'PEBC.EnergyConstraint',
    message_id: messageId,
    id: uuidFor(`pebc:energy-constraint:${messageId}`),
    valid_from: iso(BASE_MS),
    valid_until: iso(BASE_MS + 4 * HOUR),
    upper_average_power: -500,
    lower_average_power: -3500,
    commodity_quantity: THREE_PHASE,
  }),
  instruction: (messageId, s) => pebcInstruction(messageId, s, pebcConstraintsId(s.n), -2500),
  abnormalOnlyInstruction: (messageId, s) => pebcInstruction(messageId, s, pebcConstraintsId(s.n), -5000),
  unknownInstruction: (messageId, s) => pebcInstruction(messageId, s, uuidFor('pebc:power-constraints:never-sent'), -2500),
};

function pebcInstruction(messageId: string, s: InstructionSpec, constraints: string, lower: number): MessageOf<'PEBC.Instruction'> {
  return {
    message_type: 'PEBC.Instruction',
    message_id: messageId,
    id: s.id,
    execution_time: iso(s.executionMs),
    abnormal_condition: false,
    power_constraints_id: constraints,
    power_envelopes: [
      {
        // R98: a fresh envelope id per instruction.
        id: uuidFor(`pebc:envelope:${s.id}`),
        commodity_quantity: THREE_PHASE,
        power_envelope_elements: [
          { duration: 15 * MIN, upper_limit: 0, lower_limit: lower },
          { duration: 15 * MIN, upper_limit: -1000, lower_limit: lower },
        ],
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// PPBC: washing machine programme

const CONTAINERS = ['prewash', 'wash', 'rinse', 'spin'] as const;
const ppbcIds = (n: number) => ({
  profile: uuidFor(`ppbc:${n}:profile`),
  container: (slot: number) => uuidFor(`ppbc:${n}:container:${CONTAINERS[slot] ?? `slot-${slot}`}`),
  sequence: (slot: number, variant: 'normal' | 'eco' | 'express') => uuidFor(`ppbc:${n}:container:${slot}:sequence:${variant}`),
});

const PPBC: ControlTypeMessageSet = {
  short: 'PPBC',
  kind: 'coexist',
  descriptionType: 'PPBC.PowerProfileDefinition',
  instructionType: 'PPBC.ScheduleInstruction',
  foreignType: 'PEBC.PowerConstraints',
  refusals: { statusWithoutDescription: ['R39', 'R99'], statusUnknown: ['R105'], instructionUnknown: ['R102'], instructionSuperseded: [] },
  referenceTags: ['R99', 'R102', 'R105'],
  describe(messageId, n) {
    const id = ppbcIds(n);
    const sequence = (slot: number, variant: 'normal' | 'eco' | 'express', minutes: number, watts: number) => ({
      id: id.sequence(slot, variant),
      elements: [{ duration: minutes * MIN, power_values: [{ commodity_quantity: L1, value_expected: watts }] }],
      is_interruptible: variant === 'eco',
      ...(slot > 0 ? { max_pause_before: 30 * MIN } : {}),
      abnormal_condition_only: variant === 'express',
    });
    return {
      message_type: 'PPBC.PowerProfileDefinition',
      message_id: messageId,
      id: id.profile,
      start_time: VALID_FROM,
      end_time: iso(BASE_MS + 12 * HOUR),
      power_sequences_containers: CONTAINERS.map((_, slot) => ({
        id: id.container(slot),
        power_sequences: [sequence(slot, 'normal', 20, 2000), sequence(slot, 'eco', 40, 800), sequence(slot, 'express', 10, 3500)],
      })),
    };
  },
  objectIdOf: (d) => (d as MessageOf<'PPBC.PowerProfileDefinition'>).id,
  // R105: one status per container of the profile, with what the ScheduleInstructions made of it.
  status: (messageId, n, containers = new Map()) => ({
    message_type: 'PPBC.PowerProfileStatus',
    message_id: messageId,
    sequence_container_status: CONTAINERS.map((_, slot) => {
      const state = containers.get(slot);
      const base = { power_profile_id: ppbcIds(n).profile, sequence_container_id: ppbcIds(n).container(slot) };
      if (!state) return { ...base, status: 'NOT_SCHEDULED' as const };
      // R105: progress once the chosen sequence has started (a finished normal sequence ran 20 min).
      return {
        ...base,
        selected_sequence_id: state.sequence,
        status: state.status,
        ...(state.status === 'FINISHED' ? { progress: 20 * MIN } : {}),
      };
    }),
  }),
  statusUnknown: (messageId, n) => ({
    message_type: 'PPBC.PowerProfileStatus',
    message_id: messageId,
    sequence_container_status: [
      { power_profile_id: ppbcIds(n).profile, sequence_container_id: uuidFor('ppbc:container:never-described'), status: 'NOT_SCHEDULED' },
    ],
  }),
  instruction: (messageId, s) => ppbcSchedule(messageId, s, ppbcIds(s.n).sequence(s.slot, 'normal')),
  abnormalOnlyInstruction: (messageId, s) => ppbcSchedule(messageId, s, ppbcIds(s.n).sequence(s.slot, 'express')),
  unknownInstruction: (messageId, s) => ppbcSchedule(messageId, s, uuidFor('ppbc:sequence:never-described')),
};

function ppbcSchedule(messageId: string, s: InstructionSpec, sequence: string): MessageOf<'PPBC.ScheduleInstruction'> {
  if (s.slot >= CONTAINERS.length) throw new Error(`PPBC: no container ${s.slot} to schedule (the profile has ${CONTAINERS.length})`);
  return {
    message_type: 'PPBC.ScheduleInstruction',
    message_id: messageId,
    id: s.id,
    power_profile_id: ppbcIds(s.n).profile,
    sequence_container_id: ppbcIds(s.n).container(s.slot),
    power_sequence_id: sequence,
    execution_time: iso(s.executionMs),
    abnormal_condition: false,
  };
}

export const MESSAGE_SETS: Readonly<Record<ControlTypeShort, ControlTypeMessageSet>> = { FRBC, OMBC, DDBC, PEBC, PPBC };

/** Every message kind of a set, for descriptions 1 and 2 (the catalogue check of the model tests). */
export function catalogue(set: ControlTypeMessageSet): IdentifiedMessage[] {
  return [1, 2].flatMap((n) => {
    const id = (what: string) => uuidFor(`catalogue:${set.short}:${n}:${what}`);
    const d = set.describe(id('description'), n);
    const spec: InstructionSpec = { id: id('instruction'), executionMs: BASE_MS + HOUR, n, slot: n };
    const containers = new Map<number, ContainerState>([
      [0, { sequence: uuidFor(`ppbc:${n}:container:0:sequence:normal`), status: 'FINISHED' }],
      [1, { sequence: uuidFor(`ppbc:${n}:container:1:sequence:eco`), status: 'SCHEDULED' }],
    ]);
    return [
      d,
      set.status(id('status'), n, containers),
      ...(set.statusUnknown ? [set.statusUnknown(id('status-unknown'), n)] : []),
      set.instruction(id('instruction-message'), spec),
      set.abnormalOnlyInstruction(id('abnormal-instruction-message'), spec),
      set.unknownInstruction(id('unknown-instruction-message'), spec),
      revokeObject(id('revoke-description'), set.descriptionType, set.objectIdOf(d)),
      revokeObject(id('revoke-instruction'), set.instructionType, spec.id),
      statusUpdate(id('status-update'), spec.id, 'ACCEPTED', BASE_MS),
    ];
  });
}

/** Asserts that `message` is valid S2 with UUID ids: it decodes with the engine's codec (schema and rules). */
export function expectDecodes(message: IdentifiedMessage): void {
  const result = decode(JSON.stringify(message), { ids: 'uuid' });
  expect(result.ok ? 'decodes' : JSON.stringify(result.error.problems), `${message.message_type} must be valid S2`).toBe('decodes');
}
