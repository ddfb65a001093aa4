/**
 * The logging interface s2-engine writes to: the subset of pino's API it uses, so a pino logger
 * (or anything shaped like it) can be passed in. The default is silent: the library itself never
 * prints.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
