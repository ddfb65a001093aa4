import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { Bonjour } from 'bonjour-service';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  advertise,
  browse,
  discover,
  endpointFromTxt,
  resolverFor,
  type Advertisement,
  type AdvertiseOptions,
  type DiscoveryEvent,
  type DiscoveryRole,
  type MdnsOptions,
} from '../../src/connect/discovery.js';
import { S2ConnectError } from '../../src/connect/errors.js';
import { describeWithLoopbackMulticast, freeUdpPort, LOOPBACK } from '../support/loopback-multicast.js';

/** Waits (real time: these are network deliveries, not protocol timeouts) until `check` holds. */
async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Open UDP sockets; a closed socket's handle goes a loop turn after its close callback, so let that pass first. */
async function udpHandles(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return process.getActiveResourcesInfo().filter((name) => name === 'UDPWrap').length;
}

describe('S2 Connect TXT validity (S2C §2), without sockets', () => {
  const lan = { txtver: '1', deployment: 'LAN', pairingUrl: 'https://cem.local:8443' };

  it('[S2C §2] a valid record gives the endpoint, keys read case-insensitively, roles in order', () => {
    const result = endpointFromTxt(
      { TXTVER: '1', Deployment: 'LAN', pairingurl: 'https://cem.local:8443', e_name: 'Home', E_LOGOURL: 'https://x/l.png' },
      ['rm', 'cem'],
    );
    expect(result).toEqual({
      endpoint: {
        deployment: 'LAN',
        pairingUrl: 'https://cem.local:8443',
        endpointName: 'Home',
        endpointLogoUrl: 'https://x/l.png',
        roles: ['cem', 'rm'],
      },
    });
  });

  it.each([
    ['no txtver', { deployment: 'LAN', pairingUrl: 'https://cem.local' }, /no txtver/],
    ['txtver 2', { ...lan, txtver: '2' }, /txtver is "2"/],
    ['no deployment', { txtver: '1', pairingUrl: 'https://cem.local' }, /no deployment/],
    ['deployment lan (case)', { ...lan, deployment: 'lan' }, /deployment is "lan"/],
    ['deployment other', { ...lan, deployment: 'CLOUD' }, /deployment is "CLOUD"/],
    ['no URL', { txtver: '1', deployment: 'LAN' }, /neither pairingUrl nor longpollingUrl/],
    ['LAN with a non-.local host', { ...lan, pairingUrl: 'https://cem.example.com' }, /not a \.local name/],
    ['LAN with a bad longpollingUrl', { ...lan, longpollingUrl: 'https://cem.example.com' }, /longpollingUrl .*not a \.local/],
    ['WAN with a .local host', { txtver: '1', deployment: 'WAN', pairingUrl: 'https://cem.local.' }, /is a \.local name/],
    ['an IP host', { txtver: '1', deployment: 'WAN', pairingUrl: 'https://192.0.2.1:8443' }, /IP host/],
    ['http', { ...lan, pairingUrl: 'http://cem.local' }, /must be https/],
    ['not a URL', { ...lan, pairingUrl: 'cem.local' }, /not a URL/],
  ])('[S2C §2] ignored: %s', (_title, txt, reason) => {
    const result = endpointFromTxt(txt, ['cem']);
    expect(result).toHaveProperty('reason');
    expect((result as { reason: string }).reason).toMatch(reason);
  });

  it('[S2C §2] WAN with a public host, longpollingUrl alone, .local. with the root dot on LAN are accepted', () => {
    expect(endpointFromTxt({ txtver: '1', deployment: 'WAN', pairingUrl: 'https://s2.example.com/pairing/' }, ['cem'])).toHaveProperty(
      'endpoint',
    );
    expect(endpointFromTxt({ txtver: '1', deployment: 'LAN', longpollingUrl: 'https://rm.local.:8000' }, ['rm'])).toHaveProperty(
      'endpoint',
    );
  });

  it('resolverFor maps the SRV host (any case, trailing dot) to an IPv4 address first, skips link-local IPv6', () => {
    const resolve = resolverFor({ host: 'cem-one.local', addresses: ['fe80::1', '2001:db8::5', '192.0.2.7'], from: '192.0.2.9' });
    expect(resolve('cem-one.local')).toBe('192.0.2.7');
    expect(resolve('CEM-ONE.local.')).toBe('192.0.2.7');
    expect(resolve('other.local')).toBeUndefined();
    expect(resolverFor({ host: 'a.local', addresses: ['fe80::1', '2001:db8::5'], from: '' })('a.local')).toBe('2001:db8::5');
    expect(resolverFor({ host: 'a.local', addresses: [], from: '192.0.2.9' })('a.local')).toBe('192.0.2.9');
    expect(resolverFor({ host: 'a.local', addresses: [], from: '' })('a.local')).toBeUndefined();
  });
});

