import type { RmControlTypeHandler } from '../roles/rm-control.js';
import { newUuid } from '../roles/ids.js';
import type {
  PPBCPowerProfileDefinition,
  PPBCPowerSequence,
  PPBCPowerSequenceContainerStatus,
  PPBCPowerSequenceStatus,
} from '../typebox/ppbc/index.js';
import type { MessageFrom } from '../typebox/registry.js';
import { DeviceRuntime, positive, scaled, type SimOptions, type SimulatedDevice } from './device.js';

export interface WashingMachineOptions extends SimOptions {
  /** How long after the program is loaded it must be finished (the definition's end_time), ms real time. Default 12 h. */
  readonly windowMs?: number;
  /**
   * Report `progress` in PPBC.PowerProfileStatus once a sequence started (R105, the schema's
   * Duration). Default true. s2-python types `progress` as a UUID and fails on such a status:
   * set false when talking to it.
   */
  readonly progress?: boolean;
}

const CQ = 'ELECTRIC.POWER.L1' as const;
const STANDBY_W = 2;
const MIN = 60_000;

type PpbcInstruction = MessageFrom<'PPBC', 'CEM'>;

/** One step of a program: minutes and watts (real time). */
type Step = readonly [minutes: number, watts: number];

interface SequenceSpec {
  readonly label: string;
  readonly steps: readonly Step[];
  readonly interruptible: boolean;
}

/** The wash program: containers in order, each with alternative sequences (first = eco). */
const PROGRAM: readonly { readonly label: string; readonly maxPauseMin?: number; readonly sequences: readonly SequenceSpec[] }[] = [
  {
    label: 'pre-wash',
    sequences: [
      {
        label: 'eco pre-wash 30 °C',
        steps: [
          [5, 100],
          [8, 1800],
          [5, 150],
        ],
        interruptible: false,
      },
      {
        label: 'quick cold pre-wash',
        steps: [
          [4, 100],
          [6, 150],
        ],
        interruptible: false,
      },
    ],
  },
  {
    label: 'main wash',
    maxPauseMin: 30,
    sequences: [
      // Heating may pause (the laundry soaks), so the CEM may interrupt it (R104).
      {
        label: 'eco main wash 40 °C',
        steps: [
          [20, 2000],
          [40, 200],
        ],
        interruptible: true,
      },
      {
        label: 'fast main wash 60 °C',
        steps: [
          [15, 2200],
          [25, 250],
        ],
        interruptible: false,
      },
    ],
  },
  {
    label: 'rinse and spin',
    maxPauseMin: 15,
    sequences: [
      {
        label: 'rinse + spin 1400 rpm',
        steps: [
          [10, 150],
          [8, 600],
        ],
        interruptible: false,
      },
      {
        label: 'rinse + gentle spin 800 rpm',
        steps: [
          [10, 150],
          [6, 350],
        ],
        interruptible: false,
      },
    ],
  },
];

interface Container {
  readonly id: string;
  readonly sequences: PPBCPowerSequence[];
  status: PPBCPowerSequenceStatus;
  selected: string | undefined;
  /** The ScheduleInstruction that selected the sequence. */
  schedule: string | undefined;
  /** Due, but waiting for the previous container to finish. */
  waiting: boolean;
  startedAt: number;
  pausedAt: number;
  pausedMs: number;
  /** Run time so far (ms, pauses excluded). */
  progress: number;
}

interface Program {
  readonly definition: Omit<PPBCPowerProfileDefinition, 'message_id'>;
  readonly containers: Container[];
}

