#!/usr/bin/env node
// The consumer check: what a stranger gets from `npm install s2-engine`. Packs the tarball from the
// built dist/ (run `npm run build` first; `npm test` does), installs it into a throwaway project in
// the OS temp folder together with TypeScript and @types/node (the versions this repository uses),
// then, as that project:
//   - type-checks the examples shipped in the tarball and a file that imports every entry point
//     under moduleResolution nodenext and bundler, both strict with exactOptionalPropertyTypes,
//     noUncheckedIndexedAccess and skipLibCheck false, and checks that xstate's declarations were
//     never loaded (they do not compile so: statelyai/xstate#4613);
//   - type-checks the entry points whose types are XState's (XSTATE_TYPED) as strictly under
//     nodenext, where the only errors allowed are inside xstate's own declarations (what
//     `skipLibCheck: true` hides), and checks that each of them does load those;
//   - compiles and runs a CommonJS TypeScript file that imports s2-engine (require(esm));
//   - require()s every entry point from a .cjs file, and checks it is the very module import() gives;
//   - runs the codec example with node;
//   - checks that the optional renderer (@hpcc-js/wasm-graphviz) is not installed, that nothing
//     loads it on import, and that drawing says what to install.
// Exits 1 on any error, with the output of the step that failed. `--keep` leaves the project there.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const ownPkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const versionOf = (name) => JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
const OPTIONAL_RENDERER = '@hpcc-js/wasm-graphviz';
/**
 * Entry points whose types are XState's: a project importing them needs `skipLibCheck: true`, as
 * their module TSDoc and the README say, because xstate's declarations do not compile with
 * skipLibCheck false under exactOptionalPropertyTypes (statelyai/xstate#4613). Every other entry
 * point must not load them.
 */
const XSTATE_TYPED = ['./machines', './testing'];
const specifierOf = (key) => (key === '.' ? 's2-engine' : `s2-engine/${key.slice(2)}`);
const t0 = performance.now();

class CheckFailed extends Error {}

/** Runs a command; resolves with its output, or throws CheckFailed with everything it printed. */
function sh(what, file, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, ...options }, (err, stdout, stderr) => {
      if (err && !options.allowFailure) reject(new CheckFailed(`${what} failed (${err.code ?? err.signal}):\n${stdout}${stderr}`));
      else resolve({ stdout, stderr, code: err ? err.code : 0 });
    });
  });
}

/** Runs a step, prints it with its duration. */
async function step(title, f) {
  const start = performance.now();
  const note = await f();
  console.log(`  ✓ ${title}${note ? ` — ${note}` : ''} (${((performance.now() - start) / 1000).toFixed(1)} s)`);
}

function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = (dir) => path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
const kB = (n) => `${(n / 1000).toFixed(1)} kB`;

function duBytes(dir) {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += duBytes(p);
    else if (entry.isFile()) total += fs.statSync(p).size;
  }
  return total;
}

const STRICT = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
  target: 'ES2022',
  lib: ['ES2023'],
  types: ['node'],
};

/** CommonJS TypeScript: compiled to require() calls, run on a Node that can require() ESM. */
const CJS_MAIN = `import { decode, S2Error } from 's2-engine';
import { createFRBCCodec, type FRBCRmHandler } from 's2-engine/frbc';
import { createDevice } from 's2-engine/sim';

const battery = createDevice('FRBC');
const handler: FRBCRmHandler = battery.handler;
const r = decode('{"message_type":"FRBC.StorageStatus","message_id":"m-1","present_fill_level":1}');
const frbc = createFRBCCodec().decode('not json');
battery.stop();
if (!r.ok || frbc.ok || typeof handler.activate !== 'function' || !(new S2Error('INVALID_OPTIONS', 'x') instanceof Error)) process.exit(1);
console.log('cjs ok', typeof module, battery.details.available_control_types.join(','));
`;

/** Every entry point through require(), and the same module objects as import() (no dual package). */
const REQUIRE_CHECK = `'use strict';
const { exports: map } = require('s2-engine/package.json');
(async () => {
  for (const key of Object.keys(map)) {
    if (key === './package.json') continue;
    const spec = key === '.' ? 's2-engine' : 's2-engine/' + key.slice(2);
    const required = require(spec);
    const imported = await import(spec);
    const names = Object.keys(required);
    if (names.length === 0) throw new Error(spec + ': require() gave an empty module');
    for (const name of names) if (required[name] !== imported[name]) throw new Error(spec + ': ' + name + ' differs between require() and import()');
    console.log(spec + ': ' + names.length + ' exports');
  }
  const { createRmClient, decode } = require('s2-engine');
  if (typeof createRmClient !== 'function' || typeof decode !== 'function') throw new Error('s2-engine: missing functions');
})().catch((err) => { console.error(err); process.exit(1); });
`;

