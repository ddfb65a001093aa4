// One side of the soak (test/soak/soak.test.ts), in a process of its own so that its heap holds
// nothing but that side's sessions: run by the test with `node --expose-gc` against dist/ (the
// built package, as users run it) and driven over the IPC channel.
//
//   node --expose-gc test/soak/soak-child.mjs cem
//   node --expose-gc test/soak/soak-child.mjs rms URL PER_TYPE
//
// `cem`: one createCemServer on 127.0.0.1 with a busy policy (below) for all five control types.
// `rms`: PER_TYPE createRmClient sessions of each control type, each with its own simulated device
// (s2-engine/sim), reconnecting as `s2 rm` does (the default back-off).
//
// To the parent: {type:'ready', …} once listening (cem) or dialling (rms); {type:'active', n} when
// the number of sessions whose control type is active changes; {type:'heap', …} every SAMPLE_MS
// after 'sample'; {type:'report', …} on 'report'. From the parent: 'sample', 'report', 'stop'.
//
// To find what grows: SOAK_HEAP_SNAPSHOTS=DIR writes a heap snapshot of each side at 'sample' and at
// 'report' (compare them with bench/heap-summary.mjs, `--per` the number of instructions given);
// SOAK_SNAPSHOT_FROM_MS=30000 takes the first one at the first sample after that long instead, so
// that the comparison leaves out the warm-up (instruction histories filling, V8's caches).
import { randomUUID } from 'node:crypto';
import { getHeapCodeStatistics, writeHeapSnapshot } from 'node:v8';
import { createCemServer, createRmClient } from '../../dist/index.js';
import { createDevice } from '../../dist/sim.js';
import { chooseDdbc, chooseFrbc, chooseOmbc, choosePebc, key } from '../../dist/sim/choose.js';

/** Pause between an instruction's final status and the next instruction of the same activation. */
const PACE_MS = 100;
/** PEBC: length of each power envelope (its instruction SUCCEEDS at the first device tick after it). */
const ENVELOPE_MS = 300;
/** Device tick (measurements, PEBC envelope ends, OMBC start-ups), ms. */
const TICK_MS = 250;
/**
 * Device time-lapse: 600 × real time makes the battery fill in seconds and the heat pump's timers
 * last about a second, so modes change often. The washing machine runs at 50 ×: its interruptible
 * main wash (60 min) then lasts 72 s of running time, about twice that with the CEM pausing it half
 * of the time, so PPBC interruption instructions go on for the whole soak.
 */
const SPEED = { FRBC: 600, PPBC: 50, OMBC: 600, PEBC: 600, DDBC: 600 };
const SAMPLE_MS = 5_000;
/**
 * Finished instructions whose status each session keeps readable (`instructionHistory`, default 100):
 * a cache bounded by construction (test/roles/instruction-growth.test.ts). With the default, the
 * PEBC sessions (an instruction every ~0.5 s) fill theirs only 50–70 s in, inside the measured
 * window, and that one-off fill (~100 records × 10 sessions a side) read as 100–150 KiB/min of
 * slope (soak runs with 100 and with 0 compared); 10 is full within the warm-up.
 * SOAK_INSTRUCTION_HISTORY=N overrides it, for a look at the default.
 */
const HISTORY = { instructionHistory: Number(process.env.SOAK_INSTRUCTION_HISTORY ?? 10) };
const TYPES = ['FRBC', 'PPBC', 'OMBC', 'PEBC', 'DDBC'];
const LEVELS = ['low', 'high', 'normal'];

if (typeof global.gc !== 'function') {
  process.stderr.write('soak-child: run with node --expose-gc\n');
  process.exit(2);
}
const send = (message) => process.send?.(message);

/** What both sides count: anything here but `sessions` and `states` is a protocol error in the soak. */
const counters = {
  sessions: 0,
  closes: 0,
  /** Messages this side answered with a ReceptionStatus other than OK, by status. */
  refused: {},
  /** ReceptionStatus other than OK received from the peer, by status. */
  peerNotOk: {},
  undecodable: 0,
  errors: 0,
  /** 'report' events by kind (reception-status-timeout, send-failed, handler-error, …). */
  reports: {},
  /** The first few problems, for the test's failure message. */
  firstProblems: [],
};
const problem = (text) => counters.firstProblems.length < 10 && counters.firstProblems.push(text);
const bump = (map, k) => (map[k] = (map[k] ?? 0) + 1);

