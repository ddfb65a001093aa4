import {
  pairingClientAttemptMachine,
  pairingServerAttemptMachine,
  longPollClientMachine,
  preparedPairingMachine,
  tokenClientMachine,
  tokenServerMachine,
} from '../connect/machines/index.js';
import { cemSessionMachine } from '../machines/cem-session.js';
import { CONTROL_TYPE_MACHINES } from '../machines/control-types.js';
import { instructionMachine } from '../machines/instruction.js';
import { rmSessionMachine } from '../machines/rm-session.js';
import type { StatechartEntry } from './statecharts.js';

/** Per control type: what describes its flexibility, and what its rules (src/rules/knowledge/) refuse or reject. */
const CONTROL_TYPE_DETAIL = {
  FRBC: {
    title: 'FRBC activation',
    describes: '`FRBC.SystemDescription`',
    refused:
      'instructions, actuator statuses and timer statuses naming an actuator, operation mode or timer the description in force does not have (R62, R71, R75)',
    rejected:
      'no transition from the active mode, or every such transition blocked by a running timer (R63, R64), or an abnormal-only mode without `abnormal_condition` (R50)',
  },
  PPBC: {
    title: 'PPBC activation',
    describes: '`PPBC.PowerProfileDefinition`',
    refused: 'instructions and profile statuses whose profile → container → sequence path does not exist (R102, R105)',
    rejected:
      "a second sequence for a container, a sequence outside the profile's time window, or an interruption the sequence does not allow now (R103, R104)",
  },
  OMBC: {
    title: 'OMBC activation',
    describes: '`OMBC.SystemDescription`',
    refused: 'instructions, statuses and timer statuses naming an operation mode or timer the description does not have (R62, R71, R84)',
    rejected:
      'no transition from the active mode, or every such transition blocked by a running timer (R63, R64), or abnormal-only modes without `abnormal_condition` (R50)',
  },
  PEBC: {
    title: 'PEBC activation',
    describes: '`PEBC.PowerConstraints`',
    refused: 'instructions naming unknown or revoked power constraints (R96, R58) or reusing a power envelope id (R98)',
    rejected:
      "envelope limits outside the allowed limit ranges or the constraints' validity (R96, R97), or abnormal-only ranges without `abnormal_condition` (R50)",
  },
  DDBC: {
    title: 'DDBC activation',
    describes: '`DDBC.SystemDescription`',
    refused:
      'instructions, actuator statuses and timer statuses naming an actuator, operation mode or timer the description does not have (R62, R71, R87)',
    rejected:
      'no transition from the current mode, or every such transition blocked by a running timer (R63, R64), or abnormal-only modes or transitions without `abnormal_condition` (R50)',
  },
} as const;

function controlTypeSummary(short: keyof typeof CONTROL_TYPE_DETAIL): string {
  const d = CONTROL_TYPE_DETAIL[short];
  return [
    `One actor per active ${short} control type, on either side: the session's \`active.${short}\` state invokes it and stops it on`,
    'leaving, which drops everything it knew and every open instruction (R36, R40, Q12). The five control types share this machine',
    "(`createControlTypeMachine`, built from each type's rules), so their diagrams differ only in name.",
    `It stays in \`awaitingDescription\` until the RM has described its flexibility with ${d.describes} — before that no instruction is`,
    'accepted (R39) — and returns there when a revocation removes the last description (R58). Every received message of the type,',
    'InstructionStatusUpdate and RevokeObject first meets the `refused` guard, which answers INVALID_CONTENT and changes nothing (R16, R49)',
    'for an unknown or reused instruction id (R42, R45), a status for an instruction already final (R44), a revocation of an object that',
    `does not exist, belongs to another control type or to the other side (R54–R57), and ${d.refused}.`,
    'Every instruction sent or accepted gets an instruction actor, which receives its InstructionStatusUpdates. On the RM side the',
    `type's rules also name the well-referenced instructions the RM should answer OK and then REJECTED (Q14, R48): ${d.rejected}.`,
  ].join(' ');
}

