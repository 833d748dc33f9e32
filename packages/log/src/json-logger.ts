// Structured logs: one JSON object per line (time, level, message, then the context fields).

import type { LogFields, Logger } from './logger';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A Logger whose threshold can change while it runs (e.g. when a configuration reload says so). */
export interface JsonLogger extends Logger {
  level: LogLevel;
}

export function jsonLogger(out: { write(line: string): unknown }, level: LogLevel = 'info'): JsonLogger {
  const logger: JsonLogger = {
    level,
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
  function write(at: LogLevel, message: string, fields?: LogFields): void {
    if (RANK[at] < RANK[logger.level]) return;
    out.write(`${JSON.stringify({ time: new Date().toISOString(), level: at, message, ...fields })}\n`);
  }
  return logger;
}
