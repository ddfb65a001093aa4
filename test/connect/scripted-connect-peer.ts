/**
 * A scripted S2 Connect peer for the client-side tests: a pairing server that is also the communication server,
 * written by hand (its own router over node:https, its own HMAC and token bookkeeping), in either dialect:
 *
 * - `oas`: the OpenAPI names only — `/v1/initiateSession`, `initiateSessionUrl`, `websocketToken`/`websocketUrl`,
 *   absent fields omitted, OAS error names, and no `GET /` version list (OAS does not define it);
 * - `rs`: the maintainers' Rust implementation as digest §8 describes it — `GET /` → `["v1"]`,
 *   `/v1/initiateConnection` only (404 on initiateSession), `initiateConnectionUrl`, `websocket_token`/
 *   `websocket_url`, `null` for every absent field, RS error names (`S2NodeNotFound` …).
 *
 * Hooks (`tamper`) rewrite an answer before it is sent, so the same peer plays the hostile server of digest §9.
 * Every request is recorded (method, path, body, bearer) so tests can assert what the client did and did not send.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GeneratedCertificates } from '../../src/connect/certificates.js';
import {
  certificateFingerprint,
  constantTimeEqual,
  encodeBase64,
  hmacResponse,
  randomChallenge,
  randomToken,
} from '../../src/connect/crypto.js';
import type { Deployment, NodeDescription } from '../../src/connect/wire/index.js';
import { createWsServer, type WsServer } from '../../src/transport/ws-server.js';
import type { Transport } from '../../src/transport/transport.js';

export type Dialect = 'oas' | 'rs';

export interface RecordedCall {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  readonly bearer: string | undefined;
}

type Json = Record<string, unknown>;

export interface ScriptedPeerOptions {
  readonly dialect: Dialect;
  readonly certs: GeneratedCertificates;
  readonly hostname: string;
  readonly deployment: Deployment;
  readonly node: NodeDescription;
  /** The pairing token this peer accepts (its alias is `alias`). */
  readonly token: Uint8Array;
  readonly alias?: string | undefined;
  readonly versions?: readonly string[] | undefined;
  /** Rewrites an answer body before it is sent (hostile server). `context.clientChallenge` is C_c as received. */
  readonly tamper?:
    | {
        readonly requestPairing?: (answer: Json, context: { clientChallenge: Uint8Array }) => Json;
        readonly initiate?: (answer: Json) => Json;
        readonly confirm?: (answer: Json) => Json;
        /** Answer finalizePairing with this status instead (e.g. 500: the peer failed to store the pairing). */
        readonly finalizeStatus?: number;
      }
    | undefined;
  /** Called after the requestPairing answer was written (e.g. to swap the TLS certificate: a man in the middle). */
  readonly afterRequestPairing?: ((peer: ScriptedPeer) => void) | undefined;
}

export interface ScriptedPeer {
  readonly url: string;
  readonly port: number;
  readonly calls: RecordedCall[];
  readonly transports: Transport[];
  /** The pairing as this peer stored it (after finalize{true}). */
  paired: { clientNodeId: string; accessToken: string } | undefined;
  /** Serves another certificate chain from the next TLS handshake on. */
  useCertificates(certs: GeneratedCertificates): void;
  close(): Promise<void>;
}

