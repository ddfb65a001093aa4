import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { Bonjour, type Browser, type Service } from 'bonjour-service';
import { showValue, type Problem } from '../typebox/problem.js';
import { deploymentOfHost, deploymentOfUrl } from './deployment.js';
import { S2ConnectError } from './errors.js';
import type { HostResolver } from './http/tls-trust.js';
import type { Deployment } from './wire/names.js';

/**
 * S2 Connect discovery over mDNS / DNS-SD (S2 Connect §2): an endpoint advertises `_s2connect._tcp` with one
 * subtype per role it represents (`_cem`, `_rm`) and a TXT record (`txtver=1`, `deployment`, `pairingUrl`,
 * `longpollingUrl`, `e_name`, `e_logoUrl`); browsers list the endpoints of the role they look for.
 *
 * Built on bonjour-service (multicast-dns underneath). What it does not do, and how this module makes up for it:
 * - its browser ignores `subtypes` (it always queries `_s2connect._tcp.local`, whose answers carry no subtype
 *   records), so roles would be unknown for endpoints that were up before browsing began. We browse each subtype
 *   name (`_cem._sub._s2connect._tcp.local`, `_rm._sub…`) as its own browser and merge the roles per instance;
 * - a service is reported `down` only on a goodbye (TTL 0); nothing expires a service that vanished without one
 *   (the library's `expire()` is never scheduled). Such an endpoint stays listed until browsing stops;
 * - the multicast-dns socket's `error` event has no listener (a bind failure would crash the process), and a
 *   failed multicast join is only a `warning` after which packets would leave through the default interface.
 *   We reach the library's private `server.mdns` emitter once, at start, to listen to both: the one place this
 *   module depends on internals, guarded so a changed library only loses the check;
 * - probing for name conflicts (RFC 6762 §8) is off: the library reports a conflict only by `console.log` and
 *   stays silent towards the caller, and it adds about a second. Pick a unique instance name (e.g. with the
 *   node id in it).
 */

/** The S2 Connect DNS-SD service type, without the leading underscore, as bonjour-service wants it. */
const SERVICE_TYPE = 's2connect';
/** `txtver` value this module reads and writes (S2 Connect §2). */
const TXT_VERSION = '1';
/** A DNS character-string (one TXT `key=value` entry) holds at most 255 bytes (RFC 1035 §3.3). */
const MAX_TXT_ENTRY_BYTES = 255;
/** A DNS label (the instance name) holds at most 63 bytes (RFC 6763 §4.1.1). */
const MAX_INSTANCE_BYTES = 63;
/**
 * How long a newly seen endpoint waits for its other role's answer before `found` is reported. Each subtype is
 * queried separately and real responders delay shared answers by 20–120 ms (RFC 6762 §6). Not needed for an
 * announcement, which carries all subtypes at once and is reported at once.
 */
const DEFAULT_SETTLE_MS = 150;

/** A role as DNS-SD subtype: `_cem` (Customer Energy Manager) or `_rm` (Resource Manager). */
export type DiscoveryRole = 'cem' | 'rm';

/** Both roles, in the order `roles` lists them. */
export const DISCOVERY_ROLES: readonly DiscoveryRole[] = ['cem', 'rm'];

/**
 * Where the mDNS socket lives. Defaults are the real mDNS port 5353 on all interfaces; tests pass the loopback
 * interface and a free port so that nothing leaves the host.
 */
export interface MdnsOptions {
  /** IPv4 address of the interface to join 224.0.0.251 on and send through (e.g. `127.0.0.1`). */
  readonly interface?: string | undefined;
  /** UDP port; default 5353. */
  readonly port?: number | undefined;
  /** Address to bind; default `0.0.0.0` (Linux delivers multicast only to a socket bound to the wildcard or the group). */
  readonly bind?: string | undefined;
}

/** What an endpoint publishes about itself (S2 Connect §2). */
export interface AdvertiseOptions {
  /** DNS-SD instance name (one label: no dots, ≤ 63 bytes); browsers report it as `instance`. */
  readonly name: string;
  /** The roles the endpoint represents, one subtype each (≥ 1). */
  readonly roles: readonly DiscoveryRole[];
  /** The HTTPS port (SRV port). */
  readonly port: number;
  /** SRV target: the endpoint's `.local` host name on a LAN deployment, any host name on a WAN one. */
  readonly host: string;
  readonly deployment: Deployment;
  /** Base URL of the pairing API (no `/v1`), e.g. `https://cem-one.local:8443`. */
  readonly pairingUrl?: string | undefined;
  /** Base URL on which `waitForPairing` is served. */
  readonly longpollingUrl?: string | undefined;
  /** TXT `e_name`. */
  readonly endpointName?: string | undefined;
  /** TXT `e_logoUrl`. */
  readonly endpointLogoUrl?: string | undefined;
  readonly mdns?: MdnsOptions | undefined;
}

