// FIB sync: installs the Loc-RIB's best paths as kernel routes through the dataplane's route
// writer. Bursts of changes are collected and written on the next timer tick, so a full table
// arriving from a peer becomes a few `ip -batch` runs rather than one process per route.

import {
  type CommandRunner,
  type KernelRoute,
  MAIN_TABLE,
  ProcessRunner,
  ROUTE_PROTO,
  RouteTable,
  type WriteResult,
} from '@margay/dataplane';
import { type Logger, silentLogger } from '@margay/log';
import { formatIpv4, formatIpv6 } from '../packet/ip';
import type { FibSink } from '../server/fib-sink';
import { LOCAL_PEER } from '../table/peer';
import type { BestChange, Route } from '../table/rib';

/** The rtnetlink protocol number our kernel routes carry (see ROUTE_PROTO in @margay/dataplane). */
export const DEFAULT_BGP_PROTO = ROUTE_PROTO.bgp;

export interface KernelFibOptions {
  readonly runner?: CommandRunner;
  readonly proto?: number;
  /** Routing table id. Default main (254). */
  readonly table?: number;
  readonly metric?: number;
  /** Install routes `via <next hop> dev <device>`; needed for link-local IPv6 next hops. */
  readonly device?: string;
  /** Add `onlink` (next hops not on a local subnet, e.g. over a tunnel); needs `device`. */
  readonly onlink?: boolean;
  /**
   * Keep the routes a previous run left (our proto) until `sweepStale()`: a restarting speaker
   * keeps forwarding on them until its peers have sent their tables again (RFC 4724 §4.1).
   * Default false: the first write removes whatever the kernel holds that the table does not.
   */
  readonly keepStaleUntilSwept?: boolean;
  /** How long to collect changes before writing. Default 0: the next timer tick. */
  readonly flushDelayMs?: number;
  readonly logger?: Logger;
}

export class KernelFib implements FibSink {
  private readonly table: RouteTable;
  private readonly options: KernelFibOptions;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  /**
   * The first write reconciles, adopting or removing what a previous run left behind; with
   * `keepStaleUntilSwept` that waits for sweepStale(), and writes before it only add and replace.
   */
  private synced = false;
  private sweepPending: boolean;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(options: KernelFibOptions = {}) {
    if (options.onlink && options.device === undefined) throw new Error('KernelFib: onlink needs a device');
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    this.sweepPending = options.keepStaleUntilSwept ?? false;
    this.table = new RouteTable({
      runner: options.runner ?? new ProcessRunner(),
      proto: options.proto ?? DEFAULT_BGP_PROTO,
      table: options.table ?? MAIN_TABLE,
    });
  }

  apply(changes: readonly BestChange[]): void {
    if (this.closed) throw new Error('KernelFib is closed');
    for (const change of changes) {
      const route = change.best && this.kernelRoute(change.best);
      try {
        if (route) this.table.set(route);
        else this.table.delete(change.prefix);
      } catch (error) {
        // One unusable route (say, a bad device name in the options) must not stop the others.
        this.logger.warn('route not installed', { prefix: change.prefix, error: (error as Error).message });
        this.table.delete(change.prefix);
      }
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.write();
    }, this.options.flushDelayMs ?? 0);
  }

  /**
   * Ends the wait `keepStaleUntilSwept` began: removes our routes the table does not hold (what
   * the peers did not send again) and reconciles from now on. Idempotent.
   */
  sweepStale(): Promise<void> {
    if (!this.sweepPending || this.closed) return this.writing;
    this.sweepPending = false;
    return this.write(true);
  }

  /** Re-reads the kernel and repairs any difference: for the daemon's periodic resync. */
  reconcile(): Promise<void> {
    return this.write(!this.sweepPending); // not before the stale sweep: that would be it
  }

  async close(keepRoutes: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!keepRoutes) this.table.clear();
    // Kept routes get the last changes too, so the kernel matches the table we stop with.
    await this.write(!keepRoutes);
  }

  /** Writes after any write in progress; failures are logged and their prefixes retried next time. */
  private write(reconcile = false): Promise<void> {
    this.writing = this.writing.then(async () => {
      try {
        const full = reconcile || (!this.synced && !this.sweepPending);
        const result = await (full ? this.table.reconcile() : this.table.flush());
        if (full) this.synced = true;
        this.report(result);
      } catch (error) {
        this.logger.error('FIB write failed', { error: (error as Error).message });
      }
    });
    return this.writing;
  }

  private report(result: WriteResult): void {
    for (const failure of result.failures) {
      this.logger.warn('kernel refused a route', { line: failure.line, error: failure.error });
    }
  }

  /** The kernel route for a best path, or null when it is not to be installed. */
  private kernelRoute(best: Route): KernelRoute | null {
    if (best.from === LOCAL_PEER) return null; // ours already: the kernel routes it locally
    const via = nextHop(best);
    if (via === null) {
      this.logger.warn('best path has no usable next hop; not installed', { prefix: best.prefix });
      return null;
    }
    const { device, onlink, metric } = this.options;
    if (via.startsWith('fe80:') && device === undefined) {
      this.logger.warn('link-local next hop needs a device; not installed', { prefix: best.prefix, via });
      return null;
    }
    return {
      dst: best.prefix,
      type: 'unicast',
      via,
      ...(device === undefined ? {} : { dev: device }),
      ...(onlink ? { onlink } : {}),
      ...(metric === undefined ? {} : { metric }),
    };
  }
}

/** The next hop of the prefix's own family: NEXT_HOP for IPv4, MP_REACH's global address for IPv6. */
function nextHop(route: Route): string | null {
  const { nextHop: ipv4, mpNextHop } = route.attributes;
  if (!route.prefix.includes(':')) {
    if (ipv4 !== null) return formatIpv4(ipv4);
    return mpNextHop?.length === 4 ? formatIpv4(mpNextHop.readUInt32BE(0)) : null;
  }
  if (mpNextHop === null || mpNextHop.length < 16) return null;
  const words = [0, 4, 8, 12].map((offset) => mpNextHop.readUInt32BE(offset));
  return formatIpv6(words);
}
