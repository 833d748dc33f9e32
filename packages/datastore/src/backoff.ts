/** Exponential backoff: `initialMs`, doubling on every call to `next()`, capped at `maxMs`. */
export class Backoff {
  private attempts = 0;

  constructor(
    private readonly initialMs = 100,
    private readonly maxMs = 5_000,
  ) {}

  next(): number {
    const delay = Math.min(this.maxMs, this.initialMs * 2 ** this.attempts);
    if (delay < this.maxMs) this.attempts++;
    return delay;
  }

  reset(): void {
    this.attempts = 0;
  }
}
