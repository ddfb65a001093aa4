import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MESSAGE_TYPES, messageSpec } from '../../src/typebox/registry.js';
// @ts-expect-error — a plain ESM script without type declarations
import * as conformance from '../../scripts/conformance.mjs';

interface Entry {
  readonly title: string;
  readonly text: string;
  readonly body: readonly string[];
  readonly anchored: boolean;
  readonly line: number;
}
interface Tagged {
  readonly file: string;
  readonly line: number;
  readonly title: string;
  readonly ids: readonly string[];
}
interface Citation {
  readonly file: string;
  readonly line: number;
  readonly id: string;
}
interface Reference {
  readonly path: string;
  readonly names: readonly string[];
  readonly line: number;
}
const { citedIds, generate, missingIds, readCatalogue, readCitations, readReferences, readRules, readTaggedTests, render } =
  conformance as {
    citedIds: (text: string) => string[];
    generate: () => string;
    missingIds: (rules: Map<string, Entry>, citations: readonly Citation[], tests: readonly Tagged[]) => { id: string; where: string }[];
    readCatalogue: () => Map<string, Entry>;
    readCitations: (paths?: readonly string[]) => Citation[];
    readReferences: (text: string) => Reference[];
    readRules: (text: string) => Map<string, Entry>;
    readTaggedTests: (testDir: string) => Tagged[];
    render: (rules: Map<string, Entry>, tests: readonly Tagged[]) => string;
  };

const root = fileURLToPath(new URL('../../', import.meta.url));
const catalogueText = fs.readFileSync(path.join(root, 'docs/rules.md'), 'utf8');
const catalogue = readCatalogue();
const tagged = readTaggedTests(path.join(root, 'test'));
// Spelled out of pieces so that this file itself does not cite an id the catalogue lacks.
const UNKNOWN = ['R', 999].join('');

describe('CONFORMANCE.md', () => {
  it('is up to date with the catalogue and the rule tags in the test titles (run `npm run conformance`)', () => {
    const committed = fs.readFileSync(path.join(root, 'CONFORMANCE.md'), 'utf8');
    expect(committed).toBe(generate());
  });

  it('links each id to its catalogue entry, lists the tests of each tag and the tags that name no entry', () => {
    const rules = readRules(
      [
        '<a id="R1"></a>',
        '### R1 — One frame',
        '',
        'One object per frame; see [Q6](#Q6).',
        '',
        'Enforced in: `src/codec/codec.ts` (`Codec`).',
        '',
        '<a id="Q6"></a>',
        '### Q6 — A question',
        '',
        'What now?',
      ].join('\n'),
    );
    const text = render(rules, [{ file: 'test/a.test.ts', line: 3, title: `[R1, ${UNKNOWN}] x`, ids: ['R1', UNKNOWN] }]);
    expect(text).toContain(
      `| [R1](docs/rules.md#R1) | **One frame.** One object per frame; see [Q6](docs/rules.md#Q6). | \`test/a.test.ts:3\` [R1, ${UNKNOWN}] x |`,
    );
    expect(text).toContain('| [Q6](docs/rules.md#Q6) | **A question.** What now? | — (none yet) |');
    expect(text).toContain(`\`test/a.test.ts:3\` ${UNKNOWN}`);
  });
});

