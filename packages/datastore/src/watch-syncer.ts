// List-then-watch, written once for every store. The syncer remembers what it delivered; after a
// lost watch (compaction, cancellation, dropped connection, server restart) it re-lists and
// diffs the listing against that memory, so consumers see exactly the changes they missed:
// no duplicates, no gaps, deletes included.
import { Backoff } from './backoff';
import type { KeyValue, ListResult, Watch, WatchEvent, WatchOptions } from './types';
import { checkPrefix } from './validate';

/** A change as the store reports it; the syncer adds `prev` from what it delivered. */
export type RawChange = { type: 'put'; kv: KeyValue } | { type: 'delete'; key: string; revision: number };

export interface RawWatchListener {
  onChange(change: RawChange): void;
  /** The watch cannot go on (compaction, cancellation, lost connection). Called at most once. */
  onLost(reason: string): void;
}

export interface RawWatch {
  /** Stop reporting. Idempotent, and safe after a loss. */
  cancel(): Promise<void>;
}

/** What a store offers for list-then-watch. */
export interface WatchBackend {
  list(prefix: string): Promise<ListResult>;
  /**
   * Optional: the same listing handed over in pages as they arrive (resolving with its revision),
   * so the consumer works on one page while the store reads the next.
   */
  listPaged?(prefix: string, onPage: (items: readonly KeyValue[]) => void): Promise<number>;
  /** Report every change under `prefix` from `revision` on, in order, until cancelled or lost. */
  watchFrom(prefix: string, revision: number, listener: RawWatchListener): RawWatch;
}

export class WatchSyncer implements Watch {
  /** What the consumer has seen: the source of `prev` and of the diff after a resync. */
  private readonly delivered = new Map<string, KeyValue>();
  /** Paces re-listing: 100 ms doubling to 5 s while the store stays unreachable. */
  private readonly backoff = new Backoff(100, 5_000);
  private raw: RawWatch | undefined;
  private stopped = false;
  /** The consumer has had an in-sync: listings are delivered whole from then on. */
  private wasInSync = false;
  /** Ends the current wait (backoff pause or live watch) early when the syncer stops. */
  private interrupt = (): void => {};

  constructor(
    private readonly backend: WatchBackend,
    private readonly prefix: string,
    private readonly options: WatchOptions,
    private readonly onStop: () => void = () => {},
  ) {
    this.run().catch((error: unknown) => this.stop(asError(error)));
  }

  close(): Promise<void> {
    return this.stop();
  }

  /** Stop for good and tell the consumer why (e.g. the datastore was closed). */
  fail(error: Error): Promise<void> {
    return this.stop(error);
  }

  private async stop(error?: Error): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop();
    this.interrupt();
    if (error) this.options.onError?.(error);
    await this.raw?.cancel();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      // Keys listed, to tell what was deleted meanwhile; not needed (nor gathered) while nothing
      // has been delivered yet, as at a start listing 10,000 keys.
      const listed = this.delivered.size === 0 ? undefined : new Set<string>();
      let revision: number;
      try {
        revision = await this.list(listed);
      } catch (error) {
        if (this.stopped) return;
        this.reportListError(asError(error));
        await this.pause(this.backoff.next());
        continue;
      }
      if (this.stopped) return;
      this.backoff.reset();
      this.finishListing(listed, revision);
      // Continue right after the listing: never from a later revision, which could skip events.
      const reason = await this.watchUntilLost(revision + 1);
      await this.raw?.cancel();
      if (this.stopped) return;
      this.emit({ type: 'resync', reason });
      await this.pause(this.backoff.next());
    }
  }

  private reportListError(error: Error): void {
    try {
      this.options.onListError?.(error);
    } catch {
      // A failing reporter must not stop the retries it reports on.
    }
  }

  private watchUntilLost(fromRevision: number): Promise<string> {
    return new Promise((resolve) => {
      let lost = false;
      this.interrupt = () => resolve('stopped');
      this.raw = this.backend.watchFrom(this.prefix, fromRevision, {
        onChange: (change) => {
          if (!lost) this.deliverChange(change);
        },
        onLost: (reason) => {
          lost = true;
          resolve(reason);
        },
      });
    });
  }

  private pause(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.interrupt = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * Lists the prefix and delivers the puts of what is new or changed (the first listing page by
   * page as pages arrive; one that fails half-way leaves them delivered: they were current, and
   * the retry skips them); records the keys listed and resolves with the listing's revision.
   */
  private async list(listed: Set<string> | undefined): Promise<number> {
    const deliverPage = (items: readonly KeyValue[]) => {
      if (this.stopped) return;
      for (const kv of items) {
        listed?.add(kv.key);
        const prev = this.delivered.get(kv.key);
        if (prev?.modRevision !== kv.modRevision) this.deliverPut(kv, prev);
      }
    };
    // Only before the first in-sync: a consumer in sync may act between pages, and a re-listing
    // handed over in pages would show it a mix of old and new keys that never existed together.
    if (this.backend.listPaged !== undefined && !this.wasInSync) {
      return this.backend.listPaged(this.prefix, deliverPage);
    }
    const listing: ListResult = await this.backend.list(this.prefix);
    if (!this.stopped) deliverPage(listing.items);
    return listing.revision;
  }

  /**
   * After the last page: what was not listed was deleted while we were not watching; then in-sync.
   * Without `listed` (nothing had been delivered before this listing) everything delivered was listed.
   */
  private finishListing(listed: ReadonlySet<string> | undefined, revision: number): void {
    // By key, not entry: no [key, value] pair allocated for each of the (usually all) listed keys.
    if (listed !== undefined) {
      for (const key of this.delivered.keys()) {
        if (!listed.has(key)) this.deliverDelete(key, this.delivered.get(key)!, revision);
      }
    }
    this.wasInSync = true;
    this.emit({ type: 'in-sync', revision });
  }

  private deliverChange(change: RawChange): void {
    const key = change.type === 'put' ? change.kv.key : change.key;
    const prev = this.delivered.get(key);
    // Anything not newer than what the consumer saw is a replay and is dropped.
    if (change.type === 'put') {
      if (prev === undefined || prev.modRevision < change.kv.modRevision) this.deliverPut(change.kv, prev);
    } else if (prev !== undefined && prev.modRevision < change.revision) {
      this.deliverDelete(key, prev, change.revision);
    }
  }

  private deliverPut(kv: KeyValue, prev: KeyValue | undefined): void {
    this.delivered.set(kv.key, kv);
    this.emit(prev ? { type: 'put', kv, prev } : { type: 'put', kv });
  }

  private deliverDelete(key: string, prev: KeyValue, revision: number): void {
    this.delivered.delete(key);
    this.emit({ type: 'delete', key, prev, revision });
  }

  private emit(event: WatchEvent): void {
    if (this.stopped) return;
    try {
      this.options.onEvent(event);
    } catch (error) {
      void this.stop(asError(error));
    }
  }
}

/** The watches a store has handed out, so that closing the store stops every one of them. */
export class OpenWatches {
  private readonly syncers = new Set<WatchSyncer>();

  open(backend: WatchBackend, prefix: string, options: WatchOptions): Watch {
    checkPrefix(prefix, 'watch');
    if (typeof options?.onEvent !== 'function') throw new Error('watch: options.onEvent must be a function');
    const syncer: WatchSyncer = new WatchSyncer(backend, prefix, options, () => this.syncers.delete(syncer));
    this.syncers.add(syncer);
    return syncer;
  }

  async closeAll(error: Error): Promise<void> {
    await Promise.all([...this.syncers].map((syncer) => syncer.fail(error)));
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
