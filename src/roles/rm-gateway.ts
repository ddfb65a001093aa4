import type { ControlType } from '../typebox/common/enums.js';
import type { RmDetailsInput } from '../machines/types.js';
import type { Clock } from '../transport/reconnect.js';
import type { Transport } from '../transport/transport.js';
import { connectWs } from '../transport/ws-client.js';
import { S2Error } from '../typebox/errors.js';
import { showValue, type Problem } from '../typebox/problem.js';
import { resolveLogger } from './logger.js';
import { throwIfProblems } from './options.js';
import type { RmControlTypes } from './rm-control.js';
import { createRmClient, type DialledTransport, type RmClient, type RmClientOptions } from './rm-client.js';
import type { S2Session } from './session.js';

/** One device a gateway represents: one RM, with its own session to the CEM. */
export interface GatewayDevice {
  /**
   * The gateway's name for the device (unique within the gateway): events, `session(id)` and logs
   * use it. It is never sent; the CEM knows the device by `details.resource_id`.
   */
  readonly id: string;
  /** The ResourceManagerDetails this device announces after every handshake. */
  readonly details: RmDetailsInput;
  /** The control types this device implements (as for `createRmClient`). */
  readonly controlTypes?: RmControlTypes | undefined;
}

/**
 * Options of `createRmGateway`: those of `createRmClient` shared by every device (timeouts,
 * limits, logger, versions, reconnect back-off …), the devices, and the dial rate.
 */
export interface RmGatewayOptions extends Omit<
  RmClientOptions,
  'url' | 'connect' | 'details' | 'controlTypes' | 'onSession' | 'onDialError' | 'reconnectClock'
> {
  /** The CEM's WebSocket URL (`ws://` or `wss://`); or give `connect`. */
  readonly url?: string | undefined;
  /**
   * Opens a connection for one device instead of dialling `url` (e.g. S2 Connect with the
   * device's own pairing). Called for every dial of that device, after the rate limit let it through.
   */
  readonly connect?: ((device: GatewayDevice) => Promise<Transport | DialledTransport>) | undefined;
  /** The devices to start with; more can be added with `add()`. Ids must be unique. */
  readonly devices: readonly GatewayDevice[];
  /**
   * Dials per second over all devices, first connections and reconnects alike (default 200): a
   * gateway that starts, or that lost its CEM, opens its connections at this rate instead of all
   * at once, so neither the CEM nor the gateway's own listen/accept queues see a thundering herd.
   * Reconnect back-offs are jittered per device (`reconnect`), and then wait their turn here too.
   */
  readonly connectRate?: number | undefined;
  /** Dials allowed at once after a quiet period (default: a tenth of a second's worth, at least 1). */
  readonly connectBurst?: number | undefined;
  /** Timers of the rate limit and of every device's reconnect loop (tests inject fakes). */
  readonly clock?: (Clock & { now(): number }) | undefined;
}

/** Events of a gateway; every one names its device. */
export interface RmGatewayEvents {
  /** A device has a new session (one per connection); attach session listeners here. */
  session: { readonly device: string; readonly session: S2Session };
  /** A device's session completed its handshake. */
  handshake: { readonly device: string; readonly session: S2Session; readonly version: string };
  /** The CEM selected a control type for a device (NO_SELECTION included). */
  controlType: { readonly device: string; readonly session: S2Session; readonly controlType: ControlType };
  /** A device's session ended; it reconnects unless the gateway or the device was stopped. */
  close: { readonly device: string; readonly code: number; readonly reason: string };
  /** A dial failed; `delayMs` is the back-off before the next one (0: no further attempt). */
  dialError: { readonly device: string; readonly error: unknown; readonly attempt: number; readonly delayMs: number };
}

/** What a gateway's devices are doing right now (see {@link RmGateway.status}). */
export interface RmGatewayStatus {
  /** Devices in the gateway. */
  readonly devices: number;
  /** Devices with a live session (connected, handshake done or not). */
  readonly connected: number;
  /** Devices whose session has a control type other than NO_SELECTION active. */
  readonly active: number;
  /** Devices with a live session per active control type (NO_SELECTION included). */
  readonly byControlType: Readonly<Partial<Record<ControlType, number>>>;
  /** Dials waiting for the rate limit. */
  readonly queuedDials: number;
}

/** Many RMs in one process, each with its own session to one CEM. */
export interface RmGateway {
  /** The ids of the devices, in the order they were added. */
  readonly devices: readonly string[];
  /** A device's current session, if it is connected. Throws for an unknown id. */
  session(device: string): S2Session | undefined;
  /** The current sessions by device id (a fresh map; devices without a session are absent). */
  sessions(): Map<string, S2Session>;
  /**
   * The device's next session that completes its handshake (as `RmClient.nextSession`). Rejects
   * with `S2Error('INVALID_STATE')` when the device or the gateway is stopped.
   */
  nextSession(device: string): Promise<S2Session>;
  /** Counts over all devices, computed now (cheap enough to sample every second). */
  status(): RmGatewayStatus;
  /** Listens to an event of every device; returns the function that removes the listener. */
  on<K extends keyof RmGatewayEvents>(event: K, listener: (event: RmGatewayEvents[K]) => void): () => void;
  /** Adds a device and starts dialling for it (rate-limited). Throws on a duplicate id or bad details. */
  add(device: GatewayDevice): void;
  /** Stops a device: no more reconnects, its session closed with 1000. */
  remove(device: string): Promise<void>;
  /** Stops every device (sessions closed with 1000) and the rate limit. Final. */
  close(): Promise<void>;
}

