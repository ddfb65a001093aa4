/**
 * Generator of the realistic messages in `test/fixtures/*.json` that the tests and the benches use.
 * Regenerate with `npm run fixtures`; test/fixtures/fixtures.test.ts fails when the files drift.
 *
 * One story, told by the project's own payload builders (src/testing/payloads, what the
 * conformance kit says): an FRBC heat pump on a buffer tank (the kit's FRBC RM: off / on / boost,
 * minimum run and off timers, fill level = tank temperature in °C) and the CEM that controls it.
 * - Handshake, ResourceManagerDetails, PowerMeasurement: the RM's, as the kit builds them.
 * - FRBC.SystemDescription: the kit's description 1; FRBC.ActuatorStatus and FRBC.StorageStatus:
 *   the statuses that follow it (R73), so the status names that description's actuator and mode.
 * - FRBC.Instruction: what the kit's CEM builds from those messages (`instructionFor`): it refers
 *   to the same actuator and operation mode (R75).
 * - ReceptionStatus: the CEM's OK for the description.
 * - FRBC.UsageForecast: no builder sends one, so it is made here: the tank's hot-water draw-off
 *   over the next 24 h; the description's storage therefore says `provides_usage_forecast: true`.
 * - FRBC.SystemDescription.large (for the benches): five such heat pumps in cascade on the same
 *   tank (the kit’s descriptions 1–5, whose ids differ), each mode split into six 10 °C bands in
 *   which heating slows down as the tank gets warmer.
 *
 * - 1.0.0-beta/ (S2 JSON 1.0.0-beta, where DDBC differs): the kit's DDBC heat pump description
 *   without present_demand_rate, and the DDBC.PresentDemandStatus that carries that demand instead.
 *   The other messages are the same in both versions, so the files above serve 1.0.0-beta too.
 *
 * Deterministic: the builders derive object ids from a salt, message ids are seeded here, the
 * clock is fixed — two runs give the same bytes. The simulated devices (src/sim) are not used:
 * they draw random UUIDs, which would make every regeneration differ.
 */
import { S2_VERSION } from '../../src/machines/session-setup.js';
import {
  handshake,
  instructionFor,
  powerMeasurement,
  receptionStatus,
  rmDetails,
  rmMessageSet,
  uuidFor,
} from '../../src/testing/payloads/index.js';
import type { IdentifiedMessage, MessageIn, MessageOf, MessageType, S2Message } from '../../src/typebox/registry.js';
import type { S2Version } from '../../src/typebox/versions.js';

/** The fixtures' "now": descriptions are valid from an hour before, forecasts start at it. */
export const FIXTURE_NOW = '2025-01-01T12:00:00.000Z';
const NOW_MS = Date.parse(FIXTURE_NOW);
const MIN = 60_000;
const HOUR = 60 * MIN;
/** Salt of every id in the fixtures (the payload builders derive object ids from it). */
const SALT = 's2-engine test fixtures';

/** The fixture files, by name without `.json`. */
export const FIXTURE_NAMES = [
  'FRBC.ActuatorStatus',
  'FRBC.Instruction',
  'FRBC.StorageStatus',
  'FRBC.SystemDescription',
  'FRBC.SystemDescription.large',
  'FRBC.UsageForecast',
  'Handshake',
  'PowerMeasurement',
  'ReceptionStatus',
  'ResourceManagerDetails',
] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

/** The folder of the 1.0.0-beta fixtures, below test/fixtures/. */
export const V1_FIXTURE_FOLDER = '1.0.0-beta';
/** The 1.0.0-beta fixture files (in {@link V1_FIXTURE_FOLDER}), by name without `.json`. */
export const V1_FIXTURE_NAMES = ['DDBC.PresentDemandStatus', 'DDBC.SystemDescription'] as const;
export type V1FixtureName = (typeof V1_FIXTURE_NAMES)[number];

export interface V1FixtureMessages {
  readonly 'DDBC.PresentDemandStatus': MessageIn<'1.0.0-beta', 'DDBC.PresentDemandStatus'>;
  readonly 'DDBC.SystemDescription': MessageIn<'1.0.0-beta', 'DDBC.SystemDescription'>;
}

