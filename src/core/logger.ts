/**
 * The logger contract: any pino-compatible logger (pino, or an object with the same four methods).
 * Tessera logs session ids (hashes), never tokens, CSRF tokens or passwords.
 */

export type LogFn = (obj: Record<string, unknown>, msg?: string) => void;

/** The subset of pino's interface Tessera calls. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop: LogFn = () => {};

/** The default: logs nothing. */
export const silentLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
});

/** A plain description of an error for a log line: class, code and message, no stack by default. */
export function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(code !== undefined ? { code } : {}) };
  }
  return { message: String(err) };
}
