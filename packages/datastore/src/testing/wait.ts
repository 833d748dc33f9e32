import { DatastoreUnavailableError } from '../types';

const POLL_MS = 20;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