export interface FixtureMessages {
  readonly 'FRBC.ActuatorStatus': MessageOf<'FRBC.ActuatorStatus'>;
  readonly 'FRBC.Instruction': MessageOf<'FRBC.Instruction'>;
  readonly 'FRBC.StorageStatus': MessageOf<'FRBC.StorageStatus'>;
  readonly 'FRBC.SystemDescription': MessageOf<'FRBC.SystemDescription'>;
  readonly 'FRBC.SystemDescription.large': MessageOf<'FRBC.SystemDescription'>;
  readonly 'FRBC.UsageForecast': MessageOf<'FRBC.UsageForecast'>;
  readonly Handshake: MessageOf<'Handshake'>;
  readonly PowerMeasurement: MessageOf<'PowerMeasurement'>;
  readonly ReceptionStatus: MessageOf<'ReceptionStatus'>;
  readonly ResourceManagerDetails: MessageOf<'ResourceManagerDetails'>;
}

/** A seeded message id per fixture (the builders draw random ones). */
const messageId = (name: FixtureName | `${typeof V1_FIXTURE_FOLDER}/${V1FixtureName}`): string => uuidFor(`${SALT}:message:${name}`);

/** The message as its type, after checking its message_type (the builders return the union). */
function as<K extends MessageType>(type: K, m: S2Message | { readonly skip: string } | undefined): MessageOf<K> {
  if (!m || !('message_type' in m) || m.message_type !== type)
    throw new Error(`fixture generator: expected ${type}, got ${JSON.stringify(m)}`);
  return m;
}

/** Six decimals: enough for rates in °C/s, and no 17-digit float noise in the files. */
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6 || 0;

/** Relative hot-water draw per hour of the day (UTC): morning showers, dishes and baths in the evening. */
const DAILY_DRAW = [0.2, 0.1, 0.1, 0.1, 0.2, 0.6, 1.6, 2.0, 1.2, 0.6, 0.5, 0.5, 0.6, 0.5, 0.4, 0.4, 0.5, 0.8, 1.2, 1.5, 1.3, 0.9, 0.6, 0.3];
/** Draw-off at relative draw 1, °C/s: a 300 l tank losing about 4 °C an hour. */
const DRAW_C_PER_S = 0.0012;

/** 24 hourly elements from FIXTURE_NOW; the 68 % band inside the 95 % band inside the limits (R110). */
function usageForecast(): MessageOf<'FRBC.UsageForecast'> {
  const startHour = new Date(NOW_MS).getUTCHours();
  return {
    message_type: 'FRBC.UsageForecast',
    message_id: messageId('FRBC.UsageForecast'),
    start_time: FIXTURE_NOW,
    elements: DAILY_DRAW.map((_, h) => {
      const expected = DRAW_C_PER_S * (DAILY_DRAW[(startHour + h) % 24] ?? 1);
      return {
        duration: HOUR,
        usage_rate_upper_limit: round6(expected * 2.5),
        usage_rate_upper_95PPR: round6(expected * 1.6),
        usage_rate_upper_68PPR: round6(expected * 1.25),
        usage_rate_expected: round6(expected),
        usage_rate_lower_68PPR: round6(expected * 0.75),
        usage_rate_lower_95PPR: round6(expected * 0.45),
        usage_rate_lower_limit: 0,
      };
    }),
  };
}

type Actuator = MessageOf<'FRBC.SystemDescription'>['actuators'][number];
type Element = Actuator['operation_modes'][number]['elements'][number];

const BANDS = 6;
/** Heat pumps in the large description: about the size of a big real one (~55 kB pretty-printed). */
const LARGE_ACTUATORS = 5;
/** An element split into BANDS equal fill-level bands; each band heats 6 % slower than the one below it. */
function banded(e: Element): Element[] {
  const { start_of_range: from, end_of_range: to } = e.fill_level_range;
  return Array.from({ length: BANDS }, (_, k) => {
    const slower = 1 - 0.06 * k;
    return {
      ...e,
      fill_level_range: {
        start_of_range: round6(from + ((to - from) * k) / BANDS),
        end_of_range: round6(from + ((to - from) * (k + 1)) / BANDS),
      },
      fill_rate: { start_of_range: round6(e.fill_rate.start_of_range * slower), end_of_range: round6(e.fill_rate.end_of_range * slower) },
    };
  });
}

