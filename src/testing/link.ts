/**
 * The kit's end of one session: a scripted peer on one of the project's transports (ws server or
 * client). It sends exactly the frames the scenario writes — valid S2 through the codec, or raw
 * text for the broken frames — decodes every frame the implementation under test sends with the
 * project's codec, and lets the drivers wait for frames without polling.
 */
import type { Codec, DecodeFailure } from '../codec/codec.js';
import type { Transport } from '../transport/transport.js';
import type { S2Message } from '../typebox/registry.js';

/** A frame received from the implementation under test. */
export interface Frame {
  /** 0, 1, 2 … in order of arrival. */
  readonly seq: number;
  readonly text: string;
  /** The decoded message, when the frame is valid S2. */
  readonly message: S2Message | undefined;
  readonly error: DecodeFailure | undefined;
}

/** One line of the conversation, for failure reports: `← …` received, `→ …` sent by the kit. */
export interface LogLine {
  readonly dir: '←' | '→' | '×';
  readonly text: string;
}

export class Link {
  readonly frames: Frame[] = [];
  readonly log: LogLine[] = [];
  /** Called for every frame, after it was recorded (the driver answers and checks here). */
  private onFrame: ((frame: Frame) => void) | undefined;
  /** Errors thrown by `onFrame`: a bug in the kit, reported as such. */
  readonly errors: unknown[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private closeInfo: { code: number; reason: string } | undefined;
  private readonly waiters = new Set<() => void>();

  private resolveClosed!: (c: { code: number; reason: string }) => void;

  constructor(
    private readonly transport: Transport,
    private readonly codec: Codec,
  ) {
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  /** Starts reading: frames that arrived before (the peer's Handshake) are delivered now, to `onFrame`. */
  start(onFrame: (frame: Frame) => void): void {
    this.onFrame = onFrame;
    const resolve = this.resolveClosed;
    this.transport.start({
      text: (text) => this.receive(text),
      close: (code, reason) => {
        this.closeInfo = { code, reason };
        this.log.push({ dir: '×', text: `connection closed ${code}${reason ? ` ${reason}` : ''}` });
        resolve(this.closeInfo);
        this.wake();
      },
      error: () => undefined,
    });
  }

  get isOpen(): boolean {
    return this.closeInfo === undefined && this.transport.isOpen;
  }

  get closeCode(): { code: number; reason: string } | undefined {
    return this.closeInfo;
  }

  /** Sends a message, which must be valid S2 (a kit bug otherwise). */
  send(message: S2Message): void {
    const problems = this.codec.check(message);
    if (problems.length)
      throw new Error(`conformance kit bug: it built an invalid ${message.message_type}: ${JSON.stringify(problems.slice(0, 2))}`);
    this.sendRaw(JSON.stringify(message));
  }

  /** Sends any text frame, valid or not. */
  sendRaw(text: string): void {
    this.log.push({ dir: '→', text });
    this.transport.send(text);
  }

  close(code = 1000, reason = 'conformance kit: scenario done'): void {
    this.transport.close(code, reason);
  }

  /** The first frame from `from` on that matches, waiting up to `timeoutMs`; undefined on timeout or once the connection is gone. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs: number, from = 0): Promise<Frame | undefined> {
    const find = () => this.frames.find((f) => f.seq >= from && pred(f));
    const now = find();
    if (now || !this.isOpen) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = (f: Frame | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(f);
      };
      const check = () => {
        const f = find();
        if (f) done(f);
        else if (!this.isOpen) done(undefined);
      };
      const timer = setTimeout(() => done(find()), timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Resolves true once `cond()` holds (re-checked on every frame), false after `timeoutMs` or once closed. */
  until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    if (cond()) return Promise.resolve(true);
    if (!this.isOpen) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(v);
      };
      const check = () => {
        if (cond()) done(true);
        else if (!this.isOpen) done(false);
      };
      const timer = setTimeout(() => done(cond()), timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Waits for the connection to end; true when it did within `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.closeInfo) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([this.closed.then(() => true as const), timeout]);
    clearTimeout(timer);
    return result;
  }

  private receive(text: string): void {
    const decoded = this.codec.decode(text);
    const frame: Frame = decoded.ok
      ? { seq: this.frames.length, text, message: decoded.message, error: undefined }
      : { seq: this.frames.length, text, message: undefined, error: decoded.error };
    this.frames.push(frame);
    this.log.push({ dir: '←', text });
    try {
      this.onFrame?.(frame);
    } catch (err) {
      this.errors.push(err);
    }
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
