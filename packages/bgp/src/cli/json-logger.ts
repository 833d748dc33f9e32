// Structured logs: one JSON object per line (time, level, message, then the context fields).

import type { LogLevel } from '../config/schema';
import type { LogFields, Logger } from '../session/logger';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

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
