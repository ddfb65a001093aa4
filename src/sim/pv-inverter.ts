import type { RmControlTypeHandler } from '../roles/rm-control.js';
import { newUuid } from '../roles/ids.js';
import type { PEBCInstruction, PEBCPowerConstraints, PEBCPowerEnvelopeElement } from '../typebox/pebc/index.js';
import { DeviceRuntime, positive, type SimOptions, type SimulatedDevice } from './device.js';

export interface PvInverterOptions extends SimOptions {
  /** Peak power of the array, W (positive). Default 4000. */
  readonly peakW?: number;
  /** Power the panels could deliver at a time, W (positive). Default a clear-sky day (sunrise 06:00, sunset 20:00 UTC). */
  readonly availableW?: (now: Date) => number;
}

const CQ = 'ELECTRIC.POWER.3_PHASE_SYMMETRIC' as const;

/** Clear-sky production: a sine between 06:00 and 20:00 UTC. */
export function clearSkyW(peakW: number): (now: Date) => number {
  return (now) => {
    const h = now.getUTCHours() + now.getUTCMinutes() / 60;
    return h <= 6 || h >= 20 ? 0 : peakW * Math.sin((Math.PI * (h - 6)) / 14);
  };
}

interface Envelope {
  readonly instructionId: string;
  readonly startMs: number;
  readonly elements: readonly PEBCPowerEnvelopeElement[];
}

/**
 * PEBC — a curtailable PV inverter (docs/rules.md#pebc). PowerConstraints allow an UPPER_LIMIT and a
 * LOWER_LIMIT, both −peak..0 (production is negative, R9; start ≤ end, R93/Q17). A PEBC.Instruction's
 * envelope is followed from execution_time to its end (STARTED … SUCCEEDED): production is
 * curtailed to the lower limit; an upper limit below what the sun gives cannot be met (ABORTED),
 * one below −peak never (REJECTED, R48).
 */
export function createPvInverter(options: PvInverterOptions = {}): SimulatedDevice<'PEBC'> {
  const rt = new DeviceRuntime<'PEBC'>('pv inverter', options);
  const peakW = positive(options.peakW, 4000, 'peakW');
  const availableW = options.availableW ?? clearSkyW(peakW);
  let constraints: Omit<PEBCPowerConstraints, 'message_id'> | undefined;
  let envelope: Envelope | undefined;

  const newConstraints = (): Omit<PEBCPowerConstraints, 'message_id'> => ({
    message_type: 'PEBC.PowerConstraints',
    id: newUuid(),
    valid_from: rt.now().toISOString(),
    consequence_type: 'VANISH', // curtailed sunshine is lost, not deferred
    allowed_limit_ranges: [
      {
        commodity_quantity: CQ,
        limit_type: 'UPPER_LIMIT',
        range_boundary: { start_of_range: -peakW, end_of_range: 0 },
        abnormal_condition_only: false,
      },
      {
        commodity_quantity: CQ,
        limit_type: 'LOWER_LIMIT',
        range_boundary: { start_of_range: -peakW, end_of_range: 0 },
        abnormal_condition_only: false,
      },
    ],
  });

  const objection = (m: PEBCInstruction): string | undefined => {
    if (!constraints || m.power_constraints_id.toLowerCase() !== constraints.id)
      return `unknown power_constraints_id ${m.power_constraints_id} (R96)`;
    for (const e of m.power_envelopes) {
      if (e.commodity_quantity !== CQ) return `the inverter has no ${e.commodity_quantity} (R97)`;
      for (const el of e.power_envelope_elements) {
        // R97: within the allowed ranges (−peak..0 for both limits).
        if (el.lower_limit < -peakW || el.lower_limit > 0 || el.upper_limit < -peakW || el.upper_limit > 0)
          return `limits ${el.lower_limit}..${el.upper_limit} outside ${-peakW}..0 (R97)`;
      }
    }
    return undefined;
  };

  /** The envelope element in force at `nowMs`, or undefined once the envelope is over. */
  const elementAt = (env: Envelope, nowMs: number): PEBCPowerEnvelopeElement | undefined => {
    let t = env.startMs;
    for (const el of env.elements) {
      t += el.duration;
      if (nowMs < t) return el;
    }
    return undefined;
  };

  const handler: RmControlTypeHandler<'PEBC'> = {
    activate(ctx) {
      rt.start(ctx, tick);
      envelope = undefined;
      // R91: the PowerConstraints describe the flexibility. No EnergyConstraint: a PV array has no energy need.
      constraints = newConstraints();
      rt.send(constraints);
    },
    onInstruction(instruction) {
      const why = objection(instruction);
      return why ? { reject: why } : 'accept';
    },
    execute(instruction) {
      if (objection(instruction)) {
        rt.status(instruction.id, 'ABORTED');
        return;
      }
      // A newer envelope replaces the one in force (R52 leaves it open; the inverter follows the latest).
      if (envelope) rt.status(envelope.instructionId, 'ABORTED');
      rt.status(instruction.id, 'STARTED');
      envelope = {
        instructionId: instruction.id,
        startMs: rt.now().getTime(),
        elements: instruction.power_envelopes[0]?.power_envelope_elements ?? [],
      };
      tick();
    },
    onRevoked(instruction) {
      rt.revoked(instruction.id);
      if (envelope && envelope.instructionId.toLowerCase() === instruction.id.toLowerCase()) envelope = undefined;
    },
    deactivate() {
      envelope = undefined;
      rt.stop();
    },
  };

  function tick(): void {
    const now = rt.now();
    let power = -Math.max(0, Math.min(peakW, availableW(now)));
    if (envelope) {
      const el = elementAt(envelope, now.getTime());
      if (!el) {
        rt.status(envelope.instructionId, 'SUCCEEDED'); // followed to its end
        envelope = undefined;
      } else {
        power = Math.max(power, el.lower_limit); // curtail: produce no more than −lower_limit
        if (power > el.upper_limit) {
          // The sun does not give what the upper limit demands.
          rt.status(envelope.instructionId, 'ABORTED');
          envelope = undefined;
        }
      }
    }
    const value = Math.round(power);
    rt.send({
      message_type: 'PowerMeasurement',
      measurement_timestamp: now.toISOString(),
      values: [{ commodity_quantity: CQ, value: value === 0 ? 0 : value }],
    });
  }

  return {
    controlType: 'PEBC',
    details: {
      resource_id: newUuid(),
      name: `Rooftop PV ${Math.round(peakW / 100) / 10} kWp`,
      roles: [{ role: 'ENERGY_PRODUCER', commodity: 'ELECTRICITY' }],
      manufacturer: 's2-engine simulations',
      model: 'SimSun 4000',
      serial_number: `PV-${newUuid().slice(0, 8)}`,
      firmware_version: '3.1.0',
      instruction_processing_delay: 100,
      available_control_types: ['POWER_ENVELOPE_BASED_CONTROL'],
      provides_forecast: false,
      provides_power_measurement_types: [CQ],
    },
    handler,
    stop: () => rt.stop(),
  };
}
