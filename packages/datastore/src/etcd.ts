// The Datastore on a real etcd v3, through the etcd3 client. Writes go through transactions so
// that compare-and-swap and the resulting KeyValue come back in one round trip; list-then-watch
// is the shared WatchSyncer over etcd3 watchers. Listings go through etcd3's connection pool but
// decode their Range responses with our own codec (etcd-range-codec.ts), straight into KeyValues.
import {
  castGrpcError,
  Etcd3,
  EtcdLeaseInvalidError,
  type ICompare,
  type IKeyValue,
  type IRequestOp,
  isRecoverableError,
  Range,
} from 'etcd3';
import { type EtcdConfig, etcdClientSettings } from './etcd-config';
import {
  decodeRangeResponse,
  encodeRangeRequest,
  type RangeRequest,
  type RangeResult,
} from './etcd-range-codec';
import {
  ConflictError,
  type Datastore,
  DatastoreUnavailableError,
  type DeleteOptions,
  type KeyValue,
  type Lease,
  type ListResult,
  type PutOptions,
  type TxnCondition,
  type TxnOp,
  type TxnResult,
  type Watch,
  type WatchOptions,
} from './types';
import { checkKey, checkPrefix, checkRevision, checkTtl, checkTxn, checkValue } from './validate';
import { OpenWatches, type RawWatch, type RawWatchListener, type WatchBackend } from './watch-syncer';

/** Keys per list request (our values are at most a few KiB, so a page stays far below 4 MiB). */
const LIST_PAGE_SIZE = 500;

export class EtcdDatastore implements Datastore {
  private readonly client: EtcdClient;
  /** For error messages: where we tried to reach etcd. */
  private readonly endpoints: string;
  private readonly timeoutMs: number;
  private readonly watches = new OpenWatches();
  private readonly backend: WatchBackend;
  private closed = false;

  constructor(config: EtcdConfig) {
    const settings = etcdClientSettings(config);
    this.endpoints = settings.hosts.join(', ');
    this.timeoutMs = settings.timeoutMs;
    this.client = new EtcdClient(settings.clientOptions);
    this.backend = etcdWatchBackend(
      this.client,
      (prefix) => this.list(prefix),
      (prefix, onPage) => this.listPages(prefix, onPage),
    );
  }

  async get(key: string): Promise<KeyValue | undefined> {
    checkKey(key, 'get');
    const response = await this.call(`get ${key}`, () => this.client.kv.range({ key: Buffer.from(key) }));
    const kv = response.kvs[0];
    return kv && toKeyValue(kv);
  }

  async list(prefix: string): Promise<ListResult> {
    const items: KeyValue[] = [];
    const revision = await this.listPages(prefix, (page) => items.push(...page));
    return { items, revision };
  }

  /**
   * Lists the prefix page by page, handing each page to `onPage` as it arrives; resolves with the
   * listing's revision. In pages, like Calico: one response for a large prefix (10,000 endpoints)
   * would exceed gRPC's 4 MiB message limit. Every page is read at the first page's revision, so
   * the pages are one consistent snapshot, in key order. The next page is requested before this
   * one is handed over, so etcd serves it while the consumer works.
   */
  protected async listPages(prefix: string, onPage: (items: KeyValue[]) => void): Promise<number> {
    checkPrefix(prefix, 'list');
    const range = Range.prefix(prefix);
    const fetch = (from: Buffer, atRevision: number) =>
      this.call(`list ${prefix}`, () =>
        this.client.rangeDecoded(
          { key: from, rangeEnd: range.end, limit: LIST_PAGE_SIZE, revision: atRevision },
          this.timeoutMs,
        ),
      );
    let pending = fetch(range.start, 0);
    let revision: number | undefined;
    for (;;) {
      const response = await pending;
      // Every page after the first is read at this revision; 0 would mean "the latest" instead.
      if (response.revision <= 0)
        throw new DatastoreUnavailableError(`list ${prefix}: etcd sent no revision`);
      revision ??= response.revision;
      const last = response.lastKey;
      const more = response.more && last !== undefined;
      if (more) {
        pending = fetch(Buffer.concat([last, Buffer.from([0])]), revision); // the key after the last
      }
      try {
        onPage(response.kvs);
      } catch (error) {
        pending.catch(() => {}); // abandoned: its failure is not news
        throw error;
      }
      if (!more) return revision;
    }
  }

