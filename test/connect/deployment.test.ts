import { describe, expect, it } from 'vitest';
import {
  bindsLeafCertificate,
  communicationRoleOf,
  communicationServer,
  deploymentOfHost,
  deploymentOfUrl,
  expectedStep,
  remoteDeploymentOf,
  type PairingParties,
} from '../../src/connect/deployment.js';
import { S2ConnectError } from '../../src/connect/errors.js';
import type { Deployment, NodeRole } from '../../src/connect/wire/index.js';

describe('deployment from host names (digest §1, §2)', () => {
  it('[S2C §1] an mDNS name ending .local (or .local.) is LAN', () => {
    expect(deploymentOfHost('cem.local')).toBe('LAN');
    expect(deploymentOfHost('my-battery.local.')).toBe('LAN');
    expect(deploymentOfHost('a.b.local')).toBe('LAN');
    expect(deploymentOfHost('CEM.LOCAL')).toBe('LAN');
  });

  it('[S2C §1] any other DNS name is WAN', () => {
    expect(deploymentOfHost('s2.example.com')).toBe('WAN');
    expect(deploymentOfHost('example.com.')).toBe('WAN');
    expect(deploymentOfHost('localhost')).toBe('WAN');
    expect(deploymentOfHost('local')).toBe('WAN');
    expect(deploymentOfHost('notlocal')).toBe('WAN');
    expect(deploymentOfHost('cem.local.example.com')).toBe('WAN');
    expect(deploymentOfHost('cem.locals')).toBe('WAN');
  });

  it('[S2C §1] IP literals and what is no host name have no S2 Connect deployment', () => {
    for (const host of [
      '127.0.0.1',
      '192.168.1.10',
      '::1',
      '[::1]',
      'fe80::1',
      '[fe80::1]',
      '',
      ' ',
      '.local',
      'a..local',
      'cem.local:8000',
      'cem.local/v1',
    ]) {
      expect(deploymentOfHost(host), host).toBeUndefined();
    }
  });

  it('[S2C §1] from URLs, including URLs with ports and paths; not a URL → undefined', () => {
    expect(deploymentOfUrl('https://cem.local:8000')).toBe('LAN');
    expect(deploymentOfUrl(new URL('https://cloud.example.com/pairing/'))).toBe('WAN');
    expect(deploymentOfUrl('https://127.0.0.1:8443/')).toBeUndefined();
    expect(deploymentOfUrl('https://[::1]:8443/')).toBeUndefined();
    expect(deploymentOfUrl('not a url')).toBeUndefined();
  });

  it('[S2C §3.4] the pairing client binds the leaf (T‖F) exactly when the pairing URL host is .local', () => {
    expect(bindsLeafCertificate('https://cem.local:8000')).toBe(true);
    expect(bindsLeafCertificate('https://cem.local.:8000')).toBe(true);
    expect(bindsLeafCertificate('https://cloud.example.com/')).toBe(false);
    // A LAN server reached by address: RS computes the WAN formula (the HMACs then disagree, digest §3.4).
    expect(bindsLeafCertificate('https://192.168.1.10:8000')).toBe(false);
  });

  it("[S2C §1] the remote deployment is the announced one, else the URL host's", () => {
    expect(remoteDeploymentOf({ deployment: 'WAN' }, 'https://cem.local')).toBe('WAN');
    expect(remoteDeploymentOf({ name: 'x' }, 'https://cem.local')).toBe('LAN');
    expect(remoteDeploymentOf(undefined, 'https://cloud.example.com')).toBe('WAN');
    expect(remoteDeploymentOf({}, 'https://10.0.0.1')).toBeUndefined();
  });
});

describe('communication server per role × deployment (digest §1 table)', () => {
  const rows: { client: [NodeRole, Deployment]; server: [NodeRole, Deployment]; cs: 'pairingServer' | 'pairingClient' }[] = [
    // RM LAN → CEM LAN: PS is CS.
    { client: ['RM', 'LAN'], server: ['CEM', 'LAN'], cs: 'pairingServer' },
    // CEM LAN → RM LAN: PC is CS.
    { client: ['CEM', 'LAN'], server: ['RM', 'LAN'], cs: 'pairingClient' },
    // RM WAN → CEM WAN: PS is CS.
    { client: ['RM', 'WAN'], server: ['CEM', 'WAN'], cs: 'pairingServer' },
    // CEM WAN → RM WAN: PC is CS.
    { client: ['CEM', 'WAN'], server: ['RM', 'WAN'], cs: 'pairingClient' },
    // any LAN → any WAN: PS is CS.
    { client: ['RM', 'LAN'], server: ['CEM', 'WAN'], cs: 'pairingServer' },
    { client: ['CEM', 'LAN'], server: ['RM', 'WAN'], cs: 'pairingServer' },
    // any WAN → any LAN: PC is CS.
    { client: ['RM', 'WAN'], server: ['CEM', 'LAN'], cs: 'pairingClient' },
    { client: ['CEM', 'WAN'], server: ['RM', 'LAN'], cs: 'pairingClient' },
  ];

  for (const { client, server, cs } of rows) {
    const parties: PairingParties = {
      clientRole: client[0],
      clientDeployment: client[1],
      serverRole: server[0],
      serverDeployment: server[1],
    };
    const step = cs === 'pairingServer' ? 'request' : 'post';
    it(`[S2C §1] PC ${client.join(' ')} → PS ${server.join(' ')}: CS is the ${cs}, PC calls ${step}ConnectionDetails`, () => {
      expect(communicationServer(parties)).toBe(cs);
      expect(expectedStep(parties)).toBe(step);
      expect(communicationRoleOf(cs, parties)).toBe('server');
      expect(communicationRoleOf(cs === 'pairingServer' ? 'pairingClient' : 'pairingServer', parties)).toBe('client');
    });
  }

  for (const role of ['CEM', 'RM'] as const) {
    for (const [cd, sd] of [
      ['LAN', 'LAN'],
      ['LAN', 'WAN'],
      ['WAN', 'LAN'],
      ['WAN', 'WAN'],
    ] as const) {
      it(`[S2C §1] same role (${role} ${cd} → ${role} ${sd}) is InvalidCombinationOfRoles (400)`, () => {
        const parties: PairingParties = { clientRole: role, clientDeployment: cd, serverRole: role, serverDeployment: sd };
        let thrown: unknown;
        try {
          communicationServer(parties);
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(S2ConnectError);
        expect((thrown as S2ConnectError).errorMessage).toBe('InvalidCombinationOfRoles');
        expect((thrown as S2ConnectError).httpStatus).toBe(400);
        expect((thrown as S2ConnectError).toBody('pairing')).toEqual({
          errorMessage: 'InvalidCombinationOfRoles',
          additionalInfo: `both nodes are ${role}`,
        });
        expect(() => expectedStep(parties)).toThrow(S2ConnectError);
        expect(() => communicationRoleOf('pairingServer', parties)).toThrow(S2ConnectError);
      });
    }
  }
});
