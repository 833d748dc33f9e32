// A local copy of the keys under a few prefixes, kept by list-then-watch, for agents that rebuild
// one whole configuration from them (the BGP agent, confd). Nothing is reported until every prefix
// has delivered its first complete listing, so the owner never acts on half a snapshot; after that
// the owner hears once per burst of changes (debounced), not once per key.

import type { Datastore, KeyValue, Watch, WatchEvent } from './types';

export interface PrefixMirrorOptions {
  readonly store: Pick<Datastore, 'watch'>;
  readonly prefixes: readonly string[];
  /** How long changes gather before `onChanged`. */
  readonly debounceMs: number;
  /** Called (from a timer) a while after a burst of changes, only once every prefix is in sync. */
  readonly onChanged: () => void;
  /** A watch stopped for good (e.g. the datastore was closed). */
  readonly onError?: (prefix: string, error: Error) => void;
  /** Every put, as it arrives (before the debounce). */
  readonly onPut?: (kv: KeyValue) => void;
}

interface Mirrored {
  readonly values: Map<string, string>;
  inSync: boolean;
  watch?: Watch;
}

export class PrefixMirror {
  private readonly mirrored = new Map<string, Mirrored>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(
    prefixes: readonly string[],
    private readonly options?: PrefixMirrorOptions,
  ) {
    for (const prefix of prefixes) this.mirrored.set(prefix, { values: new Map(), inSync: false });
  }

  /** Lists and watches every prefix until `close()`. */
  static watch(options: PrefixMirrorOptions): PrefixMirror {
    const mirror = new PrefixMirror(options.prefixes, options);
    for (const [prefix, mirrored] of mirror.mirrored) {
      mirrored.watch = options.store.watch(prefix, {
        onEvent: (event) => mirror.onEvent(mirrored, event),
        onError: (error) => options.onError?.(prefix, error),
      });
    }
    return mirror;
  }

  /** One listing of every prefix, no watch: for a single pass (e.g. `margay-confd --once`). */
  static async listOnce(store: Pick<Datastore, 'list'>, prefixes: readonly string[]): Promise<PrefixMirror> {
    const mirror = new PrefixMirror(prefixes);
    for (const [prefix, mirrored] of mirror.mirrored) {
      for (const kv of (await store.list(prefix)).items) mirrored.values.set(kv.key, kv.value);
      mirrored.inSync = true;
    }
    return mirror;
  }

  /** The keys and values under `prefix` (empty for a prefix this mirror does not hold). */
  values(prefix: string): ReadonlyMap<string, string> {
    return this.mirrored.get(prefix)?.values ?? new Map();
  }

  /** Every prefix has delivered its first complete listing. */
  get inSync(): boolean {
    return [...this.mirrored.values()].every((m) => m.inSync);
  }

  /** Asks for `onChanged` as if a key had changed: for state the owner overlays on the mirror. */
  touch(): void {
    if (this.closed || !this.options || !this.inSync) return;
    if (this.timer) clearTimeout(this.timer);
    const { onChanged, debounceMs } = this.options;
    this.timer = setTimeout(() => {
      this.timer = null;
      onChanged();
    }, debounceMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all([...this.mirrored.values()].map((m) => m.watch?.close()));
  }

  private onEvent(mirrored: Mirrored, event: WatchEvent): void {
    switch (event.type) {
      case 'put':
        mirrored.values.set(event.kv.key, event.kv.value);
        this.options?.onPut?.(event.kv);
        break;
      case 'delete':
        mirrored.values.delete(event.key);
        break;
      case 'in-sync':
        mirrored.inSync = true;
        break;
      case 'resync':
        return; // the re-listing that follows arrives as puts and deletes
    }
    this.touch();
  }
}