describe('advertise() refuses what browsers would ignore or S2 Connect forbids (S2C §2)', () => {
  const good: AdvertiseOptions = {
    name: 'cem-one',
    roles: ['cem'],
    port: 8443,
    host: 'cem-one.local',
    deployment: 'LAN',
    pairingUrl: 'https://cem-one.local:8443',
    // Never reached: validation fails before any socket is opened.
    mdns: { interface: LOOPBACK, port: 1 },
  };
  it.each<[string, Partial<Record<keyof AdvertiseOptions, unknown>>, string]>([
    ['an empty name', { name: '' }, 'name'],
    ['a name with a dot', { name: 'cem.one' }, 'name'],
    ['a name over 63 bytes', { name: 'x'.repeat(64) }, 'name'],
    ['no role', { roles: [] }, 'roles'],
    ['an unknown role', { roles: ['cem', 'CEM'] }, 'roles[1]'],
    ['port 0', { port: 0 }, 'port'],
    ['another deployment', { deployment: 'CLOUD' }, 'deployment'],
    ['an IP host', { host: '192.0.2.1' }, 'host'],
    ['a LAN host that is not .local', { host: 'cem.example.com' }, 'host'],
    ['no URL', { pairingUrl: undefined }, 'pairingUrl'],
    ['an IP host in the pairing URL', { pairingUrl: 'https://192.0.2.1:8443' }, 'pairingUrl'],
    ['a URL host that disagrees with LAN', { pairingUrl: 'https://cem.example.com' }, 'pairingUrl'],
    ['a URL host that disagrees with WAN', { deployment: 'WAN', host: 's2.example.com', pairingUrl: 'https://cem.local' }, 'pairingUrl'],
    ['a bad longpollingUrl', { longpollingUrl: 'https://[::1]:8000' }, 'longpollingUrl'],
    ['an http URL', { pairingUrl: 'http://cem-one.local' }, 'pairingUrl'],
    ['a URL with /v1', { pairingUrl: 'https://cem-one.local/v1/' }, 'pairingUrl'],
    ['a logo that is no URL', { endpointLogoUrl: 'logo.png' }, 'endpointLogoUrl'],
    ['a TXT entry over 255 bytes', { endpointName: 'n'.repeat(250) }, 'endpointName'],
  ])('[S2C §2] %s → InvalidOutgoingBody naming the option', async (_title, change, path) => {
    const err: unknown = await advertise({ ...good, ...change } as AdvertiseOptions).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S2ConnectError);
    expect((err as S2ConnectError).errorMessage).toBe('InvalidOutgoingBody');
    expect((err as S2ConnectError).problems[0]?.path).toBe(path);
    expect((err as S2ConnectError).message).toContain(path);
  });
});

