import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { S2ConnectError } from '../../src/connect/errors.js';
import {
  BODY_SCHEMAS,
  DEPLOYMENTS,
  errorFromResponse,
  NODE_ID_ALIAS_PATTERN,
  NODE_ROLES,
  PAIRING_ERROR_NAMES,
  readBody,
  readBodyText,
  SESSION_ERROR_NAMES,
  WAIT_FOR_PAIRING_ACTIONS,
  WAIT_FOR_PAIRING_ERRORS,
  writeBody,
  type BodyKind,
  type BodyValues,
  type NodeDescription,
} from '../../src/connect/wire/index.js';
import { describeWith, materialPath, requireMaterial } from '../support/outside-material.js';

// Scripted bodies, written by hand from the digest's facts (§3.0: RS writes absent optionals as null and uses the
// pre-rename spellings of §8; OAS bodies omit absent fields).

const CEM_ID = '7f1c1d2e-3b4a-4c5d-8e6f-0a1b2c3d4e5f';
const RM_ID = '0e9d8c7b-6a59-4847-9635-241302f1e0d9';
const range = (from: number, count: number): Uint8Array => Uint8Array.from({ length: count }, (_, i) => (from + i) & 0xff);
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

const C_c = range(0, 32);
const C_s = range(0x80, 64);
const R = range(0x40, 32);
const ROOT_PIN = Uint8Array.from(Buffer.from('VsI3xnmt5pjId2OonNU4GdY8Db63HJyAk2DfSk9Wzec=', 'base64'));
// Secrets in these bodies: none of them may appear in a problem.
const ATTEMPT_ID = 'q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=';
const ACCESS_TOKEN = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const WS_TOKEN = 'ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=';

const rmNodeRs = { id: RM_ID, brand: 'Acme', logoUrl: null, type: 'battery', modelName: 'B-1', userDefinedName: null, role: 'RM' };
const rmNodeOas = { id: RM_ID, brand: 'Acme', type: 'battery', modelName: 'B-1', role: 'RM' };
const rmNode: NodeDescription = { id: RM_ID, brand: 'Acme', type: 'battery', modelName: 'B-1', role: 'RM' };
const cemNodeRs = {
  id: CEM_ID,
  brand: 'Home',
  logoUrl: 'https://home.example/logo.png',
  type: 'EMS',
  modelName: 'H-2',
  userDefinedName: 'Kitchen',
  role: 'CEM',
};
const cemNode: NodeDescription = {
  id: CEM_ID,
  brand: 'Home',
  logoUrl: 'https://home.example/logo.png',
  type: 'EMS',
  modelName: 'H-2',
  userDefinedName: 'Kitchen',
  role: 'CEM',
};
const endpointRs = { name: null, logoUrl: null, deployment: null };

interface DialectCase<K extends BodyKind> {
  readonly kind: K;
  readonly title: string;
  readonly rs: unknown;
  readonly oas: unknown;
  readonly value: BodyValues[K];
  /** RS-dialect markers the RS body must report. */
  readonly compat: readonly string[];
}

function dialect<K extends BodyKind>(c: DialectCase<K>): DialectCase<BodyKind> {
  return c;
}

