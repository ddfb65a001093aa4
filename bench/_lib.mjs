// Helpers shared by the benchmarks in this folder (plain ESM, no dependency beyond node: and `ws`).
// Not a benchmark itself: `npm run bench` never runs it.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export const FIXTURE_DIR = new URL('../../shared/fixtures/bench/', import.meta.url);

/** A fixture as a message for `session.send`: `message_id` removed so `send` fills a fresh one. */
export function fixture(name) {
  const value = JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURE_DIR), 'utf8'));
  delete value.message_id;
  return value;
}

/**
 * The realistic FRBC traffic of one RM: its description (sent once after activation) and a
 * weighted cycle of what it sends afterwards.
 *
 * Fixture quirk: FRBC.ActuatorStatus.json names actuator d654277e-…, which is not an actuator of
 * FRBC.SystemDescription.json (f3e163e1-…); its two mode ids are that actuator's. Unpatched, every
 * ActuatorStatus is refused INVALID_CONTENT (R62) and `send` throws INVALID_STATE. The benches
 * point it at the description's first actuator.
 */
export function frbcTraffic() {
  const description = fixture('FRBC.SystemDescription');
  const actuator = description.actuators[0];
  const actuatorStatus = fixture('FRBC.ActuatorStatus');
  const modes = new Set(actuator.operation_modes.map((m) => m.id));
  if (!modes.has(actuatorStatus.active_operation_mode_id) || !modes.has(actuatorStatus.previous_operation_mode_id)) {
    throw new Error('fixtures changed: FRBC.ActuatorStatus modes are not modes of the description’s first actuator');
  }
  actuatorStatus.actuator_id = actuator.id;
  const pm = fixture('PowerMeasurement');
  const ss = fixture('FRBC.StorageStatus');
  const uf = fixture('FRBC.UsageForecast');
  // Measurements dominate real traffic; a forecast is rarer but big (the bytes are in it).
  const mix = [pm, ss, pm, actuatorStatus, pm, ss, pm, uf];
  const details = fixture('ResourceManagerDetails');
  delete details.message_type;
  return { description, mix, details, measurement: pm };
}

/** Splits a JSON text around its message_id so a fresh id costs one concatenation. */
export function frameTemplate(message) {
  const marker = '@@MESSAGE_ID@@';
  const { message_id: _ignored, ...rest } = message;
  const text = JSON.stringify({ message_type: rest.message_type, message_id: marker, ...rest });
  const [head, tail] = text.split(marker);
  return { head, tail, bytes: text.length - marker.length + 36, make: (id) => head + id + tail };
}

export const newId = () => randomUUID();

/** The message_id of a frame by string search (no JSON.parse): what a "no S2 logic" server may do. */
export function idOf(frame) {
  const k = frame.indexOf('"message_id":"');
  return k < 0 ? undefined : frame.slice(k + 14, frame.indexOf('"', k + 14));
}

/** A ReceptionStatus text for a subject id (what the s2 CEM answers for an accepted message). */
export const receptionStatusText = (subject) => `{"message_type":"ReceptionStatus","subject_message_id":"${subject}","status":"OK"}`;

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile (p in 0–100). */
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const fmtRate = (n) => (!Number.isFinite(n) ? 'n/a' : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));
export const fmtBytes = (n) => (!Number.isFinite(n) ? 'n/a' : Math.abs(n) >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : Math.abs(n) >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${Math.round(n)} B`);
export const kb = (n) => (n / 1000).toFixed(1);

/** The header every bench prints: what ran, where, when. */
export function machineHeader(title, extra = []) {
  const cpus = os.cpus();
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length;
  const lines = [
    title,
    `date     ${new Date().toISOString()}`,
    `node     ${process.version} (${process.platform}/${process.arch})${typeof globalThis.gc === 'function' ? ', --expose-gc' : ''}`,
    `cpu      ${cpus[0]?.model ?? 'unknown'} — ${cores} core(s), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `load     1-min load average ${os.loadavg()[0].toFixed(2)} at start (other processes share these cores)`,
    ...extra,
  ];
  return lines.join('\n');
}

/** Full GCs until the heap stops shrinking (weak callbacks and finalizers need a second pass). */
export async function settleHeap() {
  if (typeof globalThis.gc !== 'function') return false;
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((r) => setImmediate(r));
  }
  return true;
}

export function memory() {
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers };
}

/** Parses `--name value` / `--name=value` flags; `spec` maps a name to its default (booleans: false). */
export function parseArgs(argv, spec, script) {
  const out = { ...spec };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      rest.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const inline = eq < 0 ? undefined : a.slice(eq + 1);
    if (!(name in spec)) {
      console.error(`${script}: unknown flag --${name} (known: ${Object.keys(spec).map((k) => `--${k}`).join(' ')})`);
      process.exit(2);
    }
    if (typeof spec[name] === 'boolean') out[name] = inline === undefined ? true : inline !== 'false';
    else {
      const v = inline ?? argv[++i];
      out[name] = typeof spec[name] === 'number' ? Number(v) : v;
      if (typeof spec[name] === 'number' && !Number.isFinite(out[name])) {
        console.error(`${script}: --${name} needs a number, got '${v}'`);
        process.exit(2);
      }
    }
  }
  return { flags: out, rest };
}

/** One IPC message of a given type from a child (or from the parent when `from` is `process`). */
export function nextMessage(from, type, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      from.off('message', on);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for IPC message '${type}'`));
    }, timeoutMs);
    const on = (m) => {
      if (m && m.type === type) {
        clearTimeout(timer);
        from.off('message', on);
        resolve(m);
      }
    };
    from.on('message', on);
  });
}

/** Resolves when the child exits; rejects if it exits non-zero (unless `allowFail`). */
export function exited(child, allowFail = false) {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code, signal) => (code === 0 || allowFail ? resolve(code ?? signal) : reject(new Error(`child ${child.pid} exited with ${code ?? signal}`))));
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A scripted RM speaking S2 by hand over anything with send(text) — the cheapest possible peer, so
 * that the CEM's cost is what gets measured. It answers every non-ReceptionStatus with OK, sends its
 * Handshake at once and its details after the HandshakeResponse, and calls `onActive` when the CEM
 * selects a control type. Every ReceptionStatus it receives goes to `onStatus(subjectId, status)`.
 */
export function scriptedRm({ send, details, onActive, onStatus, onOther }) {
  const handshake = frameTemplate({ message_type: 'Handshake', role: 'RM', supported_protocol_versions: ['0.0.2-beta'] });
  const rmDetails = frameTemplate({ message_type: 'ResourceManagerDetails', ...details });
  let active = false;
  return {
    start() {
      send(handshake.make(newId()));
    },
    get active() {
      return active;
    },
    receive(frame) {
      // ReceptionStatus answers go to the load loop; everything else is acknowledged.
      if (frame.startsWith('{"message_type":"ReceptionStatus"')) {
        const k = frame.indexOf('"subject_message_id":"');
        const subject = frame.slice(k + 22, k + 58);
        const s = frame.indexOf('"status":"');
        onStatus?.(subject, frame.slice(s + 10, frame.indexOf('"', s + 10)));
        return;
      }
      const m = JSON.parse(frame);
      send(receptionStatusText(m.message_id));
      if (m.message_type === 'HandshakeResponse') send(rmDetails.make(newId()));
      else if (m.message_type === 'SelectControlType') {
        active = m.control_type !== 'NO_SELECTION';
        if (active) onActive?.(m.control_type);
      } else if (m.message_type !== 'Handshake') onOther?.(m);
    },
  };
}
