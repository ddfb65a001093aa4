/**
 * Shared set-ups of the end-to-end tests: a CEM server with a raw, scripted RM driven to an
 * active control type, and the bookkeeping to check "one ReceptionStatus per message" (R11–R13)
 * from the frames a session sent and received.
 */
import type { CemServerOptions } from '../../src/roles/cem-server.js';
import type { S2Session } from '../../src/roles/session.js';
import type { ControlType } from '../../src/typebox/common/enums.js';
import type { S2Message } from '../../src/typebox/registry.js';
import { waitFor } from '../transport/helpers.js';
import type { E2eGuard, TrackedCemServer } from './e2e-guard.js';
import { frbcActivationMessages, ombcSystemDescription, type Wire } from './e2e-messages.js';
import { rawRmHandshake, type RawPeer } from './raw-ws-peer.js';

/**
 * A readable message_id: the official ID pattern `[a-zA-Z0-9\-_:]{2,64}`, which is unanchored
 * (docs/rules.md#R3), so any string containing two such characters in a row passes.
 */
export const READABLE_ID = /[a-zA-Z0-9\-_:]{2,64}/;

export interface ActiveCem {
  readonly server: TrackedCemServer;
  readonly peer: RawPeer;
  readonly session: S2Session;
}

/** The state a CEM reaches for each offer with the default policy. */
const TARGET: Partial<Record<ControlType, string>> = {
  FILL_RATE_BASED_CONTROL: 'connected.active.FRBC',
  OPERATION_MODE_BASED_CONTROL: 'connected.active.OMBC',
  NOT_CONTROLABLE: 'connected.noControlType',
};

/** What the RM describes first once a control type is active (R39). */
const DESCRIPTION: Partial<Record<ControlType, () => Wire[]>> = {
  FILL_RATE_BASED_CONTROL: () => frbcActivationMessages(),
  OPERATION_MODE_BASED_CONTROL: () => [ombcSystemDescription()],
};

/**
 * A CEM server and a raw RM that completed the handshake, had `offer[0]` selected (default FRBC)
 * and described its flexibility for it (R39), each message answered OK; nothing is pending.
 */
export async function activeCem(
  guard: E2eGuard,
  options: Partial<CemServerOptions> = {},
  offer: readonly ControlType[] = ['FILL_RATE_BASED_CONTROL', 'NOT_CONTROLABLE'],
): Promise<ActiveCem> {
  const server = await guard.cemServer(options);
  const peer = await guard.peer(server.url);
  await rawRmHandshake(peer, { offer });
  const session = await server.session();
  const selected = offer[0] as ControlType;
  const target = TARGET[selected] ?? 'connected';
  await waitFor(() => session.state === target, 2_000, `CEM in ${target}`);
  for (const m of DESCRIPTION[selected]?.() ?? []) {
    const id = peer.send(m) as string;
    const status = await peer.statusFor(id);
    if (status.status !== 'OK')
      throw new Error(`CEM answered ${String(status.status)} to ${String(m.message_type)}: ${String(status.diagnostic_label)}`);
  }
  await waitFor(() => session.pendingCount === 0, 2_000, 'no CEM message pending');
  return { server, peer, session };
}

/** Records what a session sent and received (decoded) from now on. */
export function recordTraffic(session: S2Session): { sent: S2Message[]; received: Array<S2Message | undefined>; frames: string[] } {
  const sent: S2Message[] = [];
  const received: Array<S2Message | undefined> = [];
  const frames: string[] = [];
  session.on('sent', ({ message }) => sent.push(message));
  session.on('received', ({ frame, message }) => {
    frames.push(frame);
    received.push(message);
  });
  return { sent, received, frames };
}

/**
 * R11–R13 from one side's point of view: for every received message other than a
 * ReceptionStatus exactly one ReceptionStatus was sent with its message_id, none was sent for a
 * ReceptionStatus, and none answers an id that was never received. Meant for traffic in which
 * every frame decoded (a real CEM and a real RM); frames that did not decode are checked by the
 * raw-peer tests instead.
 */
export function receptionProblems(sent: readonly S2Message[], received: ReadonlyArray<S2Message | undefined>): string[] {
  const problems: string[] = [];
  const answered = new Map<string, number>();
  for (const m of sent) {
    if (m.message_type === 'ReceptionStatus') answered.set(m.subject_message_id, (answered.get(m.subject_message_id) ?? 0) + 1);
  }
  const expected = new Set<string>();
  for (const m of received) {
    if (!m || m.message_type === 'ReceptionStatus') continue;
    expected.add(m.message_id);
    const n = answered.get(m.message_id) ?? 0;
    if (n !== 1) problems.push(`${m.message_type} ${m.message_id}: ${n} ReceptionStatus(es)`);
  }
  for (const [id, n] of answered) {
    if (!expected.has(id)) problems.push(`${n} ReceptionStatus(es) for ${id}, which was never received as a message`);
  }
  return problems;
}