/** The machines drawn in `docs/statecharts/`, in the order of the index. */
export const STATECHARTS: readonly StatechartEntry[] = [
  {
    name: 'cem-session',
    title: 'CEM session',
    source: 'src/machines/cem-session.ts',
    machine: cemSessionMachine,
    summary: [
      'The CEM side of one S2 session, one actor per connection. On entering `handshake` it sends its own Handshake and takes the',
      "RM's whenever it comes (R22, R23); a peer that is not an RM is refused and closed (R24); otherwise it answers one",
      'HandshakeResponse naming the first of its versions that the RM also lists, exact string match (R25–R27), or, with no common version,',
      'sends SessionRequest TERMINATE and ends the session (R29, Q3). The named delay `handshakeTimeout` bounds the handshake.',
      'In `connected` it waits for ResourceManagerDetails, lets the policy select only a control type the RM offered (R34), and',
      'switches to `active.<type>` or `noControlType` only once the RM has answered that SelectControlType with OK (R41); a refused',
      "selection is reported and changes nothing. Each `active.<type>` invokes that type's activation machine and forwards the RM's",
      'messages of the type, InstructionStatusUpdate and RevokeObject to it (R36, R37). The machine-wide handlers route every',
      "ReceptionStatus straight to the message it answers (R12–R14: every sent message waits in `pending` until its status raises `outgoing.answered`, or its delayed `outgoing.timeout` fires — reported, not fatal, R21), close on a PERMANENT_ERROR answer (R18) and on a peer's",
      'SessionRequest in any phase (Q11, Q22), and answer INVALID_CONTENT to any valid message no state accepted (`s2.*`: R11, R16, Q6).',
      'After our own SessionRequest, `ending` gives the peer the named delay `closeGrace` to close; `closing` waits as long for the',
      'transport to confirm the close.',
    ].join(' '),
  },
  {
    name: 'rm-session',
    title: 'RM session',
    source: 'src/machines/rm-session.ts',
    machine: rmSessionMachine,
    summary: [
      "The RM side of one S2 session. It sends its Handshake at once and accepts the CEM's before or after (R22, R23), refuses a",
      'second one (R30) and closes on a wrong role (R24). A HandshakeResponse naming a version the RM did not offer is refused and',
      'ends the session (R27, Q3); a good one moves it to `connected`, whose entry sends the ResourceManagerDetails — only now,',
      'after the HandshakeResponse (R28) — and again whenever the application updates them. A SelectControlType naming a type the',
      'RM did not offer is answered INVALID_CONTENT and changes nothing (R35); NO_SELECTION is always accepted (Q8) and, like',
      'NOT_CONTROLABLE, leads to `noControlType`, where only measurements and forecasts flow (R38). Selecting a control type',
      'leaves the previous `active.<type>` state, which stops its activation actor before the new one starts (R36, R40). The',
      "machine-wide handlers are the same as the CEM session's: ReceptionStatus routing (R12–R14), PERMANENT_ERROR (R18),",
      'SessionRequest in any phase (Q11, Q22), and INVALID_CONTENT for any valid message that is not allowed now (R11, R16, Q6).',
    ].join(' '),
  },
  ...(Object.keys(CONTROL_TYPE_DETAIL) as (keyof typeof CONTROL_TYPE_DETAIL)[]).map((short) => ({
    name: `control-type-${short.toLowerCase()}`,
    title: CONTROL_TYPE_DETAIL[short].title,
    source: 'src/machines/control-type.ts',
    machine: CONTROL_TYPE_MACHINES[`ct.${short}`],
    summary: controlTypeSummary(short),
  })),
  {
    name: 'instruction',
    title: 'Instruction',
    source: 'src/machines/instruction.ts',
    machine: instructionMachine,
    summary: [
      'One actor per instruction id, on both sides, started by the control type when an instruction is sent or accepted. Its',
      'states are the instruction statuses, and each state accepts exactly the statuses R46 allows next: NEW → ACCEPTED →',
      'STARTED → SUCCEEDED or ABORTED, skipping forward allowed, REJECTED only before ACCEPTED, REVOKED before any final status,',
      'even once STARTED (Q13). The four final statuses are final states: nothing may follow them (R44). Any other',
      'InstructionStatusUpdate falls through to the machine-wide `status.*` handler and is refused with INVALID_CONTENT, leaving the',
      'status as it was (R16, R46). On the RM side, once ACCEPTED, the named delay `untilExecution` reports that `execution_time`',
      'has come — at once when it is already past (R43).',
    ].join(' '),
  },
  {
    name: 'pairing-server-attempt',
    title: 'S2 Connect pairing attempt (pairing server)',
    source: 'src/connect/machines/pairing-server-attempt.ts',
    machine: pairingServerAttemptMachine,
    summary: [
      'One actor per S2 Connect pairing attempt on the pairing server, from its `requestPairing` answer on. The HTTP layer sends it the',
      "attempt's later calls and answers each from the `reply` the machine leaves (status, body). Inside `open` the named delay",
      '`lifetime` (15 s from the `requestPairing` answer) ends the attempt in `expired`. The client must make the one detail call that',
      'fits role × deployment (`wrongStep` ⇒ `refused`, 400) with a response to the server challenge that verifies in constant time',
      '(else `failed`, 403); a second detail call destroys the attempt (401). `finalizePairing{false}` cancels (204), `{true}` before',
      'the details is refused (400), after them it invokes `persistPairing`: `paired` (204) or `persistFailed` (500). Calls while',
      'persisting get 401. Secrets (the response, the connection details) travel sealed and never appear in a snapshot.',
    ].join(' '),
  },
  {
    name: 'pairing-client-attempt',
    title: 'S2 Connect pairing attempt (pairing client)',
    source: 'src/connect/machines/pairing-client-attempt.ts',
    machine: pairingClientAttemptMachine,
    summary: [
      "The pairing client's side of one attempt. It invokes `requestPairing` and checks the answer in order: an HMAC algorithm it",
      'offered, the response to its own challenge (constant time), the opposite role, a server challenge of at least 32 bytes that is',
      'not equivalent to its own (reflection). It then becomes communication server (`becomingServer`: post its connection details,',
      '`persist`, then `finalize{true}`, and `discard` what it stored if that fails) or communication client (`becomingClient`: request',
      'the details, `finalize{true}`, then `persist`), so that the server side always knows the access token before the client can use',
      'it. Every failure after a successful `requestPairing` passes through `abandoning`, a best-effort `finalize{false}`. The final',
      'states carry the stored pairing or a typed failure (reason, step, HTTP status, which side may keep a pairing).',
    ].join(' '),
  },
  {
    name: 'token-server',
    title: 'S2 Connect access-token rotation (communication server)',
    source: 'src/connect/machines/token-server.ts',
    machine: tokenServerMachine,
    summary: [
      'One actor per pairing on the communication server while it is in use. An authorised `initiateSession` makes a `pending`',
      'access token; a newer one replaces it and restarts its 15 s (named delay `pendingLifetime`), so only the newest is',
      'confirmable. `confirmAccessToken` with it invokes `swapTokens`, a compare-and-swap on the token version that authorised the',
      'initiation: refused ⇒ 401, storage error ⇒ 500 with the old token still valid; swapped ⇒ `issueWebsocketToken` (200 with the',
      'one-time WebSocket token, and the event `websocketTokenIssued`). Any other confirmation, and calls during the swap, get 401.',
      'UNPAIR ends it from any state.',
    ].join(' '),
  },
  {
    name: 'token-client',
    title: 'S2 Connect session initiation (communication client)',
    source: 'src/connect/machines/token-client.ts',
    machine: tokenClientMachine,
    summary: [
      'One actor per connect on the communication client. It loads the stored access tokens and tries them oldest first in',
      '`initiating` (a 401 re-enters it with the next token; 401 on all ⇒ `notPaired`, surfaced rather than deleted; 400',
      '`NoLongerPaired` ⇒ `unpaired`). A selection it did not offer fails. It stores the working token and the new one together by',
      'compare-and-swap before it confirms, then keeps only the new one (a failure there is harmless: both still work), and opens the',
      'WebSocket with the one-time token and the selected S2 message version; a non-`wss:` URL fails. Final states carry the',
      'connection or a typed failure.',
    ].join(' '),
  },
  {
    name: 'long-poll-client',
    title: 'S2 Connect long poll (LAN client waiting to be paired)',
    source: 'src/connect/machines/long-poll-client.ts',
    machine: longPollClientMachine,
    summary: [
      'One poller for all local nodes of a LAN endpoint that wants to be paired (a device with a printed code). `polling` invokes',
      '`POST /v1/waitForPairing`: 204 polls again at once, 200 queues the actions, 503 or no answer goes to `backingOff` (named delay',
      '`backoff`, doubled up to its maximum), and 400 (long polling not available), 401 (off-LAN) and 404 (not implemented) stop for',
      'good. `handling` takes the actions one by one in their order: `sendNodeDescription` makes the next poll carry that node',
      "'s descriptions, `requestPairing` invokes `pair` with the node's code (`pairing`; without a code the next poll carries",
      '`NoValidTokenOnPairingClient`), the others are only announced. It keeps polling after a pairing; STOP during a pairing waits',
      'for it.',
    ].join(' '),
  },
  {
    name: 'prepared-pairing',
    title: 'S2 Connect prepared pairing (LAN server, one client node)',
    source: 'src/connect/machines/prepared-pairing.ts',
    machine: preparedPairingMachine,
    summary: [
      'One actor per client node that polls this server. From `idle` the server may ask for its descriptions (`describing`, until',
      "they come or named delay `answer`), a pairing may be prepared (`prepared`: by the client's `preparePairing` or the server's",
      "action, for `prepare` = 15 min, CANCEL ⇒ `cancelled`), and once the user typed the client's code the client is told to call",
      '`requestPairing` (`requested`): only then is that code accepted, for one pairing on the chosen node, until `offer`. The',
      "outcome of that node's pairing attempt ends it in `paired` or `failed` (so does the client reporting",
      '`NoValidTokenOnPairingClient`); a client that stops polling is `gone`, failing a requested pairing.',
    ].join(' '),
  },
];
