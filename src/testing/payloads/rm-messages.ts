/**
 * What the kit says when it plays the RM (testing a CEM): one realistic device per control type,
 * with every id a UUID (R3) derived from a per-session salt, and every time relative to the
 * session's start, so that descriptions are in force at once (R72) and a CEM can instruct them.
 *
 * - FRBC: a heat pump on a buffer tank (off / on / boost; boost for abnormal conditions only;
 *   minimum run and off timers) with its ActuatorStatus and StorageStatus (R60, R73).
 * - OMBC: a combined heat-and-power unit (off / half / full / boost) and its OMBC.Status (R83).
 * - DDBC: a heat pump meeting a heat demand (low / high / emergency heater) and its ActuatorStatus (R86);
 *   under S2 JSON 1.0.0-beta the description has no present_demand_rate and a
 *   DDBC.PresentDemandStatus comes first among the statuses (R112).
 * - PEBC: a PV inverter whose production may be curtailed (PowerConstraints, R91–R93).
 * - PPBC: a washing machine programme (prewash, wash, rinse, spin) and its PowerProfileStatus (R99, R105).
 *
 * Description `n` (1, 2, …) uses its own actuator / mode / constraints / profile ids, so a second
 * description supersedes (FRBC, OMBC, DDBC: R72) or joins (PEBC, PPBC: Q21) the first.
 */
import type { RevokableObjects } from '../../typebox/common/enums.js';
import type { DDBCActuatorDescription } from '../../typebox/ddbc/system-description.js';
import type { ControlTypeShort } from '../../typebox/message-spec.js';
import type { IdentifiedMessage, MessageOf } from '../../typebox/registry.js';
import type { S2Version } from '../../typebox/versions.js';
import { iso, newId, uuidFor } from './common.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const L1 = 'ELECTRIC.POWER.L1' as const;
const THREE_PHASE = 'ELECTRIC.POWER.3_PHASE_SYMMETRIC' as const;

/** The RM-side messages of one control type, for one session. */
export interface RmMessageSet {
  readonly short: ControlTypeShort;
  /** The message type that describes the flexibility (R39). */
  readonly descriptionType: RevokableObjects;
  /** The type a RevokeObject of an instruction names. */
  readonly instructionType: RevokableObjects;
  /** A revocable type of ANOTHER control type (R57). */
  readonly foreignType: RevokableObjects;
  /** Rules a status sent before any description breaks; empty when such a status is not a fault (PEBC). */
  readonly statusWithoutDescriptionRules: readonly string[];
  /** Rules a status naming an unknown mode / container breaks; empty when there is none to name (PEBC). */
  readonly statusUnknownRules: readonly string[];
  /** Description n. */
  describe(n: number): IdentifiedMessage;
  /** The statuses that follow description n (R60, R73, R83, R86, R99); may be empty (PEBC). */
  statuses(n: number): IdentifiedMessage[];
  /** A status naming something description n lacks; undefined for PEBC. */
  statusUnknown?(n: number): IdentifiedMessage;
  /** What RevokeObject names for a description (R56: its `id`; Q10: the message_id of a SystemDescription). */
  objectIdOf(description: IdentifiedMessage): string;
}

/**
 * The RM-side message set of a control type; `salt` makes the ids of one session unique, `nowMs`
 * anchors the times, `version` is the session's S2 JSON version (default 0.0.2-beta; only DDBC
 * differs).
 */
export function rmMessageSet(short: ControlTypeShort, salt: string, nowMs: number, version: S2Version = '0.0.2-beta'): RmMessageSet {
  const u = (label: string) => uuidFor(`${salt}:${short}:${label}`);
  const validFrom = iso(nowMs - HOUR);
  switch (short) {
    case 'FRBC':
      return frbc(u, validFrom);
    case 'OMBC':
      return ombc(u, validFrom);
    case 'DDBC':
      return ddbc(u, validFrom, version);
    case 'PEBC':
      return pebc(u, validFrom, nowMs);
    case 'PPBC':
      return ppbc(u, validFrom, nowMs);
  }
}

type Ids = (label: string) => string;

