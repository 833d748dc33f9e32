// The tunnel agent: datastore watches (Nodes, IPPools, every node's block affinities) feed the
// calculator, and the dataplane makes the kernel match it. Nothing is written, to the datastore
// or the kernel, before all three watches have delivered a complete snapshot; after that every
// change is applied (debounced) without a restart, and the whole state is re-applied periodically
// to repair what someone else changed. When enabled it also keeps this node's tunnel addresses
// in IPAM and its Node resource. Stopping leaves the kernel as it is, so pod traffic keeps flowing.

import { type IPPool, type Node, resourceKey, resourcePrefix } from '@margay/api';
import type { CommandRunner } from '@margay/dataplane';
import type { Datastore, KeyValue, Watch, WatchEvent } from '@margay/datastore';
import { Ipam, ipamKeys } from '@margay/ipam';
import { syncTunnelAddresses } from './addresses';
import { calculateTunnelState, poolEncapsulation } from './calculate';
import { TunnelDataplane } from './dataplane';
import { decodeAffinity, decodeNode, decodePool, tunnelNode, tunnelPool } from './inputs';
import type { BlockAffinity, Underlay } from './state';
import { findUnderlay } from './underlay';

export interface TunnelLogger {
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export interface TunnelAgentOptions {
  readonly datastore: Datastore;
  readonly nodeName: string;
  /** Runs `ip` and `bridge` on the node. */
  readonly runner: CommandRunner;
  /** Assign and release this node's tunnel addresses (default true). */
  readonly manageAddresses?: boolean;
  /** IPAM for the tunnel addresses; default one on `datastore`. */
  readonly ipam?: Ipam;
  /** Configured device MTUs; default the underlay MTU minus the encapsulation overhead. */
  readonly mtu?: { readonly ipip?: number; readonly vxlan?: number };
  /** Told the CIDRs of the pools whose routes the tunnel manager owns, on the first sync and on every change. */
  readonly onEncapsulatedPools?: (cidrs: readonly string[]) => void;
  /** How long changes gather before one apply. Default 50 ms. */
  readonly debounceMs?: number;
  /** Period of the full re-apply. Default 90 s. */
  readonly reconcileIntervalMs?: number;
  /** Delay before an apply that failed is retried. Default 1 s. */
  readonly retryDelayMs?: number;
  readonly log?: TunnelLogger;
}

type Source = 'nodes' | 'pools' | 'affinities';
const SILENT: TunnelLogger = { info: () => {}, warn: () => {} };

export class TunnelAgent {
  private readonly options: TunnelAgentOptions;
  private readonly log: TunnelLogger;
  private readonly dataplane: TunnelDataplane;
  private readonly ipam: Ipam;
  private readonly nodes = new Map<string, Node>();
  private readonly pools = new Map<string, IPPool>();
  private readonly affinities = new Map<string, BlockAffinity>();
  private readonly synced = new Set<Source>();
  private watches: Watch[] = [];
  private state: 'new' | 'started' | 'stopped' = 'new';
  private timer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private lastReport = '';
  private lastPools: string | undefined;
  private applies = 0;

  constructor(options: TunnelAgentOptions) {
    resourceKey('Node', options.nodeName); // validates the name, naming the problem
    for (const name of ['debounceMs', 'reconcileIntervalMs', 'retryDelayMs'] as const) {
      const value = options[name];
      if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
        throw new Error(`TunnelAgent ${name} ${value} must be a number >= 0`);
      }
    }
    this.options = options;
    this.log = options.log ?? SILENT;
    this.dataplane = new TunnelDataplane({ runner: options.runner });
    this.ipam = options.ipam ?? new Ipam(options.datastore);
  }

  /** True once all three watches have delivered their first complete snapshot. */
  get inSync(): boolean {
    return this.synced.size === 3;
  }

  /** Completed applies (for tests and metrics). */
  get applyCount(): number {
    return this.applies;
  }

  start(): void {
    if (this.state !== 'new') throw new Error(`TunnelAgent cannot start: it is already ${this.state}`);
    this.state = 'started';
    const { datastore } = this.options;
    this.watches = [
      this.watch(datastore, 'nodes', resourcePrefix('Node')),
      this.watch(datastore, 'pools', resourcePrefix('IPPool')),
      this.watch(datastore, 'affinities', ipamKeys.hosts),
    ];
    const interval = this.options.reconcileIntervalMs ?? 90_000;
    this.reconcileTimer = setInterval(() => this.schedule(0), interval);
  }

  /** Stops watching and applying; what is in the kernel stays. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.timer);
    clearInterval(this.reconcileTimer);
    this.timer = undefined;
    const watches = this.watches;
    this.watches = [];
    await Promise.all(watches.map((watch) => watch.close()));
    await this.running;
  }

  /** Waits for the apply in progress, if any. */
  idle(): Promise<void> {
    return this.running;
  }

