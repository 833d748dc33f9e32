import { DatastoreUnavailableError } from '../types';

const POLL_MS = 20;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Poll until `condition` holds. The time limit only keeps a broken test from hanging: it asserts
 * nothing about speed. An error thrown by `condition` fails at once.
 */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

/** Retry `operation` while the store is unavailable (e.g. etcd coming back from a restart). */
export async function retrying<T>(what: string, operation: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof DatastoreUnavailableError) || Date.now() > deadline) {
        throw new Error(`${what} kept failing: ${(error as Error).message}`, { cause: error });
      }
    }
    await sleep(POLL_MS);
  }
}