const DIALECT_CASES: DialectCase<BodyKind>[] = [
  dialect({
    kind: 'RequestPairingRequest',
    title: 'requestPairing body; RS writes nodeId/nodeIdAlias and every absent optional as null',
    rs: {
      clientNodeDescription: rmNodeRs,
      clientEndpointDescription: endpointRs,
      nodeIdAlias: 'A0',
      nodeId: null,
      supportedCommunicationProtocols: ['WebSocket'],
      supportedS2MessageVersions: ['v1'],
      supportedHmacHashingAlgorithms: ['SHA256'],
      clientHmacChallenge: b64(C_c),
      forcePairing: false,
    },
    oas: {
      clientNodeDescription: rmNodeOas,
      clientEndpointDescription: {},
      nodeIdAlias: 'A0',
      supportedCommunicationProtocols: ['WebSocket'],
      supportedS2MessageVersions: ['v1'],
      supportedHmacHashingAlgorithms: ['SHA256'],
      clientHmacChallenge: b64(C_c),
    },
    value: {
      clientNodeDescription: rmNode,
      clientEndpointDescription: {},
      nodeIdAlias: 'A0',
      supportedCommunicationProtocols: ['WebSocket'],
      supportedS2MessageVersions: ['v1'],
      supportedHmacHashingAlgorithms: ['SHA256'],
      clientHmacChallenge: C_c,
      forcePairing: false,
    },
    compat: ['null'],
  }),
  dialect({
    kind: 'RequestPairingResponse',
    title: 'requestPairing 200 with a 64-byte server challenge',
    rs: {
      pairingAttemptId: ATTEMPT_ID,
      serverNodeDescription: cemNodeRs,
      serverEndpointDescription: { name: 'Home gateway', logoUrl: null, deployment: 'LAN' },
      selectedHmacHashingAlgorithm: 'SHA256',
      clientHmacChallengeResponse: b64(R),
      serverHmacChallenge: b64(C_s),
    },
    oas: {
      pairingAttemptId: ATTEMPT_ID,
      serverNodeDescription: cemNode,
      serverEndpointDescription: { name: 'Home gateway', deployment: 'LAN' },
      selectedHmacHashingAlgorithm: 'SHA256',
      clientHmacChallengeResponse: b64(R),
      serverHmacChallenge: b64(C_s),
    },
    value: {
      pairingAttemptId: ATTEMPT_ID,
      serverNodeDescription: cemNode,
      serverEndpointDescription: { name: 'Home gateway', deployment: 'LAN' },
      selectedHmacHashingAlgorithm: 'SHA256',
      clientHmacChallengeResponse: R,
      serverHmacChallenge: C_s,
    },
    compat: ['null'],
  }),
  ...(
    [
      ['S2NodeNotFound', 'NodeNotFound'],
      ['S2NodeNotProvided', 'NoNodeIdProvided'],
      ['InvalidPairingToken', 'NoValidPairingTokenOnPairingServer'],
      ['IncompatibleHMACHashingAlgorithms', 'IncompatibleHmacHashingAlgorithms'],
    ] as const
  ).map(([rsName, oasName]) =>
    dialect({
      kind: 'PairingErrorResponse',
      title: `pairing error ${rsName} (RS) = ${oasName} (OAS)`,
      rs: { errorMessage: rsName },
      oas: { errorMessage: oasName },
      value: { errorMessage: oasName },
      compat: [rsName],
    }),
  ),
  dialect({
    kind: 'ConnectionDetails',
    title: 'ConnectionDetails: initiateConnectionUrl (RS) = initiateSessionUrl (OAS); fingerprint base64 or hex under SHA256 or SHA265',
    rs: { initiateConnectionUrl: 'https://cem.local:8000', accessToken: ACCESS_TOKEN, certificateFingerprint: { SHA256: b64(ROOT_PIN) } },
    oas: {
      initiateSessionUrl: 'https://cem.local:8000',
      accessToken: ACCESS_TOKEN,
      certificateFingerprint: { SHA265: Buffer.from(ROOT_PIN).toString('hex') },
    },
    value: { initiateSessionUrl: 'https://cem.local:8000', accessToken: ACCESS_TOKEN, certificateFingerprint: ROOT_PIN },
    compat: ['initiateConnectionUrl'],
  }),
  dialect({
    kind: 'PostConnectionDetailsRequest',
    title: 'postConnectionDetails with RS-spelled connection details',
    rs: {
      serverHmacChallengeResponse: b64(R),
      connectionDetails: { initiateConnectionUrl: 'https://cem.example.com/s2/', accessToken: ACCESS_TOKEN },
    },
    oas: {
      serverHmacChallengeResponse: b64(R),
      connectionDetails: { initiateSessionUrl: 'https://cem.example.com/s2/', accessToken: ACCESS_TOKEN },
    },
    value: {
      serverHmacChallengeResponse: R,
      connectionDetails: { initiateSessionUrl: 'https://cem.example.com/s2/', accessToken: ACCESS_TOKEN },
    },
    compat: ['initiateConnectionUrl'],
  }),
  dialect({
    kind: 'InitiateSessionRequest',
    title: 'initiateSession (RS initiateConnection) body with null descriptions',
    rs: {
      clientNodeId: RM_ID,
      serverNodeId: CEM_ID,
      supportedS2MessageVersions: ['0.0.2-beta'],
      supportedCommunicationProtocols: ['WebSocket'],
      clientNodeDescription: null,
      clientEndpointDescription: null,
    },
    oas: {
      clientNodeId: RM_ID,
      serverNodeId: CEM_ID,
      supportedS2MessageVersions: ['0.0.2-beta'],
      supportedCommunicationProtocols: ['WebSocket'],
    },
    value: {
      clientNodeId: RM_ID,
      serverNodeId: CEM_ID,
      supportedS2MessageVersions: ['0.0.2-beta'],
      supportedCommunicationProtocols: ['WebSocket'],
    },
    compat: ['null'],
  }),
  dialect({
    kind: 'InitiateSessionResponse',
    title: 'initiateSession 200',
    rs: {
      selectedCommunicationProtocol: 'WebSocket',
      selectedS2MessageVersion: '0.0.2-beta',
      accessToken: ACCESS_TOKEN,
      serverNodeDescription: cemNodeRs,
      serverEndpointDescription: null,
    },
    oas: {
      selectedCommunicationProtocol: 'WebSocket',
      selectedS2MessageVersion: '0.0.2-beta',
      accessToken: ACCESS_TOKEN,
      serverNodeDescription: cemNode,
    },
    value: {
      selectedCommunicationProtocol: 'WebSocket',
      selectedS2MessageVersion: '0.0.2-beta',
      accessToken: ACCESS_TOKEN,
      serverNodeDescription: cemNode,
    },
    compat: ['null'],
  }),
  dialect({
    kind: 'CommunicationDetails',
    title: 'confirmAccessToken 200: websocket_token/websocket_url (RS) = websocketToken/websocketUrl (OAS)',
    rs: { communicationProtocol: 'WebSocket', websocket_token: WS_TOKEN, websocket_url: 'wss://cem.local:8000/v1/websocket' },
    oas: { communicationProtocol: 'WebSocket', websocketToken: WS_TOKEN, websocketUrl: 'wss://cem.local:8000/v1/websocket' },
    value: { communicationProtocol: 'WebSocket', websocketToken: WS_TOKEN, websocketUrl: 'wss://cem.local:8000/v1/websocket' },
    compat: ['websocket_token', 'websocket_url'],
  }),
  dialect({
    kind: 'SessionErrorResponse',
    title: 'session error NoLongerPaired',
    rs: { errorMessage: 'NoLongerPaired', additionalInfo: null },
    oas: { errorMessage: 'NoLongerPaired' },
    value: { errorMessage: 'NoLongerPaired' },
    compat: ['null'],
  }),
  dialect({
    kind: 'EndpointDescription',
    title: 'EndpointDescription of all nulls is the empty description',
    rs: endpointRs,
    oas: {},
    value: {},
    compat: ['null'],
  }),
  dialect({
    kind: 'WaitForPairingRequest',
    title: 'waitForPairing request: clienNodeDescription (RS typo) = clientNodeDescription; a single object = a one-item array',
    rs: {
      clientNodeId: RM_ID,
      clienNodeDescription: rmNodeRs,
      clientEndpointDescription: { name: 'Battery', logoUrl: null, deployment: 'LAN' },
    },
    oas: [{ clientNodeId: RM_ID, clientNodeDescription: rmNodeOas, clientEndpointDescription: { name: 'Battery', deployment: 'LAN' } }],
    value: [{ clientNodeId: RM_ID, clientNodeDescription: rmNode, clientEndpointDescription: { name: 'Battery', deployment: 'LAN' } }],
    compat: ['clienNodeDescription', 'single object', 'null'],
  }),
  dialect({
    kind: 'WaitForPairingRequest',
    title: 'waitForPairing request: RS always sends the typo key, as null when there is no description',
    rs: [{ clientNodeId: RM_ID, clienNodeDescription: null, clientEndpointDescription: null }],
    oas: [{ clientNodeId: RM_ID }],
    value: [{ clientNodeId: RM_ID }],
    compat: ['clienNodeDescription', 'null'],
  }),
  dialect({
    kind: 'WaitForPairingResponse',
    title: 'waitForPairing 200: RS sends one object, OAS an array',
    rs: { clientNodeId: RM_ID, action: 'requestPairing' },
    oas: [{ clientNodeId: RM_ID, action: 'requestPairing' }],
    value: [{ clientNodeId: RM_ID, action: 'requestPairing' }],
    compat: ['single object'],
  }),
  dialect({
    kind: 'PreparePairingRequest',
    title: 'preparePairing',
    rs: { clientEndpointDescription: endpointRs, clientNodeDescription: cemNodeRs, serverNodeId: RM_ID },
    oas: { clientNodeDescription: cemNode, clientEndpointDescription: {}, serverNodeId: RM_ID },
    value: { clientNodeDescription: cemNode, clientEndpointDescription: {}, serverNodeId: RM_ID },
    compat: ['null'],
  }),
];