const live = new Set();
let active = 0;
const isActive = (s) => /^connected\.active\.(FRBC|PPBC|OMBC|PEBC|DDBC)$/.test(s.state);
function instrument(session) {
  counters.sessions++;
  live.add(session);
  let wasActive = false;
  session.on('state', () => {
    const now = isActive(session);
    if (now !== wasActive) {
      wasActive = now;
      active += now ? 1 : -1;
      send({ type: 'active', n: active });
    }
  });
  session.on('refused', ({ status, reason }) => {
    bump(counters.refused, status);
    problem(`refused ${status}: ${reason}`);
  });
  session.on('received', ({ message }) => {
    if (message === undefined) {
      counters.undecodable++;
      problem('undecodable frame');
    } else if (message.message_type === 'ReceptionStatus' && message.status !== 'OK') {
      bump(counters.peerNotOk, message.status);
      problem(`peer answered ${message.status}: ${message.diagnostic_label ?? ''}`);
    }
  });
  session.on('error', ({ error, source }) => {
    counters.errors++;
    problem(`error in ${source}: ${error.message}`);
  });
  session.on('report', ({ kind, detail }) => {
    bump(counters.reports, kind);
    problem(`report ${kind}: ${detail}`);
  });
  session.on('close', ({ code, reason }) => {
    live.delete(session);
    if (wasActive) {
      wasActive = false;
      active--;
      send({ type: 'active', n: active });
    }
    if (!stopping) {
      counters.closes++;
      problem(`closed ${code} ${reason}`);
    }
  });
}

let stopping = false;
let sampler;
let sampleStart = 0;
function sample() {
  // Twice: a first full GC can leave garbage that only a finaliser or a weak map entry freed.
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  // Compiled code (V8 keeps optimising hot functions long after the warm-up) is not session state:
  // neither the machine code nor what V8 keeps beside it in the ordinary heap (deoptimisation data,
  // relocation info, source position tables, bytecode). In Node 20 only the machine code itself is
  // in the code space; the heap snapshots of the soak showed the rest growing by ~300 KB a minute
  // on the RM side after the warm-up, as functions were (re)optimised.
  const stats = getHeapCodeStatistics();
  const code = stats.code_and_metadata_size + stats.bytecode_and_metadata_size;
  const t = Date.now() - sampleStart;
  send({ type: 'heap', t, heapUsed: m.heapUsed, code, external: m.external, arrayBuffers: m.arrayBuffers });
  if (!baseTaken && t >= SNAPSHOT_FROM_MS) {
    baseTaken = true;
    snapshot('base');
  }
}
const SNAPSHOT_FROM_MS = Number(process.env.SOAK_SNAPSHOT_FROM_MS ?? 0);
let baseTaken = false;
function statesOf() {
  const states = {};
  for (const s of live) bump(states, s.state);
  return states;
}

/**
 * A CEM policy that keeps every activation busy: as soon as one instruction is final it waits
 * PACE_MS and gives the next, chosen with the simulation's own choice functions (valid modes,
 * reachable transitions, finished blocking timers, envelopes inside the allowed ranges) with the
 * price level turning low → high → normal, so modes really change. PPBC: the program's containers
 * are scheduled once, then its interruptible main wash is paused and resumed in turn.
 */