function frbc(u: Ids, validFrom: string): RmMessageSet {
  const id = (n: number) => ({
    actuator: u(`${n}:actuator`),
    off: u(`${n}:mode:off`),
    on: u(`${n}:mode:on`),
    boost: u(`${n}:mode:boost`),
    minRun: u(`${n}:timer:min-run`),
    minOff: u(`${n}:timer:min-off`),
  });
  const element = (rate: [number, number], power: [number, number]) => ({
    fill_level_range: { start_of_range: 20, end_of_range: 80 },
    fill_rate: { start_of_range: rate[0], end_of_range: rate[1] },
    power_ranges: [{ start_of_range: power[0], end_of_range: power[1], commodity_quantity: L1 }],
  });
  const status = (n: number, mode: string): MessageOf<'FRBC.ActuatorStatus'> => ({
    message_type: 'FRBC.ActuatorStatus',
    message_id: newId(),
    actuator_id: id(n).actuator,
    active_operation_mode_id: mode,
    operation_mode_factor: 0,
  });
  return {
    short: 'FRBC',
    descriptionType: 'FRBC.SystemDescription',
    instructionType: 'FRBC.Instruction',
    foreignType: 'OMBC.SystemDescription',
    statusWithoutDescriptionRules: ['R39', 'R62'],
    statusUnknownRules: ['R62'],
    describe(n): MessageOf<'FRBC.SystemDescription'> {
      const i = id(n);
      return {
        message_type: 'FRBC.SystemDescription',
        message_id: newId(),
        valid_from: validFrom,
        actuators: [
          {
            id: i.actuator,
            diagnostic_label: 'heat pump',
            supported_commodities: ['ELECTRICITY'],
            operation_modes: [
              { id: i.off, diagnostic_label: 'off', elements: [element([0, 0], [0, 0])], abnormal_condition_only: false },
              { id: i.on, diagnostic_label: 'on', elements: [element([0.5, 1.5], [1000, 3000])], abnormal_condition_only: false },
              {
                id: i.boost,
                diagnostic_label: 'boost (electric element)',
                elements: [element([2, 2], [5000, 5000])],
                abnormal_condition_only: true,
              },
            ],
            transitions: [
              {
                id: u(`${n}:transition:off-on`),
                from: i.off,
                to: i.on,
                start_timers: [i.minRun],
                blocking_timers: [i.minOff],
                transition_duration: MIN,
                abnormal_condition_only: false,
              },
              {
                id: u(`${n}:transition:on-off`),
                from: i.on,
                to: i.off,
                start_timers: [i.minOff],
                blocking_timers: [i.minRun],
                abnormal_condition_only: false,
              },
              {
                id: u(`${n}:transition:on-boost`),
                from: i.on,
                to: i.boost,
                start_timers: [],
                blocking_timers: [],
                abnormal_condition_only: true,
              },
            ],
            timers: [
              { id: i.minRun, diagnostic_label: 'minimum run time', duration: 20 * MIN },
              { id: i.minOff, diagnostic_label: 'minimum off time', duration: 10 * MIN },
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
    statuses: (n) => [status(n, id(n).off), { message_type: 'FRBC.StorageStatus', message_id: newId(), present_fill_level: 45 }],
    statusUnknown: (n) => status(n, u('mode:never-described')),
    objectIdOf: (d) => d.message_id,
  };
}

function ombc(u: Ids, validFrom: string): RmMessageSet {
  const id = (n: number) => ({
    off: u(`${n}:mode:off`),
    half: u(`${n}:mode:half`),
    full: u(`${n}:mode:full`),
    boost: u(`${n}:mode:boost`),
    minRun: u(`${n}:timer:min-run`),
    minOff: u(`${n}:timer:min-off`),
  });
  const status = (mode: string): MessageOf<'OMBC.Status'> => ({
    message_type: 'OMBC.Status',
    message_id: newId(),
    active_operation_mode_id: mode,
    operation_mode_factor: 0,
  });
  return {
    short: 'OMBC',
    descriptionType: 'OMBC.SystemDescription',
    instructionType: 'OMBC.Instruction',
    foreignType: 'DDBC.SystemDescription',
    statusWithoutDescriptionRules: ['R62', 'R83'],
    statusUnknownRules: ['R62'],
    describe(n): MessageOf<'OMBC.SystemDescription'> {
      const i = id(n);
      const mode = (modeId: string, label: string, kw: number, abnormal = false) => ({
        id: modeId,
        diagnostic_label: label,
        power_ranges: [{ start_of_range: -kw * 1000, end_of_range: -kw * 800, commodity_quantity: THREE_PHASE }],
        abnormal_condition_only: abnormal,
      });
      const t = (name: string, from: string, to: string, start: string[], blocking: string[]) => ({
        id: u(`${n}:transition:${name}`),
        from,
        to,
        start_timers: start,
        blocking_timers: blocking,
        abnormal_condition_only: false,
      });
      return {
        message_type: 'OMBC.SystemDescription',
        message_id: newId(),
        valid_from: validFrom,
        operation_modes: [
          mode(i.off, 'off', 0),
          mode(i.half, 'half load', 3),
          mode(i.full, 'full load', 6),
          mode(i.boost, 'boost', 7, true),
        ],
        transitions: [
          t('off-half', i.off, i.half, [i.minRun], [i.minOff]),
          t('half-full', i.half, i.full, [], []),
          t('full-half', i.full, i.half, [], []),
          t('half-off', i.half, i.off, [i.minOff], [i.minRun]),
          t('full-boost', i.full, i.boost, [], []),
        ],
        timers: [
          { id: i.minRun, diagnostic_label: 'minimum run time', duration: 15 * MIN },
          { id: i.minOff, diagnostic_label: 'minimum off time', duration: 10 * MIN },
        ],
      };
    },
    statuses: (n) => [status(id(n).off)],
    statusUnknown: () => status(u('mode:never-described')),
    objectIdOf: (d) => d.message_id,
  };
}

/** The heat demand the DDBC heat pump is to meet (its modes supply 2..9). */
const PRESENT_DEMAND = { start_of_range: 3, end_of_range: 4 };

function ddbc(u: Ids, validFrom: string, version: S2Version): RmMessageSet {
  const id = (n: number) => ({
    actuator: u(`${n}:actuator`),
    low: u(`${n}:mode:low`),
    high: u(`${n}:mode:high`),
    emergency: u(`${n}:mode:emergency`),
    antiCycle: u(`${n}:timer:anti-cycle`),
  });
  const status = (n: number, mode: string): MessageOf<'DDBC.ActuatorStatus'> => ({
    message_type: 'DDBC.ActuatorStatus',
    message_id: newId(),
    actuator_id: id(n).actuator,
    active_operation_mode_id: mode,
    operation_mode_factor: 0.3,
  });
  const v1 = version === '1.0.0-beta';
  const presentDemand = (): MessageOf<'DDBC.PresentDemandStatus'> => ({
    message_type: 'DDBC.PresentDemandStatus',
    message_id: newId(),
    present_demand_rate: PRESENT_DEMAND,
  });
  return {
    short: 'DDBC',
    descriptionType: 'DDBC.SystemDescription',
    instructionType: 'DDBC.Instruction',
    foreignType: 'FRBC.SystemDescription',
    statusWithoutDescriptionRules: ['R39', 'R62'],
    statusUnknownRules: ['R62'],
    describe(n): MessageOf<'DDBC.SystemDescription'> {
      const i = id(n);
      const mode = (modeId: string, label: string, power: [number, number], supply: [number, number], abnormal = false) => ({
        Id: modeId, // R88: the DDBC operation-mode key is `Id`
        diagnostic_label: label,
        power_ranges: [{ start_of_range: power[0], end_of_range: power[1], commodity_quantity: L1 }],
        supply_range: { start_of_range: supply[0], end_of_range: supply[1] },
        abnormal_condition_only: abnormal,
      });
      const head = { message_type: 'DDBC.SystemDescription' as const, message_id: newId(), valid_from: validFrom };
      const actuators: DDBCActuatorDescription[] = [
        {
          id: i.actuator,
          diagnostic_label: 'heat pump',
          supported_commodites: ['ELECTRICITY'], // R89: sic
          operation_modes: [
            mode(i.low, 'low', [500, 1500], [2, 5]),
            mode(i.high, 'high', [1500, 3000], [5, 9]),
            mode(i.emergency, 'emergency heater', [6000, 6000], [6, 6], true),
          ],
          transitions: [
            {
              id: u(`${n}:transition:low-high`),
              from: i.low,
              to: i.high,
              start_timers: [i.antiCycle],
              blocking_timers: [],
              abnormal_condition_only: false,
            },
            {
              id: u(`${n}:transition:high-low`),
              from: i.high,
              to: i.low,
              start_timers: [],
              blocking_timers: [i.antiCycle],
              abnormal_condition_only: false,
            },
            {
              id: u(`${n}:transition:low-emergency`),
              from: i.low,
              to: i.emergency,
              start_timers: [],
              blocking_timers: [],
              abnormal_condition_only: true,
            },
          ],
          timers: [{ id: i.antiCycle, diagnostic_label: 'anti-cycling', duration: 5 * MIN }],
        },
      ];
      // 0.0.2-beta: the present demand is part of the description; 1.0.0-beta: DDBC.PresentDemandStatus carries it (R112).
      return v1
        ? { ...head, actuators, provides_average_demand_rate_forecast: false }
        : { ...head, actuators, present_demand_rate: PRESENT_DEMAND, provides_average_demand_rate_forecast: false };
    },
    // R39, R112: under 1.0.0-beta the present demand comes first, right after the description it refers to.
    statuses: (n) => (v1 ? [presentDemand(), status(n, id(n).low)] : [status(n, id(n).low)]),
    statusUnknown: (n) => status(n, u('mode:never-described')),
    objectIdOf: (d) => d.message_id,
  };
}

function pebc(u: Ids, validFrom: string, nowMs: number): RmMessageSet {
  return {
    short: 'PEBC',
    descriptionType: 'PEBC.PowerConstraints',
    instructionType: 'PEBC.Instruction',
    foreignType: 'PPBC.PowerProfileDefinition',
    statusWithoutDescriptionRules: [],
    statusUnknownRules: [],
    describe: (n): MessageOf<'PEBC.PowerConstraints'> => ({
      message_type: 'PEBC.PowerConstraints',
      message_id: newId(),
      id: u(`${n}:power-constraints`),
      valid_from: validFrom,
      valid_until: iso(nowMs + 24 * HOUR),
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
    statuses: () => [],
    objectIdOf: (d) => (d as MessageOf<'PEBC.PowerConstraints'>).id,
  };
}

const CONTAINERS = ['prewash', 'wash', 'rinse', 'spin'] as const;

function ppbc(u: Ids, validFrom: string, nowMs: number): RmMessageSet {
  const profile = (n: number) => u(`${n}:profile`);
  const container = (n: number, slot: number) => u(`${n}:container:${CONTAINERS[slot] ?? slot}`);
  const sequence = (n: number, slot: number, variant: string) => u(`${n}:container:${slot}:sequence:${variant}`);
  return {
    short: 'PPBC',
    descriptionType: 'PPBC.PowerProfileDefinition',
    instructionType: 'PPBC.ScheduleInstruction',
    foreignType: 'PEBC.PowerConstraints',
    statusWithoutDescriptionRules: ['R39', 'R99'],
    statusUnknownRules: ['R105'],
    describe(n): MessageOf<'PPBC.PowerProfileDefinition'> {
      const seq = (slot: number, variant: 'normal' | 'eco' | 'express', minutes: number, watts: number) => ({
        id: sequence(n, slot, variant),
        elements: [{ duration: minutes * MIN, power_values: [{ commodity_quantity: L1, value_expected: watts }] }],
        is_interruptible: variant === 'eco',
        ...(slot > 0 ? { max_pause_before: 30 * MIN } : {}),
        abnormal_condition_only: variant === 'express',
      });
      return {
        message_type: 'PPBC.PowerProfileDefinition',
        message_id: newId(),
        id: profile(n),
        start_time: validFrom,
        end_time: iso(nowMs + 12 * HOUR),
        power_sequences_containers: CONTAINERS.map((_, slot) => ({
          id: container(n, slot),
          power_sequences: [seq(slot, 'normal', 20, 2000), seq(slot, 'eco', 40, 800), seq(slot, 'express', 10, 3500)],
        })),
      };
    },
    // R105: a status for every container.
    statuses: (n) => [
      {
        message_type: 'PPBC.PowerProfileStatus',
        message_id: newId(),
        sequence_container_status: CONTAINERS.map((_, slot) => ({
          power_profile_id: profile(n),
          sequence_container_id: container(n, slot),
          status: 'NOT_SCHEDULED' as const,
        })),
      },
    ],
    statusUnknown: (n) => ({
      message_type: 'PPBC.PowerProfileStatus',
      message_id: newId(),
      sequence_container_status: [
        { power_profile_id: profile(n), sequence_container_id: u('container:never-described'), status: 'NOT_SCHEDULED' },
      ],
    }),
    objectIdOf: (d) => (d as MessageOf<'PPBC.PowerProfileDefinition'>).id,
  };
}
