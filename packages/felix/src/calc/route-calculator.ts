// The route calc stage: from this node's WorkloadEndpoints and IPAM block affinities, as the
// datastore watch delivers them, to the routes felix wants in the kernel: a link-scoped host
// route per workload address to its interface, and a blackhole per block affine to this node
// (so traffic to an unused address of a local block is dropped here instead of bouncing back
// along the default route). Level-triggered: it keeps the current inputs and computes the whole
// desired state on demand; it does no I/O.

import type { KernelRoute } from '@margay/dataplane';
import type { KeyValue, WatchEvent } from '@margay/datastore';
import { decodeAffinity, decodeEndpointOf, type EndpointRoutes } from './inputs';

/** The two watches the stage consumes. */
export type RouteSource = 'endpoints' | 'affinities';

export interface RouteCalculatorOptions {
  /** This node's name: endpoints of other nodes are ignored. */
  readonly nodeName: string;
  /** Told about a stored value that cannot be used; the value is ignored and the last good one kept. */
  readonly onProblem?: (message: string) => void;
}

export class RouteCalculator {
  private readonly nodeName: string;
  private readonly onProblem: (message: string) => void;
  /** This node's endpoints, by key. */
  private readonly endpoints = new Map<string, EndpointRoutes>();
  /** Confirmed affine blocks, by affinity key. */
  private readonly blocks = new Map<string, string>();
  private interfaces: ReadonlySet<string> = new Set();
  private readonly synced = new Set<RouteSource>();

  constructor(options: RouteCalculatorOptions) {
    this.nodeName = options.nodeName;
    this.onProblem = options.onProblem ?? (() => {});
  }

  /** True once both watches have delivered a complete snapshot: before that nothing may be programmed. */
  get inSync(): boolean {
    return this.synced.size === 2;
  }

  /** Applies one watch event. Returns true if the desired routes may have changed. */
  apply(source: RouteSource, event: WatchEvent): boolean {
    switch (event.type) {
      case 'put':
        return this.put(source, event.kv);
      case 'delete':
        return source === 'endpoints' ? this.endpoints.delete(event.key) : this.blocks.delete(event.key);
      case 'in-sync': {
        const first = !this.synced.has(source);
        this.synced.add(source);
        return first;
      }
      case 'resync':
        // The re-listing that follows arrives as puts and deletes of what changed meanwhile;
        // until then the last known state stands (fail static).
        return false;
    }
  }

  /** Sets the names of the interfaces that exist and are up; workloads on others wait. */
  setInterfaces(names: ReadonlySet<string>): boolean {
    const before = this.interfaces;
    this.interfaces = new Set(names);
    return [...this.interfacesInUse()].some((name) => before.has(name) !== this.interfaces.has(name));
  }

  /** The desired routes, by destination. Workload keys are visited in order so a conflict resolves the same way every time. */
  routes(): Map<string, KernelRoute> {
    const routes = new Map<string, KernelRoute>();
    for (const cidr of this.blocks.values()) routes.set(cidr, { dst: cidr, type: 'blackhole' });
    const keys = [...this.endpoints.keys()].sort();
    for (const key of keys) {
      const endpoint = this.endpoints.get(key);
      if (endpoint === undefined || !this.interfaces.has(endpoint.interfaceName)) continue;
      for (const dst of endpoint.ipNetworks) {
        const claimed = routes.get(dst);
        if (claimed?.type === 'link') {
          this.onProblem(
            `${key}: ${dst} is already routed to ${claimed.dev}; ignoring it for ${endpoint.interfaceName}`,
          );
          continue;
        }
        routes.set(dst, { dst, type: 'link', dev: endpoint.interfaceName });
      }
    }
    return routes;
  }

  private put(source: RouteSource, kv: KeyValue): boolean {
    try {
      if (source === 'affinities') return this.putAffinity(kv);
      return this.putEndpoint(kv);
    } catch (error) {
      this.onProblem(`ignoring ${(error as Error).message}`);
      return false;
    }
  }

  private putEndpoint(kv: KeyValue): boolean {
    const endpoint = decodeEndpointOf(kv, this.nodeName);
    // An endpoint that moved to another node is no longer ours.
    if (endpoint === undefined) return this.endpoints.delete(kv.key);
    this.endpoints.set(kv.key, endpoint);
    return true;
  }

  private putAffinity(kv: KeyValue): boolean {
    const cidr = decodeAffinity(kv);
    if (cidr === undefined) return this.blocks.delete(kv.key);
    this.blocks.set(kv.key, cidr);
    return true;
  }

  private interfacesInUse(): Set<string> {
    return new Set([...this.endpoints.values()].map((endpoint) => endpoint.interfaceName));
  }
}
