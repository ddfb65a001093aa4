#!/usr/bin/env node
// Generates CONFORMANCE.md: for every rule (R…) and open question (Q…) of the rule catalogue
// docs/rules.md, the tests whose titles carry its id in square brackets, e.g.
// it('[R11, R12] exactly one ReceptionStatus …'). Reads repository files only.
// `node scripts/conformance.mjs` writes the file; `--check` exits 1 when the committed file is stale
// or when an id cited in the sources or in a test title has no entry in the catalogue.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The catalogue, relative to the repository root (also the link target in CONFORMANCE.md). */
export const CATALOGUE = 'docs/rules.md';
/** Where rule ids may be cited: everything a user reads or runs, and the tests. */
export const CITING = ['src', 'test', 'bench', 'examples', 'docs', 'README.md'];

/**
 * The entries of the catalogue, in order: id → { title, text, body, anchored, line }. An entry is a
 * heading `### R46 — title`; `text` is its first paragraph (the one-line statement), `body` all of
 * its text up to the next heading, `anchored` whether `<a id="R46"></a>` stands right before it.
 */
export function readRules(text) {
  const rules = new Map();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^### ([RQ]\d+) — (.+)$/.exec(lines[i]);
    if (!m) continue;
    const id = m[1];
    if (rules.has(id)) throw new Error(`${CATALOGUE}:${i + 1}: ${id} has two entries`);
    let j = i + 1;
    const body = [];
    while (j < lines.length && !/^#{1,3} /.test(lines[j]) && !/^<a id="[^"]+"><\/a>$/.test(lines[j])) body.push(lines[j++]);
    const paragraphs = body
      .join('\n')
      .trim()
      .split(/\n\s*\n/)
      .map((p) => p.replace(/\s*\n\s*/g, ' ').trim());
    const previous = lines
      .slice(0, i)
      .reverse()
      .find((l) => l.trim() !== '');
    rules.set(id, {
      title: m[2].trim(),
      text: paragraphs[0] ?? '',
      body: paragraphs,
      anchored: previous === `<a id="${id}"></a>`,
      line: i + 1,
    });
  }
  return rules;
}

const ID = /\b([RQ])(\d{1,3})\b(?:\s*[–-]\s*\1(\d{1,3})\b)?/g;

/** The rule ids a text cites, a range like `R54–R57` counting as every id in it. */
export function citedIds(text) {
  const ids = [];
  for (const m of text.matchAll(ID)) {
    const from = Number(m[2]);
    const to = m[3] === undefined ? from : Number(m[3]);
    for (let n = from; n <= Math.max(from, to); n++) ids.push(`${m[1]}${n}`);
  }
  return ids;
}

function walk(dir, keep) {
  const out = [];
  if (!fs.existsSync(dir)) return out;
  if (fs.statSync(dir).isFile()) return keep(dir) ? [dir] : [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      // docs/api is TypeDoc's output (`npm run docs`, gitignored): generated from src, and its
      // minified search index could spell an id by chance.
      if (entry.name !== 'node_modules' && p !== path.join(root, 'docs', 'api')) out.push(...walk(p, keep));
    } else if (keep(p)) out.push(p);
  }
  return out.sort();
}

const SOURCE = /\.(?:[cm]?ts|[cm]?js|md)$/;

/** Every rule id cited in the given files or folders (source and Markdown files): { file, line, id }. */
export function readCitations(paths = CITING.map((p) => path.join(root, p))) {
  const found = [];
  for (const file of paths.flatMap((p) => walk(p, (f) => SOURCE.test(f) && !f.endsWith('.d.ts')))) {
    fs.readFileSync(file, 'utf8')
      .split('\n')
      .forEach((text, i) => {
        for (const id of citedIds(text)) found.push({ file: path.relative(root, file), line: i + 1, id });
      });
  }
  return found;
}

/**
 * The code the catalogue points to: every backticked repository path, with the backticked names
 * in the parentheses right after it, e.g. `src/rules/pebc.ts` (`boundaryOrder`) ⇒
 * { path: 'src/rules/pebc.ts', names: ['boundaryOrder'], line }.
 */
export function readReferences(text) {
  const refs = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(/`((?:src|test|scripts|bench|docs|examples)\/[^`\s]*)`(?: \(([^)]*)\))?/g)) {
      refs.push({ path: m[1].split('#')[0], names: [...(m[2] ?? '').matchAll(/`([^`]+)`/g)].map((n) => n[1]), line: i + 1 });
    }
  });
  return refs;
}

