import type { Static } from '@sinclair/typebox';
import { StringEnum } from './primitives.js';

/**
 * Energy carrier a resource deals with: gas, heat, electricity or oil.
 * Appears in RM roles and in the commodity lists of FRBC/DDBC actuators.
 */
export const Commodity = StringEnum(['GAS', 'HEAT', 'ELECTRICITY', 'OIL'], { title: 'Commodity' });
export type Commodity = Static<typeof Commodity>;

/**
 * Names the physical quantity a power or flow value is expressed in: electric power per phase
 * (L1/L2/L3, single-phase devices use L1) or spread evenly over three phases, gas/hydrogen/oil flow,
 * or heat temperature, flow and thermal power. Electric power values are in W.
 */
export const CommodityQuantity = StringEnum(
  [
    'ELECTRIC.POWER.L1',
    'ELECTRIC.POWER.L2',
    'ELECTRIC.POWER.L3',
    'ELECTRIC.POWER.3_PHASE_SYMMETRIC',
    'NATURAL_GAS.FLOW_RATE',
    'HYDROGEN.FLOW_RATE',
    'HEAT.TEMPERATURE',
    'HEAT.FLOW_RATE',
    'HEAT.THERMAL_POWER',
    'OIL.FLOW_RATE',
  ],
  { title: 'CommodityQuantity' },
);
export type CommodityQuantity = Static<typeof CommodityQuantity>;

/**
 * Control types an RM may offer in ResourceManagerDetails and the CEM may pick with SelectControlType,
 * plus two non-control states: `NO_SELECTION` (nothing active yet) and `NOT_CONTROLABLE`.
 * Note the official wire spelling `NOT_CONTROLABLE` with a single L.
 */
export const ControlType = StringEnum(
  [
    'POWER_ENVELOPE_BASED_CONTROL',
    'POWER_PROFILE_BASED_CONTROL',
    'OPERATION_MODE_BASED_CONTROL',
    'FILL_RATE_BASED_CONTROL',
    'DEMAND_DRIVEN_BASED_CONTROL',
    'NOT_CONTROLABLE',
    'NO_SELECTION',
  ],
  { title: 'ControlType' },
);
export type ControlType = Static<typeof ControlType>;

/**
 * ISO 4217 currency code, as listed by the official schema, in which an RM expresses all of its
 * cost figures (running costs, transition costs).
 */
export const Currency = StringEnum(
  [
    'AED',
    'ANG',
    'AUD',
    'CHE',
    'CHF',
    'CHW',
    'EUR',
    'GBP',
    'LBP',
    'LKR',
    'LRD',
    'LSL',
    'LYD',
    'MAD',
    'MDL',
    'MGA',
    'MKD',
    'MMK',
    'MNT',
    'MOP',
    'MRO',
    'MUR',
    'MVR',
    'MWK',
    'MXN',
    'MXV',
    'MYR',
    'MZN',
    'NAD',
    'NGN',
    'NIO',
    'NOK',
    'NPR',
    'NZD',
    'OMR',
    'PAB',
    'PEN',
    'PGK',
    'PHP',
    'PKR',
    'PLN',
    'PYG',
    'QAR',
    'RON',
    'RSD',
    'RUB',
    'RWF',
    'SAR',
    'SBD',
    'SCR',
    'SDG',
    'SEK',
    'SGD',
    'SHP',
    'SLL',
    'SOS',
    'SRD',
    'SSP',
    'STD',
    'SYP',
    'SZL',
    'THB',
    'TJS',
    'TMT',
    'TND',
    'TOP',
    'TRY',
    'TTD',
    'TWD',
    'TZS',
    'UAH',
    'UGX',
    'USD',
    'USN',
    'UYI',
    'UYU',
    'UZS',
    'VEF',
    'VND',
    'VUV',
    'WST',
    'XAG',
    'XAU',
    'XBA',
    'XBB',
    'XBC',
    'XBD',
    'XCD',
    'XOF',
    'XPD',
    'XPF',
    'XPT',
    'XSU',
    'XTS',
    'XUA',
    'XXX',
    'YER',
    'ZAR',
    'ZMW',
    'ZWL',
  ],
  { title: 'Currency' },
);
export type Currency = Static<typeof Currency>;

/**
 * Which side of an S2 session a party plays: the Customer Energy Manager (`CEM`) or the
 * Resource Manager (`RM`). Sent as `role` in the Handshake.
 */
export const EnergyManagementRole = StringEnum(['CEM', 'RM'], { title: 'EnergyManagementRole' });
export type EnergyManagementRole = Static<typeof EnergyManagementRole>;

/**
 * How a resource relates to a commodity: it produces it, consumes it, or stores it.
 * Combined with a Commodity in a Role.
 */
export const RoleType = StringEnum(['ENERGY_PRODUCER', 'ENERGY_CONSUMER', 'ENERGY_STORAGE'], { title: 'RoleType' });
export type RoleType = Static<typeof RoleType>;

/**
 * Result codes for a ReceptionStatus: `OK`, or the kind of problem the receiver had with the
 * message (unparseable, schema violation, bad content such as an unknown ID, or a temporary/permanent error).
 */
export const ReceptionStatusValues = StringEnum(
  ['INVALID_DATA', 'INVALID_MESSAGE', 'INVALID_CONTENT', 'TEMPORARY_ERROR', 'PERMANENT_ERROR', 'OK'],
  { title: 'ReceptionStatusValues' },
);
export type ReceptionStatusValues = Static<typeof ReceptionStatusValues>;

/**
 * Message types whose objects may later be withdrawn with RevokeObject: the OMBC/FRBC/DDBC
 * system descriptions, PEBC constraints, the PPBC power profile definition, and every control type's instructions.
 */
export const RevokableObjects = StringEnum(
  [
    'PEBC.PowerConstraints',
    'PEBC.EnergyConstraint',
    'PEBC.Instruction',
    'PPBC.PowerProfileDefinition',
    'PPBC.ScheduleInstruction',
    'PPBC.StartInterruptionInstruction',
    'PPBC.EndInterruptionInstruction',
    'OMBC.SystemDescription',
    'OMBC.Instruction',
    'FRBC.SystemDescription',
    'FRBC.Instruction',
    'DDBC.SystemDescription',
    'DDBC.Instruction',
  ],
  { title: 'RevokableObjects' },
);
export type RevokableObjects = Static<typeof RevokableObjects>;

/**
 * What a SessionRequest asks for: `RECONNECT` (drop the WebSocket and start over with a fresh
 * handshake) or `TERMINATE` (close the session; the client may try again later with exponential backoff).
 */
export const SessionRequestType = StringEnum(['RECONNECT', 'TERMINATE'], { title: 'SessionRequestType' });
export type SessionRequestType = Static<typeof SessionRequestType>;

/**
 * Lifecycle states an RM reports for a CEM instruction via InstructionStatusUpdate. Roughly
 * NEW -> ACCEPTED -> STARTED -> SUCCEEDED/ABORTED; REJECTED and REVOKED are the other final outcomes.
 */
export const InstructionStatus = StringEnum(['NEW', 'ACCEPTED', 'REJECTED', 'REVOKED', 'STARTED', 'SUCCEEDED', 'ABORTED'], {
  title: 'InstructionStatus',
});
export type InstructionStatus = Static<typeof InstructionStatus>;
