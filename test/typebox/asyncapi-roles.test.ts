/**
 * The registry's sender roles and control-type areas agree with the official AsyncAPI role files
 * (`s2-cem.yaml`, `s2-rm.yaml`, `s2-rm-<ct>-only.yaml`). Who sends what: docs/rules.md#senders. These files use
 * `subscribe` for what the described application RECEIVES and `publish` for what it SENDS (the
 * reverse of the AsyncAPI 2.x definitions), so the sets are read that way here.
 *
 * Needs the official s2-ws-json checkout (S2_SPEC_DIR, see test/support/outside-material.ts): skipped without it.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MESSAGES } from '../../src/typebox/registry.js';
import { CONTROL_TYPE_SHORT, type MessageSpec } from '../../src/typebox/message-spec.js';
import { asyncApiFiles, asyncApiText, OFFICIAL_SPEC } from '../support/official-schemas.js';
import { describeWith } from '../support/outside-material.js';

type Yaml = Record<string, unknown>;

interface RoleFile {
  readonly sends: Set<string>;
  readonly receives: Set<string>;
}

function obj(v: unknown, where: string): Yaml {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where} is not an object`);
  return v as Yaml;
}

/** Resolves a local `$ref` (`#/components/messages/X`) inside the document. */
function deref(doc: Yaml, v: unknown, where: string): Yaml {
  const o = obj(v, where);
  const ref = o.$ref;
  if (typeof ref !== 'string') return o;
  if (!ref.startsWith('#/')) throw new Error(`${where}: non-local $ref ${ref}`);
  let cur: unknown = doc;
  for (const seg of ref.slice(2).split('/')) cur = obj(cur, `${where} → ${ref}`)[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
  return obj(cur, `${where} → ${ref}`);
}

/** The message_types an operation (`publish`/`subscribe`) lists: oneOf of message refs, or one message. */
function operationMessages(doc: Yaml, operation: unknown, where: string): Set<string> {
  const message = deref(doc, obj(operation, where).message, `${where}.message`);
  const list = Array.isArray(message.oneOf) ? message.oneOf : [message];
  const out = new Set<string>();
  list.forEach((m, i) => {
    const resolved = deref(doc, m, `${where}.message.oneOf[${i}]`);
    const payload = deref(doc, resolved.payload, `${where}.message.oneOf[${i}].payload`);
    const mt = obj(obj(payload.properties, `${where} payload.properties`).message_type, `${where} message_type`);
    const constant: unknown = mt.const ?? (Array.isArray(mt.enum) && mt.enum.length === 1 ? mt.enum[0] : undefined);
    if (typeof constant !== 'string') throw new Error(`${where}.message.oneOf[${i}]: no message_type constant`);
    // The component name (last $ref segment) names the same message.
    const ref = obj(m, where).$ref;
    if (typeof ref === 'string' && ref.split('/').pop() !== constant)
      throw new Error(`${where}: component ${ref} carries message_type ${constant}`);
    out.add(constant);
  });
  return out;
}

function roleFile(fileName: string): RoleFile {
  const doc = obj(parse(asyncApiText(fileName)), fileName);
  const channels = obj(doc.channels, `${fileName} channels`);
  const sends = new Set<string>();
  const receives = new Set<string>();
  for (const [name, ch] of Object.entries(channels)) {
    const channel = obj(ch, `${fileName} channels.${name}`);
    // Reversed AsyncAPI 2.x: publish = what this application sends, subscribe = what it receives.
    if (channel.publish) for (const m of operationMessages(doc, channel.publish, `${fileName} ${name}.publish`)) sends.add(m);
    if (channel.subscribe) for (const m of operationMessages(doc, channel.subscribe, `${fileName} ${name}.subscribe`)) receives.add(m);
  }
  return { sends, receives };
}

const registry = Object.entries(MESSAGES as Record<string, MessageSpec>);
const sorted = (s: Iterable<string>) => [...s].sort();
const sentBy = (role: 'CEM' | 'RM', areas?: readonly string[]) =>
  sorted(registry.filter(([, s]) => (s.sender === role || s.sender === 'both') && (!areas || areas.includes(s.area))).map(([k]) => k));
const ofAreas = (areas: readonly string[]) => sorted(registry.filter(([, s]) => areas.includes(s.area)).map(([k]) => k));

describeWith(OFFICIAL_SPEC, 'registry roles vs the AsyncAPI role files (docs/rules.md#senders)', () => {
  const cem = roleFile('s2-cem.yaml');
  const rm = roleFile('s2-rm.yaml');

  it('the seven role files are there', () => {
    const files = asyncApiFiles();
    for (const f of ['s2-cem.yaml', 's2-rm.yaml', ...CONTROL_TYPE_SHORT.map((ct) => `s2-rm-${ct.toLowerCase()}-only.yaml`)])
      expect(files).toContain(f);
  });

  it('direction: the CEM file publishes HandshakeResponse and SelectControlType (CEM-only), the RM file publishes ResourceManagerDetails (RM-only)', () => {
    expect(cem.sends.has('HandshakeResponse') && cem.sends.has('SelectControlType')).toBe(true);
    expect(cem.receives.has('HandshakeResponse')).toBe(false);
    expect(rm.sends.has('ResourceManagerDetails')).toBe(true);
    expect(rm.receives.has('ResourceManagerDetails')).toBe(false);
  });

  it('senders: what s2-cem.yaml says the CEM sends == registry entries with sender CEM or both', () => {
    expect(sorted(cem.sends)).toEqual(sentBy('CEM'));
  });

  it('senders: what s2-cem.yaml says the CEM receives == registry entries with sender RM or both', () => {
    expect(sorted(cem.receives)).toEqual(sentBy('RM'));
  });

  it('senders: what s2-rm.yaml says the RM sends == registry entries with sender RM or both', () => {
    expect(sorted(rm.sends)).toEqual(sentBy('RM'));
  });

  it('senders: what s2-rm.yaml says the RM receives == registry entries with sender CEM or both', () => {
    expect(sorted(rm.receives)).toEqual(sentBy('CEM'));
  });

  it('senders: the CEM and RM files mirror each other and together list all 35 messages', () => {
    expect(sorted(cem.sends)).toEqual(sorted(rm.receives));
    expect(sorted(cem.receives)).toEqual(sorted(rm.sends));
    expect(sorted(new Set([...cem.sends, ...cem.receives]))).toEqual(sorted(Object.keys(MESSAGES)));
  });

  it('senders: the sender counts are CEM-only 9, RM-only 22, both 4', () => {
    const count = (s: string) => registry.filter(([, spec]) => spec.sender === s).length;
    expect([count('CEM'), count('RM'), count('both')]).toEqual([9, 22, 4]);
    const both = sorted(registry.filter(([, s]) => s.sender === 'both').map(([k]) => k));
    expect(both).toEqual(sorted(cem.sends).filter((m) => cem.receives.has(m)));
  });

  it('[R55][Q9] senders: RevokeObject is published by both the CEM and the RM files, and the registry says both', () => {
    expect(cem.sends.has('RevokeObject')).toBe(true);
    expect(rm.sends.has('RevokeObject')).toBe(true);
    expect(cem.receives.has('RevokeObject') && rm.receives.has('RevokeObject')).toBe(true);
    expect((MESSAGES as Record<string, MessageSpec>).RevokeObject?.sender).toBe('both');
    for (const ct of CONTROL_TYPE_SHORT) {
      const only = roleFile(`s2-rm-${ct.toLowerCase()}-only.yaml`);
      expect(only.sends.has('RevokeObject') && only.receives.has('RevokeObject'), ct).toBe(true);
    }
  });

  it('senders: the area of every message equals its message_type prefix (common when there is none)', () => {
    for (const [type, spec] of registry) {
      const prefix = type.includes('.') ? type.split('.')[0] : 'common';
      expect(spec.area, type).toBe(prefix);
    }
  });

  for (const ct of CONTROL_TYPE_SHORT) {
    describe(`s2-rm-${ct.toLowerCase()}-only.yaml`, () => {
      const only = roleFile(`s2-rm-${ct.toLowerCase()}-only.yaml`);

      it(`senders: sent ∪ received == common messages + the ${ct} messages (from registry area)`, () => {
        expect(sorted(new Set([...only.sends, ...only.receives]))).toEqual(ofAreas(['common', ct]));
      });

      it(`senders: the ${ct}-only RM sends == sender RM/both of common + ${ct}, receives == sender CEM/both of common + ${ct}`, () => {
        // ResourceManagerDetails etc. are common; HandshakeResponse / SelectControlType come from the CEM.
        expect(sorted(only.sends)).toEqual(sentBy('RM', ['common', ct]));
        expect(sorted(only.receives)).toEqual(sentBy('CEM', ['common', ct]));
      });
    });
  }
});