function busyPolicy(tally) {
  const states = new WeakMap();
  const stateOf = (ctx) => {
    let s = states.get(ctx);
    if (!s) states.set(ctx, (s = { busy: false, timer: undefined, turn: 0, statuses: new Map(), timers: new Map() }));
    return s;
  };
  const give = (ctx, type, s, input, gate) => {
    let handle;
    try {
      handle = ctx.instruct(input);
    } catch (err) {
      tally.failed++;
      problem(`${type} instruct failed: ${err.message}`);
      return;
    }
    tally.given[type]++;
    if (gate) s.busy = true;
    void handle.final.then((status) => {
      bump(tally.final[type], status);
      if (!gate) return;
      s.busy = false;
      kick(ctx, type, s);
    });
  };
  const kick = (ctx, type, s) => {
    if (s.busy || s.timer !== undefined || !ctx.active) return;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (!ctx.active || s.busy) return;
      const input = build[type](s, LEVELS[s.turn++ % LEVELS.length], Date.now());
      // Not ready (no description or status yet, nothing to pause): the next message kicks again.
      if (input) give(ctx, type, s, input, true);
    }, PACE_MS);
  };
  const lookup = (s, prefix) => (id) => s.timers.get(prefix + key(id));

  const build = {
    FRBC(s, level, now) {
      const a = s.description?.actuators[0];
      const st = a && s.statuses.get(key(a.id));
      if (!st || s.fill === undefined) return undefined;
      const c = chooseFrbc(
        a,
        st.active_operation_mode_id,
        st.operation_mode_factor,
        s.description.storage,
        s.fill,
        level,
        lookup(s, `${key(a.id)}/`),
        now,
      );
      return { message_type: 'FRBC.Instruction', actuator_id: a.id, operation_mode: c.modeId, operation_mode_factor: c.factor };
    },
    OMBC(s, level, now) {
      if (!s.description || !s.status) return undefined;
      const c = chooseOmbc(s.description, s.status.active_operation_mode_id, level, lookup(s, ''), now);
      return { message_type: 'OMBC.Instruction', operation_mode_id: c.modeId, operation_mode_factor: c.factor };
    },
    DDBC(s, level, now) {
      const d = s.description;
      const a = d?.actuators[0];
      const st = a && s.statuses.get(key(a.id));
      if (!st) return undefined;
      const demand =
        ((d.present_demand_rate.start_of_range + d.present_demand_rate.end_of_range) / 2) * { low: 1.5, high: 0.5, normal: 1 }[level];
      const c = chooseDdbc(a, st.active_operation_mode_id, demand, lookup(s, `${key(a.id)}/`), now);
      return { message_type: 'DDBC.Instruction', actuator_id: a.id, operation_mode_id: c.modeId, operation_mode_factor: c.factor };
    },
    PEBC(s, level, now) {
      if (!s.constraints) return undefined;
      const c = choosePebc(s.constraints, level, 0.5, ENVELOPE_MS, now);
      if ('skip' in c) return undefined;
      return {
        message_type: 'PEBC.Instruction',
        execution_time: new Date(c.executionMs).toISOString(),
        power_constraints_id: s.constraints.id,
        power_envelopes: [
          {
            id: randomUUID(),
            commodity_quantity: c.commodityQuantity,
            power_envelope_elements: [{ duration: c.durationMs, upper_limit: c.upper, lower_limit: c.lower }],
          },
        ],
      };
    },
    PPBC(s) {
      const main = s.main;
      const st = main && s.statuses.get(key(main.container.id));
      if (!st || key(st.selected_sequence_id ?? '') !== key(main.sequence.id)) return undefined;
      const path = { power_profile_id: s.definition.id, sequence_container_id: main.container.id, power_sequence_id: main.sequence.id };
      if (st.status === 'EXECUTING') return { message_type: 'PPBC.StartInterruptionInstruction', ...path };
      if (st.status === 'INTERRUPTED') return { message_type: 'PPBC.EndInterruptionInstruction', ...path };
      return undefined;
    },
  };

  const length = (sequence) => sequence.elements.reduce((sum, e) => sum + e.duration, 0);
  /** The whole program at once: the shortest sequence of each container, the interruptible one where there is one. */
  const schedulePpbc = (ctx, s) => {
    s.scheduled = true;
    for (const container of s.definition.power_sequences_containers) {
      const usable = container.power_sequences.filter((q) => !q.abnormal_condition_only);
      const interruptible = usable.find((q) => q.is_interruptible);
      const sequence = interruptible ?? [...usable].sort((a, b) => length(a) - length(b))[0];
      if (!sequence) continue;
      if (interruptible) s.main = { container, sequence };
      const input = {
        message_type: 'PPBC.ScheduleInstruction',
        power_profile_id: s.definition.id,
        sequence_container_id: container.id,
        power_sequence_id: sequence.id,
      };
      // Each container is due now: the machine queues it behind the one before (these stay open
      // until their container finishes, so they do not hold up the interruption loop).
      give(ctx, 'PPBC', s, input, false);
    }
  };

  const deactivate = (ctx) => {
    const s = stateOf(ctx);
    clearTimeout(s.timer);
    s.timer = undefined;
  };
  return {
    FRBC: {
      'FRBC.SystemDescription'(m, ctx) {
        stateOf(ctx).description = m;
        kick(ctx, 'FRBC', stateOf(ctx));
      },
      'FRBC.ActuatorStatus'(m, ctx) {
        stateOf(ctx).statuses.set(key(m.actuator_id), m);
        kick(ctx, 'FRBC', stateOf(ctx));
      },
      'FRBC.StorageStatus'(m, ctx) {
        stateOf(ctx).fill = m.present_fill_level;
        kick(ctx, 'FRBC', stateOf(ctx));
      },
      'FRBC.TimerStatus'(m, ctx) {
        stateOf(ctx).timers.set(`${key(m.actuator_id)}/${key(m.timer_id)}`, Date.parse(m.finished_at));
      },
      deactivate,
    },
    OMBC: {
      'OMBC.SystemDescription'(m, ctx) {
        stateOf(ctx).description = m;
        kick(ctx, 'OMBC', stateOf(ctx));
      },
      'OMBC.Status'(m, ctx) {
        stateOf(ctx).status = m;
        kick(ctx, 'OMBC', stateOf(ctx));
      },
      'OMBC.TimerStatus'(m, ctx) {
        stateOf(ctx).timers.set(key(m.timer_id), Date.parse(m.finished_at));
      },
      deactivate,
    },
    DDBC: {
      'DDBC.SystemDescription'(m, ctx) {
        stateOf(ctx).description = m;
        kick(ctx, 'DDBC', stateOf(ctx));
      },
      'DDBC.ActuatorStatus'(m, ctx) {
        stateOf(ctx).statuses.set(key(m.actuator_id), m);
        kick(ctx, 'DDBC', stateOf(ctx));
      },
      'DDBC.TimerStatus'(m, ctx) {
        stateOf(ctx).timers.set(`${key(m.actuator_id)}/${key(m.timer_id)}`, Date.parse(m.finished_at));
      },
      deactivate,
    },
    PEBC: {
      'PEBC.PowerConstraints'(m, ctx) {
        stateOf(ctx).constraints = m;
        kick(ctx, 'PEBC', stateOf(ctx));
      },
      deactivate,
    },
    PPBC: {
      'PPBC.PowerProfileDefinition'(m, ctx) {
        const s = stateOf(ctx);
        s.definition = m;
        s.scheduled = false;
        s.main = undefined;
      },
      'PPBC.PowerProfileStatus'(m, ctx) {
        const s = stateOf(ctx);
        s.statuses = new Map(m.sequence_container_status.map((x) => [key(x.sequence_container_id), x]));
        if (s.definition && !s.scheduled && m.sequence_container_status.every((x) => x.status === 'NOT_SCHEDULED')) schedulePpbc(ctx, s);
        kick(ctx, 'PPBC', s);
      },
      deactivate,
    },
  };
}

