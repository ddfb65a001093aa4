import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A copy of the built package as npm would install it: `dist/` and a package.json of its own
 * (here with a version of the test's choosing), and no sources. The dependencies are the
 * repository's node_modules, linked. Remove it with `remove()`.
 */
export function installedCopy(version: string): { readonly dir: string; readonly main: string; readonly remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 's2-installed-'));
  cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  writeFileSync(
    path.join(dir, 'package.json'),
    `${JSON.stringify({ name: 's2-engine', version, type: 'module', bin: { s2: 'dist/cli/main.js' } }, null, 2)}\n`,
  );
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return { dir, main: path.join(dir, 'dist', 'cli', 'main.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