function expectRead<K extends BodyKind>(kind: K, json: unknown): { value: BodyValues[K]; compat: readonly string[] } {
  const read = readBody(kind, json);
  if (!read.ok) throw new Error(`${kind} did not read: ${JSON.stringify(read.problems)}`);
  return read;
}

function problemsOf(kind: BodyKind, json: unknown): readonly { path: string; message: string }[] {
  const read = readBody(kind, json);
  if (read.ok) throw new Error(`${kind} read, but should not have: ${JSON.stringify(json)}`);
  return read.problems;
}

describe('both dialects read to the same value (digest §8)', () => {
  for (const c of DIALECT_CASES) {
    it(`[S2C §8] ${c.kind}: ${c.title}`, () => {
      const rs = expectRead(c.kind, c.rs);
      const oas = expectRead(c.kind, c.oas);
      expect(rs.value).toEqual(c.value);
      expect(oas.value).toEqual(c.value);
      expect([...rs.compat].sort()).toEqual([...c.compat].sort());
      // OAS bodies carry no RS markers, except the OAS typo SHA265 and hex, which are tolerated spellings too.
      expect(oas.compat.filter((m) => m !== 'SHA265' && m !== 'hex fingerprint')).toEqual([]);
    });
  }

  it('[S2C §3.0] unknown fields are ignored and do not reach the value', () => {
    const read = expectRead('UnpairRequest', { clientNodeId: RM_ID, serverNodeId: CEM_ID, extra: { deep: [1, 2, 3] }, constructor: 'x' });
    expect(read.value).toEqual({ clientNodeId: RM_ID, serverNodeId: CEM_ID });
    expect(Object.keys(read.value)).toEqual(['clientNodeId', 'serverNodeId']);
    const nested = expectRead('NodeDescription', { ...rmNodeOas, logoUri: 'https://x/logo.png', future: true });
    expect(nested.value).toEqual(rmNode);
  });

  it('[S2C §3.0] a "__proto__" key is an unknown field like any other (no prototype pollution)', () => {
    const json = JSON.parse(
      `{"clientNodeId":"${RM_ID}","serverNodeId":"${CEM_ID}","__proto__":{"polluted":true,"clientNodeId":"x"}}`,
    ) as unknown;
    const read = expectRead('CancelPreparePairingRequest', json);
    expect(read.value).toEqual({ clientNodeId: RM_ID, serverNodeId: CEM_ID });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(read.value)).toBe(Object.prototype);
  });

  it('[S2C §1] node ids are read in any case and kept lowercase (RS writes lowercase hyphenated)', () => {
    const read = expectRead('UnpairRequest', { clientNodeId: RM_ID.toUpperCase(), serverNodeId: CEM_ID });
    expect(read.value.clientNodeId).toBe(RM_ID);
  });

  it('[S2C §3.3] forcePairing absent reads as false, and true stays true', () => {
    const base = DIALECT_CASES[0]?.oas as Record<string, unknown>;
    expect(expectRead('RequestPairingRequest', base).value.forcePairing).toBe(false);
    expect(expectRead('RequestPairingRequest', { ...base, forcePairing: true }).value.forcePairing).toBe(true);
  });

  it('[S2C §3.3] unknown algorithms, protocols and versions are read (the server answers Incompatible…, not ParsingError)', () => {
    const base = DIALECT_CASES[0]?.oas as Record<string, unknown>;
    const read = expectRead('RequestPairingRequest', {
      ...base,
      supportedHmacHashingAlgorithms: ['SHA512'],
      supportedCommunicationProtocols: ['MQTT'],
      supportedS2MessageVersions: [],
    });
    expect(read.value.supportedHmacHashingAlgorithms).toEqual(['SHA512']);
    expect(read.value.supportedCommunicationProtocols).toEqual(['MQTT']);
  });

  it('[S2C §3.0] the value does not alias the parsed JSON', () => {
    const json = {
      clientNodeId: RM_ID,
      serverNodeId: CEM_ID,
      supportedS2MessageVersions: ['v1'],
      supportedCommunicationProtocols: ['WebSocket'],
    };
    const read = expectRead('InitiateSessionRequest', json);
    json.supportedS2MessageVersions.push('v2');
    expect(read.value.supportedS2MessageVersions).toEqual(['v1']);
  });

  it('[S2C §3.1] the GET / version list and the LAN node list read', () => {
    expect(expectRead('ApiVersions', ['v1', 'v2']).value).toEqual(['v1', 'v2']);
    expect(expectRead('NodeList', [rmNodeRs, cemNodeRs]).value).toEqual([rmNode, cemNode]);
  });
});