async function runCem() {
  const tally = {
    given: Object.fromEntries(TYPES.map((t) => [t, 0])),
    final: Object.fromEntries(TYPES.map((t) => [t, {}])),
    failed: 0,
  };
  const server = await createCemServer({
    port: 0,
    host: '127.0.0.1',
    logger: false,
    ...HISTORY,
    controlTypes: busyPolicy(tally),
    onSession: instrument,
  });
  send({ type: 'ready', url: server.url, config: { PACE_MS, ENVELOPE_MS, TICK_MS, SPEED } });
  return {
    report: () => ({ ...counters, states: statesOf(), metrics: server.metrics(), tally }),
    stop: () => server.close(),
  };
}

async function runRms(url, perType) {
  const clients = [];
  const devices = [];
  const sessionsPerClient = [];
  for (const type of TYPES) {
    for (let i = 0; i < perType; i++) {
      const device = createDevice(type, { speed: SPEED[type], tickMs: TICK_MS });
      const n = clients.length;
      sessionsPerClient.push(0);
      devices.push(device);
      clients.push(
        createRmClient({
          url,
          logger: false,
          ...HISTORY,
          details: device.details,
          controlTypes: { [type]: device.handler },
          onSession: (session) => {
            sessionsPerClient[n]++;
            instrument(session);
          },
          onDialError: (err) => problem(`dial failed: ${err.message}`),
        }),
      );
    }
  }
  send({ type: 'ready', clients: clients.length });
  return {
    report: () => ({ ...counters, states: statesOf(), sessionsPerClient }),
    stop: async () => {
      for (const d of devices) d.stop();
      await Promise.all(clients.map((c) => c.stop()));
    },
  };
}

const [role, url, perType] = process.argv.slice(2);
const snapshot = (name) =>
  process.env.SOAK_HEAP_SNAPSHOTS && writeHeapSnapshot(`${process.env.SOAK_HEAP_SNAPSHOTS}/${role}-${name}.heapsnapshot`);
const side = role === 'cem' ? await runCem() : await runRms(url, Number(perType));
process.on('message', async (message) => {
  if (message === 'sample') {
    sampleStart = Date.now();
    sample();
    sampler = setInterval(sample, SAMPLE_MS);
  } else if (message === 'report') {
    snapshot('after');
    const cpu = process.cpuUsage();
    send({ type: 'report', report: { ...side.report(), cpuMs: Math.round((cpu.user + cpu.system) / 1000) } });
  } else if (message === 'stop') {
    stopping = true;
    clearInterval(sampler);
    await side.stop();
    process.disconnect();
  }
});
// The parent gone (the test failed or was killed): nothing left to do.
process.on('disconnect', () => {
  if (!stopping) process.exit(1);
});
