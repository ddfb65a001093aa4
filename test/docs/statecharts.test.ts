import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { JSDOM } from 'jsdom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assign, createMachine, not, setup } from 'xstate';
import { runCli } from '../../src/cli/run.js';
import { readChart } from '../../src/docs/chart-model.js';
import { STATECHARTS } from '../../src/docs/catalogue.js';
import { compareFileSets } from '../../src/docs/compare.js';
import { toDot } from '../../src/docs/dot.js';
import { actionList, transitionLabel } from '../../src/docs/labels.js';
import { toMermaid } from '../../src/docs/mermaid.js';
import { generateStatecharts } from '../../src/docs/statecharts.js';

const COMMITTED = fileURLToPath(new URL('../../docs/statecharts/', import.meta.url));

/** The .md and .svg files of a folder, by name. */
function readFolder(dir: string): Record<string, string> {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    // a missing folder reads as empty: every file is then reported missing
  }
  return Object.fromEntries(
    names
      .filter((n) => /\.(md|svg)$/.test(n))
      .sort()
      .map((n) => [n, readFileSync(path.join(dir, n), 'utf8')]),
  );
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runCli(args, { stdout, stderr, stdin: new PassThrough() });
  return { code, stdout: out, stderr: err };
}

function mermaidBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
}

/**
 * Mermaid's own parser. `@mermaid-js/parser` has no state diagrams, so this is `mermaid.parse()`
 * of the mermaid package itself; it sanitises labels with DOMPurify, which needs a `window`: a
 * jsdom window is installed before mermaid (and so DOMPurify) is first loaded. No browser.
 */
type MermaidParse = (text: string) => Promise<{ diagramType: string } | false>;
let parseMermaid: MermaidParse;
let generatedDir: string;
let generated: Record<string, string>;
const dom = new JSDOM('');

beforeAll(async () => {
  (globalThis as { window?: unknown }).window = dom.window;
  const mermaid = (await import('mermaid')).default;
  parseMermaid = (text) => mermaid.parse(text);
  generatedDir = mkdtempSync(path.join(tmpdir(), 's2-statecharts-'));
  const result = await cli(['statecharts', '--out', generatedDir]);
  expect(result.code, result.stderr).toBe(0);
  generated = readFolder(generatedDir);
}, 60_000);

afterAll(() => {
  if (generatedDir) rmSync(generatedDir, { recursive: true, force: true });
  dom.window.close();
});

describe('docs/statecharts', () => {
  it('is what the machines generate now (else: run npm run statecharts)', () => {
    const problems = compareFileSets(generated, readFolder(COMMITTED));
    const message = `docs/statecharts/ is out of date — run npm run statecharts\n${problems.map((p) => `  ${p}`).join('\n')}`;
    expect(problems, message).toEqual([]);
  });

  it('has a page and an SVG per machine, and an index linking them all', () => {
    const names = STATECHARTS.map((e) => e.name);
    expect(Object.keys(generated).sort()).toEqual(['index.md', ...names.flatMap((n) => [`${n}.md`, `${n}.svg`])].sort());
    for (const name of names) {
      expect(generated['index.md']).toContain(`(${name}.md)`);
      expect(generated['index.md']).toContain(`(${name}.svg)`);
    }
  });

  it('is deterministic: no timestamps, no absolute paths, same text twice', () => {
    const render = (dot: string) => `<svg>${dot.length}</svg>`;
    expect(generateStatecharts(STATECHARTS, render)).toEqual(generateStatecharts(STATECHARTS, render));
    for (const [name, text] of Object.entries(generated)) {
      expect(text, name).not.toContain(generatedDir);
      expect(text, name).not.toContain(process.cwd());
      expect(text, name).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    }
  });

  it("every Mermaid block passes Mermaid's own parser as a state diagram", async () => {
    let blocks = 0;
    for (const [name, text] of Object.entries(generated).filter(([n]) => n.endsWith('.md') && n !== 'index.md')) {
      const found = mermaidBlocks(text);
      expect(found.length, name).toBe(1);
      for (const block of found) {
        blocks += 1;
        expect(block.startsWith('stateDiagram-v2\n'), name).toBe(true);
        await expect(parseMermaid(block), name).resolves.toMatchObject({ diagramType: 'stateDiagram' });
      }
    }
    expect(blocks).toBe(STATECHARTS.length);
  });

  it('the Mermaid check does reject a broken diagram', async () => {
    await expect(parseMermaid('stateDiagram-v2\n  a --> --> b\n')).rejects.toThrow(/Parse error/);
  });

  it('every SVG is well-formed XML with one node per state', () => {
    const parser = new dom.window.DOMParser();
    for (const entry of STATECHARTS) {
      const svg = generated[`${entry.name}.svg`] ?? '';
      const doc = parser.parseFromString(svg, 'image/svg+xml');
      expect(doc.getElementsByTagName('parsererror').length, `${entry.name}.svg: ${doc.documentElement.textContent?.slice(0, 200)}`).toBe(
        0,
      );
      expect(doc.documentElement.nodeName).toBe('svg');
      const chart = readChart(entry.machine);
      const expected = [...chart.states.keys()]
        .filter((id) => id !== chart.root.id)
        .map((id) => `state:${id}`)
        .sort();
      const drawn = [...doc.querySelectorAll('g[id^="state:"]')].map((g) => g.id).sort();
      expect(drawn, `${entry.name}.svg`).toEqual(expected);
    }
  });
});

