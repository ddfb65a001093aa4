import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The README's API snippets are cut from examples/ (which are compiled and run by
 * examples.test.ts): each ```ts block names its example in a first-line comment, and its lines
 * appear in that file in the same order. A line that is only `…` marks what the snippet leaves out.
 */
const read = (file: string) => fs.readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

function apiSnippets(readme: string): string[] {
  const start = readme.indexOf('\n## API\n');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(-1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** The snippet lines missing from the example, in order (empty when the snippet is a faithful cut). */
function missingLines(snippet: string[], example: string[]): string[] {
  const missing: string[] = [];
  let at = 0;
  for (const line of snippet) {
    const wanted = line.trim();
    if (wanted === '' || wanted === '…') continue;
    const found = example.findIndex((l, i) => i >= at && l.trim() === wanted);
    if (found === -1) missing.push(line);
    else at = found + 1;
  }
  return missing;
}

describe('README API snippets are taken from examples/', () => {
  const snippets = apiSnippets(read('README.md'));

  it('there are snippets, and each names the example it is cut from', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(4);
    for (const s of snippets) expect(s.split('\n')[0]).toMatch(/^\/\/ examples\/[\w-]+\.ts$/);
  });

  it('every line of every snippet stands in its example, in the same order', () => {
    for (const s of snippets) {
      const [header, ...lines] = s.split('\n');
      const file = header!.slice('// '.length);
      const example = read(file).split('\n');
      expect({ file, missing: missingLines(lines, example) }).toEqual({ file, missing: [] });
    }
  });

  it('a line that is not in the example, or out of order, is found', () => {
    const example = ['const a = 1;', 'const b = 2;', 'const c = 3;'];
    expect(missingLines(['const a = 1;', '…', 'const c = 3;'], example)).toEqual([]);
    expect(missingLines(['const c = 3;', 'const a = 1;'], example)).toEqual(['const a = 1;']);
    expect(missingLines(['const d = 4;'], example)).toEqual(['const d = 4;']);
  });
});
