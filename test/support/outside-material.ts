/**
 * Material from outside the repository that some suites need (the official s2-ws-json schemas, a
 * Chromium binary). The repository never reads anything beside itself by default: a suite gets
 * such material from an environment variable, and without it
 *
 * - the suite is reported as skipped, with one line on stderr saying what to set;
 * - with `CI` set (CI=true), the suite FAILS with that message instead: CI must run everything.
 *
 * Use: `const m = requireMaterial({ … })` once per test file (cheap, no output), then
 * `describeWith(m, 'title', () => { … })` for the suite; inside it `materialPath(m)` is safe.
 */
import path from 'node:path';
import { describe, it } from 'vitest';

export interface MaterialSpec {
  /** What it is, as the notice names it: `official schemas`, `Chromium`. */
  readonly name: string;
  /** The environment variable that points at it: `S2_SPEC_DIR`, `CHROMIUM`. */
  readonly envVar: string;
  /** What the variable must point to: `a checkout of flexiblepower/s2-ws-json`. */
  readonly expected: string;
  /** The path used when the variable is unset (CHROMIUM: /usr/bin/chromium); none means "unset = missing". */
  readonly fallback?: string;
  /** Why the (absolute) path is not usable, or undefined when it is. */
  readonly check: (absolutePath: string) => string | undefined;
}

export interface Material {
  readonly name: string;
  readonly envVar: string;
  readonly expected: string;
  /** The absolute path, when usable. */
  readonly path: string | undefined;
  /** Why it is not usable (e.g. `S2_SPEC_DIR is not set`), when it is not. */
  readonly problem: string | undefined;
}

/** Whether the run is CI (`CI=true`, as CI services set it; `CI=false` / `CI=0` / empty are not). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

/** Resolves the material from its environment variable (or fallback) and checks it. No output, no throw. */
export function requireMaterial(spec: MaterialSpec, env: NodeJS.ProcessEnv = process.env): Material {
  const base = { name: spec.name, envVar: spec.envVar, expected: spec.expected };
  const raw = env[spec.envVar]?.trim() || spec.fallback;
  if (!raw) return { ...base, path: undefined, problem: `${spec.envVar} is not set` };
  const abs = path.resolve(raw);
  const why = spec.check(abs);
  const source = env[spec.envVar]?.trim() ? `${spec.envVar}=${raw}` : `default ${raw}`;
  return why === undefined ? { ...base, path: abs, problem: undefined } : { ...base, path: undefined, problem: `${source}: ${why}` };
}

/** The one line that says what is missing and what to set. */
export function materialNotice(m: Material): string {
  return `${m.name} — set ${m.envVar} to ${m.expected} (${m.problem ?? 'available'})`;
}

/** The material's path; throws the notice when it is missing (only reached outside `describeWith`, i.e. by mistake). */
export function materialPath(m: Material): string {
  if (m.path === undefined) throw new Error(`missing ${materialNotice(m)}`);
  return m.path;
}

/**
 * `describe(title, factory)` when the material is there. Otherwise the factory is not run (it may
 * read the material while collecting its tests) and the suite is one test under `title`: skipped,
 * after one `skipped: …` line on stderr, or with CI set, failing with the same message.
 */
export function describeWith(m: Material, title: string, factory: () => void): void {
  if (m.path !== undefined) {
    describe(title, factory);
    return;
  }
  const needs = `needs ${m.name}: ${m.envVar}`;
  if (isCi()) {
    describe(title, () => {
      it(needs, () => {
        throw new Error(`missing outside material with CI set: ${materialNotice(m)}`);
      });
    });
    return;
  }
  // Written directly (not console.*): one plain line, once per suite, without vitest's per-file header.
  process.stderr.write(`skipped: ${materialNotice(m)} [suite: ${title}]\n`);
  describe(title, () => {
    it.skip(needs, () => undefined);
  });
}
