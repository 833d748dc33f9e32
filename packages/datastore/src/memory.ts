// An in-memory Datastore with etcd's semantics (revisions, CAS, transactions, leases,
// compaction), for fast unit tests of the components built on it. It runs the same
// list-then-watch syncer as the etcd store, and offers hooks to stall or drop watch connections.

import {
  ConflictError,
  type Datastore,
  DatastoreUnavailableError,
  type DeleteOptions,
  type KeyValue,
  type Lease,
  type LeaseId,
  type ListResult,
  type PutOptions,
  type TxnCondition,
  type TxnOp,
  type TxnResult,
  type Watch,
  type WatchOptions,
} from './types';
import { checkKey, checkPrefix, checkRevision, checkTtl, checkTxn, checkValue } from './validate';
import {
  OpenWatches,
  type RawChange,
  type RawWatch,
  type RawWatchListener,
  type WatchBackend,
} from './watch-syncer';

interface LeaseState {
  keys: Set<string>;
  expiry: NodeJS.Timeout;
}

interface RawWatchState {
  prefix: string;
  listener: RawWatchListener;
  /** Changes not yet delivered, oldest first. */
  pending: RawChange[];
}

export class MemoryDatastore implements Datastore {
  private readonly data = new Map<string, KeyValue>();
  /** A fresh etcd starts at revision 1. */
  private currentRevision = 1;
  private compactedRevision = 0;
  /** Every change since the last compaction, oldest first: what a watch from a past revision replays. */
  private history: RawChange[] = [];
  private readonly leases = new Map<LeaseId, LeaseState>();
  private nextLeaseId = 1;
  private readonly rawWatches = new Set<RawWatchState>();
  private readonly watches = new OpenWatches();
  private deliveryScheduled = false;
  private deliveryPaused = false;
  private closed = false;

  private readonly backend: WatchBackend = {
    list: (prefix) => this.list(prefix),
    watchFrom: (prefix, revision, listener) => this.watchFrom(prefix, revision, listener),
  };

