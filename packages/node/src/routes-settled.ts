// When a (re)started node has its peers' routes again: every peer of its first speaker has sent
// End-of-RIB for IPv4, or the wait ran out (a peer that never comes back must not keep stale routes
// forever). That is when the kernel FIB may drop the routes a previous run left and nobody sent
// again — RFC 4724 §4.1's deferral, like BIRD's kernel protocol waiting for graceful restart.

import type { BgpServer } from '@margay/bgp';

export interface RoutesSettledOptions {
  readonly server: BgpServer;
  /** The peers configured when the speaker started. */
  readonly peers: readonly string[];
  readonly timeoutMs: number;
  /** Called once, with why. */
  readonly onSettled: (reason: 'end-of-rib' | 'timeout') => void;
}

export class RoutesSettled {
  private readonly waiting: Set<string>;
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private done = false;

  constructor(private readonly options: RoutesSettledOptions) {
    this.waiting = new Set(options.peers);
    this.unsubscribe = options.server.onEndOfRib((peer, family) => {
      if (family === 'ipv4' && this.waiting.delete(peer)) this.check();
    });
    this.timer = setTimeout(() => this.finish('timeout'), options.timeoutMs);
    this.timer.unref();
    queueMicrotask(() => this.check()); // no peers at all: settled at once
  }

  get settled(): boolean {
    return this.done;
  }

  /** Peers removed from the configuration are no longer waited for. */
  retain(peers: readonly string[]): void {
    const still = new Set(peers);
    for (const peer of this.waiting) if (!still.has(peer)) this.waiting.delete(peer);
    this.check();
  }

  /** Stops waiting without calling back (the node is stopping). */
  cancel(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.unsubscribe();
  }

  private check(): void {
    if (this.waiting.size === 0) this.finish('end-of-rib');
  }

  private finish(reason: 'end-of-rib' | 'timeout'): void {
    if (this.done) return;
    this.cancel();
    this.options.onSettled(reason);
  }
}