  private watch(datastore: Datastore, source: Source, prefix: string): Watch {
    return datastore.watch(prefix, {
      onEvent: (event) => this.onEvent(source, event),
      onError: (error) => this.log.warn(`tunnel ${source} watch stopped: ${error.message}`),
    });
  }

  private onEvent(source: Source, event: WatchEvent): void {
    switch (event.type) {
      case 'put':
        this.put(source, event.kv);
        break;
      case 'delete':
        this.maps()[source].delete(event.key);
        break;
      case 'in-sync':
        this.synced.add(source);
        break;
      case 'resync':
        this.log.warn(`tunnel ${source} watch resyncing: ${event.reason}`);
        return;
    }
    if (this.inSync) this.schedule(this.options.debounceMs ?? 50);
  }

  private put(source: Source, kv: KeyValue): void {
    try {
      if (source === 'nodes') this.nodes.set(kv.key, decodeNode(kv));
      else if (source === 'pools') this.pools.set(kv.key, decodePool(kv));
      else {
        const affinity = decodeAffinity(kv);
        if (affinity === undefined) this.affinities.delete(kv.key);
        else this.affinities.set(kv.key, affinity);
      }
    } catch (error) {
      this.log.warn(`tunnel agent ignores ${(error as Error).message}`);
    }
  }

  private maps(): Record<Source, Map<string, unknown>> {
    return { nodes: this.nodes, pools: this.pools, affinities: this.affinities };
  }

  private schedule(delayMs: number): void {
    if (this.state !== 'started' || !this.inSync || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(() => this.sync());
    }, delayMs);
  }

  private async sync(): Promise<void> {
    if (this.state !== 'started') return;
    try {
      const pools = [...this.pools.values()];
      this.reportPools(pools);
      if (this.options.manageAddresses ?? true) await this.syncAddresses(pools);
      const ok = await this.apply(pools);
      if (!ok) this.schedule(this.options.retryDelayMs ?? 1_000);
    } catch (error) {
      this.log.warn(`tunnel sync failed: ${(error as Error).message}`);
      this.schedule(this.options.retryDelayMs ?? 1_000);
    }
  }

  private async syncAddresses(pools: IPPool[]): Promise<void> {
    const self = this.nodes.get(resourceKey('Node', this.options.nodeName));
    if (self === undefined) return; // not registered yet: its Node's arrival triggers another sync
    // The Node write (if any) comes back through the watch and triggers the apply that uses it.
    await syncTunnelAddresses(this.options.datastore, this.ipam, this.options.nodeName, pools);
  }

  /** Returns false if something failed and should be retried. */
  private async apply(pools: IPPool[]): Promise<boolean> {
    const nodes = [...this.nodes.values()].map(tunnelNode);
    const self = nodes.find((node) => node.name === this.options.nodeName);
    const address = self?.ipv4Address?.split('/', 1)[0];
    const underlay: Underlay | undefined =
      address === undefined ? undefined : await findUnderlay(this.options.runner, address);
    const calculation = calculateTunnelState({
      nodeName: this.options.nodeName,
      pools: pools.map(tunnelPool),
      nodes,
      affinities: [...this.affinities.values()],
      underlay,
      ...(this.options.mtu !== undefined && { mtu: this.options.mtu }),
    });
    const report = JSON.stringify(calculation.ready ? calculation.problems : [calculation.reason]);
    if (report !== this.lastReport) {
      this.lastReport = report;
      if (!calculation.ready) this.log.warn(`tunnels wait: ${calculation.reason}`);
      for (const problem of calculation.problems) this.log.warn(problem);
    }
    if (!calculation.ready) return true; // the event that makes it ready triggers the next sync
    const result = await this.dataplane.apply(calculation.state);
    this.applies++;
    for (const failure of result.failures) this.log.warn(failure);
    if (result.commands > 0) {
      this.log.info('tunnels applied', {
        commands: result.commands,
        routes: calculation.state.routes.length,
        ipip: calculation.state.ipip !== undefined,
        vxlan: calculation.state.vxlan !== undefined,
      });
    }
    return result.failures.length === 0;
  }

  private reportPools(pools: IPPool[]): void {
    const cidrs = pools
      .filter((pool) => poolEncapsulation(pool.spec) !== undefined)
      .map((pool) => pool.spec.cidr)
      .sort();
    const text = cidrs.join(',');
    if (text === this.lastPools) return;
    this.lastPools = text;
    this.options.onEncapsulatedPools?.(cidrs);
  }
}
