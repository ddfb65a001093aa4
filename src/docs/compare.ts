/**
 * What differs between the files a generator produces and the files found on disk, as one
 * message per file: missing, stale (found but not generated), or the first line that differs.
 * Pure; used by `s2 statecharts --check` and by the test that keeps `docs/statecharts/` fresh.
 */
export function compareFileSets(expected: Readonly<Record<string, string>>, found: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  const names = [...new Set([...Object.keys(expected), ...Object.keys(found)])].sort();
  for (const name of names) {
    const want = expected[name];
    const have = found[name];
    if (want === undefined) problems.push(`${name}: not generated any more (stale file)`);
    else if (have === undefined) problems.push(`${name}: missing`);
    else if (want !== have) problems.push(`${name}: ${firstDifference(want, have)}`);
  }
  return problems;
}

/** `line N differs: expected "…", found "…"` for the first line that differs (1-based). */
export function firstDifference(expected: string, found: string): string {
  const a = expected.split('\n');
  const b = found.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1} differs: expected ${show(a[i])}, found ${show(b[i])}`;
  }
  return 'differs';
}

function show(line: string | undefined): string {
  if (line === undefined) return '(end of file)';
  return JSON.stringify(line.length > 120 ? `${line.slice(0, 117)}...` : line);
}
