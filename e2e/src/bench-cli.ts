// Command-line pieces the benchmark scripts share: commander argument parsers that name what is
// wrong, and Ctrl-C handling that lets a run clean up.

import { InvalidArgumentError } from 'commander';

/** Parses a whole number in min..max. */
export function wholeNumber(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max)
      throw new InvalidArgumentError(`"${text}" is not a whole number in ${min}..${max}`);
    return value;
  };
}

/** Parses a comma-separated list whose items are each one of `allowed`. */
export function listOf<T extends string>(what: string, allowed: readonly T[]): (text: string) => T[] {
  return (text) => {
    const names = text.split(',').map((name) => name.trim());
    for (const name of names)
      if (!(allowed as readonly string[]).includes(name))
        throw new InvalidArgumentError(`"${name}" is not a ${what} (${allowed.join(', ')})`);
    return names as T[];
  };
}

/**
 * Aborted by the first SIGINT/SIGTERM, so that the run stops and cleans up; a second one exits at
 * once (130), leaving the exit handlers to kill what is left.
 */
export function abortOnSignals(): AbortSignal {
  const abort = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      if (abort.signal.aborted) process.exit(130);
      abort.abort(new Error(`interrupted by ${signal}`));
    });
  return abort.signal;
}
