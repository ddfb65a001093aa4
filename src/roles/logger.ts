/**
 * The logging interface s2-engine writes to: the subset of pino's API it uses, so a pino logger
 * (or anything shaped like it) can be passed in.
 *
 * Without a `logger` option, warnings and errors go to a shared stderr logger that prints the
 * first occurrence of each kind and then only a count per interval ({@link createStderrLogger}).
 * Why not silent: the mistakes it reports (a handler that throws, a message the peer refuses, a
 * CEM that cannot be dialled, ReceptionStatus timeouts) otherwise go unseen until a device
 * misbehaves in the field, and the rate limit keeps a misbehaving fleet from flooding the log.
 * `logger: false` (or {@link silentLogger}) silences it; pass your own logger to see everything.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};
/** A logger that drops everything: `logger: silentLogger` is the same as `logger: false`. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface StderrLoggerOptions {
  /** Where each line goes (it ends in a newline). Default: `process.stderr.write`. */
  readonly write?: ((line: string) => void) | undefined;
  /** The lowest level printed. Default `'warn'`. */
  readonly level?: LogLevel | undefined;
  /**
   * After an entry of a kind was printed, further ones of that kind are only counted for this
   * long; the count is printed with the next entry of that kind after the interval (or by
   * `flush()`). Default 60 000 ms; 0 prints every entry.
   */
  readonly intervalMs?: number | undefined;
  /** Milliseconds clock. Default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

/** A {@link Logger} that holds back repeats; `flush()` prints the counts still held back. */
export interface StderrLogger extends Logger {
  flush(): void;
}

/** Default interval of {@link createStderrLogger}. */
export const DEFAULT_LOG_INTERVAL_MS = 60_000;

interface Held {
  readonly start: number;
  readonly countLabel: string;
  suppressed: number;
}

/**
 * A logger for people: one line per entry, `s2-engine <level> [<kind>]: <message> (<fields>)`,
 * rate-limited per kind (the entry's `kind` field, else its message). The first entry of a kind
 * is printed; the following ones within `intervalMs` are counted, and the count is printed with
 * the next entry of that kind after the interval, or by `flush()`. It sets no timers (a timer
 * would outlive the sessions it reports on); the shared default logger flushes at process exit.
 */
export function createStderrLogger(options: StderrLoggerOptions = {}): StderrLogger {
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const min = LEVELS[options.level ?? 'warn'];
  const intervalMs = options.intervalMs ?? DEFAULT_LOG_INTERVAL_MS;
  const now = options.now ?? Date.now;
  const windows = new Map<string, Held>();
  let hinted = false;

  const flushOne = (w: Held) => {
    if (w.suppressed > 0) write(`${w.countLabel}: ${w.suppressed} more like this in the last ${Math.round((now() - w.start) / 1000)} s\n`);
  };

  const log = (level: LogLevel, obj: object, msg?: string) => {
    if (LEVELS[level] < min) return;
    const fields = obj as Record<string, unknown>;
    const kind = typeof fields.kind === 'string' ? fields.kind : undefined;
    const key = `${level}\u0000${kind ?? msg ?? ''}`;
    const label = `s2-engine ${level}${kind ? ` [${kind}]` : ''}`;
    const t = now();
    const open = windows.get(key);
    if (open && t - open.start < intervalMs) {
      open.suppressed++;
      return;
    }
    if (open) flushOne(open);
    let line = `${label}: ${describe(fields, msg)}`;
    if (intervalMs > 0) {
      // The count line names the kind, or the message when there is no kind.
      windows.set(key, { start: t, suppressed: 0, countLabel: kind || !msg ? label : `${label} "${msg}"` });
      if (!hinted) {
        hinted = true;
        line += ` — repeats of a kind are counted for ${Math.round(intervalMs / 1000)} s; pass a \`logger\` to see every entry, or \`logger: false\` to silence s2-engine`;
      }
    }
    write(`${line}\n`);
  };

  return {
    debug: (obj, msg) => log('debug', obj, msg),
    info: (obj, msg) => log('info', obj, msg),
    warn: (obj, msg) => log('warn', obj, msg),
    error: (obj, msg) => log('error', obj, msg),
    flush() {
      for (const w of windows.values()) flushOne(w);
      windows.clear();
    },
  };
}

/** `message (field value, …): error text` on one line. */
function describe(fields: Record<string, unknown>, msg: string | undefined): string {
  const parts: string[] = [];
  let error = '';
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'kind' || value === undefined) continue;
    if (key === 'err') {
      error = errorText(value);
      continue;
    }
    const text =
      typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : safeJson(value);
    parts.push(`${key} ${text.length > 120 ? `${text.slice(0, 119)}…` : text}`);
  }
  return `${msg ?? ''}${parts.length ? ` (${parts.join(', ')})` : ''}${error ? `: ${error}` : ''}`;
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return safeJson(err);
  const first = (err as { problems?: ReadonlyArray<{ path: string; message: string }> }).problems?.[0];
  // The message of an S2Error already names its first problem; other errors get their name.
  return `${err.name === 'Error' ? '' : `${err.name}: `}${err.message.split('\n')[0] ?? ''}${first && !err.message.includes(first.path) ? ` at ${first.path}: ${first.message}` : ''}`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

let shared: StderrLogger | undefined;

/** The process-wide default: one rate limit for every session, the counts held back printed at exit. */
function sharedLogger(): StderrLogger {
  if (!shared) {
    const logger = createStderrLogger();
    process.once('exit', () => logger.flush());
    shared = logger;
  }
  return shared;
}

/** The logger for an options `logger` field: `false` is silent, undefined the shared stderr logger. */
export function resolveLogger(option: Logger | false | undefined): Logger {
  if (option === false) return silentLogger;
  return option ?? sharedLogger();
}
