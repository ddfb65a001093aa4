import { CloseCode } from '../machines/close-codes.js';
import { createCemServer } from '../roles/cem-server.js';
import { traceSession } from '../roles/trace.js';
import { S2Error } from '../typebox/errors.js';
import { endStream, numberFlag, openTrace, parseFlags, readFlagFile, untilStopped } from './common.js';
import { EXIT_USAGE, type CliIO, type Command } from './run.js';
import { logSession } from './session-log.js';

const USAGE = `Usage: s2 cem [--port P] [--host H] [--trace FILE] [--token T] [--tls-cert F --tls-key F] [--ids uuid]

Runs a CEM server: accepts RMs over WebSocket, completes each handshake, selects a control type
(the first the RM offers of FRBC, PPBC, OMBC, PEBC, DDBC, NOT_CONTROLABLE) and prints one line
per event. Stops on SIGINT/SIGTERM: every session is closed with 1001, exit status 0.

Options:
  --port P            TCP port (default 0: a free port, printed at start)
  --host H            interface to listen on (default 127.0.0.1)
  --trace FILE        append a JSON-lines trace of every session to FILE
  --token T           require 'Authorization: Bearer T' on the upgrade (HTTP 401 otherwise)
  --tls-cert F        PEM certificate: serve wss:// (needs --tls-key)
  --tls-key F         PEM private key
  --ids schema|uuid   ID fields: the schema's loose pattern, or canonical UUIDs (default schema)
  -h, --help          print this help`;

export const cemCommand: Command = {
  summary: 'run a CEM server that accepts RMs and selects a control type',
  usage: USAGE,
  async run(args: string[], io: CliIO): Promise<number> {
    const parsed = parseFlags(
      args,
      {
        port: { type: 'string' },
        host: { type: 'string' },
        trace: { type: 'string' },
        token: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        ids: { type: 'string' },
      },
      USAGE,
      io,
    );
    if (!parsed) return EXIT_USAGE;
    const f = parsed.values;
    let server;
    try {
      if (parsed.positionals.length) throw new S2Error('INVALID_OPTIONS', `unexpected argument '${parsed.positionals[0]}'`);
      if (f.ids !== undefined && f.ids !== 'uuid' && f.ids !== 'schema') throw new S2Error('INVALID_OPTIONS', `--ids must be 'schema' or 'uuid'`);
      if (Boolean(f['tls-cert']) !== Boolean(f['tls-key'])) throw new S2Error('INVALID_OPTIONS', '--tls-cert and --tls-key go together');
      const port = numberFlag('--port', f.port, 0);
      const tls = f['tls-cert'] && f['tls-key'] ? { cert: readFlagFile('--tls-cert', f['tls-cert']), key: readFlagFile('--tls-key', f['tls-key']) } : undefined;
      const trace = openTrace(f.trace);
      server = await createCemServer({
        port,
        host: f.host ?? '127.0.0.1',
        ...(f.token ? { token: f.token } : {}),
        ...(tls ? { tls } : {}),
        ...(f.ids ? { ids: f.ids as 'schema' | 'uuid' } : {}),
        onSession: (session) => {
          logSession(session, (line) => io.stdout.write(line));
          if (trace) traceSession(session, (line) => trace.write(line));
        },
        onError: (err) => io.stderr.write(`s2 cem: ${(err as Error).message}\n`),
      });
      io.stdout.write(`s2 cem listening on ${server.url}\n`);
      await untilStopped();
      io.stdout.write('s2 cem: stopping, closing every session with 1001\n');
      await server.close(CloseCode.GOING_AWAY, 'CEM shutting down');
      await endStream(trace);
      return 0;
    } catch (err) {
      io.stderr.write(`s2 cem: ${(err as Error).message}\n`);
      if (server) await server.close();
      return err instanceof S2Error && err.code === 'INVALID_OPTIONS' ? EXIT_USAGE : 1;
    }
  },
};