/** A running advertisement. */
export interface Advertisement {
  /** The instance name as published. */
  readonly name: string;
  /** The TXT record as published. */
  readonly txt: Readonly<Record<string, string>>;
  /** Sends goodbyes (TTL 0) so that browsers report the endpoint removed, then closes the socket. Idempotent. */
  stop(): Promise<void>;
}

/** The endpoint as its TXT record and subtypes describe it (RS `DiscoveryEvent` endpoint). */
export interface DiscoveryEndpoint {
  readonly deployment: Deployment;
  readonly pairingUrl?: string;
  readonly longpollingUrl?: string;
  readonly endpointName?: string;
  readonly endpointLogoUrl?: string;
  /** From the subtypes, in the order of {@link DISCOVERY_ROLES}. */
  readonly roles: readonly DiscoveryRole[];
}

/** One discovered endpoint instance. */
export interface Discovered {
  /** DNS-SD instance name (RS calls it `hostname`). */
  readonly instance: string;
  readonly endpoint: DiscoveryEndpoint;
  /** SRV target. */
  readonly host: string;
  /** SRV port (the HTTPS port). */
  readonly port: number;
  /** The host's A/AAAA records that came with the answer (may be empty); see {@link resolverFor}. */
  readonly addresses: readonly string[];
  /** Source address of the packet the endpoint was learnt from. */
  readonly from: string;
}

/**
 * What browsing reports. Existing endpoints are reported `found` when browsing starts. `updated` follows when a
 * reported endpoint changes (another role answered late, a new TXT record, a new SRV target or port); an update
 * that makes the record invalid, or a goodbye, is `removed`.
 */
export type DiscoveryEvent =
  | ({ readonly type: 'found' } & Discovered)
  | ({ readonly type: 'updated' } & Discovered)
  | { readonly type: 'removed'; readonly instance: string };

export interface BrowseOptions {
  /** Only endpoints that represent this role; both when absent. */
  readonly role?: DiscoveryRole | undefined;
  /**
   * Told why a record of the wanted role is ignored (S2 Connect §2 validity rules), once per instance and reason.
   * Records of another role are not reported.
   */
  readonly onIgnored?: ((instance: string, reason: string) => void) | undefined;
  /** How long a new endpoint waits for its other role's answer (default 150 ms); see `updated`. */
  readonly settleMs?: number | undefined;
  readonly mdns?: MdnsOptions | undefined;
}

export interface DiscoverOptions extends BrowseOptions {
  /** End the iteration after this many ms; default: run until `return()` (a `break`) or `signal`. */
  readonly timeoutMs?: number | undefined;
  /** Aborting ends the iteration (without an error), like `return()`. */
  readonly signal?: AbortSignal | undefined;
}

/** A running browser. */
export interface DiscoveryBrowser {
  /** Endpoints reported and not removed, by instance. */
  readonly endpoints: ReadonlyMap<string, Discovered>;
  /** Stops browsing and closes the socket; no event is reported afterwards. Idempotent. */
  stop(): Promise<void>;
}

function invalidOption(path: string, value: unknown, message: string): S2ConnectError {
  const problem: Problem = { path, message, value: showValue(value) };
  return new S2ConnectError('InvalidOutgoingBody', { additionalInfo: `advertise: ${path} ${message}`, problems: [problem] });
}

/** The problem with an S2 Connect URL for `deployment`, or undefined when it is fine. */
function urlProblem(url: string, deployment: Deployment): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.protocol !== 'https:') return `must be https (S2 Connect is HTTPS only), not ${parsed.protocol}`;
  const host = parsed.hostname;
  if (isIP(host.replace(/^\[|\]$/g, '')) !== 0) return `has the IP host ${host}; S2 Connect uses host names`;
  const hostDeployment = deploymentOfUrl(parsed);
  if (hostDeployment === undefined) return `has no usable host name (${host})`;
  if (hostDeployment !== deployment) {
    return deployment === 'LAN'
      ? `host ${host} is not a .local name, but deployment is LAN`
      : `host ${host} is a .local name, but deployment is WAN`;
  }
  return undefined;
}

