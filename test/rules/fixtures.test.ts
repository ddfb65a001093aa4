import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode } from '../../src/codec/index.js';
import { BENCH_DIR } from './support.js';

describe('bench fixtures with the intra-message rules on', () => {
  const files = readdirSync(BENCH_DIR).filter((f) => f.endsWith('.json'));

  it('finds the bench fixtures', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files)('[R67] [R68] [R69] [R70] [R76] [R82] [R107] decodes %s without problems', (file) => {
    const result = decode(readFileSync(new URL(file, BENCH_DIR), 'utf8'));
    expect(result.ok ? [] : result.error.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });
});