export async function startScriptedPeer(options: ScriptedPeerOptions): Promise<ScriptedPeer> {
  const rs = options.dialect === 'rs';
  const versions = options.versions ?? ['0.0.2-beta'];
  // F as the client sees it: the SHA-256 of the leaf this peer presents (LAN only).
  let leaf: Uint8Array | undefined = options.deployment === 'LAN' ? certificateFingerprint(options.certs.chainPem) : undefined;
  const absent = (): null | undefined => (rs ? null : undefined);
  const nodeJson = (): Json => ({ ...options.node, ...(rs ? { logoUrl: null, userDefinedName: null } : {}) });
  const endpointJson = (): Json =>
    rs ? { name: null, logoUrl: null, deployment: null } : { name: 'scripted', deployment: options.deployment };
  const attempts = new Map<string, { response: Uint8Array; clientNodeId: string; details?: string; posted?: Json }>();
  const pending = new Map<string, string>(); // A_new → client node id
  const websocketTokens = new Set<string>();
  const calls: RecordedCall[] = [];
  const transports: Transport[] = [];

  const server = https.createServer({ cert: options.certs.chainPem, key: options.certs.keyPem });
  let url = '';
  const answer = (res: ServerResponse, status: number, body?: unknown): void => {
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
  };
  const pairingError = (name: 'NodeNotFound' | 'NoValidPairingTokenOnPairingServer'): Json => {
    const rsNames = { NodeNotFound: 'S2NodeNotFound', NoValidPairingTokenOnPairingServer: 'InvalidPairingToken' } as const;
    return { errorMessage: rs ? rsNames[name] : name, ...(rs ? { additionalInfo: null } : {}) };
  };

  const routes: Record<string, (body: Json, bearer: string | undefined, res: ServerResponse) => void> = {
    'POST /v1/requestPairing': (body, _bearer, res) => {
      const alias = body.nodeIdAlias ?? undefined;
      if (alias !== undefined && alias !== options.alias) return answer(res, 400, pairingError('NodeNotFound'));
      const clientChallenge = Uint8Array.from(Buffer.from(String(body.clientHmacChallenge), 'base64'));
      const serverChallenge = randomChallenge(64);
      const attemptId = randomToken(32);
      attempts.set(attemptId, {
        response: hmacResponse(serverChallenge, options.token, leaf),
        clientNodeId: (body.clientNodeDescription as Json).id as string,
      });
      let out: Json = {
        pairingAttemptId: attemptId,
        serverNodeDescription: nodeJson(),
        serverEndpointDescription: endpointJson(),
        selectedHmacHashingAlgorithm: 'SHA256',
        clientHmacChallengeResponse: encodeBase64(hmacResponse(clientChallenge, options.token, leaf)),
        serverHmacChallenge: encodeBase64(serverChallenge),
      };
      if (options.tamper?.requestPairing) out = options.tamper.requestPairing(out, { clientChallenge });
      answer(res, 200, out);
      res.once('finish', () => options.afterRequestPairing?.(peer));
    },
    'POST /v1/requestConnectionDetails': (body, bearer, res) => {
      const attempt = bearer === undefined ? undefined : attempts.get(bearer);
      if (attempt === undefined) return answer(res, 401);
      const given = Uint8Array.from(Buffer.from(String(body.serverHmacChallengeResponse), 'base64'));
      if (!constantTimeEqual(given, attempt.response)) {
        attempts.delete(bearer!);
        return answer(res, 403);
      }
      attempt.details = randomToken(32);
      const urlField = rs ? 'initiateConnectionUrl' : 'initiateSessionUrl';
      answer(res, 200, {
        [urlField]: url,
        accessToken: attempt.details,
        ...(options.deployment === 'LAN' ? { certificateFingerprint: { SHA256: options.certs.rootPin } } : {}),
      });
    },
    'POST /v1/postConnectionDetails': (body, bearer, res) => {
      const attempt = bearer === undefined ? undefined : attempts.get(bearer);
      if (attempt === undefined) return answer(res, 401);
      const given = Uint8Array.from(Buffer.from(String(body.serverHmacChallengeResponse), 'base64'));
      if (!constantTimeEqual(given, attempt.response)) {
        attempts.delete(bearer!);
        return answer(res, 403);
      }
      attempt.posted = body.connectionDetails as Json;
      answer(res, 204);
    },
    'POST /v1/finalizePairing': (body, bearer, res) => {
      const attempt = bearer === undefined ? undefined : attempts.get(bearer);
      if (attempt === undefined) return answer(res, 401);
      attempts.delete(bearer!);
      if (options.tamper?.finalizeStatus !== undefined) return answer(res, options.tamper.finalizeStatus);
      if (body.success === true) {
        const accessToken = attempt.details ?? (attempt.posted?.accessToken as string | undefined);
        if (accessToken === undefined) return answer(res, 400);
        peer.paired = { clientNodeId: attempt.clientNodeId, accessToken };
      }
      answer(res, 204);
    },
    [`POST /v1/${rs ? 'initiateConnection' : 'initiateSession'}`]: (body, bearer, res) => {
      if (peer.paired === undefined || bearer !== peer.paired.accessToken || body.clientNodeId !== peer.paired.clientNodeId)
        return answer(res, 401);
      const selected = (body.supportedS2MessageVersions as string[]).find((v) => versions.includes(v));
      if (selected === undefined)
        return answer(res, 400, { errorMessage: 'IncompatibleS2MessageVersions', ...(rs ? { additionalInfo: null } : {}) });
      const accessToken = randomToken(32);
      pending.clear();
      pending.set(accessToken, peer.paired.clientNodeId);
      let out: Json = {
        selectedCommunicationProtocol: 'WebSocket',
        selectedS2MessageVersion: selected,
        accessToken,
        serverNodeDescription: rs ? absent() : nodeJson(),
        serverEndpointDescription: rs ? absent() : endpointJson(),
      };
      if (options.tamper?.initiate) out = options.tamper.initiate(out);
      answer(res, 200, out);
    },
    'POST /v1/confirmAccessToken': (_body, bearer, res) => {
      if (bearer === undefined || !pending.has(bearer) || peer.paired === undefined) return answer(res, 401);
      pending.delete(bearer);
      peer.paired.accessToken = bearer;
      const token = randomToken(32);
      websocketTokens.add(token);
      const wsUrl = `${url.replace(/^https:/, 'wss:')}v1/websocket`;
      let out: Json = rs
        ? { communicationProtocol: 'WebSocket', websocket_token: token, websocket_url: wsUrl }
        : { communicationProtocol: 'WebSocket', websocketToken: token, websocketUrl: wsUrl };
      if (options.tamper?.confirm) out = options.tamper.confirm(out);
      answer(res, 200, out);
    },
    'POST /v1/unpair': (_body, bearer, res) => {
      if (peer.paired === undefined || bearer !== peer.paired.accessToken) return answer(res, 401);
      peer.paired = undefined;
      answer(res, 204);
    },
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.once('end', () => {
      const path = new URL(req.url ?? '/', 'https://x').pathname;
      const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      const text = Buffer.concat(parts).toString('utf8');
      let body: Json;
      try {
        body = text === '' ? {} : (JSON.parse(text) as Json);
      } catch {
        return answer(res, 400);
      }
      calls.push({ method: req.method ?? '', path, body, bearer });
      if (req.method === 'GET' && path === '/') return rs ? answer(res, 200, ['v1']) : answer(res, 404);
      const route = routes[`${req.method ?? ''} ${path}`];
      if (route === undefined) return answer(res, 404);
      route(body, bearer, res);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const port = (server.address() as AddressInfo).port;
  url = `https://${options.hostname}:${port}/`;
  const ws: WsServer = await createWsServer({
    server,
    path: '/v1/websocket',
    authorize: (req) => {
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (token === undefined || !websocketTokens.delete(token)) return { ok: false, status: 401 };
      return { ok: true };
    },
    onConnection: (transport) => transports.push(transport),
  });

  const peer: ScriptedPeer = {
    url,
    port,
    calls,
    transports,
    paired: undefined,
    useCertificates(certs) {
      server.setSecureContext({ cert: certs.chainPem, key: certs.keyPem });
      leaf = options.deployment === 'LAN' ? certificateFingerprint(certs.chainPem) : undefined;
    },
    async close() {
      await ws.close();
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
    },
  };
  return peer;
}