describe('s2 statecharts', () => {
  it('--check reports a stale folder, the file and its first differing line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 's2-statecharts-stale-'));
    try {
      for (const [name, text] of Object.entries(generated)) writeFileSync(path.join(dir, name), text);
      expect((await cli(['statecharts', '--out', dir, '--check'])).code).toBe(0);
      writeFileSync(path.join(dir, 'instruction.md'), generated['instruction.md']!.replace('# Instruction', '# Instructions'));
      writeFileSync(path.join(dir, 'old.md'), 'gone\n');
      rmSync(path.join(dir, 'instruction.svg'));
      const result = await cli(['statecharts', '--out', dir, '--check']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('run npm run statecharts');
      expect(result.stderr).toMatch(/instruction\.md: line 3 differs: expected "# Instruction — `instruction`", found "# Instructions/);
      expect(result.stderr).toContain('old.md: not generated any more');
      expect(result.stderr).toContain('instruction.svg: missing');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects unknown flags and arguments with the usage text', async () => {
    expect((await cli(['statecharts', '--nope'])).code).toBe(2);
    expect((await cli(['statecharts', 'extra'])).code).toBe(2);
    expect((await cli(['statecharts', '--help'])).stdout).toContain('--out DIR');
  });
});

describe('the walk of a machine', () => {
  // Everything the five real machines do not use yet: parallel regions, history, numeric delays,
  // eventless transitions, invoke with onDone, guards built with not(), inline actions.
  const child = createMachine({ id: 'child', initial: 'a', states: { a: { type: 'final' } } });
  const machine = setup({
    actors: { child },
    guards: { ready: () => true, big: (_, n: number) => n > 1 },
    actions: { log: () => {}, mark: () => {} },
    delays: { grace: 10 },
  }).createMachine({
    id: 'demo',
    initial: 'idle',
    on: { 'x.*': { actions: 'log' }, stop: '.done' },
    states: {
      idle: {
        on: {
          go: [
            { guard: not('ready'), target: 'idle' },
            { guard: { type: 'big', params: 2 }, target: 'work' },
            { target: 'work', actions: ['log', 'mark', assign({})] },
          ],
        },
        after: { 500: 'idle', grace: { target: 'work', actions: 'mark' } },
      },
      work: {
        type: 'parallel',
        states: {
          left: { initial: 'one', states: { one: { on: { next: 'two' } }, two: {}, hist: { type: 'history', history: 'deep' } } },
          right: {
            initial: 'on',
            states: { on: { invoke: { id: 'kid', src: 'child', onDone: 'off' } }, off: { always: { target: '#demo.done' } } },
          },
        },
        on: { back: '.left.one' },
      },
      done: { type: 'final', entry: 'log' },
    },
  });
  const chart = readChart(machine);

  it('reads states, kinds, delays by name, wildcards, guards and candidate order', () => {
    expect([...chart.states.keys()]).toEqual([
      'demo',
      'demo.idle',
      'demo.work',
      'demo.work.left',
      'demo.work.left.one',
      'demo.work.left.two',
      'demo.work.left.hist',
      'demo.work.right',
      'demo.work.right.on',
      'demo.work.right.off',
      'demo.done',
    ]);
    expect(chart.states.get('demo.work')?.kind).toBe('parallel');
    expect(chart.states.get('demo.work.left.hist')).toMatchObject({ kind: 'history', history: 'deep' });
    expect(chart.states.get('demo.done')).toMatchObject({ kind: 'final', entry: [{ name: 'log' }] });
    const idle = chart.states.get('demo.idle')!;
    expect(idle.entry).toEqual([]); // the raise that starts a delay is not shown as an action
    expect(idle.transitions.map((t) => [t.event, t.guard, t.candidate?.index, t.targets])).toEqual([
      ['go', 'not(ready)', 1, ['demo.idle']],
      ['go', 'big(2)', 2, ['demo.work']],
      ['go', undefined, 3, ['demo.work']],
      ['after 500 ms', undefined, undefined, ['demo.idle']],
      ['after grace', undefined, undefined, ['demo.work']],
    ]);
    expect(chart.root.transitions.map((t) => t.event)).toEqual(['x.*', 'stop']);
    const on = chart.states.get('demo.work.right.on')!;
    expect(on.invoke).toEqual([{ id: 'kid', src: 'child' }]);
    expect(on.transitions.map((t) => t.event)).toEqual(['done(kid)']);
    expect(chart.states.get('demo.work.right.off')!.transitions.map((t) => t.event)).toEqual(['always']);
  });

  it('labels name the guard order and abbreviate long action lists deterministically', () => {
    const go = chart.states.get('demo.idle')!.transitions[2]!;
    expect(transitionLabel(go)).toBe('go [3: else] / log, mark, assign');
    expect(transitionLabel(go, 24)).toBe('go [3: else] / log, +2 more');
    const names = ['first', 'second', 'third', 'fourth'].map((name) => ({ name, params: undefined, simpleParams: false }));
    expect(actionList(names, 'event', 34)).toBe('first, second, +2 more');
    expect(actionList(names, 'event', 10)).toBe('first, +3 more');
  });

  it('draws it in Mermaid that Mermaid parses, and in DOT with one group per state', async () => {
    const text = toMermaid(chart);
    expect(text).toContain('state "work" as work {');
    expect(text).toMatch(/\n {4}--\n/); // the two parallel regions
    expect(text).toContain('done --> [*]');
    expect(text).toContain('any_state : x.* / log');
    expect(text).toContain('any_state --> done : stop');
    await expect(parseMermaid(text)).resolves.toMatchObject({ diagramType: 'stateDiagram' });
    const dot = toDot(chart);
    for (const id of chart.states.keys()) if (id !== 'demo') expect(dot).toContain(`id="state:${id}"`);
  });
});
