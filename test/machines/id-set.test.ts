import { describe, expect, it } from 'vitest';
import { IdSet } from '../../src/machines/id-set.js';
import { Rng } from '../support/rng.js';

describe('IdSet (the session’s used instruction ids)', () => {
  it('[R42] holds every UUID it was given, case-insensitively, through many growths, and nothing else', () => {
    const rng = new Rng(42);
    const hex = (n: number) => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join('');
    const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
    const set = new IdSet();
    const added = Array.from({ length: 5000 }, uuid);
    for (const id of added) set.add(id);
    const known = new Set(added);
    const absent = Array.from({ length: 5000 }, uuid).filter((id) => !known.has(id));
    expect(set.size).toBe(new Set(added).size);
    expect(added.every((id) => set.has(id) && set.has(id.toUpperCase()))).toBe(true);
    expect(absent.some((id) => set.has(id))).toBe(false);
  });

  it('[R42] tells apart UUIDs that differ in one bit, keeps the nil UUID, and keeps ids that are not UUIDs', () => {
    const set = new IdSet();
    const base = '00000000-0000-1000-8000-000000000000';
    set.add(base);
    expect(set.has('00000000-0000-0000-0000-000000000000')).toBe(false);
    set.add('00000000-0000-0000-0000-000000000000');
    expect(set.has('00000000-0000-0000-0000-000000000000')).toBe(true);
    for (let i = 0; i < 200; i++) set.add(`00000000-0000-1000-8000-${i.toString(16).padStart(12, '0')}`);
    expect(set.has('00000000-0000-1000-8000-0000000000c7')).toBe(true);
    expect(set.has('00000000-0000-1000-8000-0000000000c8')).toBe(false);
    set.add('Instruction:42');
    expect(set.has('instruction:42')).toBe(true);
    expect(set.has('instruction:43')).toBe(false);
    expect(set.size).toBe(202);
    set.add(base.toUpperCase());
    expect(set.size).toBe(202);
  });
});
