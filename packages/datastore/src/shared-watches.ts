// One list-then-watch per prefix for a whole process. margay-node's parts (BGP agent, felix, tunnel
// manager) each watch what they need; several want the same prefixes (Nodes, IPPools, this node's
// block affinities). Wrapping the store in SharedWatches makes them share one watch per prefix, so
// the store serves it once and every part works from the same snapshot of it.

import type {
  Datastore,
  DeleteOptions,
  KeyValue,
  Lease,
  ListResult,
  PutOptions,
  TxnCondition,
  TxnOp,
  TxnResult,
  Watch,
  WatchEvent,
  WatchOptions,
} from './types';

/** A consumer of a shared watch: events queue up until its replay of the snapshot is delivered. */
interface Subscriber {
  readonly options: WatchOptions;
  /** Events held back while the snapshot replay is pending; undefined once it is live. */
  pending: WatchEvent[] | undefined;
}

/** The state of one prefix's watch: what its subscribers have been told so far. */
class SharedPrefix {
  readonly values = new Map<string, KeyValue>();
  readonly subscribers = new Set<Subscriber>();
  inSyncRevision: number | undefined;
  watch: Watch | undefined;

  deliver(event: WatchEvent): void {
    switch (event.type) {
      case 'put':
        this.values.set(event.kv.key, event.kv);
        break;
      case 'delete':
        this.values.delete(event.key);
        break;
      case 'in-sync':
        this.inSyncRevision = event.revision;
        break;
      case 'resync':
        this.inSyncRevision = undefined;
        break;
    }
    for (const subscriber of this.subscribers) {
      if (subscriber.pending) subscriber.pending.push(event);
      else this.send(subscriber, event);
    }
  }

  /** A throwing handler stops that subscriber's watch only, as it would stop a watch of its own. */
  send(subscriber: Subscriber, event: WatchEvent): void {
    try {
      subscriber.options.onEvent(event);
    } catch (error) {
      this.subscribers.delete(subscriber);
      subscriber.options.onError?.(error as Error);
    }
  }

  /** What a subscriber joining now must see first: the current snapshot, then in-sync if it is. */
  replay(): WatchEvent[] {
    const events: WatchEvent[] = [...this.values.values()].map((kv) => ({ type: 'put', kv }));
    if (this.inSyncRevision !== undefined) events.push({ type: 'in-sync', revision: this.inSyncRevision });
    return events;
  }
}

export class SharedWatches implements Datastore {
  private readonly prefixes = new Map<string, SharedPrefix>();

  constructor(private readonly store: Datastore) {}

  /** How many watches the underlying store serves (one per watched prefix). */
  get watchCount(): number {
    return this.prefixes.size;
  }

  watch(prefix: string, options: WatchOptions): Watch {
    let shared = this.prefixes.get(prefix);
    if (!shared) {
      const created = new SharedPrefix();
      this.prefixes.set(prefix, created);
      created.watch = this.store.watch(prefix, {
        onEvent: (event) => created.deliver(event),
        onError: (error) => {
          for (const subscriber of created.subscribers) subscriber.options.onError?.(error);
          created.subscribers.clear();
          if (this.prefixes.get(prefix) === created) this.prefixes.delete(prefix);
        },
        onListError: (error) => {
          for (const subscriber of created.subscribers) subscriber.options.onListError?.(error);
        },
      });
      shared = created;
    }
    const prefixState = shared;
    const subscriber: Subscriber = { options, pending: [] };
    const replay = prefixState.replay();
    prefixState.subscribers.add(subscriber);
    // Delivered after watch() returns, as a store's own watch would, with what arrived meanwhile.
    queueMicrotask(() => {
      const held = subscriber.pending ?? [];
      subscriber.pending = undefined;
      for (const event of [...replay, ...held]) {
        if (!prefixState.subscribers.has(subscriber)) return;
        prefixState.send(subscriber, event);
      }
    });
    return {
      close: async () => {
        prefixState.subscribers.delete(subscriber);
        if (prefixState.subscribers.size > 0 || this.prefixes.get(prefix) !== prefixState) return;
        this.prefixes.delete(prefix);
        await prefixState.watch?.close();
      },
    };
  }

  get(key: string): Promise<KeyValue | undefined> {
    return this.store.get(key);
  }

  list(prefix: string): Promise<ListResult> {
    return this.store.list(prefix);
  }

  put(key: string, value: string, options?: PutOptions): Promise<KeyValue> {
    return this.store.put(key, value, options);
  }

  delete(key: string, options?: DeleteOptions): Promise<boolean> {
    return this.store.delete(key, options);
  }

  txn(conditions: TxnCondition[], ops: TxnOp[]): Promise<TxnResult> {
    return this.store.txn(conditions, ops);
  }

  grantLease(ttlSeconds: number): Promise<Lease> {
    return this.store.grantLease(ttlSeconds);
  }

  compact(revision: number): Promise<void> {
    return this.store.compact(revision);
  }

  revision(): Promise<number> {
    return this.store.revision();
  }

  /** Closes the underlying store, which ends every watch (their subscribers get its error). */
  close(): Promise<void> {
    return this.store.close();
  }
}
