/**
 * DDBC is where S2 JSON 1.0.0-beta and 0.0.2-beta differ (docs/rules.md#R112). Over real WebSockets on
 * 127.0.0.1 a raw RM drives a CEM session of each version: after the handshake every frame is
 * checked against the selected version's schemas, so the other version's description (and, in
 * 0.0.2-beta, DDBC.PresentDemandStatus) is INVALID_MESSAGE; the rules then apply as in either
 * version (R39). Our own RM is refused the wrong shape before anything reaches the wire.
 */
import { describe, expect, it } from 'vitest';
import type { S2Session } from '../../src/roles/session.js';
import { rmMessageSet } from '../../src/testing/payloads/index.js';
import { S2Error } from '../../src/typebox/errors.js';
import type { IdentifiedMessage } from '../../src/typebox/registry.js';
import type { S2Version } from '../../src/typebox/versions.js';
import { waitFor } from '../transport/helpers.js';
import { e2eGuard } from '../support/e2e-guard.js';
import { rmDetailsInput } from '../support/e2e-messages.js';
import type { RawPeer } from '../support/raw-ws-peer.js';
import { rawRmHandshake } from '../support/raw-ws-peer.js';

const guard = e2eGuard();
const DDBC = ['DEMAND_DRIVEN_BASED_CONTROL'] as const;

/** A CEM server and a raw RM offering `version` only, with DDBC selected and active on the CEM. */
async function ddbcSession(version: S2Version): Promise<{ close(): Promise<void>; peer: RawPeer; cem: S2Session; refused: string[] }> {
  const server = await guard.cemServer({ logger: false });
  const peer = await guard.peer(server.url);
  await rawRmHandshake(peer, { versions: [version], offer: DDBC });
  const cem = await server.session();
  const refused: string[] = [];
  cem.on('refused', ({ status, reason }) => refused.push(`${status}: ${reason}`));
  await waitFor(() => cem.state === 'connected.active.DDBC', 2_000, 'CEM active.DDBC');
  expect(cem.version).toBe(version);
  return {
    peer,
    cem,
    refused,
    async close() {
      await server.close();
      await peer.closed;
    },
  };
}

/** Sends `message` and resolves with the CEM's ReceptionStatus for it. */
async function answer(peer: RawPeer, message: IdentifiedMessage): Promise<{ status: unknown; label: string }> {
  const status = await peer.statusFor(peer.send(message) as string);
  return { status: status.status, label: typeof status.diagnostic_label === 'string' ? status.diagnostic_label : '' };
}

describe('DDBC in a 1.0.0-beta session', () => {
  it('[R39, R112, R5] PresentDemandStatus before a description is INVALID_CONTENT; a 0.0.2-beta description INVALID_MESSAGE; then description, demand and status are OK', async () => {
    const s = await ddbcSession('1.0.0-beta');
    const v1 = rmMessageSet('DDBC', 'versions-ddbc:v1', Date.now(), '1.0.0-beta');
    const v0 = rmMessageSet('DDBC', 'versions-ddbc:v1', Date.now(), '0.0.2-beta');
    const [demand, actuatorStatus] = v1.statuses(1) as [IdentifiedMessage, IdentifiedMessage];
    expect(demand.message_type).toBe('DDBC.PresentDemandStatus');

    expect(await answer(s.peer, demand)).toMatchObject({
      status: 'INVALID_CONTENT',
      label: expect.stringMatching(/\(R39, R112\)/) as unknown,
    });
    const wrong = await answer(s.peer, v0.describe(1));
    expect(wrong.status).toBe('INVALID_MESSAGE');
    expect(wrong.label).toMatch(/present_demand_rate/);
    expect(s.cem.state).toBe('connected.active.DDBC');

    expect(await answer(s.peer, v1.describe(1))).toMatchObject({ status: 'OK' });
    expect(await answer(s.peer, { ...demand, message_id: crypto.randomUUID() })).toMatchObject({ status: 'OK' });
    expect(await answer(s.peer, actuatorStatus)).toMatchObject({ status: 'OK' });
    expect(s.refused).toHaveLength(2);
    await s.close();
  });

  it('[R39, R87, R112] a 1.0.0-beta description in force: the CEM application instructs against it and the RM gets the instruction', async () => {
    const s = await ddbcSession('1.0.0-beta');
    const v1 = rmMessageSet('DDBC', 'versions-ddbc:instruct', Date.now(), '1.0.0-beta');
    const description = v1.describe(1) as Extract<IdentifiedMessage, { message_type: 'DDBC.SystemDescription' }>;
    expect(await answer(s.peer, description)).toMatchObject({ status: 'OK' });
    for (const m of v1.statuses(1)) expect(await answer(s.peer, m)).toMatchObject({ status: 'OK' });
    const actuator = description.actuators[0]!;
    const sent = s.cem.send({
      message_type: 'DDBC.Instruction',
      id: crypto.randomUUID(),
      execution_time: new Date().toISOString(),
      abnormal_condition: false,
      actuator_id: actuator.id,
      operation_mode_id: actuator.operation_modes[1]!.Id,
      operation_mode_factor: 0.5,
    });
    const instruction = await s.peer.message('DDBC.Instruction');
    s.peer.ack(instruction);
    expect(await sent).toMatchObject({ status: 'OK' });
    await s.close();
  });
});