/** The TXT record for `options`; throws S2ConnectError `InvalidOutgoingBody` naming the offending option. */
function advertisedTxt(options: AdvertiseOptions): Record<string, string> {
  const { name, roles, port, host, deployment } = options;
  if (typeof name !== 'string' || name.trim() === '') throw invalidOption('name', name, 'must be a non-empty instance name');
  if (name.includes('.')) throw invalidOption('name', name, 'must be one DNS label (no dots; bonjour-service would turn them into -)');
  if (Buffer.byteLength(name) > MAX_INSTANCE_BYTES) throw invalidOption('name', name, `must be at most ${MAX_INSTANCE_BYTES} bytes`);
  if (!Array.isArray(roles) || roles.length === 0) throw invalidOption('roles', roles, 'must name at least one role (cem, rm)');
  for (const [i, role] of (roles as readonly unknown[]).entries()) {
    if (!DISCOVERY_ROLES.includes(role as DiscoveryRole)) throw invalidOption(`roles[${i}]`, role, 'must be cem or rm');
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidOption('port', port, 'must be a TCP port (1–65535)');
  if (deployment !== 'LAN' && deployment !== 'WAN') throw invalidOption('deployment', deployment, 'must be LAN or WAN');
  const hostDeployment = typeof host === 'string' ? deploymentOfHost(host) : undefined;
  if (hostDeployment === undefined) throw invalidOption('host', host, 'must be a host name (not an IP address)');
  if (deployment === 'LAN' && hostDeployment !== 'LAN') throw invalidOption('host', host, 'must be a .local name on a LAN deployment');

  const txt: Record<string, string> = { txtver: TXT_VERSION, deployment };
  const urls: Array<[key: string, option: string, value: string | undefined]> = [
    ['pairingUrl', 'pairingUrl', options.pairingUrl],
    ['longpollingUrl', 'longpollingUrl', options.longpollingUrl],
  ];
  for (const [key, option, value] of urls) {
    if (value === undefined) continue;
    const problem = typeof value === 'string' ? urlProblem(value, deployment) : 'must be a string';
    if (problem !== undefined) throw invalidOption(option, value, problem);
    if (/\/v1\/?$/.test(new URL(value).pathname)) throw invalidOption(option, value, 'must be the base URL, without the API version /v1');
    txt[key] = value;
  }
  if (txt.pairingUrl === undefined && txt.longpollingUrl === undefined) {
    throw invalidOption('pairingUrl', undefined, 'or longpollingUrl must be given: browsers ignore a record without a URL');
  }
  if (options.endpointName !== undefined) txt.e_name = options.endpointName;
  if (options.endpointLogoUrl !== undefined) {
    try {
      new URL(options.endpointLogoUrl);
    } catch {
      throw invalidOption('endpointLogoUrl', options.endpointLogoUrl, 'is not a URL');
    }
    txt.e_logoUrl = options.endpointLogoUrl;
  }
  for (const [key, value] of Object.entries(txt)) {
    if (Buffer.byteLength(`${key}=${value}`) > MAX_TXT_ENTRY_BYTES) {
      const option = key === 'e_name' ? 'endpointName' : key === 'e_logoUrl' ? 'endpointLogoUrl' : key;
      throw invalidOption(option, value, `makes the TXT entry ${key}=… longer than ${MAX_TXT_ENTRY_BYTES} bytes`);
    }
  }
  return txt;
}

/** The multicast-dns options bonjour-service passes through (its typing says ServiceConfig; it is not). */
function bonjourOptions(mdns: MdnsOptions | undefined): ConstructorParameters<typeof Bonjour>[0] {
  const opts: Record<string, unknown> = { loopback: true };
  if (mdns?.interface !== undefined) opts.interface = mdns.interface;
  if (mdns?.port !== undefined) opts.port = mdns.port;
  // multicast-dns binds to the interface's own address when given one, where Linux delivers no multicast: bind the
  // wildcard unless told otherwise (membership and sending stay on the interface).
  opts.bind = mdns?.bind ?? '0.0.0.0';
  return opts;
}

/** bonjour-service's private multicast-dns emitter (see the module comment), or undefined if it moved. */
function mdnsEmitterOf(bonjour: Bonjour): EventEmitter | undefined {
  const mdns = (bonjour as unknown as { server?: { mdns?: unknown } }).server?.mdns;
  return mdns instanceof EventEmitter ? mdns : undefined;
}

function closeBonjour(bonjour: Bonjour): Promise<void> {
  return new Promise((resolve) => bonjour.destroy(() => resolve()));
}

/**
 * A Bonjour instance whose socket is bound and has joined 224.0.0.251 (on `mdns.interface` when given). Nothing is
 * sent before this resolves, so a failed join can never send through another interface. Rejects with
 * S2ConnectError `TransportFailed`.
 */
async function openBonjour(mdns: MdnsOptions | undefined): Promise<Bonjour> {
  // Errors of answers to queries (sent by the library on its own): a send failure on a live socket is transient.
  const bonjour = new Bonjour(bonjourOptions(mdns), () => undefined);
  const emitter = mdnsEmitterOf(bonjour);
  if (emitter === undefined) return bonjour;
  // Keep one listener for the socket's lifetime: an unheard `error` event would throw out of the socket.
  emitter.on('error', () => undefined);
  const where = `${mdns?.bind ?? '0.0.0.0'}:${mdns?.port ?? 5353}${mdns?.interface === undefined ? '' : ` on ${mdns.interface}`}`;
  try {
    await new Promise<void>((resolve, reject) => {
      let joined = false;
      let warning: unknown;
      const onJoined = (): void => {
        joined = true;
      };
      const onWarning = (err: unknown): void => {
        warning ??= err;
      };
      const cleanup = (): void => {
        emitter.removeListener('networkInterface', onJoined);
        emitter.removeListener('warning', onWarning);
        emitter.removeListener('ready', onReady);
        emitter.removeListener('error', onError);
      };
      const onReady = (): void => {
        cleanup();
        if (joined) resolve();
        else {
          const why = warning instanceof Error ? `: ${warning.message}` : '';
          const info = `mDNS could not join 224.0.0.251 on ${mdns?.interface ?? 'any interface'}${why}`;
          reject(new S2ConnectError('TransportFailed', { additionalInfo: info, cause: warning }));
        }
      };
      const onError = (err: unknown): void => {
        cleanup();
        const why = err instanceof Error ? `: ${err.message}` : '';
        reject(new S2ConnectError('TransportFailed', { additionalInfo: `mDNS socket ${where} failed${why}`, cause: err }));
      };
      emitter.on('networkInterface', onJoined);
      emitter.on('warning', onWarning);
      emitter.once('ready', onReady);
      emitter.once('error', onError);
    });
  } catch (err) {
    await closeBonjour(bonjour);
    throw err;
  }
  return bonjour;
}

/**
 * Publishes an S2 Connect endpoint: `_s2connect._tcp` with a subtype per role, SRV `host:port` and the TXT record
 * of S2 Connect §2. Resolves once the first announcement is sent. Throws S2ConnectError `InvalidOutgoingBody`
 * (naming the option) for options that browsers would ignore or that S2 Connect forbids (an IP host, a URL host
 * that disagrees with `deployment`, no URL), and `TransportFailed` when the mDNS socket cannot be opened.
 */
export async function advertise(options: AdvertiseOptions): Promise<Advertisement> {
  const txt = advertisedTxt(options);
  const roles = DISCOVERY_ROLES.filter((role) => options.roles.includes(role));
  const bonjour = await openBonjour(options.mdns);
  const service = bonjour.publish({
    name: options.name,
    type: SERVICE_TYPE,
    protocol: 'tcp',
    port: options.port,
    host: options.host.replace(/\.$/, ''),
    subtypes: [...roles],
    txt,
    probe: false,
  });
  // `up` is emitted once the first announcement went out (the library's send callback).
  await new Promise<void>((resolve) => {
    if (service.published) resolve();
    else service.once('up', () => resolve());
  });
  let stopping: Promise<void> | undefined;
  return {
    name: service.name,
    txt,
    stop() {
      stopping ??= new Promise<void>((resolve) => (service.stop as (callback: () => void) => void)(() => resolve())).then(() =>
        closeBonjour(bonjour),
      );
      return stopping;
    },
  };
}

/** A TXT value by key, case-insensitively (RFC 6763 §6.4); undefined when absent or not text. */
function txtValue(txt: Record<string, unknown>, key: string): string | undefined {
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(txt)) {
    if (k.toLowerCase() !== wanted) continue;
    if (typeof v === 'string') return v;
    if (Buffer.isBuffer(v)) return v.toString('utf8');
    return undefined;
  }
  return undefined;
}

