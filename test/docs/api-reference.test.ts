/**
 * The API reference (`npm run docs`, TypeDoc) covers what a user can import, and stays warning-free.
 * TypeDoc itself fails on any warning (`treatWarningsAsErrors`) and `npm test` runs it; what it
 * cannot notice is an entry point it was never told about. So: every subpath of package.json
 * `exports` is an entry point of typedoc.json (and nothing else is), and each entry file names its
 * module by the import path a user writes, so the reference reads `s2-engine/frbc`, not `frbc`.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(new URL(file, root), 'utf8'));

interface PackageJson {
  readonly name: string;
  readonly exports: Readonly<Record<string, string | Readonly<Record<string, string>>>>;
  readonly scripts: Readonly<Record<string, string>>;
}
interface TypedocJson {
  readonly entryPoints: readonly string[];
  readonly out: string;
  readonly treatWarningsAsErrors?: boolean;
}

const pkg = readJson('package.json') as PackageJson;
const typedoc = readJson('typedoc.json') as TypedocJson;

/** `./dist/frbc.d.ts` → `src/frbc.ts`: the source of a published declaration file (tsconfig.build.json: rootDir src, outDir dist). */
function sourceOf(types: string): string {
  const m = /^\.\/dist\/(.+)\.d\.ts$/.exec(types);
  if (!m) throw new Error(`exports: ${types} is not a declaration file under ./dist/`);
  return `src/${m[1]}.ts`;
}

/** Import path → source file, for every code entry point of package.json `exports`. */
const entries = new Map(
  Object.entries(pkg.exports)
    .filter(([subpath]) => subpath !== './package.json')
    .map(([subpath, target]) => {
      const types = typeof target === 'string' ? undefined : target.types;
      if (types === undefined) throw new Error(`exports['${subpath}'] has no "types" condition`);
      return [subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, sourceOf(types)] as const;
    }),
);

describe('API reference (typedoc.json)', () => {
  it('documents exactly the entry points package.json exports', () => {
    expect(entries.size).toBeGreaterThan(1);
    expect([...typedoc.entryPoints].sort(), 'add the new entry point to "entryPoints" in typedoc.json (or remove a stale one)').toEqual(
      [...entries.values()].sort(),
    );
  });

  for (const [importPath, source] of entries) {
    it(`${source} names its module '${importPath}' (@module)`, () => {
      const text = fs.readFileSync(new URL(source, root), 'utf8');
      // The first comment of the file is its module comment; TypeDoc takes the name from its @module tag.
      const first = /^\/\*\*([\s\S]*?)\*\//.exec(text);
      expect(first, `${source} must start with a /** … */ comment that describes the module`).not.toBeNull();
      expect(first![1]).toMatch(new RegExp(`@module ${importPath.replace(/[/.]/g, '\\$&')}\\s*$`));
    });
  }

  it('fails on any warning, and npm test runs it', () => {
    expect(typedoc.treatWarningsAsErrors).toBe(true);
    expect(pkg.scripts.docs).toBe('typedoc');
    expect(pkg.scripts.test).toContain('npm run docs');
  });

  it('writes into a folder git ignores', () => {
    const ignored = fs
      .readFileSync(new URL('.gitignore', root), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    const out = typedoc.out.replace(/^\.\//, '').replace(/\/?$/, '/');
    expect(out).not.toBe('/');
    expect(ignored).toContain(out);
  });
});
