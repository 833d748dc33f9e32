const POLL_MS = 20;

/**
 * Poll until `condition` holds. The time limit only keeps a broken test from hanging: it asserts
 * nothing about speed. An error thrown by `condition` fails at once, naming what was awaited.
 */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let done: boolean;
    try {
      done = await condition();
    } catch (error) {
      throw new Error(`while waiting for ${what}: ${(error as Error).message}`, { cause: error });
    }
    if (done) return;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
