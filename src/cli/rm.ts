import { createRmClient } from '../roles/rm-client.js';
import { createDevice } from '../sim/index.js';
import { newUuid } from '../roles/ids.js';
import { traceSession } from '../roles/trace.js';
import type { RmDetailsInput } from '../machines/session-setup.js';
import { CONTROL_TYPE_SHORT, type ControlTypeShort } from '../typebox/message-spec.js';
import { S2Error } from '../typebox/errors.js';
import { endStream, numberFlag, openTrace, parseFlags, readFlagFile, untilStopped } from './common.js';
import { EXIT_USAGE, type CliIO, type Command } from './run.js';
import { logSession } from './session-log.js';

const TYPES = [...CONTROL_TYPE_SHORT, 'NOT_CONTROLABLE'] as const;

const USAGE = `Usage: s2 rm --url URL --control-type ${TYPES.join('|')} [--trace FILE] [--token T] [--ca F] [--seconds N] [--ids uuid]

Runs a simulated device as an RM: it connects to a CEM, completes the handshake, announces its
details offering the given control type, describes itself when that type is selected, carries out
instructions and reports their statuses, and prints one line per event. The devices: FRBC home
battery, PPBC washing machine, OMBC heat pump, PEBC curtailable PV, DDBC heat buffer;
NOT_CONTROLABLE only measures. Reconnects with back-off when the connection ends (at once after a
SessionRequest RECONNECT). Stops after --seconds, or on SIGINT/SIGTERM.

Options:
  --url URL            the CEM's ws:// or wss:// URL (required)
  --control-type T     the control type offered (required)
  --trace FILE         append a JSON-lines trace of every session to FILE
  --token T            send 'Authorization: Bearer T' on the upgrade
  --ca F               PEM CA certificate to trust for wss:// (private CA)
  --seconds N          stop after N seconds (default: run until a signal)
  --speed N            the device lives N times faster than real time (default 1)
  --ids schema|uuid    ID fields: the schema's loose pattern, or canonical UUIDs (default schema)
  -h, --help           print this help`;

/** The details of an RM that cannot be controlled but measures (R38, Q8). */
function notControllableDetails(): RmDetailsInput {
  return {
    resource_id: newUuid(),
    name: 's2-engine meter (not controllable)',
    manufacturer: 's2-engine',
    roles: [{ role: 'ENERGY_CONSUMER', commodity: 'ELECTRICITY' }],
    instruction_processing_delay: 0,
    available_control_types: ['NOT_CONTROLABLE'],
    provides_forecast: false,
    provides_power_measurement_types: ['ELECTRIC.POWER.L1'],
  };
}

export const rmCommand: Command = {
  summary: 'run an RM that connects to a CEM and offers one control type',
  usage: USAGE,
  async run(args: string[], io: CliIO): Promise<number> {
    const parsed = parseFlags(
      args,
      {
        url: { type: 'string' },
        'control-type': { type: 'string' },
        trace: { type: 'string' },
        token: { type: 'string' },
        ca: { type: 'string' },
        seconds: { type: 'string' },
        speed: { type: 'string' },
        ids: { type: 'string' },
      },
      USAGE,
      io,
    );
    if (!parsed) return EXIT_USAGE;
    const f = parsed.values;
    try {
      if (parsed.positionals.length) throw new S2Error('INVALID_OPTIONS', `unexpected argument '${parsed.positionals[0]}'`);
      if (!f.url) throw new S2Error('INVALID_OPTIONS', '--url is required');
      const ct = f['control-type'];
      if (!ct || !(TYPES as readonly string[]).includes(ct)) throw new S2Error('INVALID_OPTIONS', `--control-type must be one of ${TYPES.join(', ')}`);
      if (f.ids !== undefined && f.ids !== 'uuid' && f.ids !== 'schema') throw new S2Error('INVALID_OPTIONS', `--ids must be 'schema' or 'uuid'`);
      const seconds = f.seconds === undefined ? undefined : numberFlag('--seconds', f.seconds, 0);
      const ca = f.ca ? readFlagFile('--ca', f.ca) : undefined;
      const speed = numberFlag('--speed', f.speed, 1);
      if (speed <= 0) throw new S2Error('INVALID_OPTIONS', '--speed must be greater than 0');
      const device = ct === 'NOT_CONTROLABLE' ? undefined : createDevice(ct as ControlTypeShort, { speed });
      const trace = openTrace(f.trace);
      const client = createRmClient({
        url: f.url,
        details: device ? device.details : notControllableDetails(),
        ...(device ? { controlTypes: { [device.controlType]: device.handler } } : {}),
        ...(f.token ? { token: f.token } : {}),
        ...(ca ? { ca } : {}),
        ...(f.ids ? { ids: f.ids as 'schema' | 'uuid' } : {}),
        onSession: (session) => {
          logSession(session, (line) => io.stdout.write(line));
          if (trace) traceSession(session, (line) => trace.write(line));
        },
        onDialError: (err, attempt, delayMs) => io.stderr.write(`s2 rm: ${(err as Error).message} (attempt ${attempt + 1}, next in ${delayMs} ms)\n`),
      });
      await untilStopped(seconds);
      device?.stop();
      await client.stop();
      await endStream(trace);
      return 0;
    } catch (err) {
      io.stderr.write(`s2 rm: ${(err as Error).message}\n`);
      return err instanceof S2Error && err.code === 'INVALID_OPTIONS' ? EXIT_USAGE : 1;
    }
  },
};
