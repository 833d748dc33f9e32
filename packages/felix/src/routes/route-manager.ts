// Programs the routes the calc stage wants through one RouteTable tagged with felix's proto, so
// routes of every other writer (the host's own, BGP's, the tunnel manager's) are never touched.
// Changes are flushed in one batch after a short debounce; a periodic reconcile re-reads the
// kernel and repairs whatever someone else removed or changed. The manager only ever moves the
// kernel towards the last desired state it was given: when the datastore goes away that state
// stays put, and so do the routes (fail static).

import {
  type CommandRunner,
  type KernelRoute,
  ROUTE_PROTO,
  RouteTable,
  type WriteResult,
} from '@margay/dataplane';

export interface RouteManagerOptions {
  readonly runner: CommandRunner;
  /** The desired routes, by destination: read at every flush and reconcile. */
  readonly desired: () => ReadonlyMap<string, KernelRoute>;
  /** How long changes gather before one flush. Default 50 ms. */
  readonly debounceMs?: number;
  /** Period of the full reconcile against the kernel. Default 90 s, as Calico's RouteRefreshInterval. */
  readonly reconcileIntervalMs?: number;
  /** Delay before a flush that left failed routes is retried. Default 1 s. */
  readonly retryDelayMs?: number;
  /** Told about routes the kernel refused and about writes that failed as a whole. */
  readonly onError?: (message: string) => void;
}

export class RouteManager {
  private readonly table: RouteTable;
  private readonly desired: () => ReadonlyMap<string, KernelRoute>;
  private readonly debounceMs: number;
  private readonly reconcileIntervalMs: number;
  private readonly retryDelayMs: number;
  private readonly onError: (message: string) => void;
  private flushTimer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private running = false;
  /** The write in progress, so stop() can wait for it. */
  private writing: Promise<void> = Promise.resolve();

  constructor(options: RouteManagerOptions) {
    this.table = new RouteTable({ runner: options.runner, proto: ROUTE_PROTO.felix });
    this.desired = options.desired;
    this.debounceMs = nonNegative('debounceMs', options.debounceMs ?? 50);
    this.reconcileIntervalMs = positive('reconcileIntervalMs', options.reconcileIntervalMs ?? 90_000);
    this.retryDelayMs = positive('retryDelayMs', options.retryDelayMs ?? 1_000);
    this.onError = options.onError ?? (() => {});
  }

  /**
   * Starts programming: a full reconcile now (adopting routes of our proto already in the kernel,
   * such as those the CNI plugin added, and removing stale ones), then one every interval.
   * Call it only once the desired state is complete (after the first in-sync).
   */
  start(): Promise<void> {
    if (this.running) return this.writing;
    this.running = true;
    this.reconcileTimer = setInterval(() => void this.reconcile(), this.reconcileIntervalMs);
    return this.reconcile();
  }

  /** The desired routes changed: flush after the debounce. Ignored until started. */
  invalidate(): void {
    this.scheduleFlush(this.debounceMs);
  }

  /** Re-reads the kernel and writes the whole difference now. */
  reconcile(): Promise<void> {
    return this.write((table) => table.reconcile());
  }

  /** Stops timers and waits for the write in progress. Programmed routes stay in the kernel. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.flushTimer);
    clearInterval(this.reconcileTimer);
    this.flushTimer = undefined;
    this.reconcileTimer = undefined;
    await this.writing;
  }

  private scheduleFlush(delayMs: number): void {
    if (!this.running || this.flushTimer !== undefined) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.write((table) => table.flush());
    }, delayMs);
  }

  private write(operation: (table: RouteTable) => Promise<WriteResult>): Promise<void> {
    if (!this.running) return this.writing;
    const done = this.writing.then(async () => {
      try {
        this.syncDesired();
        const result = await operation(this.table);
        for (const failure of result.failures) {
          this.onError(`route ${failure.dst} not programmed (${failure.line}): ${failure.error}`);
        }
        if (result.failures.length > 0) this.scheduleFlush(this.retryDelayMs);
      } catch (error) {
        this.onError(`writing routes failed: ${(error as Error).message}`);
        this.scheduleFlush(this.retryDelayMs);
      }
    });
    this.writing = done;
    return done;
  }

  /** Hands the table the current desired state; the table diffs it against the kernel. */
  private syncDesired(): void {
    const desired = this.desired();
    for (const dst of this.table.routes().keys()) {
      if (!desired.has(dst)) this.table.delete(dst);
    }
    for (const route of desired.values()) this.table.set(route);
  }
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`RouteManager ${name} ${value} must be a number >= 0`);
  return value;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`RouteManager ${name} ${value} must be a number > 0`);
  return value;
}