  async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    checkKey(key, 'get');
    return this.data.get(key);
  }

  async list(prefix: string): Promise<ListResult> {
    this.assertOpen();
    checkPrefix(prefix, 'list');
    const items = [...this.data.values()]
      .filter((kv) => kv.key.startsWith(prefix))
      .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
    return { items, revision: this.currentRevision };
  }

  async put(key: string, value: string, options: PutOptions = {}): Promise<KeyValue> {
    this.assertOpen();
    checkKey(key, 'put');
    checkValue(value, `put ${key}`);
    if (options.prevRevision !== undefined) checkRevision(options.prevRevision, `put ${key} prevRevision`);
    if (options.lease !== undefined) this.requireLease(options.lease, `put ${key}`);
    if (options.prevRevision !== undefined && this.modRevisionOf(key) !== options.prevRevision) {
      throw new ConflictError(key);
    }
    this.apply([{ op: 'put', key, value, lease: options.lease }]);
    return this.data.get(key)!;
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<boolean> {
    this.assertOpen();
    checkKey(key, 'delete');
    if (options.prevRevision !== undefined) checkRevision(options.prevRevision, `delete ${key} prevRevision`);
    if (options.prevRevision !== undefined && this.modRevisionOf(key) !== options.prevRevision) {
      throw new ConflictError(key);
    }
    if (!this.data.has(key)) return false;
    this.apply([{ op: 'delete', key }]);
    return true;
  }

  async txn(conditions: TxnCondition[], ops: TxnOp[]): Promise<TxnResult> {
    this.assertOpen();
    checkTxn(conditions, ops);
    for (const op of ops) {
      if (op.op === 'put' && op.lease !== undefined) this.requireLease(op.lease, `txn put ${op.key}`);
    }
    const failed = conditions.find(
      (condition) => this.modRevisionOf(condition.key) !== condition.modRevision,
    );
    if (failed) throw new ConflictError(failed.key);
    this.apply(ops);
    return { revision: this.currentRevision };
  }

  async grantLease(ttlSeconds: number): Promise<Lease> {
    this.assertOpen();
    checkTtl(ttlSeconds);
    const id = String(this.nextLeaseId++);
    const expiry = setTimeout(() => this.endLease(id), ttlSeconds * 1000);
    expiry.unref();
    this.leases.set(id, { keys: new Set(), expiry });
    return {
      id,
      ttlSeconds,
      keepAliveOnce: async () => {
        this.assertOpen();
        const lease = this.leases.get(id);
        lease?.expiry.refresh();
        return lease !== undefined;
      },
      revoke: async () => {
        this.assertOpen();
        this.endLease(id);
      },
    };
  }

  watch(prefix: string, options: WatchOptions): Watch {
    this.assertOpen();
    return this.watches.open(this.backend, prefix, options);
  }

  async compact(revision: number): Promise<void> {
    this.assertOpen();
    checkRevision(revision, 'compact');
    // The same refusals as etcd's mvcc layer, with its wording.
    if (revision > this.currentRevision) {
      throw new Error(
        `compact ${revision}: required revision is a future revision (current ${this.currentRevision})`,
      );
    }
    if (revision <= this.compactedRevision) {
      throw new Error(
        `compact ${revision}: required revision has been compacted (at ${this.compactedRevision})`,
      );
    }
    this.compactedRevision = revision;
    this.history = this.history.filter((change) => revisionOf(change) >= revision);
    this.scheduleDelivery();
  }

  async revision(): Promise<number> {
    this.assertOpen();
    return this.currentRevision;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.watches.closeAll(new DatastoreUnavailableError('the datastore was closed'));
    for (const lease of this.leases.values()) clearTimeout(lease.expiry);
    this.leases.clear();
  }

  /** Test hook: every open watch loses its connection now, as if etcd dropped it, and must resync. */
  dropWatchConnections(): void {
    for (const watch of this.rawWatches) this.lose(watch, 'connection lost (simulated)');
  }

  /**
   * Test hook: hold back every watch delivery, as a stalled connection would, until `resumeWatches()`.
   * A compaction past a held-back change cancels that watch, as etcd cancels a lagging watcher.
   */
  pauseWatches(): void {
    this.deliveryPaused = true;
  }

  resumeWatches(): void {
    this.deliveryPaused = false;
    this.scheduleDelivery();
  }

  private watchFrom(prefix: string, revision: number, listener: RawWatchListener): RawWatch {
    const watch: RawWatchState = {
      prefix,
      listener,
      pending: this.history.filter(
        (change) => revisionOf(change) >= revision && keyOf(change).startsWith(prefix),
      ),
    };
    this.rawWatches.add(watch);
    if (revision < this.compactedRevision)
      this.lose(watch, compactedReason(revision, this.compactedRevision));
    else this.scheduleDelivery();
    return {
      cancel: async () => {
        this.rawWatches.delete(watch);
      },
    };
  }

  private lose(watch: RawWatchState, reason: string): void {
    this.rawWatches.delete(watch);
    setImmediate(() => watch.listener.onLost(reason));
  }

  /** Apply writes atomically at one new revision (none if nothing changes, as in etcd). */
  private apply(ops: TxnOp[]): void {
    const revision = this.currentRevision + 1;
    const changes: RawChange[] = [];
    for (const op of ops) {
      const prev = this.data.get(op.key);
      if (prev?.lease !== undefined) this.leases.get(prev.lease)?.keys.delete(op.key);
      if (op.op === 'put') {
        const kv: KeyValue = Object.freeze({
          key: op.key,
          value: op.value,
          createRevision: prev?.createRevision ?? revision,
          modRevision: revision,
          version: (prev?.version ?? 0) + 1,
          ...(op.lease !== undefined && { lease: op.lease }),
        });
        if (op.lease !== undefined) this.leases.get(op.lease)?.keys.add(op.key);
        this.data.set(op.key, kv);
        changes.push({ type: 'put', kv });
      } else if (prev) {
        this.data.delete(op.key);
        changes.push({ type: 'delete', key: op.key, revision });
      }
    }
    if (changes.length === 0) return;
    this.currentRevision = revision;
    this.history.push(...changes);
    for (const watch of this.rawWatches) {
      watch.pending.push(...changes.filter((change) => keyOf(change).startsWith(watch.prefix)));
    }
    this.scheduleDelivery();
  }

  private endLease(id: LeaseId): void {
    const lease = this.leases.get(id);
    if (!lease) return;
    clearTimeout(lease.expiry);
    this.leases.delete(id);
    this.apply([...lease.keys].map((key) => ({ op: 'delete' as const, key })));
  }

  /** Deliver asynchronously, as etcd does: events arrive after the write that caused them returned. */
  private scheduleDelivery(): void {
    if (this.deliveryScheduled) return;
    this.deliveryScheduled = true;
    setImmediate(() => {
      this.deliveryScheduled = false;
      this.deliver();
    });
  }

  private deliver(): void {
    if (this.deliveryPaused) return;
    for (const watch of this.rawWatches) {
      const oldest = watch.pending[0];
      if (oldest && revisionOf(oldest) < this.compactedRevision) {
        this.lose(watch, compactedReason(revisionOf(oldest), this.compactedRevision));
        continue;
      }
      const changes = watch.pending;
      watch.pending = [];
      for (const change of changes) {
        if (!this.rawWatches.has(watch)) break;
        watch.listener.onChange(change);
      }
    }
  }

  private modRevisionOf(key: string): number {
    return this.data.get(key)?.modRevision ?? 0;
  }

  private requireLease(id: LeaseId, where: string): void {
    if (!this.leases.has(id)) throw new Error(`${where}: lease ${id} not found (expired or revoked)`);
  }

  private assertOpen(): void {
    if (this.closed) throw new DatastoreUnavailableError('the memory datastore is closed');
  }
}

function revisionOf(change: RawChange): number {
  return change.type === 'put' ? change.kv.modRevision : change.revision;
}

function keyOf(change: RawChange): string {
  return change.type === 'put' ? change.kv.key : change.key;
}

function compactedReason(revision: number, compactedRevision: number): string {
  return `watch canceled: revision ${revision} has been compacted (compacted up to ${compactedRevision})`;
}
