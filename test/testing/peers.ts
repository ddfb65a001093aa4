/**
 * Implementations for the conformance kit to test, built from s2-engine itself on real sockets
 * (127.0.0.1): a CEM server and an RM that listens, each optionally behind a SHIM that rewrites,
 * drops or injects frames — that is how the deliberately broken peers are made.
 */
import { attachCemControlTypes } from '../../src/roles/cem-control.js';
import { attachRmControlTypes } from '../../src/roles/rm-control.js';
import { S2Session } from '../../src/roles/session.js';
import { createCemPolicy, createDevice } from '../../src/sim/index.js';
import { createWsServer } from '../../src/transport/ws-server.js';
import type { Transport, TransportHandlers } from '../../src/transport/transport.js';
import type { ControlTypeShort } from '../../src/typebox/message-spec.js';

/** What a shim does with each frame: `out` = the session sends `text` (call `pass` to let it through); `in` = `text` arrives. */
export interface ShimHooks {
  readonly out?: (text: string, pass: (text: string) => void) => void;
  readonly in?: (text: string, inject: (text: string) => void) => void;
}

/** A transport between a real session and the wire that applies `hooks`. */
export class ShimTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly hooks: ShimHooks,
  ) {}
  get peer(): string {
    return this.inner.peer;
  }
  get isOpen(): boolean {
    return this.inner.isOpen;
  }
  start(handlers: TransportHandlers): void {
    this.inner.start({
      text: (text) => {
        this.hooks.in?.(text, (t) => this.inner.send(t));
        handlers.text(text);
      },
      close: (code, reason) => handlers.close(code, reason),
      ...(handlers.error ? { error: (err: unknown) => handlers.error?.(err) } : {}),
    });
  }
  send(text: string): void {
    if (this.hooks.out) this.hooks.out(text, (t) => this.inner.send(t));
    else this.inner.send(text);
  }
  close(code: number, reason: string): void {
    this.inner.close(code, reason);
  }
}

export interface Peer {
  readonly url: string;
  close(): Promise<void>;
}

async function serve(start: (transport: Transport) => S2Session): Promise<Peer> {
  const sessions = new Set<S2Session>();
  const server = await createWsServer({
    port: 0,
    host: '127.0.0.1',
    heartbeatMs: 0,
    onConnection: (transport) => {
      const session = start(transport);
      sessions.add(session);
      session.start();
    },
  });
  return {
    url: server.url,
    async close() {
      await server.close();
      await Promise.all([...sessions].map((s) => s.closed));
    },
  };
}

/** s2-engine's CEM with the simulated CEM policy (all five control types), optionally behind a shim per connection. */
export function cemServer(hooks?: () => ShimHooks): Promise<Peer> {
  const policy = createCemPolicy();
  return serve((t) => {
    const session = new S2Session(hooks ? new ShimTransport(t, hooks()) : t, { role: 'CEM' });
    attachCemControlTypes(session, policy);
    return session;
  });
}

/** s2-engine's RM with the simulated device of `type`, LISTENING (the kit dials it), optionally behind a shim. */
export function listeningRm(type: ControlTypeShort, hooks?: () => ShimHooks): Promise<Peer> {
  const device = createDevice(type);
  return serve((t) => {
    const session = new S2Session(hooks ? new ShimTransport(t, hooks()) : t, { role: 'RM', details: device.details });
    attachRmControlTypes(session, { [type]: device.handler });
    return session;
  }).then((peer) => ({
    url: peer.url,
    async close() {
      await peer.close();
      device.stop();
    },
  }));
}

/** The message_type, message_id, subject and status of a frame (what the shims look at). */
export function peek(text: string): { message_type?: string; message_id?: string; subject_message_id?: string; status?: string } {
  try {
    return JSON.parse(text) as Record<string, string>;
  } catch {
    return {};
  }
}
