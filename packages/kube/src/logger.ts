// The structured logger margay components share (same shape as @margay/bgp's Logger, which this
// package does not depend on).

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const ignore = (): void => {};
export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

/** One JSON object per line on stderr; debug lines only when asked for. */
export function jsonLogger(options: { debug?: boolean; write?: (line: string) => void } = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: string) => (message: string, fields?: LogFields) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }));
  return {
    debug: options.debug ? emit('debug') : ignore,
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
  };
}