describeWithLoopbackMulticast('S2 Connect discovery over mDNS on loopback (S2C §2)', () => {
  let mdns: MdnsOptions;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    // Loopback only, on a random port: nothing reaches the network or a real mDNS responder.
    mdns = { interface: LOOPBACK, port: await freeUdpPort() }; // bind defaults to the wildcard
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    vi.restoreAllMocks();
  });

  async function advertised(options: Partial<AdvertiseOptions> & { name: string }): Promise<Advertisement> {
    const host = options.host ?? `${options.name}.local`;
    const ad = await advertise({
      roles: ['cem'],
      port: 8443,
      host,
      deployment: 'LAN',
      pairingUrl: `https://${host}:8443`,
      mdns,
      ...options,
    });
    cleanups.push(() => ad.stop());
    return ad;
  }

  /** Publishes through bonjour-service directly: records advertise() refuses to send. */
  async function published(
    name: string,
    txt: Record<string, string>,
    subtypes: DiscoveryRole[] = ['cem'],
    host = `${name}.local`,
  ): Promise<void> {
    const bonjour = new Bonjour({ interface: LOOPBACK, bind: '0.0.0.0', port: mdns.port, loopback: true } as never);
    const service = bonjour.publish({ name, type: 's2connect', port: 8443, host, subtypes, txt, probe: false });
    await new Promise<void>((resolve) => service.once('up', () => resolve()));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          (service.stop as (cb: () => void) => void)(() => bonjour.destroy(() => resolve()));
        }),
    );
  }

  async function browsing(options: { role?: DiscoveryRole; settleMs?: number } = {}) {
    const events: DiscoveryEvent[] = [];
    const ignored: Array<[string, string]> = [];
    const browser = await browse({ ...options, mdns, onIgnored: (instance, reason) => ignored.push([instance, reason]) }, (e) =>
      events.push(e),
    );
    cleanups.push(() => browser.stop());
    const found = (instance: string) => events.find((e) => e.type === 'found' && e.instance === instance);
    return { events, ignored, browser, found };
  }

  it('[S2C §2] found with instance, endpoint fields, roles, host, port, addresses and source address', async () => {
    const b = await browsing();
    await advertised({
      name: 'cem-one',
      roles: ['rm', 'cem'],
      port: 8443,
      longpollingUrl: 'https://cem-one.local:8443',
      endpointName: 'Home CEM',
      endpointLogoUrl: 'https://example.com/logo.png',
    });
    await until(() => b.found('cem-one') !== undefined, 'found cem-one');
    const event = b.found('cem-one');
    expect(event).toMatchObject({
      type: 'found',
      instance: 'cem-one',
      host: 'cem-one.local',
      port: 8443,
      from: LOOPBACK,
      endpoint: {
        deployment: 'LAN',
        pairingUrl: 'https://cem-one.local:8443',
        longpollingUrl: 'https://cem-one.local:8443',
        endpointName: 'Home CEM',
        endpointLogoUrl: 'https://example.com/logo.png',
        roles: ['cem', 'rm'],
      },
    });
    expect(Array.isArray(event?.type === 'found' ? event.addresses : undefined)).toBe(true);
    expect(b.browser.endpoints.get('cem-one')?.port).toBe(8443);
    expect(b.ignored).toEqual([]);
  });

  it('[S2C §2] an endpoint that was up before browsing began is found with all its roles (subtypes browsed one by one)', async () => {
    await advertised({ name: 'early', roles: ['cem', 'rm'] });
    await advertised({ name: 'early-rm', roles: ['rm'] });
    const b = await browsing();
    await until(() => b.found('early') !== undefined && b.found('early-rm') !== undefined, 'found early endpoints');
    expect(b.found('early')).toMatchObject({ endpoint: { roles: ['cem', 'rm'] } });
    expect(b.found('early-rm')).toMatchObject({ endpoint: { roles: ['rm'] } });
    expect(b.events.filter((e) => e.type !== 'found')).toEqual([]);
  });

  it('[S2C §2] without the settle wait a late role arrives as updated', async () => {
    await advertised({ name: 'both', roles: ['cem', 'rm'] });
    const b = await browsing({ settleMs: 0 });
    await until(() => b.events.some((e) => e.type === 'updated'), 'updated');
    const [first, second] = b.events;
    expect(first).toMatchObject({ type: 'found', instance: 'both' });
    expect(first?.type === 'found' ? first.endpoint.roles : []).toHaveLength(1);
    expect(second).toMatchObject({ type: 'updated', instance: 'both', endpoint: { roles: ['cem', 'rm'] } });
  });

  it.each<[DiscoveryRole, boolean]>([
    ['cem', false],
    ['rm', false],
    ['cem', true],
    ['rm', true],
  ])('[S2C §2] role %s filters by subtype (browser started before the advertisers: %s)', async (role, browserFirst) => {
    const start = () => browsing({ role });
    const b = browserFirst ? await start() : undefined;
    await advertised({ name: 'only-cem', roles: ['cem'] });
    await advertised({ name: 'only-rm', roles: ['rm'] });
    await advertised({ name: 'cem-and-rm', roles: ['cem', 'rm'] });
    const browser = b ?? (await start());
    const other = role === 'cem' ? 'only-rm' : 'only-cem';
    const mine = role === 'cem' ? 'only-cem' : 'only-rm';
    await until(() => browser.found(mine) !== undefined && browser.found('cem-and-rm') !== undefined, `found ${mine}`);
    // Past the settle wait: the other role's endpoint would have been reported by now.
    await sleep(250);
    expect(browser.found(other)).toBeUndefined();
    expect(browser.found('cem-and-rm')).toMatchObject({ endpoint: { roles: ['cem', 'rm'] } });
    expect(browser.found(mine)).toMatchObject({ endpoint: { roles: [role] } });
  });

  it('[S2C §2] stop() sends goodbyes: browsers report removed', async () => {
    const b = await browsing();
    const ad = await advertised({ name: 'leaving' });
    await until(() => b.found('leaving') !== undefined, 'found');
    await ad.stop();
    await until(() => b.events.some((e) => e.type === 'removed'), 'removed');
    expect(b.events.map((e) => e.type)).toEqual(['found', 'removed']);
    expect(b.events[1]).toEqual({ type: 'removed', instance: 'leaving' });
    expect(b.browser.endpoints.size).toBe(0);
    await ad.stop(); // idempotent
  });

  it('[S2C §2] two advertisers on one host are both found with their own fields', async () => {
    const b = await browsing();
    await advertised({ name: 'cem-a', port: 8001 });
    await advertised({
      name: 'rm-b',
      roles: ['rm'],
      port: 8002,
      deployment: 'WAN',
      host: 'rm-b.local',
      pairingUrl: 'https://s2.example.com/pairing/',
    });
    await until(() => b.found('cem-a') !== undefined && b.found('rm-b') !== undefined, 'both found');
    expect(b.found('cem-a')).toMatchObject({ port: 8001, endpoint: { deployment: 'LAN', roles: ['cem'] } });
    expect(b.found('rm-b')).toMatchObject({
      port: 8002,
      endpoint: { deployment: 'WAN', pairingUrl: 'https://s2.example.com/pairing/', roles: ['rm'] },
    });
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['txtver missing', { deployment: 'LAN', pairingUrl: 'https://bad.local' }, /no txtver/],
    ['txtver 2', { txtver: '2', deployment: 'LAN', pairingUrl: 'https://bad.local' }, /txtver is "2"/],
    ['deployment missing', { txtver: '1', pairingUrl: 'https://bad.local' }, /no deployment/],
    ['deployment other', { txtver: '1', deployment: 'HOME', pairingUrl: 'https://bad.local' }, /deployment is "HOME"/],
    ['no URL', { txtver: '1', deployment: 'LAN', e_name: 'x' }, /neither pairingUrl nor longpollingUrl/],
    ['LAN with a non-.local host', { txtver: '1', deployment: 'LAN', pairingUrl: 'https://bad.example.com' }, /not a \.local name/],
    ['WAN with a .local host', { txtver: '1', deployment: 'WAN', longpollingUrl: 'https://bad.local' }, /is a \.local name/],
  ])('[S2C §2] a record with %s is ignored and reported through onIgnored', async (_title, txt, reason) => {
    const b = await browsing();
    await published('bad', txt);
    await advertised({ name: 'sentinel' });
    await until(() => b.ignored.length > 0 && b.found('sentinel') !== undefined, 'ignored + sentinel');
    await sleep(200); // past the settle wait of `bad`
    expect(b.ignored).toHaveLength(1);
    expect(b.ignored[0]?.[0]).toBe('bad');
    expect(b.ignored[0]?.[1]).toMatch(reason);
    expect(b.events.map((e) => (e.type === 'removed' ? e.type : `${e.type} ${e.instance}`))).toEqual(['found sentinel']);
  });

  it('[S2C §2] discover() yields found, then removed, and ends after timeoutMs', async () => {
    const ad = await advertised({ name: 'iter', roles: ['cem', 'rm'] });
    const started = performance.now();
    const seen: DiscoveryEvent[] = [];
    for await (const event of discover({ role: 'rm', timeoutMs: 600, mdns })) {
      seen.push(event);
      if (event.type === 'found') await ad.stop();
    }
    const elapsed = performance.now() - started;
    expect(seen.map((e) => e.type)).toEqual(['found', 'removed']);
    expect(seen[0]).toMatchObject({ instance: 'iter', endpoint: { roles: ['cem', 'rm'] } });
    expect(elapsed).toBeGreaterThanOrEqual(590);
    expect(elapsed).toBeLessThan(3000);
  });

  it('break out of for-await stops the browser and closes its socket (no open handle left)', async () => {
    const baseline = await udpHandles();
    const ad = await advertise({
      name: 'brk',
      roles: ['cem'],
      port: 1,
      host: 'brk.local',
      deployment: 'LAN',
      pairingUrl: 'https://brk.local',
      mdns,
    });
    const iterator = discover({ mdns });
    let found: DiscoveryEvent | undefined;
    for await (const event of iterator) {
      found = event;
      break;
    }
    expect(found).toMatchObject({ type: 'found', instance: 'brk' });
    await ad.stop();
    expect(await udpHandles()).toBe(baseline);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('an AbortSignal ends the iteration without an error and closes the socket', async () => {
    const baseline = await udpHandles();
    const controller = new AbortController();
    const iterator = discover({ mdns, signal: controller.signal });
    const pending = iterator.next();
    setTimeout(() => controller.abort(), 50);
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await udpHandles()).toBe(baseline);
  });

  it('only loopback: sockets join 224.0.0.251 on 127.0.0.1, send through it and only to the test port', async () => {
    const sends: Array<{ address: string; port: number }> = [];
    const memberships: string[] = [];
    const interfaces: string[] = [];
    const create = dgram.createSocket.bind(dgram);
    vi.spyOn(dgram, 'createSocket').mockImplementation((...args: Parameters<typeof dgram.createSocket>) => {
      const socket = create(...args);
      const send = socket.send.bind(socket) as (...a: unknown[]) => void;
      (socket as unknown as { send: (...a: unknown[]) => void }).send = (...a: unknown[]) => {
        // multicast-dns: send(buffer, offset, length, port, address, callback)
        sends.push({ port: a[3] as number, address: a[4] as string });
        send(...a);
      };
      const join = socket.addMembership.bind(socket);
      socket.addMembership = (group: string, iface?: string) => {
        memberships.push(`${group}@${iface ?? 'default'}`);
        join(group, iface);
      };
      const through = socket.setMulticastInterface.bind(socket);
      socket.setMulticastInterface = (iface: string) => {
        interfaces.push(iface);
        through(iface);
      };
      return socket;
    });

    const b = await browsing();
    const ad = await advertised({ name: 'only-lo' });
    await until(() => b.found('only-lo') !== undefined, 'found');
    await ad.stop();
    await until(() => b.events.some((e) => e.type === 'removed'), 'removed');

    expect(memberships).toEqual([`224.0.0.251@${LOOPBACK}`, `224.0.0.251@${LOOPBACK}`]);
    expect(interfaces).toEqual([LOOPBACK, LOOPBACK]);
    expect(sends.length).toBeGreaterThanOrEqual(5); // 3 queries, announcement, goodbye
    expect(sends.every((s) => s.address === '224.0.0.251' && s.port === mdns.port)).toBe(true);
  });

  it('an interface that cannot join the group fails with TransportFailed before anything is sent', async () => {
    const sent: unknown[] = [];
    const create = dgram.createSocket.bind(dgram);
    vi.spyOn(dgram, 'createSocket').mockImplementation((...args: Parameters<typeof dgram.createSocket>) => {
      const socket = create(...args);
      vi.spyOn(socket, 'send').mockImplementation((...a: unknown[]) => sent.push(a));
      return socket;
    });
    const baseline = await udpHandles();
    // 198.51.100.77 (TEST-NET-2) is no address of this host.
    const bad = { ...mdns, interface: '198.51.100.77' };
    const err: unknown = await advertise({
      name: 'x',
      roles: ['cem'],
      port: 1,
      host: 'x.local',
      deployment: 'LAN',
      pairingUrl: 'https://x.local',
      mdns: bad,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S2ConnectError);
    expect((err as S2ConnectError).errorMessage).toBe('TransportFailed');
    expect((err as S2ConnectError).message).toContain('198.51.100.77');
    await expect(discover({ mdns: bad }).next()).rejects.toMatchObject({ errorMessage: 'TransportFailed' });
    expect(sent).toEqual([]);
    expect(await udpHandles()).toBe(baseline);
  });

  it('found comes with a resolver for pair(): the SRV host maps to an advertised address', async () => {
    const b = await browsing();
    await advertised({ name: 'resolvable' });
    await until(() => b.found('resolvable') !== undefined, 'found');
    const found = b.found('resolvable');
    if (found?.type !== 'found') throw new Error('unreachable');
    const address = resolverFor(found)('resolvable.local');
    expect(address).toBeDefined();
    expect([...found.addresses, found.from]).toContain(address);
  });

  it('latency: advertise() to found (browser running), and discover() to found (endpoint already up)', async () => {
    const announce: number[] = [];
    const late: number[] = [];
    const b = await browsing();
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await advertised({ name: `lat-${i}` });
      await until(() => b.found(`lat-${i}`) !== undefined, `found lat-${i}`);
      announce.push(performance.now() - t0);
    }
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const iterator = discover({ mdns });
      for await (const event of iterator) if (event.type === 'found' && event.instance === 'lat-3') break;
      late.push(performance.now() - t0);
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
    console.log(
      `mDNS discovery latency on loopback: advertise()→found median ${median(announce).toFixed(1)} ms; ` +
        `discover()→found (existing, single role, 150 ms settle) median ${median(late).toFixed(1)} ms`,
    );
    expect(median(announce)).toBeLessThan(200);
  });
});
