import type { InspectionEvent } from 'xstate';
import type { S2Session } from '../roles/session.js';
import { badOption, defineCommand, failed, noPositionals, numberFlag, untilStopped } from './common.js';

const USAGE = `Usage: s2 inspect [--port P] [--host H]

Serves the live inspector page: per session its role, peer, protocol version and control type,
the statecharts of the session, its control type and its instructions with the active states
highlighted, the instruction list, and every message sent and received with the ReceptionStatus
that answered it (refusals and invalid frames in red). Sessions come from other processes over a
local WebSocket feed:

  s2 cem --inspect-to ws://127.0.0.1:P/feed         (also with --workers N)
  s2 demo --inspect-to ws://127.0.0.1:P/feed
  connectInspector('ws://127.0.0.1:P/feed')          (in your program; see docs/inspect.md)

A single process can serve the page itself instead: s2 demo --inspect, s2 cem --inspect, or
createInspector() in a program. Nothing is sent anywhere but this page, and the page loads
nothing from the internet. Runs until SIGINT/SIGTERM.

Options:
  --port P     port of the page and the feed (default 0: a free port, printed at start)
  --host H     interface to listen on (default 127.0.0.1; the page shows protocol traffic)
  -h, --help   print this help`;

/** The flags `s2 demo` and `s2 cem` take to be inspected. */
export const INSPECT_FLAGS = {
  inspect: { type: 'boolean' },
  'inspect-port': { type: 'string' },
  'inspect-to': { type: 'string' },
} as const;

/** Their lines in a usage text. */
export const INSPECT_HELP = `  --inspect           serve the live inspector page (statecharts, messages) on 127.0.0.1
  --inspect-port P    port of that page (default 0: a free port, printed at start)
  --inspect-to URL    feed a running \`s2 inspect\` (its ws://…/feed URL) instead`;

/** A running inspection, as a command uses it. */
export interface Inspection {
  /** The page to open. */
  readonly url: string;
  /** Spread into the options of `createCemServer` / `createRmClient`. */
  readonly options: { readonly inspect: (event: InspectionEvent) => void };
  /** Call in `onSession`. */
  attach(session: S2Session): void;
  close(): Promise<void>;
}

interface InspectValues {
  readonly inspect?: boolean | undefined;
  readonly 'inspect-port'?: string | undefined;
  readonly 'inspect-to'?: string | undefined;
}

/** Whether the flags ask for inspection in this process (a page served here), for checks before starting. */
export function servesInspector(values: InspectValues): boolean {
  return values.inspect === true || values['inspect-port'] !== undefined;
}

/**
 * Starts what the flags ask for: a page in this process (`--inspect`, `--inspect-port`), a feed to
 * `s2 inspect` (`--inspect-to`), or nothing — then the inspector module is not even loaded and no
 * hook is installed. Throws S2Error INVALID_OPTIONS on a usage error.
 */
export async function startInspection(values: InspectValues): Promise<Inspection | undefined> {
  const to = values['inspect-to'];
  if (to === undefined && !servesInspector(values)) return undefined;
  if (to !== undefined && servesInspector(values))
    throw badOption('--inspect-to feeds another inspector; it does not go with --inspect or --inspect-port');
  if (to !== undefined && !/^wss?:\/\//.test(to))
    throw badOption(`--inspect-to needs a ws:// URL (the feed URL \`s2 inspect\` prints), got '${to}'`);
  const port = numberFlag('--inspect-port', values['inspect-port'], 0);
  if (!Number.isInteger(port) || port > 65535) throw badOption(`--inspect-port must be a port number, got '${values['inspect-port']}'`);
  const { createInspector, connectInspector } = await import('../inspect/index.js');
  const inspector = to !== undefined ? await connectInspector(to) : await createInspector({ port });
  return {
    url: inspector.url,
    options: { inspect: inspector.inspect },
    attach: (session) => inspector.attach(session),
    close: () => inspector.close(),
  };
}

export const inspectCommand = defineCommand({
  name: 'inspect',
  summary: 'serve the live inspector page that other processes feed (statecharts, messages)',
  usage: USAGE,
  options: { port: { type: 'string' }, host: { type: 'string' } },
  async run(parsed, io) {
    let port: number;
    try {
      noPositionals(parsed.positionals);
      port = numberFlag('--port', parsed.values.port, 0);
      if (!Number.isInteger(port) || port > 65535) throw badOption(`--port must be a port number, got '${parsed.values.port}'`);
    } catch (err) {
      return failed(io, 'inspect', err);
    }
    const { createInspector } = await import('../inspect/index.js');
    let inspector;
    try {
      inspector = await createInspector({ port, acceptFeeds: true, ...(parsed.values.host ? { host: parsed.values.host } : {}) });
    } catch (err) {
      io.stderr.write(`s2 inspect: ${(err as Error).message}\n`);
      return 1;
    }
    io.stdout.write(`s2 inspect: page ${inspector.url}\n`);
    io.stdout.write(`s2 inspect: feed ${inspector.feedUrl} (s2 cem --inspect-to ${inspector.feedUrl})\n`);
    await untilStopped();
    io.stdout.write('s2 inspect: stopping\n');
    await inspector.close();
    return 0;
  },
});
