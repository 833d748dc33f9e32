// The Datastore contract every margay component codes against. Two implementations honour it:
// EtcdDatastore (etcd v3) and MemoryDatastore (unit tests). One contract suite runs against both.
//
// Keys and values are strings (values are JSON documents in practice). Revisions are etcd's:
// a store-wide counter bumped by every write; each key remembers the revision that created it
// and the one that last modified it.

/** One stored key with its metadata. */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that created this key (since its last deletion). */
  createRevision: number;
  /** Revision of the last write to this key. Use it as `prevRevision` for compare-and-swap. */
  modRevision: number;
  /** Number of writes since creation, starting at 1. */
  version: number;
  /** Lease the key is attached to, if any. */
  lease?: LeaseId;
}

/** Opaque lease identifier (etcd's int64, as a decimal string). */
export type LeaseId = string;

export interface ListResult {
  items: KeyValue[];
  /** Store revision at which the listing was taken; watch from revision + 1 to continue. */
  revision: number;
}

export interface PutOptions {
  /** Attach the key to this lease: it disappears when the lease expires or is revoked. */
  lease?: LeaseId;
  /**
   * Compare-and-swap: write only if the key's current modRevision equals this value.
   * 0 means "only if the key does not exist" (create). On mismatch a ConflictError is thrown
   * and nothing is written.
   */
  prevRevision?: number;
}

export interface DeleteOptions {
  /** Compare-and-swap: delete only if the key's modRevision equals this value. */
  prevRevision?: number;
}

/** A condition of a transaction: the key's modRevision must equal `modRevision` (0 = absent). */
export interface TxnCondition {
  key: string;
  modRevision: number;
}

export type TxnOp =
  | { op: 'put'; key: string; value: string; lease?: LeaseId }
  | { op: 'delete'; key: string };

export interface TxnResult {
  /** Store revision after the transaction. */
  revision: number;
}

export interface Lease {
  readonly id: LeaseId;
  readonly ttlSeconds: number;
  /** Extend the lease once; resolves false if it had already expired. */
  keepAliveOnce(): Promise<boolean>;
  /** Revoke now: every key attached to it is deleted. */
  revoke(): Promise<void>;
}

/**
 * Events of a list-then-watch stream (see Datastore.watch).
 *
 * - `put`: the key was created or changed; `prev` is what the consumer last saw, if anything.
 * - `delete`: the key is gone; `prev` is its last value the consumer saw. `revision` is that of
 *   the delete, or after a resync that of the listing that no longer had the key.
 * - `in-sync`: everything up to `revision` has been delivered. Sent once after the initial
 *   snapshot and again after every resync.
 * - `resync`: the watch was lost (compaction, connection loss, server restart); a fresh listing
 *   follows, diffed against what was already delivered, so only real changes are emitted, then
 *   `in-sync`. `reason` is for logs.
 */
export type WatchEvent =
  | { type: 'put'; kv: KeyValue; prev?: KeyValue }
  | { type: 'delete'; key: string; prev: KeyValue; revision: number }
  | { type: 'in-sync'; revision: number }
  | { type: 'resync'; reason: string };

export interface WatchOptions {
  /** Called for every event, in order. A handler that throws stops the watch with that error. */
  onEvent(event: WatchEvent): void;
  /** Called if the watch stops for good (handler error, or the datastore was closed). */
  onError?(error: Error): void;
  /**
   * Called when listing the prefix failed (the store unreachable, a response too large); the
   * watch keeps retrying with backoff, so without this a watch that never gets in sync is silent.
   */
  onListError?(error: Error): void;
}

export interface Watch {
  /** Stop watching. No events are delivered after this resolves. */
  close(): Promise<void>;
}

export interface Datastore {
  get(key: string): Promise<KeyValue | undefined>;
  /** Every key starting with `prefix`, sorted by key, at one consistent revision. */
  list(prefix: string): Promise<ListResult>;
  put(key: string, value: string, options?: PutOptions): Promise<KeyValue>;
  /** Resolves true if a key was deleted, false if there was none. */
  delete(key: string, options?: DeleteOptions): Promise<boolean>;
  /**
   * All-or-nothing: if every condition holds, apply every op atomically; otherwise throw a
   * ConflictError naming the first key whose condition failed, and write nothing.
   */
  txn(conditions: TxnCondition[], ops: TxnOp[]): Promise<TxnResult>;
  grantLease(ttlSeconds: number): Promise<Lease>;
  /**
   * List-then-watch `prefix`: delivers the current snapshot as `put` events, then `in-sync`,
   * then every change. Survives compaction and lost connections by re-listing and diffing.
   */
  watch(prefix: string, options: WatchOptions): Watch;
  /** Discard history before `revision` (etcd compaction). Watches older than that must resync. */
  compact(revision: number): Promise<void>;
  /** Current store revision. */
  revision(): Promise<number>;
  close(): Promise<void>;
}

/** A compare-and-swap condition did not hold; nothing was written. */
export class ConflictError extends Error {
  constructor(
    readonly key: string,
    message = `conflict on ${key}: it was changed concurrently`,
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** The datastore could not be reached or answered with an error. */
export class DatastoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatastoreUnavailableError';
  }
}
