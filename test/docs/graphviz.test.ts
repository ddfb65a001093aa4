import { describe, expect, it } from 'vitest';
import { GRAPHVIZ_PACKAGE, loadDotRenderer } from '../../src/docs/graphviz.js';
import { S2Error } from '../../src/typebox/errors.js';

/** The error Node gives for `import('@hpcc-js/wasm-graphviz')` when the package is not installed. */
function notFound(specifier: string): Error {
  return Object.assign(new Error(`Cannot find package '${specifier}' imported from /app/node_modules/s2-engine/dist/docs/graphviz.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

describe('the statechart renderer is an optional peer dependency, loaded on first use', () => {
  it('renders DOT to SVG with the installed package', async () => {
    const render = await loadDotRenderer();
    expect(render('digraph { a -> b }')).toMatch(/^<\?xml[\s\S]*<svg[\s\S]*<\/svg>\s*$/);
  });

  it('without the package: an S2Error MISSING_DEPENDENCY that says what to install', async () => {
    const cause = notFound(GRAPHVIZ_PACKAGE);
    const err = await loadDotRenderer(() => Promise.reject(cause)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S2Error);
    expect(err).toMatchObject({ code: 'MISSING_DEPENDENCY', cause });
    expect((err as S2Error).message).toContain('install @hpcc-js/wasm-graphviz to draw statecharts');
  });

  it('any other failure passes unchanged (a missing dependency of another package, a broken WASM load)', async () => {
    const other = notFound('some-other-package');
    await expect(loadDotRenderer(() => Promise.reject(other))).rejects.toBe(other);
    const broken = new Error('WebAssembly.instantiate(): out of memory');
    const failing = { Graphviz: { load: () => Promise.reject(broken) } };
    await expect(loadDotRenderer(() => Promise.resolve(failing))).rejects.toBe(broken);
  });
});
