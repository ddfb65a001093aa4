import type { S2Session } from '../roles/session.js';
import type { SessionInspector } from '../roles/types.js';
import { Collector } from './collector.js';
import { DEFAULT_LIMITS, ViewStore, type ViewLimits } from './model.js';
import type { Sanitizer } from './sanitize.js';
import { startInspectorServer } from './server.js';

export interface InspectorOptions {
  /** Port of the page; default 0 (a free port: read `url`). */
  readonly port?: number;
  /** Interface to listen on; default 127.0.0.1 (this machine only). */
  readonly host?: string;
  /**
   * Called with a deep copy of every message before it is shown (payloads, ids, labels); return
   * what may be shown. Bearer tokens never reach the inspector: they are not part of a session.
   */
  readonly sanitize?: Sanitizer;
  /** Also accept other processes' sessions on `/feed` (see `connectInspector`); default false. */
  readonly acceptFeeds?: boolean;
  /** How much is kept per session and how many closed sessions stay on the page. */
  readonly limits?: Partial<ViewLimits>;
}

/** What a program gives its sessions to be inspected. */
export interface Inspector {
  /** The page to open in a browser. */
  readonly url: string;
  /**
   * The XState inspection observer: pass it as the `inspect` option of `createCemServer`,
   * `createRmClient`, `connectSession` or `new S2Session` to see the control-type and
   * instruction actors too.
   */
  readonly inspect: SessionInspector;
  /** Shows a session's messages and state; call it before `session.start()` (in `onSession`). */
  attach(session: S2Session): void;
  /** Stops collecting and serving (or feeding). Sessions go on unaffected. */
  close(): Promise<void>;
}

export interface LocalInspector extends Inspector {
  readonly port: number;
  /** Where other processes feed this page (`acceptFeeds`). */
  readonly feedUrl: string | undefined;
}

export function resolveLimits(limits: Partial<ViewLimits> | undefined): ViewLimits {
  return { ...DEFAULT_LIMITS, ...limits };
}

/**
 * A live inspector in this process: serves the page on 127.0.0.1 and shows every session given
 * to it. Nothing leaves this machine; the page loads nothing from elsewhere.
 *
 * ```ts
 * const inspector = await createInspector({ port: 8090 });
 * const cem = await createCemServer({ inspect: inspector.inspect, onSession: (s) => inspector.attach(s) });
 * console.log(`inspector on ${inspector.url}`);
 * ```
 */
export async function createInspector(options: InspectorOptions = {}): Promise<LocalInspector> {
  const limits = resolveLimits(options.limits);
  const store = new ViewStore(limits);
  const collector = new Collector({ sanitize: options.sanitize, limits, output: (ops) => store.apply(ops) });
  const server = await startInspectorServer({
    store,
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.acceptFeeds ? { acceptFeeds: true } : {}),
  });
  return {
    url: server.url,
    port: server.port,
    feedUrl: server.feedUrl,
    inspect: collector.inspect,
    attach: (session) => collector.attach(session),
    async close() {
      collector.stop();
      await server.close();
    },
  };
}
