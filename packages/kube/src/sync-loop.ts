// One informer (client-node's ListWatch) and the serial queue its events are applied through.
// The informer lists, then watches from the listing's resourceVersion; a 410 Gone makes it list
// again and report what disappeared as deletions. Other errors stop a ListWatch for good, so the
// loop restarts it (from the last resourceVersion it saw) after a backoff.

import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import { ConflictError, DatastoreUnavailableError } from '@margay/datastore';
import type { Logger } from '@margay/log';
import type { KubeObject } from './kube-objects';

export interface KindSync<T extends KubeObject> {
  /** Kubernetes kind, for logs. */
  readonly kind: string;
  /** Collection path of the list/watch, e.g. `/api/v1/namespaces`. */
  readonly path: string;
  list(): Promise<KubernetesListObject<T & KubernetesObject>>;
  /** The object was added or changed. */
  upsert(obj: T): Promise<void>;
  /** The object was deleted. */
  remove(obj: T): Promise<void>;
  /** After every full listing: delete what this sync owns that the listing no longer holds. */
  resync(listed: readonly T[]): Promise<void>;
}

export interface SyncLoopOptions {
  logger: Logger;
  /** First delay before restarting a failed informer or retrying a failed step; doubles up to maxRestartDelayMs. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
}

/** Asks the API server for BOOKMARK events, which client-node's ListWatch does not do by itself. */
class BookmarkingWatch extends Watch {
  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(path, { ...queryParams, allowWatchBookmarks: true }, callback, done);
  }
}

export class SyncLoop<T extends KubeObject> {
  private readonly informer: ListWatch<T & KubernetesObject>;
  private readonly log: Logger;
  private readonly firstDelayMs: number;
  private readonly maxDelayMs: number;
  private delayMs: number;
  private queue: Promise<void> = Promise.resolve();
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private running = false;
  private listings = 0;
  private restarts = 0;

  constructor(
    private readonly sync: KindSync<T>,
    kubeConfig: KubeConfig,
    options: SyncLoopOptions,
  ) {
    this.log = options.logger;
    this.firstDelayMs = options.restartDelayMs ?? 200;
    this.maxDelayMs = options.maxRestartDelayMs ?? 10_000;
    this.delayMs = this.firstDelayMs;
    this.informer = new ListWatch(sync.path, new BookmarkingWatch(kubeConfig), () => this.list(), false);
    this.informer.on('add', (obj) => this.enqueue('upsert', obj));
    this.informer.on('update', (obj) => this.enqueue('upsert', obj));
    this.informer.on('delete', (obj) => this.enqueue('remove', obj));
    this.informer.on('error', (error) => this.failed(error));
  }

  async start(): Promise<void> {
    this.running = true;
    await this.informer.start();
  }

  /** Stops the informer and waits for the work already queued. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.restartTimer);
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    await this.informer.stop();
    await this.queue;
  }

  /** The object as the informer's cache holds it. */
  cached(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  /** Apply the object again, behind the informer's events: something it maps onto changed. */
  refresh(obj: T): void {
    this.enqueue('upsert', obj);
  }

  /**
   * Applies an event in turn. A bad object is logged and skipped; a datastore that is unreachable
   * or changed underneath is retried later, with the object as the cache then holds it (a newer
   * version, or none: then a stale upsert is dropped and a removal goes ahead).
   */
  private enqueue(step: 'upsert' | 'remove', obj: T, attempt = 1): void {
    const work = step === 'upsert' ? () => this.sync.upsert(obj) : () => this.sync.remove(obj);
    this.queue = this.queue.then(work).catch((error: unknown) => {
      const retry = isTransient(error) && attempt < MAX_ATTEMPTS && this.running;
      this.log.error('kube sync step failed', {
        kind: this.sync.kind,
        step,
        object: describe(obj),
        error: (error as Error).message,
        ...(retry && { retryInMs: this.retryDelay(attempt) }),
      });
      if (retry) this.later(attempt, () => this.retry(step, obj, attempt + 1));
    });
  }

  private retry(step: 'upsert' | 'remove', obj: T, attempt: number): void {
    const latest = this.informer.get(obj.metadata?.name ?? '', obj.metadata?.namespace);
    if (step === 'upsert' && latest) this.enqueue('upsert', latest, attempt);
    if (step === 'remove' && !latest) this.enqueue('remove', obj, attempt);
  }

  /** A failed resync is retried against the cache, which by then holds the listing and what followed. */
  private enqueueResync(listed: readonly T[], attempt = 1): void {
    this.queue = this.queue
      .then(() => this.sync.resync(listed))
      .catch((error: unknown) => {
        const retry = isTransient(error) && attempt < MAX_ATTEMPTS && this.running;
        this.log.error('kube sync resync failed', { kind: this.sync.kind, error: (error as Error).message });
        if (retry) this.later(attempt, () => this.enqueueResync(this.informer.list(), attempt + 1));
      });
  }

  private retryDelay(attempt: number): number {
    return Math.min(this.firstDelayMs * 2 ** (attempt - 1), this.maxDelayMs);
  }

  private later(attempt: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      if (this.running) action();
    }, this.retryDelay(attempt));
    this.retryTimers.add(timer);
  }

  /** What has happened so far: full listings done, and informer restarts after errors. */
  stats(): { listings: number; restarts: number; resourceVersion: string } {
    return {
      listings: this.listings,
      restarts: this.restarts,
      resourceVersion: this.informer.latestResourceVersion(),
    };
  }

  private async list(): Promise<KubernetesListObject<T & KubernetesObject>> {
    const listing = await this.sync.list();
    this.listings++;
    this.delayMs = this.firstDelayMs;
    const items = listing.items as T[];
    this.log.info('kube sync listed', {
      kind: this.sync.kind,
      items: items.length,
      resourceVersion: listing.metadata?.resourceVersion,
    });
    // Queued before the informer reports the listed items, so it works on this listing only.
    this.enqueueResync(items);
    return listing;
  }

  private failed(error: unknown): void {
    if (!this.running) return; // stopping aborts the watch, which the informer reports as an error
    this.restarts++;
    const delayMs = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.maxDelayMs);
    this.log.warn('kube informer failed, restarting', {
      kind: this.sync.kind,
      error: (error as Error | undefined)?.message ?? String(error),
      delayMs,
      resourceVersion: this.informer.latestResourceVersion(),
    });
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (!this.running) return;
      this.informer.start().catch((startError: unknown) => this.failed(startError));
    }, delayMs);
  }
}

/** Attempts at one event before it is left to the next listing. */
const MAX_ATTEMPTS = 6;

function isTransient(error: unknown): boolean {
  return error instanceof DatastoreUnavailableError || error instanceof ConflictError;
}

function describe(obj: KubeObject): string {
  const meta = obj.metadata ?? {};
  return meta.namespace ? `${meta.namespace}/${meta.name}` : String(meta.name);
}