/**
 * A rate limit for dials: a token bucket (`rate` per second, at most `burst` at once) with a FIFO of
 * waiters and one timer for all of them. Internal: exported for tests.
 */
export interface DialGate {
  /** Resolves when this dial may go; rejects when the gate closes or `live()` turned false meanwhile. */
  acquire(live: () => boolean): Promise<void>;
  readonly queued: number;
  /** Rejects every waiter with `err`; later `acquire`s reject at once. */
  close(err: Error): void;
}

/** See {@link DialGate}. `clock.now()` in milliseconds. */
export function createDialGate(rate: number, burst: number, clock: Clock & { now(): number }): DialGate {
  const interval = 1000 / rate;
  let tokens = burst;
  let last = clock.now();
  let timer: unknown;
  let closed: Error | undefined;
  const queue: Array<{ resolve: () => void; reject: (err: Error) => void; live: () => boolean }> = [];

  const refill = () => {
    const now = clock.now();
    tokens = Math.min(burst, tokens + (now - last) / interval);
    last = now;
  };
  const drain = () => {
    timer = undefined;
    refill();
    while (queue.length > 0) {
      const head = queue[0]!;
      // A device stopped while waiting gives up its turn without spending a token.
      if (!head.live()) {
        queue.shift();
        head.reject(new S2Error('INVALID_STATE', 'the device was stopped while waiting to dial'));
        continue;
      }
      if (tokens < 1) break;
      tokens -= 1;
      queue.shift();
      head.resolve();
    }
    if (queue.length > 0) timer = clock.setTimeout(drain, Math.max(1, Math.ceil((1 - tokens) * interval)));
  };
  return {
    acquire(live) {
      if (closed) return Promise.reject(closed);
      return new Promise<void>((resolve, reject) => {
        queue.push({ resolve, reject, live });
        if (timer === undefined) drain();
      });
    },
    get queued() {
      return queue.length;
    },
    close(err) {
      closed ??= err;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      for (const w of queue.splice(0)) w.reject(closed);
    },
  };
}

const systemClock: Clock & { now(): number } = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  now: () => performance.now(),
};

function problem(path: string, message: string, value: unknown): Problem {
  return { path, message, value: showValue(value) };
}

/** The gateway's own options (each device's are checked by `createRmClient`). */
function checkGatewayOptions(o: RmGatewayOptions): Problem[] {
  const out: Problem[] = [];
  if (o === null || typeof o !== 'object') return [problem('$', 'options must be an object', o)];
  if (!Array.isArray(o.devices)) out.push(problem('devices', 'must be an array of { id, details }', o.devices));
  if (o.url === undefined && o.connect === undefined)
    out.push(problem('url', "is required (the CEM's ws:// or wss:// URL), unless connect is given", o.url));
  if (o.url !== undefined && o.connect !== undefined) out.push(problem('url', 'give either url or connect, not both', o.url));
  if (o.connect !== undefined && typeof o.connect !== 'function')
    out.push(problem('connect', 'must be a function that opens a transport', o.connect));
  for (const key of ['connectRate', 'connectBurst'] as const) {
    const v = o[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) out.push(problem(key, 'must be a number > 0', v));
  }
  return out;
}

interface Entry {
  readonly device: GatewayDevice;
  readonly client: RmClient;
  stopped: boolean;
}

/**
 * One process that represents many devices to one CEM (a cloud or LAN gateway): every device is
 * its own RM with its own S2 session, because S2 has one session per resource. The gateway dials
 * them at a bounded rate (`connectRate`, reconnects included), shares one logger and one set of
 * options, and gives one place to watch them: events that name the device, `sessions()`,
 * `status()`, `close()`.
 *
 * Options are checked first: a mistake (a duplicate id, a device's details that are not valid
 * ResourceManagerDetails, handlers that do not match its control types, a bad limit) throws
 * `S2Error('INVALID_OPTIONS')` naming the device, before anything is dialled.
 *
 * ```ts
 * const gateway = createRmGateway({
 *   url: 'ws://cem.local:8080',
 *   devices: meters.map((m) => ({ id: m.serial, details: detailsOf(m) })),
 * });
 * gateway.on('controlType', ({ device, controlType }) => console.log(device, controlType));
 * ```
 */