describe('writing: OAS names plus compatibility fields (digest §8)', () => {
  it('[S2C §8 row 2] ConnectionDetails carry initiateSessionUrl and initiateConnectionUrl; the fingerprint as {"SHA256": base64}', () => {
    const json = writeBody('ConnectionDetails', {
      initiateSessionUrl: 'https://cem.local:8000',
      accessToken: ACCESS_TOKEN,
      certificateFingerprint: ROOT_PIN,
    });
    expect(json).toEqual({
      initiateSessionUrl: 'https://cem.local:8000',
      initiateConnectionUrl: 'https://cem.local:8000',
      accessToken: ACCESS_TOKEN,
      certificateFingerprint: { SHA256: 'VsI3xnmt5pjId2OonNU4GdY8Db63HJyAk2DfSk9Wzec=' },
    });
  });

  it('[S2C §3.0] an absent fingerprint is omitted, never null (RS cannot read a null map)', () => {
    const json = writeBody('ConnectionDetails', { initiateSessionUrl: 'https://cem.example.com/', accessToken: ACCESS_TOKEN }) as Record<
      string,
      unknown
    >;
    expect('certificateFingerprint' in json).toBe(false);
    expect(JSON.stringify(json)).not.toContain('null');
  });

  it('[S2C §8 row 3] CommunicationDetails carry both spellings of token and URL', () => {
    expect(
      writeBody('CommunicationDetails', {
        communicationProtocol: 'WebSocket',
        websocketToken: WS_TOKEN,
        websocketUrl: 'wss://cem.local:8000/v1/websocket',
      }),
    ).toEqual({
      communicationProtocol: 'WebSocket',
      websocketToken: WS_TOKEN,
      websocketUrl: 'wss://cem.local:8000/v1/websocket',
      websocket_token: WS_TOKEN,
      websocket_url: 'wss://cem.local:8000/v1/websocket',
    });
  });

  it('[S2C §8 row 6] waitForPairing items carry clientNodeDescription and clienNodeDescription', () => {
    const json = writeBody('WaitForPairingRequest', [
      { clientNodeId: RM_ID, clientNodeDescription: rmNode, clientEndpointDescription: { deployment: 'LAN' } },
      { clientNodeId: CEM_ID, errorMessage: 'NoValidTokenOnPairingClient' },
    ]);
    expect(json).toEqual([
      {
        clientNodeId: RM_ID,
        clientNodeDescription: rmNode,
        clienNodeDescription: rmNode,
        clientEndpointDescription: { deployment: 'LAN' },
      },
      { clientNodeId: CEM_ID, errorMessage: 'NoValidTokenOnPairingClient' },
    ]);
  });

  it('[S2C §8 row 22] every EndpointDescription we send carries deployment', () => {
    expect(() => writeBody('EndpointDescription', { name: 'x' })).toThrow(expect.objectContaining({ errorMessage: 'InvalidOutgoingBody' }));
    expect(() =>
      writeBody('InitiateSessionRequest', {
        clientNodeId: RM_ID,
        serverNodeId: CEM_ID,
        supportedS2MessageVersions: ['1.0.0-beta'],
        supportedCommunicationProtocols: ['WebSocket'],
        clientEndpointDescription: {},
      }),
    ).toThrow(/clientEndpointDescription\.deployment/);
    expect(writeBody('EndpointDescription', { deployment: 'WAN' })).toEqual({ deployment: 'WAN' });
  });

  it('[S2C §3.0] binary fields are written as standard padded base64; node ids lowercase', () => {
    const json = writeBody('RequestPairingRequest', {
      clientNodeDescription: { ...rmNode, id: RM_ID.toUpperCase() },
      clientEndpointDescription: { deployment: 'LAN' },
      supportedCommunicationProtocols: ['WebSocket'],
      supportedS2MessageVersions: ['1.0.0-beta', '0.0.2-beta'],
      supportedHmacHashingAlgorithms: ['SHA256'],
      clientHmacChallenge: C_c,
      forcePairing: false,
    }) as Record<string, unknown>;
    expect(json.clientHmacChallenge).toBe('AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=');
    expect((json.clientNodeDescription as Record<string, unknown>).id).toBe(RM_ID);
    expect(json.forcePairing).toBe(false);
  });

  it('[S2C §8] writeBody refuses what would not read back (a programming error), without echoing values', () => {
    let thrown: unknown;
    try {
      writeBody('CommunicationDetails', {
        communicationProtocol: 'WebSocket',
        websocketToken: 'not a token!',
        websocketUrl: 'ws://cem.local/v1/websocket',
      });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(S2ConnectError);
    const error = thrown as S2ConnectError;
    expect(error.errorMessage).toBe('InvalidOutgoingBody');
    expect(error.problems.map((p) => p.path)).toEqual(['$.websocketToken', '$.websocketUrl']);
    expect(JSON.stringify(error)).not.toContain('not a token');
    expect(error.message).not.toContain('not a token');
  });

  it('[S2C §8] every kind round-trips: readBody(writeBody(v)) = v', () => {
    const values: { [K in BodyKind]: BodyValues[K] } = {
      NodeDescription: cemNode,
      EndpointDescription: { name: 'Gateway', logoUrl: 'https://x.example/l.png', deployment: 'LAN' },
      NodeList: [rmNode, cemNode],
      ApiVersions: ['v1'],
      RequestPairingRequest: {
        clientNodeDescription: rmNode,
        clientEndpointDescription: { deployment: 'WAN' },
        nodeId: CEM_ID,
        supportedCommunicationProtocols: ['WebSocket'],
        supportedS2MessageVersions: ['1.0.0-beta'],
        supportedHmacHashingAlgorithms: ['SHA256'],
        clientHmacChallenge: C_c,
        forcePairing: true,
      },
      RequestPairingResponse: {
        pairingAttemptId: ATTEMPT_ID,
        serverNodeDescription: cemNode,
        serverEndpointDescription: { deployment: 'LAN' },
        selectedHmacHashingAlgorithm: 'SHA256',
        clientHmacChallengeResponse: R,
        serverHmacChallenge: C_s,
      },
      PairingErrorResponse: { errorMessage: 'NoValidPairingTokenOnPairingServer', additionalInfo: 'the one-time token was used' },
      ConnectionDetails: { initiateSessionUrl: 'https://cem.local:8000', accessToken: ACCESS_TOKEN, certificateFingerprint: ROOT_PIN },
      RequestConnectionDetailsRequest: { serverHmacChallengeResponse: R },
      PostConnectionDetailsRequest: {
        serverHmacChallengeResponse: R,
        connectionDetails: { initiateSessionUrl: 'https://rm.local:8443/', accessToken: ACCESS_TOKEN, certificateFingerprint: ROOT_PIN },
      },
      FinalizePairingRequest: { success: true },
      InitiateSessionRequest: {
        clientNodeId: RM_ID,
        serverNodeId: CEM_ID,
        supportedS2MessageVersions: ['1.0.0-beta'],
        supportedCommunicationProtocols: ['WebSocket'],
        clientNodeDescription: rmNode,
        clientEndpointDescription: { deployment: 'LAN' },
      },
      InitiateSessionResponse: {
        selectedCommunicationProtocol: 'WebSocket',
        selectedS2MessageVersion: '1.0.0-beta',
        accessToken: ACCESS_TOKEN,
      },
      CommunicationDetails: {
        communicationProtocol: 'WebSocket',
        websocketToken: WS_TOKEN,
        websocketUrl: 'wss://cem.local:8000/v1/websocket',
      },
      SessionErrorResponse: { errorMessage: 'IncompatibleS2MessageVersions' },
      UnpairRequest: { clientNodeId: RM_ID, serverNodeId: CEM_ID },
      PreparePairingRequest: { clientNodeDescription: cemNode, clientEndpointDescription: { deployment: 'LAN' }, serverNodeId: RM_ID },
      CancelPreparePairingRequest: { clientNodeId: CEM_ID, serverNodeId: RM_ID },
      WaitForPairingRequestItem: { clientNodeId: RM_ID, clientNodeDescription: rmNode, clientEndpointDescription: { deployment: 'LAN' } },
      WaitForPairingRequest: [{ clientNodeId: RM_ID }],
      WaitForPairingResponseItem: { clientNodeId: RM_ID, action: 'sendNodeDescription' },
      WaitForPairingResponse: [
        { clientNodeId: RM_ID, action: 'preparePairing' },
        { clientNodeId: CEM_ID, action: 'cancelPreparePairing' },
      ],
    };
    for (const kind of Object.keys(BODY_SCHEMAS) as BodyKind[]) {
      const json = JSON.parse(JSON.stringify(writeBody(kind, values[kind]))) as unknown;
      expect(expectRead(kind, json).value, kind).toEqual(values[kind]);
    }
  });
});

describe('hostile and faulty bodies give ParsingError with a path (digest §9)', () => {
  const pairing = DIALECT_CASES[0]?.oas as Record<string, unknown>;
  const without = (body: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(body).filter(([k]) => k !== key));

  it('[S2C §9] non-JSON text', () => {
    const read = readBodyText('RequestPairingRequest', '{"clientNodeDescription": ');
    expect(read.ok).toBe(false);
    expect(!read.ok && read.problems).toEqual([{ path: '$', message: 'is not JSON' }]);
    expect(readBodyText('FinalizePairingRequest', '{"success":true}')).toMatchObject({ ok: true, value: { success: true } });
  });

  it('[S2C §9] a body that is not an object', () => {
    for (const json of [null, [], 'text', 42, true, undefined]) {
      expect(problemsOf('RequestPairingRequest', json)).toEqual([{ path: '$', message: 'must be an object' }]);
    }
    expect(problemsOf('WaitForPairingResponse', 'x')).toEqual([{ path: '$', message: 'must be an array' }]);
  });

  for (const key of [
    'clientNodeDescription',
    'clientEndpointDescription',
    'supportedCommunicationProtocols',
    'supportedS2MessageVersions',
    'supportedHmacHashingAlgorithms',
    'clientHmacChallenge',
  ]) {
    it(`[S2C §9] requestPairing without required field ${key} (or with it null)`, () => {
      expect(problemsOf('RequestPairingRequest', without(pairing, key))).toEqual([
        { path: `$.${key}`, message: 'required field is missing' },
      ]);
      expect(problemsOf('RequestPairingRequest', { ...pairing, [key]: null })).toEqual([
        { path: `$.${key}`, message: 'required field is missing' },
      ]);
    });
  }

  it('[S2C §9] a missing field inside the node description has a nested path', () => {
    expect(problemsOf('RequestPairingRequest', { ...pairing, clientNodeDescription: without(rmNodeOas, 'role') })).toEqual([
      { path: '$.clientNodeDescription.role', message: 'required field is missing' },
    ]);
    expect(problemsOf('RequestPairingRequest', { ...pairing, clientNodeDescription: { ...rmNodeOas, role: 'DSO' } })).toEqual([
      { path: '$.clientNodeDescription.role', message: 'must be one of "CEM", "RM"' },
    ]);
    expect(problemsOf('RequestPairingRequest', { ...pairing, clientEndpointDescription: { deployment: 'CLOUD' } })).toEqual([
      { path: '$.clientEndpointDescription.deployment', message: 'must be one of "LAN", "WAN"' },
    ]);
  });

  const badBase64 = [
    'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8',
    'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-=',
    'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=',
    '!!!!',
    'AAEC AwQF',
    '',
  ];
  for (const text of badBase64) {
    it(`[S2C §9] bad base64 in clientHmacChallenge: ${JSON.stringify(text)}`, () => {
      expect(problemsOf('RequestPairingRequest', { ...pairing, clientHmacChallenge: text })).toEqual([
        { path: '$.clientHmacChallenge', message: 'must be standard padded base64 of 32 to 1024 bytes' },
      ]);
    });
  }

  it('[S2C §9] challenge of 31 bytes (client) and server challenge < 32 bytes (§8 row 20)', () => {
    expect(problemsOf('RequestPairingRequest', { ...pairing, clientHmacChallenge: b64(range(0, 31)) })).toEqual([
      { path: '$.clientHmacChallenge', message: 'must be standard padded base64 of 32 to 1024 bytes' },
    ]);
    const response = DIALECT_CASES[1]?.oas as Record<string, unknown>;
    expect(problemsOf('RequestPairingResponse', { ...response, serverHmacChallenge: b64(range(0, 16)) })).toEqual([
      { path: '$.serverHmacChallenge', message: 'must be standard padded base64 of 32 to 1024 bytes' },
    ]);
    expect(problemsOf('RequestConnectionDetailsRequest', { serverHmacChallengeResponse: 'nop' })).toEqual([
      { path: '$.serverHmacChallengeResponse', message: 'must be standard padded base64 of at most 64 bytes' },
    ]);
  });

  it('[S2C §9] a nodeIdAlias that does not match ^[0-9a-zA-Z]+$', () => {
    for (const alias of ['', 'a-b', 'hello_world', 'é', 'A0 ']) {
      expect(problemsOf('RequestPairingRequest', { ...pairing, nodeIdAlias: alias })).toEqual([
        { path: '$.nodeIdAlias', message: 'must be one or more ASCII letters or digits' },
      ]);
    }
  });

  it('[S2C §9] both nodeId and nodeIdAlias non-null (§8 row 12); one of them null is fine', () => {
    expect(problemsOf('RequestPairingRequest', { ...pairing, nodeId: CEM_ID, nodeIdAlias: 'A0' })).toEqual([
      { path: '$.nodeIdAlias', message: 'must not be given together with nodeId' },
    ]);
    expect(expectRead('RequestPairingRequest', { ...pairing, nodeId: CEM_ID, nodeIdAlias: null }).value.nodeId).toBe(CEM_ID);
  });

  it('[S2C §9] a nodeId that is not a UUID', () => {
    expect(problemsOf('RequestPairingRequest', { ...without(pairing, 'nodeIdAlias'), nodeId: 'A0' })).toEqual([
      { path: '$.nodeId', message: 'must be a UUID (8-4-4-4-12 hex digits)' },
    ]);
  });

  it('[S2C §9] finalizePairing without success (§8 row 18) or with a non-boolean', () => {
    expect(problemsOf('FinalizePairingRequest', {})).toEqual([{ path: '$.success', message: 'required field is missing' }]);
    expect(problemsOf('FinalizePairingRequest', { success: null })).toEqual([{ path: '$.success', message: 'required field is missing' }]);
    expect(problemsOf('FinalizePairingRequest', { success: 'true' })).toEqual([{ path: '$.success', message: 'must be a boolean' }]);
  });

  it('[S2C §9] preparePairing without serverNodeId (§8 row 17)', () => {
    expect(problemsOf('PreparePairingRequest', { clientNodeDescription: cemNode, clientEndpointDescription: {} })).toEqual([
      { path: '$.serverNodeId', message: 'required field is missing' },
    ]);
  });

  it('[S2C §9] postConnectionDetails without certificateFingerprint while the initiate URL host is .local', () => {
    const body = {
      serverHmacChallengeResponse: b64(R),
      connectionDetails: { initiateSessionUrl: 'https://cem.local:8000', accessToken: ACCESS_TOKEN },
    };
    expect(problemsOf('PostConnectionDetailsRequest', body)).toEqual([
      { path: '$.connectionDetails.certificateFingerprint', message: 'required when initiateSessionUrl is a .local (LAN) host' },
    ]);
    // A WAN communication server relies on WebPKI: no fingerprint needed. The PS-sent ConnectionDetails may omit it (RS).
    expect(
      expectRead('PostConnectionDetailsRequest', {
        ...body,
        connectionDetails: { ...body.connectionDetails, initiateSessionUrl: 'https://cem.example.com/' },
      }).value,
    ).toBeDefined();
    expect(expectRead('ConnectionDetails', body.connectionDetails).value.certificateFingerprint).toBeUndefined();
  });

  it('[S2C §9] fingerprint maps without SHA256, with the wrong length, or with non-string entries', () => {
    const details = { initiateSessionUrl: 'https://cem.example.com/', accessToken: ACCESS_TOKEN };
    expect(problemsOf('ConnectionDetails', { ...details, certificateFingerprint: { SHA1: 'abcd' } })).toEqual([
      { path: '$.certificateFingerprint', message: 'must have a "SHA256" entry' },
    ]);
    expect(problemsOf('ConnectionDetails', { ...details, certificateFingerprint: { SHA256: b64(range(0, 20)) } })).toEqual([
      { path: '$.certificateFingerprint', message: '"SHA256" must be a SHA-256 (32 bytes) in base64 or hex' },
    ]);
    expect(problemsOf('ConnectionDetails', { ...details, certificateFingerprint: { SHA256: b64(ROOT_PIN), SHA1: 5 } })).toEqual([
      { path: '$.certificateFingerprint.SHA1', message: 'must be a string' },
    ]);
    expect(problemsOf('ConnectionDetails', { ...details, certificateFingerprint: 'VsI3' })).toEqual([
      { path: '$.certificateFingerprint', message: 'must be an object' },
    ]);
  });

  it('[S2C §9] initiate URL must be https:, WebSocket URL wss: (a non-wss URL is rejected by the client)', () => {
    expect(problemsOf('ConnectionDetails', { initiateSessionUrl: 'http://cem.local:8000', accessToken: ACCESS_TOKEN })).toEqual([
      { path: '$.initiateSessionUrl', message: 'must be a https: URL' },
    ]);
    expect(problemsOf('ConnectionDetails', { initiateSessionUrl: 'cem.local:8000/x', accessToken: ACCESS_TOKEN })).toEqual([
      { path: '$.initiateSessionUrl', message: 'must be a https: URL' },
    ]);
    expect(problemsOf('ConnectionDetails', { initiateSessionUrl: '/relative', accessToken: ACCESS_TOKEN })).toEqual([
      { path: '$.initiateSessionUrl', message: 'must be an absolute https: URL' },
    ]);
    expect(
      problemsOf('CommunicationDetails', {
        communicationProtocol: 'WebSocket',
        websocketToken: WS_TOKEN,
        websocketUrl: 'ws://cem.local:8000/v1/websocket',
      }),
    ).toEqual([{ path: '$.websocketUrl', message: 'must be a wss: URL' }]);
    expect(
      problemsOf('CommunicationDetails', { communicationProtocol: 'MQTT', websocketToken: WS_TOKEN, websocketUrl: 'wss://cem.local/' }),
    ).toEqual([{ path: '$.communicationProtocol', message: 'must be one of "WebSocket"' }]);
  });

  it('[S2C §8 rows 2, 3] the two spellings of one field with different values', () => {
    expect(
      problemsOf('CommunicationDetails', {
        communicationProtocol: 'WebSocket',
        websocketToken: WS_TOKEN,
        websocket_token: ACCESS_TOKEN,
        websocketUrl: 'wss://a.local/',
      }),
    ).toEqual([{ path: '$.websocket_token', message: 'differs from websocketToken (the two spellings of one field)' }]);
    expect(
      problemsOf('ConnectionDetails', {
        initiateSessionUrl: 'https://a.example/',
        initiateConnectionUrl: 'https://b.example/',
        accessToken: ACCESS_TOKEN,
      }),
    ).toEqual([{ path: '$.initiateConnectionUrl', message: 'differs from initiateSessionUrl (the two spellings of one field)' }]);
  });

  it('[S2C §3.5a] tokens must be presentable as a bearer; attempt ids have ≥ 32 characters (OAS)', () => {
    expect(problemsOf('ConnectionDetails', { initiateSessionUrl: 'https://a.example/', accessToken: 'two words' })).toEqual([
      { path: '$.accessToken', message: 'must be a bearer token (letters, digits and -._~+/ then optional =)' },
    ]);
    expect(problemsOf('ConnectionDetails', { initiateSessionUrl: 'https://a.example/', accessToken: '' })).toEqual([
      { path: '$.accessToken', message: 'must have at least 1 characters' },
      { path: '$.accessToken', message: 'must be a bearer token (letters, digits and -._~+/ then optional =)' },
    ]);
    const response = DIALECT_CASES[1]?.oas as Record<string, unknown>;
    expect(problemsOf('RequestPairingResponse', { ...response, pairingAttemptId: 'abc' })).toEqual([
      { path: '$.pairingAttemptId', message: 'must have at least 32 characters' },
    ]);
  });

  it('[S2C §5] waitForPairing: an empty answer array, an unknown action, an unknown client error', () => {
    expect(problemsOf('WaitForPairingResponse', [])).toEqual([{ path: '$', message: 'must have at least 1 item' }]);
    expect(problemsOf('WaitForPairingResponse', [{ clientNodeId: RM_ID, action: 'dance' }])).toEqual([
      { path: '$[0].action', message: 'must be one of "sendNodeDescription", "preparePairing", "cancelPreparePairing", "requestPairing"' },
    ]);
    expect(problemsOf('WaitForPairingRequest', [{ clientNodeId: RM_ID, errorMessage: 'Nope' }])).toEqual([
      { path: '$[0].errorMessage', message: 'must be one of "NoValidTokenOnPairingClient"' },
    ]);
  });

  it('[S2C §9] problems never contain values: secrets in a bad body stay out of problems and errors', () => {
    const body = {
      serverHmacChallengeResponse: `${ACCESS_TOKEN}x`,
      connectionDetails: { initiateSessionUrl: `http://${WS_TOKEN}.local/`, accessToken: `${ATTEMPT_ID} ` },
    };
    const problems = problemsOf('PostConnectionDetailsRequest', body);
    expect(problems.map((p) => p.path)).toEqual([
      '$.serverHmacChallengeResponse',
      '$.connectionDetails.initiateSessionUrl',
      '$.connectionDetails.accessToken',
    ]);
    const error = S2ConnectError.parsing(problems);
    for (const secret of [ACCESS_TOKEN, WS_TOKEN, ATTEMPT_ID]) {
      expect(JSON.stringify(problems)).not.toContain(secret);
      expect(error.message).not.toContain(secret);
      expect(JSON.stringify(error)).not.toContain(secret);
      expect(JSON.stringify(error.toBody('pairing'))).not.toContain(secret);
    }
    expect(error.toBody('pairing')).toEqual({
      errorMessage: 'ParsingError',
      additionalInfo: '$.serverHmacChallengeResponse must be standard padded base64 of at most 64 bytes; and 2 more',
    });
    expect(error.httpStatus).toBe(400);
  });

  it('[S2C §9] a deeply nested unknown field and a hostile key do not crash the reader; problems are capped', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(expectRead('FinalizePairingRequest', { success: false, deep }).value).toEqual({ success: false });
    const longKey = 'k'.repeat(10_000);
    const problems = problemsOf('ConnectionDetails', {
      initiateSessionUrl: 'https://a.example/',
      accessToken: ACCESS_TOKEN,
      certificateFingerprint: { SHA256: b64(ROOT_PIN), [longKey]: 1 },
    });
    expect(problems[0]?.path.length).toBeLessThanOrEqual(200);
    const many = problemsOf(
      'NodeList',
      Array.from({ length: 50 }, () => ({})),
    );
    expect(many).toHaveLength(10);
  });
});

