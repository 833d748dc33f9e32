// Plugin logs: stdout belongs to the result JSON, so lines go to log_file_path or else stderr
// (which runtimes keep in their own logs).

import { appendFileSync } from 'node:fs';

export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Log = (level: LogLevel, message: string) => void;

export function makeLog(threshold: LogLevel, file: string | undefined): Log {
  const minimum = LOG_LEVELS.indexOf(threshold);
  return (level, message) => {
    if (LOG_LEVELS.indexOf(level) < minimum) return;
    const line = `${new Date().toISOString()} ${level} margay-cni[${process.pid}]: ${message}\n`;
    if (file === undefined) process.stderr.write(line);
    else appendFileSync(file, line);
  };
}
