import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error — a plain ESM script without type declarations
import { generate, readRules, render } from '../../scripts/conformance.mjs';

describe('CONFORMANCE.md', () => {
  it('is up to date with the rule tags in the test titles (run `npm run conformance`)', () => {
    const committed = fs.readFileSync(new URL('../../CONFORMANCE.md', import.meta.url), 'utf8');
    expect(committed).toBe(generate());
  });

  it('maps each tag to its rule and lists tags that name no rule', () => {
    const rules = readRules('| R1 | one frame | E |\n| Q6 | a question | x |\n');
    const text: string = render(rules, [{ file: 'test/a.test.ts', line: 3, title: '[R1, R999] x', ids: ['R1', 'R999'] }]);
    expect(text).toContain('| R1 | one frame | `test/a.test.ts:3` [R1, R999] x |');
    expect(text).toContain('| Q6 | a question | — (none yet) |');
    expect(text).toContain('`test/a.test.ts:3` R999');
  });
});
