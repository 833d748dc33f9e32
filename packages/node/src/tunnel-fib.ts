// Keeps the BGP speaker's FIB off the routes the tunnel manager owns. Blocks of IPIP and VXLAN
// pools are routed by the tunnel manager from the datastore (through tunl0 or vxlan.margay, or
// plainly for CrossSubnet neighbours), with its own proto; the BGP speaker still learns and
// advertises them, but installing them too would make two writers fight over one prefix. So
// best-path changes inside those pools stop here. Until the tunnel agent has said which pools
// encapsulate, nothing passes (the FIB must not install a route it would hand over a moment later);
// when a pool's mode changes, the routes of its prefixes are installed or withdrawn accordingly.

import type { BestChange, FibSink } from '@margay/bgp';
import { prefixInCidrs } from '@margay/tunnel';

export class TunnelOwnedRoutesFilter implements FibSink {
  /** The current best path of every prefix the speaker has one for. */
  private readonly latest = new Map<string, BestChange>();
  private pools: readonly string[] | undefined;
  private markReady: () => void = () => {};
  /** Resolves once the encapsulated pools are known (and held-back routes have been passed on). */
  readonly ready: Promise<void>;

  constructor(private readonly inner: FibSink) {
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
  }

  apply(changes: readonly BestChange[]): void {
    for (const change of changes) {
      if (change.best) this.latest.set(change.prefix, change);
      else this.latest.delete(change.prefix);
    }
    const pools = this.pools;
    if (pools === undefined) return;
    const passed = changes.filter((change) => !prefixInCidrs(change.prefix, pools));
    if (passed.length > 0) this.inner.apply(passed);
  }

  /** The CIDRs of the pools whose blocks the tunnel manager routes (from TunnelAgent). */
  setEncapsulatedPools(cidrs: readonly string[]): void {
    const before = this.pools;
    this.pools = [...cidrs];
    const handover: BestChange[] = [];
    for (const [prefix, change] of this.latest) {
      // Before the first call everything was held back: nothing of it is installed.
      const wasInstalled = before !== undefined && !prefixInCidrs(prefix, before);
      const isOwned = prefixInCidrs(prefix, cidrs);
      if (!wasInstalled && !isOwned) handover.push(change);
      else if (wasInstalled && isOwned) handover.push({ kind: 'removed', prefix, best: null });
    }
    if (handover.length > 0) this.inner.apply(handover);
    this.markReady();
  }

  close(keepRoutes: boolean): Promise<void> {
    return this.inner.close(keepRoutes);
  }
}