  async put(key: string, value: string, options: PutOptions = {}): Promise<KeyValue> {
    checkKey(key, 'put');
    checkValue(value, `put ${key}`);
    if (options.prevRevision !== undefined) checkRevision(options.prevRevision, `put ${key} prevRevision`);
    const guards = options.prevRevision === undefined ? [] : [modRevisionIs(key, options.prevRevision)];
    const response = await this.commit(`put ${key}`, guards, [putOp(key, value, options.lease)]);
    if (!response.succeeded) throw new ConflictError(key);
    const revision = Number(response.header.revision);
    const prev = response.responses[0]?.response_put.prev_kv as IKeyValue | null | undefined;
    return {
      key,
      value,
      createRevision: prev ? Number(prev.create_revision) : revision,
      modRevision: revision,
      version: prev ? Number(prev.version) + 1 : 1,
      ...(options.lease !== undefined && { lease: options.lease }),
    };
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<boolean> {
    checkKey(key, 'delete');
    if (options.prevRevision !== undefined) checkRevision(options.prevRevision, `delete ${key} prevRevision`);
    const guards = options.prevRevision === undefined ? [] : [modRevisionIs(key, options.prevRevision)];
    const response = await this.commit(`delete ${key}`, guards, [deleteOp(key)]);
    if (!response.succeeded) throw new ConflictError(key);
    return Number(response.responses[0]?.response_delete_range.deleted ?? 0) > 0;
  }

  async txn(conditions: TxnCondition[], ops: TxnOp[]): Promise<TxnResult> {
    checkTxn(conditions, ops);
    const response = await this.commit(
      'txn',
      conditions.map((condition) => modRevisionIs(condition.key, condition.modRevision)),
      ops.map((op) => (op.op === 'put' ? putOp(op.key, op.value, op.lease) : deleteOp(op.key))),
      // etcd does not say which comparison failed, so the failure branch reads the keys (at the
      // same revision) to name the first one that did.
      conditions.map((condition) => ({ request_range: { key: Buffer.from(condition.key) } })),
    );
    if (!response.succeeded) {
      const failed = conditions.find((condition, i) => {
        const current = response.responses[i]?.response_range.kvs[0];
        return Number(current?.mod_revision ?? 0) !== condition.modRevision;
      });
      throw new ConflictError((failed ?? conditions[0]!).key);
    }
    return { revision: Number(response.header.revision) };
  }

  async grantLease(ttlSeconds: number): Promise<Lease> {
    checkTtl(ttlSeconds);
    // Keepalives are the caller's business (keepAliveOnce), so nothing runs in the background.
    const lease = this.client.lease(ttlSeconds, { autoKeepAlive: false });
    const id = await this.call('grantLease', () => lease.grant());
    return {
      id,
      ttlSeconds,
      keepAliveOnce: () =>
        this.call(`keepAliveOnce lease ${id}`, async () => {
          try {
            await lease.keepaliveOnce({ deadline: Date.now() + this.timeoutMs });
            return true;
          } catch (error) {
            if (error instanceof EtcdLeaseInvalidError) return false;
            throw error;
          }
        }),
      revoke: () => this.call(`revoke lease ${id}`, () => lease.revoke()),
    };
  }

  watch(prefix: string, options: WatchOptions): Watch {
    this.assertOpen('watch');
    return this.watches.open(this.backend, prefix, options);
  }

  async compact(revision: number): Promise<void> {
    checkRevision(revision, 'compact');
    // physical: return only once the history is really gone, so that watches see the compaction.
    await this.call(`compact ${revision}`, () => this.client.kv.compact({ revision, physical: true }));
  }

  async revision(): Promise<number> {
    const response = await this.call('revision', () =>
      this.client.kv.range({ key: Buffer.from([0]), count_only: true }),
    );
    return Number(response.header.revision);
  }

  /** Stops every watch (etcd3 watchers must be cancelled before the client closes), then the client. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.watches.closeAll(new DatastoreUnavailableError('the datastore was closed'));
    this.client.close();
  }

  private commit(what: string, compare: ICompare[], success: IRequestOp[], failure: IRequestOp[] = []) {
    return this.call(what, () => this.client.kv.txn({ compare, success, failure }));
  }

  private async call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    this.assertOpen(what);
    try {
      return await operation();
    } catch (error) {
      if (error instanceof EtcdLeaseInvalidError) {
        throw new Error(`${what}: lease not found (expired or revoked)`, { cause: error });
      }
      throw new DatastoreUnavailableError(`${what}: etcd at ${this.endpoints}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new DatastoreUnavailableError(`${what}: the datastore is closed`);
  }
}

/** The etcd3 client, plus Range reads decoded by our own codec (see etcd-range-codec.ts). */
class EtcdClient extends Etcd3 {
  /**
   * One Range call through etcd3's connection pool (its hosts, per-host circuit breakers, auth
   * metadata), with our codec in place of etcd3's protobuf messages. Retried like etcd3's own
   * calls: up to three attempts while the error is one etcd3 counts as recoverable.
   */
  async rangeDecoded(request: RangeRequest, timeoutMs: number): Promise<RangeResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pool.withConnection(
          'KV',
          ({ client, metadata }) =>
            new Promise<RangeResult>((resolve, reject) => {
              client.makeUnaryRequest(
                RANGE_METHOD,
                encodeRangeRequest,
                decodeRangeResponse,
                request,
                metadata,
                { deadline: Date.now() + timeoutMs },
                (error, response) => (error ? reject(castGrpcError(error)) : resolve(response!)),
              );
            }),
        );
      } catch (error) {
        if (attempt >= RANGE_ATTEMPTS || !isRecoverableError(error as Error)) throw error;
      }
    }
  }
}

