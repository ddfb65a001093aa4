import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { STATECHARTS } from '../docs/catalogue.js';
import { compareFileSets } from '../docs/compare.js';
import { loadDotRenderer } from '../docs/graphviz.js';
import { generateStatecharts } from '../docs/statecharts.js';
import { EXIT_USAGE, type CliIO, type Command } from './run.js';
import { parseFlags } from './common.js';

const USAGE = `Usage: s2 statecharts [--out DIR] [--check]

Draws every statechart of s2-engine (CEM and RM session, the five control-type activations,
instruction, outgoing message) from the machine definitions: per machine a Markdown page with a
Mermaid stateDiagram-v2 and tables of its states and transitions, an SVG rendered offline by
Graphviz (WebAssembly), and index.md. The output is deterministic.

Options:
  --out DIR    folder to write to, created if needed (default docs/statecharts)
  --check      write nothing: compare DIR with what would be generated; exit 1 when it differs
  -h, --help   print this help

Exit status: 0 written (or up to date), 1 out of date (--check) or not writable, 2 usage error.`;

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

export const statechartsCommand: Command = {
  summary: 'draw the statecharts (Markdown + Mermaid, SVG) into docs/statecharts',
  usage: USAGE,
  async run(args: string[], io: CliIO): Promise<number> {
    const parsed = parseFlags(args, { out: { type: 'string' }, check: { type: 'boolean' } }, USAGE, io);
    if (!parsed) return EXIT_USAGE;
    if (parsed.positionals.length > 0) {
      io.stderr.write(`s2 statecharts: unexpected argument '${parsed.positionals[0]}'\n\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    const dir = parsed.values.out ?? path.join('docs', 'statecharts');
    const files = generateStatecharts(STATECHARTS, await loadDotRenderer());
    const found = await readGenerated(dir);
    const problems = compareFileSets(files, found);
    if (parsed.values.check) {
      if (problems.length === 0) {
        io.stdout.write(`s2 statecharts: ${dir} is up to date (${Object.keys(files).length} files)\n`);
        return 0;
      }
      io.stderr.write(`s2 statecharts: ${dir} is out of date — run npm run statecharts\n${problems.map((p) => `  ${p}\n`).join('')}`);
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
};
