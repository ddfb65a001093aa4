/**
 * A {@link FramePeer} on one end of an in-memory transport pair: the same scripting as the raw
 * WebSocket peer, without sockets, for tests that push thousands of frames (the fuzz test).
 */
import { connectSession, type S2Session, type SessionOptions } from '../../src/roles/session.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import type { Transport } from '../../src/transport/transport.js';
import { FramePeer, type RawClose, type RawPeerOptions } from './raw-ws-peer.js';

export class MemoryPeer extends FramePeer {
  readonly closed: Promise<RawClose>;
  /** Every frame received, as text, in order (the inbox holds them parsed). */
  readonly frames: string[] = [];

  constructor(
    private readonly end: Transport,
    options: RawPeerOptions = {},
  ) {
    super(options);
    let resolveClosed!: (close: RawClose) => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    end.start({
      text: (frame) => {
        this.frames.push(frame);
        this.receive(frame);
      },
      close: (code, reason) => resolveClosed({ code, reason }),
    });
  }

  protected write(text: string): void {
    this.end.send(text);
  }

  close(code = 1000, reason = 'memory peer done'): Promise<RawClose> {
    this.end.close(code, reason);
    return this.closed;
  }
}

/** A session of `options.role` on one end of a memory pair, and a scripted peer on the other. */
export function memorySession(options: SessionOptions, peerOptions: RawPeerOptions = {}): { session: S2Session; peer: MemoryPeer } {
  const [mine, theirs] = createMemoryPair({ a: options.role === 'CEM' ? 'cem' : 'rm', b: 'peer' });
  const peer = new MemoryPeer(theirs, peerOptions);
  const session = connectSession(mine, options);
  return { session, peer };
}