/**
 * The endpoint a TXT record and role set describe, or why the record is ignored (S2 Connect §2): `txtver` must be
 * `1`, `deployment` LAN or WAN, at least one of pairingUrl / longpollingUrl present, and every URL https with a
 * host name that agrees with the deployment (`.local` ⇔ LAN; an IP host agrees with neither).
 */
export function endpointFromTxt(
  txt: Readonly<Record<string, unknown>>,
  roles: readonly DiscoveryRole[],
): { endpoint: DiscoveryEndpoint } | { reason: string } {
  const version = txtValue(txt, 'txtver');
  if (version === undefined) return { reason: 'no txtver' };
  if (version !== TXT_VERSION) return { reason: `txtver is ${showValue(version)}, not "1"` };
  const deployment = txtValue(txt, 'deployment');
  if (deployment === undefined) return { reason: 'no deployment' };
  if (deployment !== 'LAN' && deployment !== 'WAN') return { reason: `deployment is ${showValue(deployment)}, not LAN or WAN` };
  const pairingUrl = txtValue(txt, 'pairingUrl');
  const longpollingUrl = txtValue(txt, 'longpollingUrl');
  if (pairingUrl === undefined && longpollingUrl === undefined) return { reason: 'neither pairingUrl nor longpollingUrl' };
  for (const [key, url] of [
    ['pairingUrl', pairingUrl],
    ['longpollingUrl', longpollingUrl],
  ] as const) {
    const problem = url === undefined ? undefined : urlProblem(url, deployment);
    if (problem !== undefined) return { reason: `${key} ${problem}` };
  }
  const endpointName = txtValue(txt, 'e_name');
  const endpointLogoUrl = txtValue(txt, 'e_logoUrl');
  return {
    endpoint: {
      deployment,
      ...(pairingUrl === undefined ? {} : { pairingUrl }),
      ...(longpollingUrl === undefined ? {} : { longpollingUrl }),
      ...(endpointName === undefined ? {} : { endpointName }),
      ...(endpointLogoUrl === undefined ? {} : { endpointLogoUrl }),
      roles: DISCOVERY_ROLES.filter((role) => roles.includes(role)),
    },
  };
}