export function createRmGateway(options: RmGatewayOptions): RmGateway {
  throwIfProblems('createRmGateway options', checkGatewayOptions(options));
  const { url, connect, devices: initial, connectRate = 200, connectBurst, clock = systemClock, ...shared } = options;
  // One logger object for every device (resolving `logger` per client would make one each).
  const logger = resolveLogger(shared.logger);
  const gate = createDialGate(connectRate, connectBurst ?? Math.max(1, Math.floor(connectRate / 10)), clock);
  const entries = new Map<string, Entry>();
  const listeners = new Map<keyof RmGatewayEvents, Set<(event: never) => void>>();
  let closed = false;

  const emit = <K extends keyof RmGatewayEvents>(event: K, value: RmGatewayEvents[K]) => {
    const set = listeners.get(event);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        (listener as (e: RmGatewayEvents[K]) => void)(value);
      } catch (err) {
        // One application listener failing must not stop the others, nor the device's session.
        logger.error({ kind: 'gateway-listener-error', event, device: value.device, err }, 'a gateway listener threw');
      }
    }
  };

  const entryOf = (id: string): Entry => {
    const entry = entries.get(id);
    if (entry === undefined) throw new S2Error('INVALID_OPTIONS', `no device '${id}' in this gateway`);
    return entry;
  };

  const add = (device: GatewayDevice, path: string) => {
    if (closed) throw new S2Error('INVALID_STATE', 'the gateway was closed');
    if (device === null || typeof device !== 'object' || typeof device.id !== 'string' || device.id === '')
      throw new S2Error(
        'INVALID_OPTIONS',
        `invalid createRmGateway options: ${path}.id must be a non-empty string (got ${showValue(device?.id)})`,
      );
    if (entries.has(device.id))
      throw new S2Error('INVALID_OPTIONS', `invalid createRmGateway options: ${path}.id '${device.id}' is used twice`);
    const id = device.id;
    // Filled in below: the client dials at once, but only after the gate lets it through (a microtask at least).
    const entry = { device, stopped: false } as { device: GatewayDevice; client: RmClient; stopped: boolean };
    const live = () => !entry.stopped && !closed;
    const dial = async (): Promise<Transport | DialledTransport> => {
      await gate.acquire(live);
      return connect ? connect(device) : connectWs(url!, shared);
    };
    let client: RmClient;
    try {
      client = createRmClient({
        ...shared,
        logger,
        details: device.details,
        ...(device.controlTypes ? { controlTypes: device.controlTypes } : {}),
        ...(clock === systemClock ? {} : { reconnectClock: clock }),
        connect: dial,
        // A dial cut short because the device or the gateway stopped is no failure worth an event.
        onDialError: (error, attempt, delayMs) => live() && emit('dialError', { device: id, error, attempt, delayMs }),
        onSession: (session) => {
          session.on('handshake', ({ version }) => emit('handshake', { device: id, session, version }));
          session.on('controlType', ({ controlType }) => emit('controlType', { device: id, session, controlType }));
          void session.closed.then(({ code, reason }) => emit('close', { device: id, code, reason }));
          emit('session', { device: id, session });
        },
      });
    } catch (err) {
      // Name the device: "devices[17] (id 'pv-3'): invalid createRmClient options: …".
      if (err instanceof S2Error && err.code === 'INVALID_OPTIONS')
        throw new S2Error('INVALID_OPTIONS', `invalid createRmGateway options: ${path} (id '${id}'): ${err.message}`, { cause: err });
      throw err;
    }
    entry.client = client;
    entries.set(id, entry);
  };

  initial.forEach((device, i) => add(device, `devices[${i}]`));

  const stopEntry = async (entry: Entry) => {
    entry.stopped = true;
    await entry.client.stop();
  };

  return {
    get devices() {
      return [...entries.keys()];
    },
    session: (id) => entryOf(id).client.session,
    sessions() {
      const out = new Map<string, S2Session>();
      for (const [id, { client }] of entries) if (client.session !== undefined) out.set(id, client.session);
      return out;
    },
    nextSession: (id) => entryOf(id).client.nextSession(),
    status() {
      let connected = 0;
      let active = 0;
      const byControlType: Partial<Record<ControlType, number>> = {};
      for (const { client } of entries.values()) {
        const s = client.session;
        if (s === undefined || s.isClosed) continue;
        connected++;
        const ct = s.controlType;
        byControlType[ct] = (byControlType[ct] ?? 0) + 1;
        if (ct !== 'NO_SELECTION') active++;
      }
      return { devices: entries.size, connected, active, byControlType, queuedDials: gate.queued };
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (set === undefined) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => void set.delete(listener);
    },
    add: (device) => add(device, 'device'),
    async remove(id) {
      const entry = entryOf(id);
      entries.delete(id);
      await stopEntry(entry);
    },
    async close() {
      if (closed) return;
      closed = true;
      gate.close(new S2Error('INVALID_STATE', 'the gateway was closed'));
      await Promise.all([...entries.values()].map(stopEntry));
    },
  };
}
