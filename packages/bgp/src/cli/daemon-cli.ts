// What margay's daemons (margay-bgpd, margay-node, margay-confd) share on the command line: exit
// codes, flag checks with errors that name the flag, and running until SIGTERM/SIGINT.

import { LOG_LEVELS, type Logger } from '@margay/log';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export { LOG_LEVELS };

/** Where a daemon's main() writes: the process's streams, or a test's buffers. */
export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** `value` if it is one of `allowed`; otherwise throws naming `flag` and what is allowed. */
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`${flag} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export interface UntilSignalledOptions {
  readonly logger: Logger;
  /** Logged (with the signal) when shutdown begins. */
  readonly shuttingDown: string;
  /** Stops the daemon; a rejection is logged and makes the exit code EXIT_ERROR. */
  readonly stop: () => Promise<unknown>;
  /** What SIGHUP does; without it SIGHUP keeps its default (the process ends). */
  readonly onHangup?: () => void;
}

/** Resolves with the exit code once SIGTERM or SIGINT has stopped the daemon. */
export function untilSignalled(options: UntilSignalledOptions): Promise<number> {
  const { logger, onHangup } = options;
  return new Promise((resolve) => {
    const shutdown = (signal: NodeJS.Signals) => {
      logger.info(options.shuttingDown, { signal });
      if (onHangup) process.off('SIGHUP', onHangup);
      process.off('SIGTERM', shutdown);
      process.off('SIGINT', shutdown);
      options.stop().then(
        () => resolve(EXIT_OK),
        (error: Error) => {
          logger.error('shutdown failed', { error: error.message });
          resolve(EXIT_ERROR);
        },
      );
    };
    if (onHangup) process.on('SIGHUP', onHangup);
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  });
}