/** What is known of one instance, across the three browsers. */
interface Tracked {
  readonly key: string;
  service: Service;
  readonly roles: Set<DiscoveryRole>;
  /** `found` was reported and `removed` not yet. */
  reported: Discovered | undefined;
  /** Still waiting for the other role's answer. */
  settleTimer: NodeJS.Timeout | undefined;
  /** The last ignore reason told (told once). */
  ignoredFor: string | undefined;
}

function rolesOf(subtypes: readonly string[] | undefined): DiscoveryRole[] {
  return DISCOVERY_ROLES.filter((role) => subtypes?.some((s) => s.toLowerCase() === role) === true);
}

function sameDiscovered(a: Discovered, b: Discovered): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Calls a user callback; its exception must not unwind into the library's socket handler. */
function safely(what: string, call: () => void): void {
  try {
    call();
  } catch (err) {
    process.emitWarning(`s2-engine discovery: the ${what} callback threw: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Browses S2 Connect endpoints and calls `onEvent` with each {@link DiscoveryEvent}; resolves once the socket
 * listens and the queries are sent. Rejects with S2ConnectError `TransportFailed` when the socket cannot be opened.
 * Invalid records are not reported (see `onIgnored`). `onEvent` runs inside the socket's handler: it should not
 * throw (an exception becomes a process warning).
 */
export async function browse(options: BrowseOptions, onEvent: (event: DiscoveryEvent) => void): Promise<DiscoveryBrowser> {
  const { role, onIgnored } = options;
  if (role !== undefined && !DISCOVERY_ROLES.includes(role)) {
    throw new S2ConnectError('InvalidOutgoingBody', { additionalInfo: `browse: role must be cem or rm, not ${showValue(role)}` });
  }
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  const bonjour = await openBonjour(options.mdns);
  const tracked = new Map<string, Tracked>();
  const endpoints = new Map<string, Discovered>();
  let stopped = false;

  const emit = (event: DiscoveryEvent): void => {
    if (!stopped) safely('onEvent', () => onEvent(event));
  };

  const evaluate = (entry: Tracked): void => {
    if (entry.settleTimer !== undefined || stopped) return;
    const { service } = entry;
    const roles = DISCOVERY_ROLES.filter((r) => entry.roles.has(r));
    const wanted = role === undefined ? roles.length > 0 : entry.roles.has(role);
    const parsed = endpointFromTxt((service.txt ?? {}) as Record<string, unknown>, roles);
    if (wanted && 'endpoint' in parsed) {
      entry.ignoredFor = undefined;
      const discovered: Discovered = {
        instance: service.name,
        endpoint: parsed.endpoint,
        host: service.host,
        port: service.port,
        addresses: [...new Set(service.addresses ?? [])],
        from: service.referer?.address ?? '',
      };
      const before = entry.reported;
      if (before !== undefined && sameDiscovered(before, discovered)) return;
      entry.reported = discovered;
      endpoints.set(discovered.instance, discovered);
      emit({ type: before === undefined ? 'found' : 'updated', ...discovered });
      return;
    }
    if (entry.reported !== undefined) {
      entry.reported = undefined;
      endpoints.delete(service.name);
      emit({ type: 'removed', instance: service.name });
    }
    if (wanted && 'reason' in parsed && entry.ignoredFor !== parsed.reason) {
      entry.ignoredFor = parsed.reason;
      if (onIgnored !== undefined) safely('onIgnored', () => onIgnored(service.name, parsed.reason));
    }
  };

  /**
   * One browser's sighting. `browserRole` is the subtype browsed (undefined: the plain service type). `complete`:
   * the packet had the service-type PTR and subtype PTRs together, i.e. an announcement with every role.
   */
  const seen = (service: Service, browserRole: DiscoveryRole | undefined): void => {
    const key = service.fqdn.toLowerCase();
    const roles = rolesOf(service.subtypes);
    if (browserRole !== undefined && !roles.includes(browserRole)) roles.push(browserRole);
    let entry = tracked.get(key);
    if (entry === undefined) {
      // A service-type answer alone says nothing about roles: wait for the subtype answers.
      if (roles.length === 0) return;
      entry = { key, service, roles: new Set(), reported: undefined, settleTimer: undefined, ignoredFor: undefined };
      tracked.set(key, entry);
    }
    entry.service = service;
    for (const r of roles) entry.roles.add(r);
    const complete = (browserRole === undefined && roles.length > 0) || entry.roles.size === DISCOVERY_ROLES.length;
    if (entry.reported === undefined && entry.settleTimer === undefined && !complete && settleMs > 0) {
      const pending = entry;
      pending.settleTimer = setTimeout(() => {
        pending.settleTimer = undefined;
        evaluate(pending);
      }, settleMs);
      return;
    }
    if (complete && entry.settleTimer !== undefined) {
      clearTimeout(entry.settleTimer);
      entry.settleTimer = undefined;
    }
    evaluate(entry);
  };

  const changed = (service: Service): void => {
    const entry = tracked.get(service.fqdn.toLowerCase());
    if (entry === undefined) return;
    entry.service = service;
    evaluate(entry);
  };

  const gone = (service: Service): void => {
    const key = service.fqdn.toLowerCase();
    const entry = tracked.get(key);
    if (entry === undefined) return;
    tracked.delete(key);
    if (entry.settleTimer !== undefined) clearTimeout(entry.settleTimer);
    if (entry.reported !== undefined) {
      endpoints.delete(entry.reported.instance);
      emit({ type: 'removed', instance: entry.reported.instance });
    }
  };

  const browsers: Browser[] = [];
  const watch = (browserRole: DiscoveryRole | undefined): void => {
    // `name` prefixes the browsed name: `_cem._sub` + `._s2connect._tcp.local` is the subtype's PTR name.
    const browser = bonjour.find({
      type: SERVICE_TYPE,
      protocol: 'tcp',
      ...(browserRole === undefined ? {} : { name: `_${browserRole}._sub` }),
    });
    browser.on('up', (service) => seen(service, browserRole));
    browser.on('txt-update', (service) => changed(service));
    browser.on('srv-update', (service) => changed(service));
    browser.on('down', (service) => gone(service));
    browsers.push(browser);
  };
  // Both subtypes even when filtering by role: `roles` must be complete. The service-type browser is there to
  // recognise announcements (see `seen`).
  for (const r of DISCOVERY_ROLES) watch(r);
  watch(undefined);

  let stopping: Promise<void> | undefined;
  return {
    endpoints,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        for (const browser of browsers) browser.stop();
        for (const entry of tracked.values()) if (entry.settleTimer !== undefined) clearTimeout(entry.settleTimer);
        tracked.clear();
        await closeBonjour(bonjour);
      })();
      return stopping;
    },
  };
}

/**
 * Browses S2 Connect endpoints as an async iterator of {@link DiscoveryEvent}s (S2 Connect §2). Browsing starts at
 * once (events are buffered until read); the iteration ends after `timeoutMs`, on `signal`, or on `return()` (a
 * `break` out of `for await`), and the socket is closed before the iterator reports done. A socket that cannot
 * be opened rejects the first `next()` with S2ConnectError `TransportFailed`.
 *
 * ```ts
 * for await (const event of discover({ role: 'cem', timeoutMs: 3000 })) {
 *   if (event.type === 'found') console.log(event.instance, event.endpoint.pairingUrl);
 * }
 * ```
 */
export function discover(options: DiscoverOptions = {}): AsyncIterableIterator<DiscoveryEvent> {
  type Waiter = { resolve: (result: IteratorResult<DiscoveryEvent>) => void; reject: (err: unknown) => void };
  const queue: DiscoveryEvent[] = [];
  // Calls to next() not answered yet, oldest first (for-await has one at a time; direct callers may have more).
  const waiters: Waiter[] = [];
  let failure: Error | undefined;
  let ended = false;
  let closing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const browserReady = browse(options, (event) => {
    if (ended) return;
    const waiter = waiters.shift();
    if (waiter !== undefined) waiter.resolve({ value: event, done: false });
    else queue.push(event);
  });

  const stopWaiting = (): void => {
    ended = true;
    if (timer !== undefined) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  };
  const finish = (): Promise<void> => {
    if (closing !== undefined) return closing;
    stopWaiting();
    const stopped = browserReady.then(
      (browser) => browser.stop(),
      () => undefined,
    );
    closing = stopped;
    // Pending next() calls end once the socket is closed.
    for (const waiter of waiters.splice(0)) void stopped.then(() => waiter.resolve({ value: undefined, done: true }));
    return stopped;
  };
  const onAbort = (): void => void finish();

  browserReady.catch((err: unknown) => {
    stopWaiting();
    const pending = waiters.splice(0);
    // Reported once: to the pending next() calls, else to the next one; later calls see the iteration done.
    if (pending.length > 0) for (const waiter of pending) waiter.reject(err);
    else failure = err instanceof Error ? err : new Error(String(err));
  });
  if (options.timeoutMs !== undefined) timer = setTimeout(onAbort, options.timeoutMs);
  if (options.signal?.aborted === true) void finish();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  const iterator: AsyncIterableIterator<DiscoveryEvent> = {
    next() {
      const event = queue.shift();
      if (event !== undefined) return Promise.resolve({ value: event, done: false });
      if (failure !== undefined) {
        const err = failure;
        failure = undefined;
        return Promise.reject(err);
      }
      if (ended) return (closing ?? Promise.resolve()).then(() => ({ value: undefined, done: true }));
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    async return() {
      queue.length = 0;
      await finish();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * A {@link HostResolver} for pair()'s `resolve` option that maps the discovered SRV host to one of its advertised
 * addresses (IPv4 first; IPv6 link-local addresses are skipped, they need a zone), falling back to the address
 * the answer came from. Other names are left to DNS. Use it for `.local` hosts on systems without an mDNS resolver.
 */
export function resolverFor(found: Pick<Discovered, 'host' | 'addresses' | 'from'>): HostResolver {
  const host = found.host.replace(/\.$/, '').toLowerCase();
  const usable = found.addresses.filter((a) => isIP(a) !== 0 && !/^fe80:/i.test(a));
  const address = usable.find((a) => isIP(a) === 4) ?? usable[0] ?? (isIP(found.from) !== 0 ? found.from : undefined);
  return (hostname) => (hostname.replace(/\.$/, '').toLowerCase() === host ? address : undefined);
}