async function main() {
  console.log(`check-package: the packed s2-engine as a consumer installs it (node ${process.version})`);
  check(fs.existsSync(path.join(root, 'dist', 'index.js')), 'dist/ is missing: run `npm run build` first (npm test does)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2-consumer-'));
  try {
    let tarball;
    await step('npm pack', async () => {
      // The build already ran (npm test builds first): no lifecycle scripts, no second build.
      const { stdout } = await sh('npm pack', npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root });
      const [info] = JSON.parse(stdout);
      tarball = path.join(dir, info.filename);
      const files = info.files.map((f) => f.path);
      for (const needed of [
        'LICENSE',
        'README.md',
        'package.json',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/sim.js',
        'examples/README.md',
        'examples/frbc-battery-rm.ts',
        'examples/cem.ts',
        'examples/codec.ts',
      ]) {
        check(files.includes(needed), `the tarball lacks ${needed}`);
      }
      const maps = files.filter((f) => f.endsWith('.map'));
      check(maps.length === 0, `the tarball ships source maps whose sources are not shipped: ${maps.slice(0, 5).join(', ')}`);
      const outside = files.filter((f) => !/^(dist\/|examples\/|LICENSE$|README\.md$|CHANGELOG\.md$|package\.json$)/.test(f));
      check(outside.length === 0, `the tarball ships unexpected files: ${outside.join(', ')}`);
      return `${info.filename}: ${kB(info.size)} packed, ${kB(info.unpackedSize)} unpacked, ${info.entryCount} files`;
    });

    const project = path.join(dir, 'consumer');
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 's2-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2),
    );
    await step('npm install the tarball, typescript, @types/node', async () => {
      const deps = [tarball, `typescript@${versionOf('typescript')}`, `@types/node@${versionOf('@types/node')}`];
      await sh('npm install', npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', ...deps], {
        cwd: project,
      });
      return deps.map((d) => path.basename(d)).join(', ');
    });
    const installed = path.join(project, 'node_modules', 's2-engine');

    await step(`the optional renderer is not installed, nothing loads it`, async () => {
      check(
        !fs.existsSync(path.join(project, 'node_modules', ...OPTIONAL_RENDERER.split('/'))),
        `${OPTIONAL_RENDERER} was installed although it is an optional peer`,
      );
      const mapsLeft = [];
      const walk = (d) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p);
          else if (e.name.endsWith('.js') && fs.readFileSync(p, 'utf8').includes('//# sourceMappingURL='))
            mapsLeft.push(path.relative(installed, p));
        }
      };
      walk(path.join(installed, 'dist'));
      check(mapsLeft.length === 0, `shipped files point at source maps that are not shipped: ${mapsLeft.slice(0, 5).join(', ')}`);
      const entries = Object.keys(ownPkg.exports)
        .filter((k) => k !== './package.json')
        .map(specifierOf);
      await sh(
        'import every entry point',
        process.execPath,
        ['--input-type=module', '-e', `for (const s of ${JSON.stringify(entries)}) await import(s);`],
        { cwd: project },
      );
      return `node_modules ${(duBytes(path.join(project, 'node_modules')) / 1e6).toFixed(1)} MB with typescript and @types/node; all ${entries.length} entry points imported`;
    });

    await step('drawing without the renderer says what to install', async () => {
      const out = path.join(dir, 'charts');
      const r = await sh(
        's2 statecharts',
        process.execPath,
        [path.join(installed, 'dist', 'cli', 'main.js'), 'statecharts', '--out', out],
        { cwd: project, allowFailure: true },
      );
      check(r.code !== 0, `s2 statecharts succeeded without ${OPTIONAL_RENDERER}:\n${r.stdout}${r.stderr}`);
      check(
        r.stderr.includes(`install ${OPTIONAL_RENDERER} to draw statecharts`),
        `s2 statecharts failed without saying what to install:\n${r.stdout}${r.stderr}`,
      );
      return `exit ${r.code}`;
    });

    // The examples as shipped in the tarball, plus a CommonJS TypeScript file.
    fs.cpSync(path.join(installed, 'examples'), path.join(project, 'examples'), { recursive: true });
    fs.mkdirSync(path.join(project, 'cjs'));
    fs.writeFileSync(path.join(project, 'cjs', 'package.json'), JSON.stringify({ type: 'commonjs' }));
    fs.writeFileSync(path.join(project, 'cjs', 'main.ts'), CJS_MAIN);
    fs.writeFileSync(path.join(project, 'require-check.cjs'), REQUIRE_CHECK);
    // Every entry point's declarations, whether or not an example imports it: `import * as` loads
    // them all, and skipLibCheck false checks every declaration file loaded.
    const keys = Object.keys(ownPkg.exports).filter((k) => k !== './package.json');
    const importAll = (list) =>
      list.map((k, i) => `import * as entry${i} from '${specifierOf(k)}';\n`).join('') +
      `export const entries = [${list.map((_, i) => `entry${i}`).join(', ')}];\n`;
    fs.mkdirSync(path.join(project, 'entries'));
    fs.writeFileSync(path.join(project, 'entries', 'all.ts'), importAll(keys.filter((k) => !XSTATE_TYPED.includes(k))));
    fs.mkdirSync(path.join(project, 'xstate-typed'));
    fs.writeFileSync(path.join(project, 'xstate-typed', 'all.ts'), importAll(XSTATE_TYPED));
    const tsconfigs = {
      nodenext: { ...STRICT, module: 'nodenext', moduleResolution: 'nodenext', rootDir: '.', outDir: 'out' },
      bundler: { ...STRICT, module: 'esnext', moduleResolution: 'bundler', noEmit: true },
    };
    for (const [mode, compilerOptions] of Object.entries(tsconfigs)) {
      const include = mode === 'nodenext' ? ['examples', 'cjs', 'entries'] : ['examples', 'entries'];
      fs.writeFileSync(path.join(project, `tsconfig.${mode}.json`), JSON.stringify({ compilerOptions, include }, null, 2));
    }
    fs.writeFileSync(
      path.join(project, 'tsconfig.xstate.json'),
      JSON.stringify({ compilerOptions: { ...tsconfigs.nodenext, noEmit: true }, include: ['xstate-typed'] }, null, 2),
    );
    const runTsc = async (config) => {
      const start = performance.now();
      const r = await sh(`tsc -p ${config}`, process.execPath, [tsc(project), '-p', config, '--pretty', 'false', '--listFiles'], {
        cwd: project,
        allowFailure: true,
      });
      // --listFiles prints every file of the program after the diagnostics, one absolute path a line.
      const lines = r.stdout.split('\n');
      const files = lines.filter((l) => path.isAbsolute(l.trim()));
      const errors = lines.filter((l) => l.trim() && !path.isAbsolute(l.trim())).join('\n');
      return { config, code: r.code, errors: errors + r.stderr, files, s: ((performance.now() - start) / 1000).toFixed(1) };
    };
    const inXstate = (file) => /(^|[\\/])node_modules[\\/]xstate[\\/]/.test(file);
    /**
     * Which entry points of `keys` reach xstate's declarations, and through which of s2-engine's
     * files: the import graph as tsc explains it (`--explainFiles`, without type-checking).
     */
    const xstateReach = async (config, keys) => {
      const r = await sh(
        `tsc -p ${config} --explainFiles`,
        process.execPath,
        [tsc(project), '-p', config, '--listFilesOnly', '--explainFiles'],
        { cwd: project },
      );
      const imports = new Map();
      const entryFiles = new Map();
      let file;
      for (const line of r.stdout.split('\n')) {
        if (!/^\s/.test(line)) file = line.trim();
        const m = /^\s+Imported via (['"])(.+?)\1 from file '([^']+)'/.exec(line);
        if (!m || file === undefined) continue;
        const [, , specifier, from] = m;
        if (!imports.has(from)) imports.set(from, new Set());
        imports.get(from).add(file);
        if (!from.includes('node_modules')) entryFiles.set(specifier, file);
      }
      const via = new Set();
      const reaching = keys.filter((key) => {
        const seen = new Set([entryFiles.get(specifierOf(key))]);
        let found = false;
        for (const f of seen) {
          for (const g of imports.get(f) ?? []) {
            if (inXstate(g) && !inXstate(f)) ((found = true), via.add(f));
            else if (!inXstate(g)) seen.add(g);
          }
        }
        return found;
      });
      return { reaching, via: [...via] };
    };
    // Three compilations on two cores: start them all, then report each.
    const strictRuns = Promise.all(['tsconfig.nodenext.json', 'tsconfig.bundler.json'].map(runTsc));
    const xstateRun = runTsc('tsconfig.xstate.json');
    const freeKeys = keys.filter((k) => !XSTATE_TYPED.includes(k));
    await step(
      'tsc: the examples and every entry point under nodenext (+ a CommonJS file) and bundler, strict, skipLibCheck false',
      async () => {
        const results = await strictRuns;
        for (const r of results) {
          if (!r.files.some(inXstate)) continue;
          const { reaching, via } = await xstateReach(r.config, freeKeys);
          throw new CheckFailed(
            `tsc -p ${r.config} loaded xstate's declarations, which only the entry points ${XSTATE_TYPED.join(', ')} may do (statelyai/xstate#4613).\n` +
              `Entry points that load them: ${reaching.join(', ')}; through: ${via.join(', ')}\n${r.errors}`,
          );
        }
        const failed = results.filter((r) => r.code !== 0);
        if (failed.length) throw new CheckFailed(failed.map((r) => `tsc -p ${r.config} found errors:\n${r.errors}`).join('\n'));
        return `${freeKeys.length} entry points, no xstate declarations loaded; ${results.map((r) => `${r.config.split('.')[1]} ${r.s} s`).join(', ')}`;
      },
    );

    await step(
      `tsc: ${XSTATE_TYPED.join(', ')} the same way (nodenext): no errors but inside xstate's declarations, which skipLibCheck true hides`,
      async () => {
        const r = await xstateRun;
        // An error starts a line with its file; its indented continuation lines belong to it.
        const own = [];
        let upstream = 0;
        let ours = false;
        for (const line of r.errors.split('\n')) {
          if (!line.trim()) continue;
          if (!/^\s/.test(line)) {
            ours = !inXstate(line.split('(')[0] ?? '');
            if (!ours && /error TS\d+/.test(line)) upstream++;
          }
          if (ours) own.push(line);
        }
        if (own.length) throw new CheckFailed(`tsc -p ${r.config} found errors outside xstate's declarations:\n${own.join('\n')}`);
        const { reaching } = await xstateReach(r.config, XSTATE_TYPED);
        const stale = XSTATE_TYPED.filter((k) => !reaching.includes(k));
        check(
          stale.length === 0,
          `entry points that no longer load xstate's declarations: ${stale.join(', ')}; take them out of XSTATE_TYPED and drop their skipLibCheck notes`,
        );
        return `${upstream} errors inside xstate's declarations, none elsewhere; tsc ${r.s} s, alongside the step above`;
      },
    );

    await step('CommonJS TypeScript runs (require of the ESM package)', async () => {
      // The emitted file is CommonJS: it needs the same package scope as its source.
      fs.copyFileSync(path.join(project, 'cjs', 'package.json'), path.join(project, 'out', 'cjs', 'package.json'));
      const { stdout } = await sh('node out/cjs/main.js', process.execPath, [path.join(project, 'out', 'cjs', 'main.js')], {
        cwd: project,
      });
      check(stdout.startsWith('cjs ok object FILL_RATE_BASED_CONTROL'), `unexpected output: ${stdout}`);
      return stdout.trim();
    });

    await step('require() of every entry point from a .cjs file', async () => {
      const { stdout } = await sh('node require-check.cjs', process.execPath, ['require-check.cjs'], { cwd: project });
      return `${stdout.trim().split('\n').length} entry points, same objects as import()`;
    });

    await step('without require(esm) Node says the package is ESM and how to import it', async () => {
      if (!process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module'))
        return 'skipped: this Node has no --no-experimental-require-module';
      const r = await sh(
        'require without require(esm)',
        process.execPath,
        ['--no-experimental-require-module', '-e', "require('s2-engine')"],
        { cwd: project, allowFailure: true },
      );
      check(
        r.code !== 0 && r.stderr.includes('ERR_REQUIRE_ESM') && r.stderr.includes('dynamic import()'),
        `unexpected answer:\n${r.stderr}`,
      );
      return 'ERR_REQUIRE_ESM: "… change the require … to a dynamic import()"';
    });

    await step('node out/examples/codec.js', async () => {
      const { stdout } = await sh('the codec example', process.execPath, [path.join(project, 'out', 'examples', 'codec.js')], {
        cwd: project,
      });
      for (const expected of ['INVALID_DATA', 'INVALID_MESSAGE', '[R107]', 'threw S2Error INVALID_OUTGOING_MESSAGE'])
        check(stdout.includes(expected), `the codec example did not print ${expected}:\n${stdout}`);
      return `${stdout.split('\n').length} lines`;
    });
  } finally {
    if (keep) console.log(`  (kept ${dir})`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`check-package: passed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  console.error(
    `\ncheck-package: FAILED after ${((performance.now() - t0) / 1000).toFixed(1)} s\n${err instanceof CheckFailed ? err.message : err.stack}`,
  );
  process.exit(1);
});