describe('error bodies and statuses (digest §3.3, §8 row 4)', () => {
  it('[S2C §8 row 4] a 400 with an RS error name gives the OAS name', () => {
    const error = errorFromResponse('pairing', 400, { errorMessage: 'S2NodeNotFound' });
    expect(error.errorMessage).toBe('NodeNotFound');
    expect(error.httpStatus).toBe(400);
    expect(errorFromResponse('pairing', 400, { errorMessage: 'InvalidPairingToken', additionalInfo: null }).errorMessage).toBe(
      'NoValidPairingTokenOnPairingServer',
    );
    expect(errorFromResponse('session', 400, { errorMessage: 'NoLongerPaired' }).errorMessage).toBe('NoLongerPaired');
  });

  it('[S2C §8 row 4] additionalInfo is kept, clipped', () => {
    const error = errorFromResponse('pairing', 400, { errorMessage: 'Other', additionalInfo: 'x'.repeat(5000) });
    expect(error.errorMessage).toBe('Other');
    expect(error.additionalInfo?.length).toBe(300);
  });

  it('[S2C §8 row 11] a 400 without a readable body, or with an unknown name', () => {
    expect(errorFromResponse('pairing', 400, undefined).errorMessage).toBe('BadRequest');
    expect(errorFromResponse('pairing', 400, 'oops').errorMessage).toBe('BadRequest');
    const unknown = errorFromResponse('session', 400, { errorMessage: 'NodeNotFound' });
    expect(unknown.errorMessage).toBe('BadRequest');
    expect(unknown.additionalInfo).toBe('unknown error name "NodeNotFound"');
  });

  it('[S2C §9] statuses without S2 Connect bodies', () => {
    const names = [401, 403, 404, 413, 415, 422, 500, 503].map(
      (status) => errorFromResponse('session', status, { errorMessage: 'Other' }).errorMessage,
    );
    expect(names).toEqual([
      'Unauthorized',
      'Forbidden',
      'NotFound',
      'PayloadTooLarge',
      'UnsupportedMediaType',
      'ServerError',
      'ServerError',
      'Busy',
    ]);
  });

  it('[S2C §3.3] toBody gives an OAS body only for names of that API', () => {
    expect(S2ConnectError.pairing('NoNodeIdProvided').toBody('pairing')).toEqual({ errorMessage: 'NoNodeIdProvided' });
    expect(S2ConnectError.session('NoLongerPaired').toBody('pairing')).toBeUndefined();
    expect(S2ConnectError.session('NoLongerPaired').toBody('session')).toEqual({ errorMessage: 'NoLongerPaired' });
    expect(S2ConnectError.unauthorized().toBody('session')).toBeUndefined();
    expect(S2ConnectError.unauthorized().httpStatus).toBe(401);
    expect(S2ConnectError.busy().httpStatus).toBe(503);
    expect(S2ConnectError.local('Timeout').httpStatus).toBeUndefined();
    expect(S2ConnectError.pairing('Other').code).toBe('S2_CONNECT');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Our schemas against the OpenAPI files (outside the repository).

const openapi = requireMaterial({
  name: 'S2 Connect OpenAPI files',
  envVar: 'S2_CONNECT_SPEC_DIR',
  expected: 'a checkout of flexiblepower/s2-connect/openapi',
  check: (dir) => (openapiDir(dir) === undefined ? 'no s2-connect-pairing.yml there (nor in openapi/ below it)' : undefined),
});

function openapiDir(dir: string): string | undefined {
  for (const candidate of [dir, path.join(dir, 'openapi')])
    if (existsSync(path.join(candidate, 's2-connect-pairing.yml'))) return candidate;
  return undefined;
}

type Yaml = Record<string, unknown>;

describeWith(openapi, 'schemas agree with the S2 Connect OpenAPI files', () => {
  const dir = openapiDir(materialPath(openapi)) as string;
  const files: Record<string, Yaml> = {};
  const file = (name: string): Yaml => (files[name] ??= parseYaml(readFileSync(path.join(dir, name), 'utf8')) as Yaml);
  const at = (root: Yaml, ...keys: string[]): Yaml => {
    let node: unknown = root;
    for (const key of keys) node = (node as Yaml)[key];
    if (node === undefined) throw new Error(`no ${keys.join('/')} in the OpenAPI file`);
    return node as Yaml;
  };
  /** Resolves `$ref`s (same-file or `other.yml#/…`) and merges `allOf`. */
  const resolve = (schema: Yaml, fileName: string): { properties: string[]; required: string[] } => {
    if (typeof schema.$ref === 'string') {
      const [refFile, pointer] = schema.$ref.split('#') as [string, string];
      const target = refFile === '' ? fileName : refFile;
      return resolve(at(file(target), ...pointer.slice(1).split('/')), target);
    }
    if (Array.isArray(schema.allOf)) {
      const parts = (schema.allOf as Yaml[]).map((part) => resolve(part, fileName));
      return { properties: parts.flatMap((p) => p.properties), required: parts.flatMap((p) => p.required) };
    }
    return {
      properties: Object.keys((schema.properties as Yaml | undefined) ?? {}),
      required: (schema.required as string[] | undefined) ?? [],
    };
  };
  const body = (fileName: string, route: string, where: 'request' | '200') => {
    const op = at(file(fileName), 'paths', route, 'post');
    const content = where === 'request' ? at(op, 'requestBody', 'content') : at(op, 'responses', '200', 'content');
    return at(content, 'application/json', 'schema');
  };
  const ours = (kind: BodyKind) => {
    const s = BODY_SCHEMAS[kind] as unknown as { properties?: Yaml; required?: string[] };
    return { properties: Object.keys(s.properties ?? {}).sort(), required: [...(s.required ?? [])].sort() };
  };

  const P = 's2-connect-pairing.yml';
  const S = 's2-connect-session-init.yml';
  const C = 's2-connect-common.yml';
  const cases: { kind: BodyKind; schema: () => Yaml; file: string; departures?: { required: string[] } }[] = [
    { kind: 'NodeDescription', file: C, schema: () => at(file(C), 'components', 'schemas', 'NodeDescription') },
    { kind: 'EndpointDescription', file: C, schema: () => at(file(C), 'components', 'schemas', 'EndpointDescription') },
    { kind: 'RequestPairingRequest', file: P, schema: () => body(P, '/requestPairing', 'request') },
    { kind: 'RequestPairingResponse', file: P, schema: () => body(P, '/requestPairing', '200') },
    { kind: 'PairingErrorResponse', file: P, schema: () => at(file(P), 'components', 'schemas', 'PairingResponseErrorMessage') },
    { kind: 'RequestConnectionDetailsRequest', file: P, schema: () => body(P, '/requestConnectionDetails', 'request') },
    { kind: 'ConnectionDetails', file: P, schema: () => at(file(P), 'components', 'schemas', 'ConnectionDetails') },
    { kind: 'PostConnectionDetailsRequest', file: P, schema: () => body(P, '/postConnectionDetails', 'request') },
    // §8 row 18: RS requires `success`, OAS does not; we require it (a missing one is a 400).
    {
      kind: 'FinalizePairingRequest',
      file: P,
      schema: () => body(P, '/finalizePairing', 'request'),
      departures: { required: ['success'] },
    },
    { kind: 'PreparePairingRequest', file: P, schema: () => body(P, '/preparePairing', 'request') },
    { kind: 'CancelPreparePairingRequest', file: P, schema: () => body(P, '/cancelPreparePairing', 'request') },
    { kind: 'WaitForPairingRequestItem', file: P, schema: () => at(body(P, '/waitForPairing', 'request'), 'items') },
    { kind: 'WaitForPairingResponseItem', file: P, schema: () => at(body(P, '/waitForPairing', '200'), 'items') },
    { kind: 'InitiateSessionRequest', file: S, schema: () => body(S, '/initiateSession', 'request') },
    { kind: 'InitiateSessionResponse', file: S, schema: () => body(S, '/initiateSession', '200') },
    { kind: 'CommunicationDetails', file: S, schema: () => at(file(S), 'components', 'schemas', 'WebSocketCommunicationDetails') },
    { kind: 'SessionErrorResponse', file: S, schema: () => at(file(S), 'components', 'schemas', 'CommunicationDetailsErrorMessage') },
    { kind: 'UnpairRequest', file: S, schema: () => body(S, '/unpair', 'request') },
  ];

  for (const c of cases) {
    it(`[S2C OAS] ${c.kind}: same fields, same required set${c.departures ? ' (plus the documented departures)' : ''}`, () => {
      const theirs = resolve(c.schema(), c.file);
      const mine = ours(c.kind);
      expect(mine.properties).toEqual([...new Set(theirs.properties)].sort());
      expect(mine.required).toEqual([...new Set([...theirs.required, ...(c.departures?.required ?? [])])].sort());
    });
  }

  it('[S2C OAS] every body kind that is an object is compared', () => {
    const objectKinds = (Object.keys(BODY_SCHEMAS) as BodyKind[]).filter((k) => (BODY_SCHEMAS[k] as { type?: string }).type === 'object');
    expect(objectKinds.sort()).toEqual(cases.map((c) => c.kind).sort());
  });

  it('[S2C OAS] enumerations and patterns', () => {
    const enumOf = (schema: Yaml) => schema.enum as string[];
    const pairingSchemas = at(file(P), 'components', 'schemas');
    const sessionSchemas = at(file(S), 'components', 'schemas');
    const commonSchemas = at(file(C), 'components', 'schemas');
    expect([...PAIRING_ERROR_NAMES]).toEqual(enumOf(at(pairingSchemas, 'PairingResponseErrorMessage', 'properties', 'errorMessage')));
    expect([...SESSION_ERROR_NAMES]).toEqual(enumOf(at(sessionSchemas, 'CommunicationDetailsErrorMessage', 'properties', 'errorMessage')));
    expect([...WAIT_FOR_PAIRING_ACTIONS]).toEqual(enumOf(at(body(P, '/waitForPairing', '200'), 'items', 'properties', 'action')));
    expect([...WAIT_FOR_PAIRING_ERRORS]).toEqual(enumOf(at(body(P, '/waitForPairing', 'request'), 'items', 'properties', 'errorMessage')));
    expect([...NODE_ROLES].sort()).toEqual([...enumOf(at(commonSchemas, 'Role'))].sort());
    expect([...DEPLOYMENTS].sort()).toEqual([...enumOf(at(commonSchemas, 'Deployment'))].sort());
    expect(NODE_ID_ALIAS_PATTERN).toBe(at(pairingSchemas, 'NodeIdAlias').pattern);
    expect(at(pairingSchemas, 'PairingAttemptId').minLength).toBe(32);
    expect(enumOf(at(pairingSchemas, 'HmacHashingAlgorithm'))).toEqual(['SHA256']);
    expect(enumOf(at(commonSchemas, 'CommunicationProtocol'))).toEqual(['WebSocket']);
    expect(at(body(P, '/waitForPairing', '200'), 'minItems')).toBe(1);
  });
});
