import { spec } from '../message-spec.js';
import { Handshake, HandshakeResponse } from './handshake.js';
import { InstructionStatusUpdate } from './instruction-status-update.js';
import { PowerForecast, PowerMeasurement } from './measurement.js';
import { ReceptionStatus } from './reception-status.js';
import { ResourceManagerDetails } from './resource-manager-details.js';
import { RevokeObject } from './revoke-object.js';
import { SelectControlType, SessionRequest } from './session.js';

export * from './primitives.js';
export * from './enums.js';
export * from './power.js';
export * from './operation-mode.js';
export * from './handshake.js';
export * from './reception-status.js';
export * from './resource-manager-details.js';
export * from './session.js';
export * from './measurement.js';
export * from './instruction-status-update.js';
export * from './revoke-object.js';

/** The ten messages every S2 session uses, whatever its control type. */
export const COMMON_MESSAGES = {
  Handshake: spec(Handshake, 'both', 'common'),
  HandshakeResponse: spec(HandshakeResponse, 'CEM', 'common'),
  ReceptionStatus: spec(ReceptionStatus, 'both', 'common', { answered: false }),
  ResourceManagerDetails: spec(ResourceManagerDetails, 'RM', 'common'),
  SelectControlType: spec(SelectControlType, 'CEM', 'common'),
  SessionRequest: spec(SessionRequest, 'both', 'common'),
  PowerMeasurement: spec(PowerMeasurement, 'RM', 'common'),
  PowerForecast: spec(PowerForecast, 'RM', 'common'),
  InstructionStatusUpdate: spec(InstructionStatusUpdate, 'RM', 'common'),
  // Q9/R55: both sides may revoke their own objects.
  RevokeObject: spec(RevokeObject, 'both', 'common'),
} as const;
