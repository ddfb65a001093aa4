/** Renders DOT text to SVG text. */
export type DotRenderer = (dot: string) => string;

/**
 * Graphviz compiled to WebAssembly (`@hpcc-js/wasm-graphviz`): the WASM binary ships inside the
 * package, so rendering needs no network, no browser and no system Graphviz, and the same input
 * gives the same SVG on every machine. Loaded lazily: only `s2 statecharts` pays for it.
 */
export async function loadDotRenderer(): Promise<DotRenderer> {
  const { Graphviz } = await import('@hpcc-js/wasm-graphviz');
  const graphviz = await Graphviz.load();
  return (dot) => graphviz.dot(dot, 'svg');
}
