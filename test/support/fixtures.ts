/**
 * The realistic messages in `test/fixtures/*.json` (made by fixtures-gen.ts, checked for drift by
 * test/fixtures/fixtures.test.ts), for tests. The benches read the same files directly.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `<repo>/test/fixtures/`. */
export const FIXTURE_DIR = new URL('../fixtures/', import.meta.url);

/** Every fixture file, sorted by name: file name (`FRBC.Instruction.json`) and text. */
export function fixtureFiles(): { name: string; text: string }[] {
  return readdirSync(fileURLToPath(FIXTURE_DIR))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((name) => ({ name, text: readFileSync(new URL(name, FIXTURE_DIR), 'utf8') }));
}

/** The text of one fixture, by name without `.json` (`FRBC.SystemDescription.large`). */
export function fixtureText(name: string): string {
  return readFileSync(new URL(`${name}.json`, FIXTURE_DIR), 'utf8');
}