describe('the rule catalogue docs/rules.md', () => {
  it('has one anchored entry for each of R1–R112 and Q1–Q22, in order', () => {
    const expected = [...Array.from({ length: 112 }, (_, i) => `R${i + 1}`), ...Array.from({ length: 22 }, (_, i) => `Q${i + 1}`)];
    expect([...catalogue.keys()]).toEqual(expected);
    for (const [id, entry] of catalogue) {
      expect(entry.anchored, `${id} needs <a id="${id}"></a> right before its heading`).toBe(true);
      expect(entry.title.length, `${id} has a title`).toBeGreaterThan(3);
      expect(entry.text.length, `${id} has a statement`).toBeGreaterThan(20);
    }
  });

  it('says for every entry where it is enforced or why it is not checked; rules give their strength, questions the choice made', () => {
    for (const [id, entry] of catalogue) {
      const enforcement = entry.body.filter((p) => /^(Enforced in|Not checked)/.test(p));
      expect(enforcement, `${id}: an "Enforced in" or "Not checked" paragraph`).toHaveLength(1);
      if (enforcement[0]!.startsWith('Enforced')) expect(enforcement[0], `${id} names the code that enforces it`).toMatch(/`src\/[^`]+`/);
      if (id.startsWith('R'))
        expect(
          entry.body.filter((p) => p.startsWith('Strength:')),
          `${id}: a Strength line`,
        ).toHaveLength(1);
      else
        expect(
          entry.body.filter((p) => p.startsWith("s2-engine's choice:")),
          `${id}: the choice s2-engine made`,
        ).toHaveLength(1);
    }
  });

  it('refuses a catalogue that names an id twice', () => {
    expect(() => readRules('### R1 — a\n\ntext\n\n### R1 — b\n\ntext\n')).toThrow(/R1 has two entries/);
  });

  it('points only to files that exist and to names those files contain', () => {
    const refs = readReferences(catalogueText);
    expect(refs.length).toBeGreaterThan(200);
    const problems: string[] = [];
    for (const ref of refs) {
      const file = path.join(root, ref.path);
      if (!fs.existsSync(file)) {
        problems.push(`docs/rules.md:${ref.line}: ${ref.path} does not exist`);
        continue;
      }
      if (fs.statSync(file).isDirectory()) {
        if (ref.names.length) problems.push(`docs/rules.md:${ref.line}: ${ref.path} is a folder; name a file for ${ref.names.join(', ')}`);
        continue;
      }
      const source = fs.readFileSync(file, 'utf8');
      for (const name of ref.names) {
        if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(name)) {
          problems.push(`docs/rules.md:${ref.line}: (\`${name}\`) after ${ref.path} is not a name in it`);
          continue;
        }
        for (const part of name.split('.')) {
          if (!new RegExp(`(?<![\\w$])${part.replace(/\$/g, '\\$')}(?![\\w$])`).test(source))
            problems.push(`docs/rules.md:${ref.line}: ${ref.path} has no ${part}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('lists the sender of every message type of either version as the registry has it', () => {
    const start = catalogueText.indexOf('<a id="senders"></a>');
    const section = catalogueText.slice(start, catalogueText.indexOf('Enforced in:', start));
    const listed = new Map<string, string>();
    for (const bullet of section.split(/\n- /).slice(1)) {
      const sender = /^(CEM|RM|both):/.exec(bullet)?.[1];
      expect(sender, bullet).toBeDefined();
      for (const m of bullet.matchAll(/`([A-Za-z.]+)`/g)) {
        expect(listed.has(m[1]!), `${m[1]} listed twice`).toBe(false);
        listed.set(m[1]!, sender!);
      }
    }
    expect(Object.fromEntries(listed)).toEqual(Object.fromEntries(MESSAGE_TYPES.map((type) => [type, messageSpec(type)?.sender])));
  });
});

describe('rule ids cited in the repository', () => {
  it('reads single ids and ranges, and not ids inside longer words', () => {
    expect(citedIds('(R54–R57) and R12-R14, Q6; FAQ1 R2D2 R1_x xR3 R46.')).toEqual([
      'R54',
      'R55',
      'R56',
      'R57',
      'R12',
      'R13',
      'R14',
      'Q6',
      'R46',
    ]);
  });

  it('finds citations in source files and reports the ones the catalogue lacks', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conformance-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.ts'), `// R46: statuses\nthrow new Error('bad (${UNKNOWN})');\n`);
      fs.writeFileSync(path.join(dir, 'b.svg'), `<path d="M0 0 ${UNKNOWN}"/>`);
      const citations = readCitations([dir]);
      expect(citations.map((c) => `${path.basename(c.file)}:${c.line} ${c.id}`)).toEqual(['a.ts:1 R46', `a.ts:2 ${UNKNOWN}`]);
      expect(missingIds(catalogue, citations, [])).toEqual([{ id: UNKNOWN, where: `${path.relative(root, path.join(dir, 'a.ts'))}:2` }]);
      expect(missingIds(catalogue, [], [{ file: 'test/x.test.ts', line: 4, title: `[${UNKNOWN}]`, ids: [UNKNOWN] }])).toEqual([
        { id: UNKNOWN, where: 'test/x.test.ts:4' },
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every id cited in src/, test/, bench/, examples/, docs/ and the README, and every test tag, has a catalogue entry', () => {
    const citations = readCitations();
    expect(citations.some((c) => c.file.startsWith('src/'))).toBe(true);
    expect(tagged.length).toBeGreaterThan(100);
    expect(missingIds(catalogue, citations, tagged)).toEqual([]);
  });
});
