import { S2Error } from '../typebox/errors.js';

/** Renders DOT text to SVG text. */
export type DotRenderer = (dot: string) => string;

/** The renderer's package: an optional peer dependency of s2-engine. */
export const GRAPHVIZ_PACKAGE = '@hpcc-js/wasm-graphviz';

/**
 * What we use of `@hpcc-js/wasm-graphviz`, written out so that no declaration file of ours names
 * the package: a user without it must still type-check with `skipLibCheck: false`.
 */
export interface GraphvizModule {
  readonly Graphviz: { load(): Promise<{ dot(dot: string, format: 'svg'): string }> };
}

/**
 * Graphviz compiled to WebAssembly (`@hpcc-js/wasm-graphviz`): the WASM binary ships inside that
 * package, so rendering needs no network, no browser and no system Graphviz, and the same input
 * gives the same SVG on every machine. It is an optional peer dependency, imported here and only
 * here, on first use: the engine never loads it, and only drawing (`s2 statecharts`, the
 * inspector's charts) needs it installed. `load` is the import, replaceable for tests.
 */
export async function loadDotRenderer(load: () => Promise<GraphvizModule> = () => import('@hpcc-js/wasm-graphviz')): Promise<DotRenderer> {
  let graphvizModule: GraphvizModule;
  try {
    graphvizModule = await load();
  } catch (err) {
    if (isNotInstalled(err)) {
      throw new S2Error(
        'MISSING_DEPENDENCY',
        `install ${GRAPHVIZ_PACKAGE} to draw statecharts (npm install ${GRAPHVIZ_PACKAGE}); it is an optional peer dependency of s2-engine, which the protocol engine does not need`,
        { cause: err },
      );
    }
    throw err;
  }
  const graphviz = await graphvizModule.Graphviz.load();
  return (dot) => graphviz.dot(dot, 'svg');
}

/**
 * Node's answer to importing a package that is not there (`ERR_MODULE_NOT_FOUND`, "Cannot find
 * package '@hpcc-js/wasm-graphviz' imported from …"); any other failure is a real error and is
 * passed on unchanged.
 */
function isNotInstalled(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as Error & { code?: unknown }).code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && err.message.includes(GRAPHVIZ_PACKAGE);
}