const RANGE_METHOD = '/etcdserverpb.KV/Range';
const RANGE_ATTEMPTS = 3;

/** etcd3 watchers as the syncer's raw watches. */
function etcdWatchBackend(
  client: Etcd3,
  list: WatchBackend['list'],
  listPaged: NonNullable<WatchBackend['listPaged']>,
): WatchBackend {
  return {
    list,
    listPaged,
    watchFrom(prefix: string, revision: number, listener: RawWatchListener): RawWatch {
      const watcher = client.watch().prefix(prefix).startRevision(String(revision)).watcher();
      let done = false;
      const lose = (reason: string) => {
        if (done) return;
        done = true;
        listener.onLost(reason);
      };
      watcher.on('put', (kv) => {
        if (!done) listener.onChange({ type: 'put', kv: toKeyValue(kv) });
      });
      watcher.on('delete', (kv) => {
        if (!done)
          listener.onChange({ type: 'delete', key: kv.key.toString(), revision: Number(kv.mod_revision) });
      });
      // On reconnect etcd3 resumes from the revision in the last response header, which can lie
      // past events it has not delivered yet; so drop its watcher and let the syncer re-list.
      watcher.on('disconnected', (error) => {
        if (done) return;
        void watcher.cancel();
        lose(`connection lost: ${error.message}`);
      });
      // etcd cancelled the watcher itself (its revision was compacted); etcd3 has already removed
      // it, and cancelling it again would wait forever.
      watcher.on('error', (error) => lose(`watch canceled by etcd: ${error.message || 'no reason given'}`));
      return {
        cancel: async () => {
          if (done) return;
          done = true;
          await watcher.cancel();
        },
      };
    },
  };
}

/** etcd3's KeyValue (int64s as strings) as ours; gets and watch events take this path. */
export function toKeyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    ...(kv.lease !== '0' && { lease: kv.lease }),
  };
}

/** The key's modRevision equals `revision`; 0 holds for an absent key. */
function modRevisionIs(key: string, revision: number): ICompare {
  return { key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: revision };
}

function putOp(key: string, value: string, lease: string | undefined): IRequestOp {
  return {
    request_put: { key: Buffer.from(key), value: Buffer.from(value), prev_kv: true, ...(lease && { lease }) },
  };
}

function deleteOp(key: string): IRequestOp {
  return { request_delete_range: { key: Buffer.from(key) } };
}
