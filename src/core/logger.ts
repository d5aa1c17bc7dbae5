/**
 * The logging seam. mneme logs failures it handles off the caller's path (background ingestion retries);
 * it never logs memory text above `debug`. Default: one JSON line per event on stderr at level `warn`+
 * (option `logLevel` / env `MNEME_LOG_LEVEL`: debug | info | warn | error | silent).
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** A logger writing JSON lines to `write` (default: stderr) for events at or above `level`. */
export function createConsoleLogger(
  level: LogLevel = 'warn',
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger {
  const emit = (eventLevel: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[eventLevel] < ORDER[level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: eventLevel, msg: message, ...fields }));
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

/** Describes an unknown thrown value for a log line without leaking stack internals. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { error: error.message, errorName: error.name, ...(code === undefined ? {} : { code }) };
  }
  return { error: String(error) };
}
