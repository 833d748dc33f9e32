// Remembered results of the renderer's pure text functions (set names, chain names, folded
// selectors). Rendering 1,000 policies asks for the same few hundred of each thousands of times,
// and each answer costs a SHA-256 or a selector parse. Bounded by emptying the cache when it is
// full: a churn of distinct inputs costs a recomputation, never unbounded memory.

const DEFAULT_MAX_ENTRIES = 20_000;

export class TextMemo<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  /** The remembered result for `key`, or `compute()` (remembered unless it throws). */
  get(key: string, compute: () => T): T {
    const known = this.entries.get(key);
    if (known !== undefined) return known;
    return this.remember(key, compute());
  }

  /**
   * The remembered result for `key`, if any. With remember(), for the hottest callers: get() takes
   * a closure, which a caller that runs thousands of times allocates on every call.
   */
  find(key: string): T | undefined {
    return this.entries.get(key);
  }

  /** Remembers `value` for `key`; returns it. */
  remember(key: string, value: T): T {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, value);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
