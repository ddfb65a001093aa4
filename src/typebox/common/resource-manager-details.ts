import { Type, type Static } from '@sinclair/typebox';
import { Duration, ID } from './primitives.js';
import { Commodity, CommodityQuantity, ControlType, Currency, RoleType } from './enums.js';

/**
 * States, for one commodity, whether the resource acts as producer, consumer or storage.
 */
export const Role = Type.Object(
  {
    role: RoleType,
    commodity: Commodity,
  },
  { additionalProperties: false, title: 'Role' },
);
export type Role = Static<typeof Role>;

/**
 * Sent by the RM straight after the handshake (and again if the details change) to introduce
 * the device: identity, energy roles, offered control types, cost currency, instruction processing delay and
 * which measurements and forecasts it can deliver. The CEM needs it before it can select a control type.
 */
export const ResourceManagerDetails = Type.Object(
  {
    message_type: Type.Literal('ResourceManagerDetails'),
    message_id: ID,
    resource_id: ID,
    name: Type.Optional(Type.String()),
    roles: Type.Array(Role, { minItems: 1, maxItems: 3 }),
    manufacturer: Type.Optional(Type.String()),
    model: Type.Optional(Type.String()),
    serial_number: Type.Optional(Type.String()),
    firmware_version: Type.Optional(Type.String()),
    /** Average time (ms) the RM and device take to carry out an instruction. */
    instruction_processing_delay: Duration,
    available_control_types: Type.Array(ControlType, { minItems: 1, maxItems: 5 }),
    /** Needed whenever the RM publishes any cost information. */
    currency: Type.Optional(Currency),
    provides_forecast: Type.Boolean(),
    provides_power_measurement_types: Type.Array(CommodityQuantity, { minItems: 1, maxItems: 10 }),
  },
  { additionalProperties: false, title: 'ResourceManagerDetails' },
);
export type ResourceManagerDetails = Static<typeof ResourceManagerDetails>;