describe('DDBC in a 0.0.2-beta session', () => {
  it('[R112, R5] a 1.0.0-beta description and DDBC.PresentDemandStatus are INVALID_MESSAGE; the 0.0.2-beta description is OK', async () => {
    const s = await ddbcSession('0.0.2-beta');
    const v1 = rmMessageSet('DDBC', 'versions-ddbc:v0', Date.now(), '1.0.0-beta');
    const v0 = rmMessageSet('DDBC', 'versions-ddbc:v0', Date.now(), '0.0.2-beta');
    const wrong = await answer(s.peer, v1.describe(1));
    expect(wrong.status).toBe('INVALID_MESSAGE');
    expect(wrong.label).toMatch(/present_demand_rate/);
    const demand = await answer(s.peer, v1.statuses(1)[0]!);
    expect(demand.status).toBe('INVALID_MESSAGE');
    expect(demand.label).toMatch(/DDBC.PresentDemandStatus|unknown message_type/);
    expect(await answer(s.peer, v0.describe(1))).toMatchObject({ status: 'OK' });
    // After a description too: the message does not exist in 0.0.2-beta.
    expect(await answer(s.peer, v1.statuses(1)[0]!)).toMatchObject({ status: 'INVALID_MESSAGE' });
    expect(await answer(s.peer, v0.statuses(1)[0]!)).toMatchObject({ status: 'OK' });
    await s.close();
  });
});

describe('our own RM sends only its session version', () => {
  it.each([
    ['1.0.0-beta', '0.0.2-beta'],
    ['0.0.2-beta', '1.0.0-beta'],
  ] as const)(
    '[R112] in a %s session sending the %s description throws INVALID_OUTGOING_MESSAGE; nothing reaches the wire',
    async (version, other) => {
      const server = await guard.cemServer({ logger: false });
      const received: string[] = [];
      const errors: unknown[] = [];
      let activated: (() => void) | undefined;
      const active = new Promise<void>((resolve) => (activated = resolve));
      const client = guard.rmClient({
        url: server.url,
        details: rmDetailsInput([...DDBC]),
        versions: [version],
        reconnect: false,
        logger: false,
        controlTypes: {
          DDBC: {
            activate(ctx) {
              const own = rmMessageSet('DDBC', `versions-ddbc:send:${version}`, Date.now(), version);
              const foreign = rmMessageSet('DDBC', `versions-ddbc:send:${version}`, Date.now(), other);
              try {
                void ctx.send(foreign.describe(1) as never);
              } catch (err) {
                errors.push(err);
              }
              if (version === '0.0.2-beta') {
                try {
                  void ctx.send(foreign.statuses(1)[0] as never);
                } catch (err) {
                  errors.push(err);
                }
              }
              void ctx.send(own.describe(1) as never);
              activated!();
            },
          },
        },
      });
      const cemSession = await server.session();
      cemSession.on('received', ({ message }) => message && received.push(message.message_type));
      await active;
      await waitFor(() => received.includes('DDBC.SystemDescription'), 2_000, 'the own description at the CEM');
      expect(errors.length).toBe(version === '0.0.2-beta' ? 2 : 1);
      for (const e of errors) {
        expect(e).toBeInstanceOf(S2Error);
        expect((e as S2Error).code).toBe('INVALID_OUTGOING_MESSAGE');
      }
      expect(received.filter((t) => t.startsWith('DDBC.'))).toEqual(['DDBC.SystemDescription']);
      expect(cemSession.version).toBe(version);
      await client.stop();
      await server.close();
    },
  );
});
