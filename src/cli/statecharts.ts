import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STATECHARTS } from '../docs/catalogue.js';
import { compareFileSets } from '../docs/compare.js';
import { loadDotRenderer } from '../docs/graphviz.js';
import { generateStatecharts } from '../docs/statecharts.js';
import { badOption, defineCommand, failed, noPositionals, PACKAGE_ROOT } from './common.js';

const USAGE = `Usage: s2 statecharts [--out DIR] [--check]

Draws every statechart of s2-engine (CEM and RM session, the five control-type activations,
instruction, outgoing message) from the machine definitions: per machine a Markdown page with a
Mermaid stateDiagram-v2 and tables of its states and transitions, an SVG rendered offline by
Graphviz (WebAssembly), and index.md. The output is deterministic.

Options:
  --out DIR    folder to write to (or to check), created if needed. Required, except inside a
               checkout of the s2-engine repository that this s2 runs from: there the default is
               that repository's docs/statecharts, from whichever of its folders you run it.
               Elsewhere there is no default, so that nothing is written into another project.
  --check      write nothing: compare DIR with what would be generated; exit 1 when it differs
  -h, --help   print this help

Exit status: 0 written (or up to date), 1 out of date (--check) or not writable, 2 usage error.`;

/**
 * The s2-engine repository this command runs from when the current directory lies inside it,
 * else undefined. A source checkout has the catalogue the charts are drawn from; an installed
 * package (node_modules/s2-engine) has only dist/, so it never counts, and neither does a
 * project that merely depends on s2-engine.
 */
export function enclosingRepository(cwd: string = process.cwd(), root: string = fileURLToPath(PACKAGE_ROOT)): string | undefined {
  if (!existsSync(path.join(root, 'src', 'docs', 'catalogue.ts'))) return undefined;
  let here: string;
  let repo: string;
  try {
    here = realpathSync(cwd);
    repo = realpathSync(root);
  } catch {
    return undefined;
  }
  return here === repo || here.startsWith(repo.endsWith(path.sep) ? repo : repo + path.sep) ? repo : undefined;
}

/** The generated files (.md, .svg) found in `dir`, by name; empty when the folder does not exist. */
async function readGenerated(dir: string): Promise<Record<string, string>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return {};
  }
  const found: Record<string, string> = {};
  for (const name of names.filter((n) => n.endsWith('.md') || n.endsWith('.svg')).sort()) {
    found[name] = await readFile(path.join(dir, name), 'utf8');
  }
  return found;
}

export const statechartsCommand = defineCommand({
  name: 'statecharts',
  summary: 'draw the statecharts (Markdown + Mermaid, SVG) into a folder (--out DIR)',
  usage: USAGE,
  options: { out: { type: 'string' }, check: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    let dir: string;
    let repository: string | undefined;
    try {
      noPositionals(positionals);
      repository = enclosingRepository();
      if (values.out !== undefined) dir = values.out;
      else if (repository !== undefined) dir = path.relative(process.cwd(), path.join(repository, 'docs', 'statecharts')) || '.';
      else
        throw badOption(
          '--out DIR is required outside the s2-engine repository (there is no default folder, so nothing is written into your project by surprise)',
        );
    } catch (err) {
      return failed(io, 'statecharts', err);
    }
    let files: Record<string, string>;
    try {
      files = generateStatecharts(STATECHARTS, await loadDotRenderer());
    } catch (err) {
      return failed(io, 'statecharts', err); // e.g. the optional Graphviz renderer is not installed
    }
    const found = await readGenerated(dir);
    const problems = compareFileSets(files, found);
    if (values.check) {
      if (problems.length === 0) {
        io.stdout.write(`s2 statecharts: ${dir} is up to date (${Object.keys(files).length} files)\n`);
        return 0;
      }
      const fix = repository !== undefined ? 'npm run statecharts' : `s2 statecharts --out ${dir}`;
      io.stderr.write(`s2 statecharts: ${dir} is out of date — run ${fix}\n${problems.map((p) => `  ${p}\n`).join('')}`);
      return 1;
    }
    try {
      await mkdir(dir, { recursive: true });
      for (const [name, text] of Object.entries(files)) {
        if (found[name] !== text) await writeFile(path.join(dir, name), text);
      }
    } catch (err) {
      io.stderr.write(`s2 statecharts: ${(err as Error).message}\n`);
      return 1;
    }
    const changed = Object.keys(files).filter((name) => found[name] !== files[name]).length;
    io.stdout.write(`s2 statecharts: ${Object.keys(files).length} files in ${dir} (${changed} changed)\n`);
    for (const name of Object.keys(found).filter((n) => !(n in files))) {
      io.stderr.write(`s2 statecharts: ${path.join(dir, name)} is not generated any more; remove it\n`);
    }
    return 0;
  },
});
