/**
 * One thing wrong with a received or outgoing message: where (a JSONPath such as
 * `$.actuators[0].operation_modes[2].id`), what value stood there (JSON, truncated), a sentence a
 * person can read, and — for semantic rules — the rule id (docs/rules.md).
 */
export interface Problem {
  readonly path: string;
  readonly message: string;
  readonly value?: string;
  readonly rule?: string;
}

const MAX_VALUE_CHARS = 80;

/** Cuts a text to `max` characters (ending in …): a peer must not make our logs grow without bound. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** JSON text of a value, cut to a length fit for logs and diagnostic labels. */
export function showValue(value: unknown): string {
  let text: string;
  try {
    // JSON.stringify gives undefined for undefined, a function and a symbol: say what they are.
    // A long string is cut first (same result): stringifying a 4 MiB frame only to keep 80 characters took ~20 ms.
    text =
      JSON.stringify(typeof value === 'string' && value.length > MAX_VALUE_CHARS ? value.slice(0, MAX_VALUE_CHARS) : value) ??
      (typeof value === 'function' ? '[a function]' : typeof value === 'symbol' ? value.toString() : 'undefined');
  } catch {
    // Too deep for JSON.stringify (a hostile frame); String() of a nested array recurses too.
    text = Array.isArray(value)
      ? '[a deeply nested array]'
      : typeof value === 'object' && value !== null
        ? '[a deeply nested object]'
        : String(value);
  }
  return clip(text, MAX_VALUE_CHARS);
}

/** Appends a property name or array index to a JSONPath. */
export function joinPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