/** Every test or suite title in the test tree that carries rule ids: { file, line, title, ids }. */
export function readTaggedTests(testDir) {
  const found = [];
  const title =
    /\b(?:it|test|describe)(?:\.(?:each\([^)]*\)|fails|concurrent|sequential))?\(\s*(['"`])((?:\\.|(?!\1).)*?\[(?:[RQ]\d+[^\]]*)\](?:\\.|(?!\1).)*)\1/g;
  for (const file of walk(testDir, (f) => f.endsWith('.test.ts'))) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((text, i) => {
      for (const m of text.matchAll(title)) {
        const ids = new Set();
        for (const tag of m[2].matchAll(/\[([RQ]\d+(?:\s*[,/]\s*[RQ]\d+)*)\]/g)) {
          for (const id of tag[1].split(/\s*[,/]\s*/)) ids.add(id);
        }
        if (ids.size) found.push({ file: path.relative(root, file), line: i + 1, title: m[2], ids: [...ids] });
      }
    });
  }
  return found;
}

/** The ids cited in the sources or tagged in tests that the catalogue lacks: [{ id, where }]. */
export function missingIds(rules, citations, tests) {
  const missing = new Map();
  for (const c of citations) if (!rules.has(c.id) && !missing.has(c.id)) missing.set(c.id, `${c.file}:${c.line}`);
  for (const t of tests) for (const id of t.ids) if (!rules.has(id) && !missing.has(id)) missing.set(id, `${t.file}:${t.line}`);
  return [...missing].map(([id, where]) => ({ id, where }));
}

export function render(rules, tests) {
  const byRule = new Map([...rules.keys()].map((id) => [id, []]));
  const unknown = [];
  for (const t of tests) for (const id of t.ids) (byRule.get(id) ?? unknown).push({ ...t, id });
  const esc = (s) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
  // The catalogue's own links (`[Q14](#Q14)`) must still land there when read from the repository root.
  const linked = (s) => s.replace(/\]\(#/g, `](${CATALOGUE}#`);
  const rows = [];
  const covered = [...byRule.values()].filter((list) => list.length).length;
  rows.push('# Conformance: S2 rules → tests', '');
  rows.push(
    `Generated by \`npm run conformance\` from the rule catalogue [${CATALOGUE}](${CATALOGUE}) and the rule ids in test titles (\`[R11]\`, \`[Q6]\`); do not edit.`,
  );
  rows.push(
    `Each id links to its catalogue entry, which says where s2-engine enforces it. ${covered} of ${rules.size} rules and open questions have at least one test.`,
    '',
  );
  rows.push('| rule | what it says | tests |', '| --- | --- | --- |');
  for (const [id, list] of byRule) {
    const cells = list.length
      ? [...new Map(list.map((t) => [`${t.file}:${t.line}`, t])).values()]
          .map((t) => `\`${t.file}:${t.line}\` ${esc(t.title)}`)
          .join('<br>')
      : '— (none yet)';
    const rule = rules.get(id);
    rows.push(`| [${id}](${CATALOGUE}#${id}) | **${esc(rule.title)}.** ${esc(linked(rule.text))} | ${cells} |`);
  }
  if (unknown.length) {
    rows.push('', `## Tags naming no entry of ${CATALOGUE}`, '');
    for (const t of unknown) rows.push(`- \`${t.file}:${t.line}\` ${t.id}: ${esc(t.title)}`);
  }
  return rows.join('\n') + '\n';
}

export function readCatalogue() {
  return readRules(fs.readFileSync(path.join(root, CATALOGUE), 'utf8'));
}

export function generate() {
  return render(readCatalogue(), readTaggedTests(path.join(root, 'test')));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const out = path.join(root, 'CONFORMANCE.md');
  const text = generate();
  if (process.argv.includes('--check')) {
    let ok = true;
    const current = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
    if (current !== text) {
      console.error('CONFORMANCE.md is out of date: run `npm run conformance`');
      ok = false;
    }
    for (const { id, where } of missingIds(readCatalogue(), readCitations(), readTaggedTests(path.join(root, 'test')))) {
      console.error(`${where}: ${id} has no entry in ${CATALOGUE}`);
      ok = false;
    }
    if (!ok) process.exit(1);
  } else {
    fs.writeFileSync(out, text);
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  }
}