/** Every fixture as a message (a fresh copy per call). */
export function fixtureMessages(): FixtureMessages {
  const frbc = rmMessageSet('FRBC', SALT, NOW_MS);
  const described = as('FRBC.SystemDescription', frbc.describe(1));
  // The fixtures include a usage forecast for this tank (R74: the storage says it provides one).
  const description: MessageOf<'FRBC.SystemDescription'> = {
    ...described,
    message_id: messageId('FRBC.SystemDescription'),
    storage: { ...described.storage, provides_usage_forecast: true },
  };
  const [status, storage] = frbc.statuses(1);
  const actuatorStatus = { ...as('FRBC.ActuatorStatus', status), message_id: messageId('FRBC.ActuatorStatus') };
  const storageStatus = { ...as('FRBC.StorageStatus', storage), message_id: messageId('FRBC.StorageStatus') };
  const observed: IdentifiedMessage[] = [description, actuatorStatus, storageStatus];
  const instruction = {
    ...as('FRBC.Instruction', instructionFor('FRBC', observed, { id: uuidFor(`${SALT}:instruction:1`), nowMs: NOW_MS, leadMs: 5 * MIN })),
    message_id: messageId('FRBC.Instruction'),
  };
  const large: MessageOf<'FRBC.SystemDescription'> = {
    ...description,
    message_id: messageId('FRBC.SystemDescription.large'),
    actuators: Array.from({ length: LARGE_ACTUATORS }, (_, i) => {
      const a = as('FRBC.SystemDescription', frbc.describe(i + 1)).actuators[0];
      if (!a) throw new Error('fixture generator: the FRBC description has no actuator');
      return {
        ...a,
        diagnostic_label: `heat pump ${i + 1}`,
        operation_modes: a.operation_modes.map((m) => ({ ...m, elements: m.elements.flatMap(banded) })),
      };
    }),
  };
  return {
    'FRBC.ActuatorStatus': actuatorStatus,
    'FRBC.Instruction': instruction,
    'FRBC.StorageStatus': storageStatus,
    'FRBC.SystemDescription': description,
    'FRBC.SystemDescription.large': large,
    'FRBC.UsageForecast': usageForecast(),
    Handshake: { ...handshake('RM', [S2_VERSION]), message_id: messageId('Handshake') },
    PowerMeasurement: { ...powerMeasurement(NOW_MS), message_id: messageId('PowerMeasurement') },
    ReceptionStatus: receptionStatus(description.message_id, 'OK'),
    ResourceManagerDetails: {
      ...rmDetails(['FILL_RATE_BASED_CONTROL'], uuidFor(`${SALT}:resource`)),
      message_id: messageId('ResourceManagerDetails'),
    },
  };
}

/**
 * The 1.0.0-beta fixtures: the kit's DDBC heat pump description (a fresh copy per call), its
 * present demand moved out into a DDBC.PresentDemandStatus as 1.0.0-beta has it.
 */
export function v1FixtureMessages(): V1FixtureMessages {
  const described = as('DDBC.SystemDescription', rmMessageSet('DDBC', SALT, NOW_MS).describe(1));
  if (!('present_demand_rate' in described)) throw new Error('fixture generator: the kit’s DDBC description has no present_demand_rate');
  const { present_demand_rate, ...description } = described;
  return {
    'DDBC.PresentDemandStatus': {
      message_type: 'DDBC.PresentDemandStatus',
      message_id: messageId(`${V1_FIXTURE_FOLDER}/DDBC.PresentDemandStatus`),
      present_demand_rate,
    },
    'DDBC.SystemDescription': { ...description, message_id: messageId(`${V1_FIXTURE_FOLDER}/DDBC.SystemDescription`) },
  };
}

/** The S2 JSON version of a fixture file, by its path below test/fixtures/. */
export function fixtureVersion(file: string): S2Version {
  return file.startsWith(`${V1_FIXTURE_FOLDER}/`) ? '1.0.0-beta' : '0.0.2-beta';
}

/** The message with message_type and message_id as its first keys (the builders spread them anywhere), for a reader of the file. */
function headFirst(m: S2Message): Record<string, unknown> {
  const { message_type, ...rest } = m;
  const { message_id, ...body }: { message_id?: string } & Record<string, unknown> = rest;
  return message_id === undefined ? { message_type, ...body } : { message_type, message_id, ...body };
}

/**
 * The file texts: `<name>.json` (and `1.0.0-beta/<name>.json`) → pretty-printed JSON (2 spaces)
 * with a final newline.
 */
export function generateFixtures(): Map<string, string> {
  const messages = fixtureMessages();
  const v1 = v1FixtureMessages();
  const text = (m: S2Message): string => `${JSON.stringify(headFirst(m), null, 2)}\n`;
  return new Map([
    ...FIXTURE_NAMES.map((name): [string, string] => [`${name}.json`, text(messages[name])]),
    ...V1_FIXTURE_NAMES.map((name): [string, string] => [`${V1_FIXTURE_FOLDER}/${name}.json`, text(v1[name])]),
  ]);
}