const durationOf = (s: PPBCPowerSequence) => s.elements.reduce((sum, e) => sum + e.duration, 0);
const sameId = (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/**
 * PPBC — a washing machine (docs/rules.md#ppbc). One PowerProfileDefinition per program: containers
 * pre-wash → main wash → rinse and spin, each with an eco and a fast alternative (the eco main wash
 * is interruptible). A ScheduleInstruction selects a sequence (container SCHEDULED at once), runs at
 * execution_time (EXECUTING; queued behind the previous container if that still runs) and ends
 * FINISHED with the instruction SUCCEEDED (R106). Start/EndInterruption pause and resume an
 * interruptible running sequence.
 */
export function createWashingMachine(options: WashingMachineOptions = {}): SimulatedDevice<'PPBC'> {
  const rt = new DeviceRuntime<'PPBC'>('washing machine', options);
  const windowMs = positive(options.windowMs, 12 * 60 * MIN, 'windowMs');
  const reportProgress = options.progress ?? true;
  let program: Program | undefined;

  const newProgram = (): Program => {
    const start = rt.now();
    const containers: Container[] = PROGRAM.map((c) => ({
      id: newUuid(),
      sequences: c.sequences.map((s) => ({
        id: newUuid(),
        elements: s.steps.map(([minutes, watts]) => ({
          duration: scaled(minutes * MIN, rt.speed),
          power_values: [{ commodity_quantity: CQ, value_expected: watts }],
        })),
        is_interruptible: s.interruptible,
        ...(c.maxPauseMin !== undefined ? { max_pause_before: scaled(c.maxPauseMin * MIN, rt.speed) } : {}),
        abnormal_condition_only: false,
      })),
      status: 'NOT_SCHEDULED',
      selected: undefined,
      schedule: undefined,
      waiting: false,
      startedAt: 0,
      pausedAt: 0,
      pausedMs: 0,
      progress: 0,
    }));
    return {
      definition: {
        message_type: 'PPBC.PowerProfileDefinition',
        id: newUuid(),
        start_time: start.toISOString(),
        end_time: new Date(start.getTime() + scaled(windowMs, rt.speed)).toISOString(),
        power_sequences_containers: containers.map((c) => ({ id: c.id, power_sequences: c.sequences })),
      },
      containers,
    };
  };

  const sequenceOf = (c: Container) => c.sequences.find((s) => sameId(s.id, c.selected));

  // R105: a status for every container; progress once the chosen sequence has started.
  const sendStatus = () => {
    if (!program) return;
    const p = program;
    rt.send({
      message_type: 'PPBC.PowerProfileStatus',
      sequence_container_status: p.containers.map((c): PPBCPowerSequenceContainerStatus => ({
        power_profile_id: p.definition.id,
        sequence_container_id: c.id,
        ...(c.selected !== undefined ? { selected_sequence_id: c.selected } : {}),
        ...(reportProgress && c.startedAt > 0 ? { progress: Math.round(c.progress) } : {}),
        status: c.status,
      })),
    });
  };

  const find = (m: PpbcInstruction) => {
    if (!program || !sameId(program.definition.id, m.power_profile_id)) return undefined;
    const index = program.containers.findIndex((c) => sameId(c.id, m.sequence_container_id));
    const container = program.containers[index];
    const sequence = container?.sequences.find((s) => sameId(s.id, m.power_sequence_id));
    return container && sequence ? { program, index, container, sequence } : undefined;
  };

  /** Why the machine cannot do this (R48, R50, R103, R104), or undefined. */
  const objection = (m: PpbcInstruction): string | undefined => {
    const found = find(m);
    if (!found) return 'unknown power profile, container or sequence (R102)';
    const { program: p, index, container: c, sequence: s } = found;
    if (s.abnormal_condition_only && !m.abnormal_condition) return 'sequence for abnormal conditions only (R50)';
    if (m.message_type === 'PPBC.ScheduleInstruction') {
      if (c.status !== 'NOT_SCHEDULED') return `container is ${c.status}: one sequence per container (R103)`;
      const earlier = p.containers.slice(0, index).find((e) => e.status === 'NOT_SCHEDULED' || e.status === 'ABORTED');
      if (earlier) return `the containers run in order: container ${earlier.id} is ${earlier.status} (R100)`;
      const at = Date.parse(m.execution_time);
      if (at < Date.parse(p.definition.start_time)) return 'execution_time before the profile start_time (R103)';
      if (Math.max(at, rt.now().getTime()) + durationOf(s) > Date.parse(p.definition.end_time))
        return 'the sequence would end after the profile end_time (R103)';
      return undefined;
    }
    if (!s.is_interruptible) return 'sequence is not interruptible (R104)';
    const needed = m.message_type === 'PPBC.StartInterruptionInstruction' ? 'EXECUTING' : 'INTERRUPTED';
    if (c.status !== needed || !sameId(c.selected, s.id)) return `container is ${c.status}, needs ${needed} with this sequence (R104)`;
    return undefined;
  };

  const start = (c: Container) => {
    const now = rt.now().getTime();
    c.waiting = false;
    c.status = 'EXECUTING';
    c.startedAt = now;
    c.pausedMs = 0;
    c.progress = 0;
    if (c.schedule) rt.status(c.schedule, 'STARTED');
    sendStatus();
  };
  const abort = (c: Container) => {
    c.waiting = false;
    c.status = 'ABORTED';
    if (c.schedule) rt.status(c.schedule, 'ABORTED');
    sendStatus();
  };

  const handler: RmControlTypeHandler<'PPBC'> = {
    activate(ctx) {
      rt.start(ctx, tick);
      if (!program || program.containers.every((c) => c.status === 'FINISHED' || c.status === 'ABORTED')) program = newProgram();
      // R99: the definition, then a status for every container.
      rt.send(program.definition);
      sendStatus();
    },
    onInstruction(instruction) {
      const why = objection(instruction);
      if (why) return { reject: why };
      const found = find(instruction);
      if (instruction.message_type === 'PPBC.ScheduleInstruction' && found) {
        found.container.status = 'SCHEDULED';
        found.container.selected = found.sequence.id;
        found.container.schedule = instruction.id;
        sendStatus(); // R106: NOT_SCHEDULED → SCHEDULED
      }
      return 'accept';
    },
    execute(instruction) {
      const found = find(instruction);
      if (!found) {
        rt.status(instruction.id, 'ABORTED');
        return;
      }
      const { program: p, index, container: c, sequence: s } = found;
      const now = rt.now().getTime();
      switch (instruction.message_type) {
        case 'PPBC.ScheduleInstruction': {
          if (!sameId(c.schedule, instruction.id) || c.status !== 'SCHEDULED') {
            rt.status(instruction.id, 'ABORTED');
            return;
          }
          const previous = p.containers[index - 1];
          if (previous && previous.status !== 'FINISHED') {
            // A washing machine does one thing at a time: wait for the previous container, or give up if it will never finish.
            if (previous.status === 'ABORTED' || previous.status === 'NOT_SCHEDULED') abort(c);
            else c.waiting = true;
            return;
          }
          start(c);
          return;
        }
        case 'PPBC.StartInterruptionInstruction':
          if (c.status !== 'EXECUTING' || !sameId(c.selected, s.id) || !s.is_interruptible) {
            rt.status(instruction.id, 'ABORTED');
            return;
          }
          rt.status(instruction.id, 'STARTED');
          c.progress = now - c.startedAt - c.pausedMs;
          c.status = 'INTERRUPTED';
          c.pausedAt = now;
          sendStatus();
          rt.status(instruction.id, 'SUCCEEDED');
          return;
        case 'PPBC.EndInterruptionInstruction':
          if (c.status !== 'INTERRUPTED' || !sameId(c.selected, s.id)) {
            rt.status(instruction.id, 'ABORTED');
            return;
          }
          rt.status(instruction.id, 'STARTED');
          c.pausedMs += now - c.pausedAt;
          c.status = 'EXECUTING';
          sendStatus();
          rt.status(instruction.id, 'SUCCEEDED');
          return;
      }
    },
    onRevoked(instruction) {
      rt.revoked(instruction.id);
      if (instruction.message_type !== 'PPBC.ScheduleInstruction') return;
      const c = find(instruction)?.container;
      if (!c || !sameId(c.schedule, instruction.id)) return;
      c.schedule = undefined;
      if (c.status === 'SCHEDULED') {
        // Not started: the container is free again (R58, R103).
        c.status = 'NOT_SCHEDULED';
        c.selected = undefined;
        c.waiting = false;
      } else if (c.status === 'EXECUTING' || c.status === 'INTERRUPTED') {
        c.status = 'ABORTED';
      }
      sendStatus();
    },
    deactivate() {
      const now = rt.now().getTime();
      rt.stop();
      // Q12, R40: the instructions die with the activation. What was only scheduled is free again;
      // a paused sequence resumes (nobody is left to end the pause); a running one runs on.
      for (const c of program?.containers ?? []) {
        c.schedule = undefined;
        if (c.status === 'SCHEDULED') {
          c.status = 'NOT_SCHEDULED';
          c.selected = undefined;
          c.waiting = false;
        } else if (c.status === 'INTERRUPTED') {
          c.pausedMs += now - c.pausedAt;
          c.status = 'EXECUTING';
        }
      }
    },
  };

  function tick(): void {
    const p = program;
    if (!p) return;
    const now = rt.now().getTime();
    let power = STANDBY_W;
    for (const [i, c] of p.containers.entries()) {
      if (c.status === 'EXECUTING') {
        const s = sequenceOf(c);
        c.progress = now - c.startedAt - c.pausedMs;
        if (!s || c.progress >= durationOf(s)) {
          c.progress = s ? durationOf(s) : c.progress;
          c.status = 'FINISHED'; // R106
          if (c.schedule) rt.status(c.schedule, 'SUCCEEDED');
          sendStatus();
        } else {
          power = powerAt(s, c.progress);
        }
      } else if (c.waiting) {
        const previous = p.containers[i - 1];
        if (!previous || previous.status === 'FINISHED') start(c);
        else if (previous.status === 'ABORTED') abort(c);
      }
    }
    rt.send({
      message_type: 'PowerMeasurement',
      measurement_timestamp: rt.now().toISOString(),
      values: [{ commodity_quantity: CQ, value: power }],
    });
  }

  return {
    controlType: 'PPBC',
    details: {
      resource_id: newUuid(),
      name: 'Washing machine',
      roles: [{ role: 'ENERGY_CONSUMER', commodity: 'ELECTRICITY' }],
      manufacturer: 's2-engine simulations',
      model: 'SimWash 8 kg',
      serial_number: `WM-${newUuid().slice(0, 8)}`,
      firmware_version: '2.3.1',
      instruction_processing_delay: 500,
      available_control_types: ['POWER_PROFILE_BASED_CONTROL'],
      provides_forecast: false,
      provides_power_measurement_types: [CQ],
    },
    handler,
    stop: () => rt.stop(),
  };
}

/** Expected power of a sequence `progressMs` after its start. */
function powerAt(s: PPBCPowerSequence, progressMs: number): number {
  let t = 0;
  for (const e of s.elements) {
    t += e.duration;
    if (progressMs < t) return e.power_values[0]?.value_expected ?? STANDBY_W;
  }
  return STANDBY_W;
}
