// The node's status key, like felix's status reports: written under a lease that the node keeps
// alive while it runs, so a node that dies silently drops out of the datastore by itself.

import { statusKeys } from '@margay/api';
import type { Datastore, Lease } from '@margay/datastore';

export interface NodeStatus {
  /** When the report was written (ISO 8601). */
  readonly time: string;
  /** Seconds since the node started. */
  readonly uptime: number;
  readonly bgp: { readonly peers: Readonly<Record<string, number>> };
}

export interface StatusReporterOptions {
  readonly store: Datastore;
  readonly nodeName: string;
  /** The current status, asked for at each report. */
  readonly status: () => NodeStatus;
  /** Default 90 s. */
  readonly ttlSeconds?: number;
  /** Default 30 s. */
  readonly intervalMs?: number;
  /** Called when a periodic report fails; the next one tries again. */
  readonly onError?: (error: Error) => void;
}

export const statusKey = statusKeys.node;

export class StatusReporter {
  private timer: NodeJS.Timeout | undefined;
  private reporting: Promise<void> = Promise.resolve();

  private constructor(
    private readonly options: StatusReporterOptions,
    private lease: Lease,
  ) {}

  /** Grants the lease and writes the first report; throws if either fails. */
  static async start(options: StatusReporterOptions): Promise<StatusReporter> {
    const reporter = new StatusReporter(options, await options.store.grantLease(options.ttlSeconds ?? 90));
    await reporter.report();
    reporter.timer = setInterval(() => {
      reporter.reporting = reporter.refresh().catch((error: Error) => options.onError?.(error));
    }, options.intervalMs ?? 30_000);
    return reporter;
  }

  /** Stops reporting and revokes the lease, which deletes the key. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.reporting;
    await this.lease.revoke();
  }

  private async refresh(): Promise<void> {
    // A lease that expired (etcd unreachable for longer than the TTL) is replaced.
    if (!(await this.lease.keepAliveOnce()))
      this.lease = await this.options.store.grantLease(this.lease.ttlSeconds);
    await this.report();
  }

  private async report(): Promise<void> {
    const { store, nodeName, status } = this.options;
    await store.put(statusKey(nodeName), JSON.stringify(status()), { lease: this.lease.id });
  }
}
