// Felix, this increment: datastore watches → route calc stage → route manager. Two watches feed
// the calc stage (every WorkloadEndpoint, filtered to this node, and this node's IPAM affinities);
// a poll of the interfaces tells it which workload interfaces exist. Nothing is programmed
// before both watches have delivered a complete snapshot; after that every change is flushed
// (debounced) and the kernel is reconciled periodically. Stopping leaves the routes in place so
// that a restarting felix does not interrupt pod traffic.

import { resourceKey, resourcePrefix } from '@margay/api';
import type { CommandRunner } from '@margay/dataplane';
import type { Datastore, Watch, WatchEvent } from '@margay/datastore';
import { ipamKeys } from '@margay/ipam';
import { RouteCalculator, type RouteSource } from './calc/route-calculator';
import { readUpInterfaces } from './routes/interfaces';
import { RouteManager } from './routes/route-manager';

export interface FelixLogger {
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export interface FelixOptions {
  /** Felix only watches: it never writes to the datastore. */
  readonly datastore: Pick<Datastore, 'watch'>;
  /** This node's name, as in WorkloadEndpoint spec.node and the IPAM affinity keys. */
  readonly nodeName: string;
  /** Runs `ip` on the node (a ProcessRunner; one bound to a namespace in tests). */
  readonly runner: CommandRunner;
  /** Full route reconcile period. Default 90 s. */
  readonly routeReconcileIntervalMs?: number;
  /** How long route changes gather before one flush. Default 50 ms. */
  readonly routeDebounceMs?: number;
  /** How often the interfaces are re-read, so a workload waiting for its veth gets its route. Default 1 s. */
  readonly interfacePollIntervalMs?: number;
  readonly log?: FelixLogger;
}

const SILENT: FelixLogger = { info: () => {}, warn: () => {} };

export class Felix {
  private readonly options: FelixOptions;
  private readonly log: FelixLogger;
  private readonly calc: RouteCalculator;
  private readonly routes: RouteManager;
  private readonly interfacePollIntervalMs: number;
  private state: 'new' | 'started' | 'stopped' = 'new';
  private watches: Watch[] = [];
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private programming = false;

  constructor(options: FelixOptions) {
    // Validates the name with the datastore's own rules, naming the problem.
    resourceKey('Node', options.nodeName);
    this.interfacePollIntervalMs = options.interfacePollIntervalMs ?? 1_000;
    if (!Number.isFinite(this.interfacePollIntervalMs) || this.interfacePollIntervalMs <= 0) {
      throw new Error(`Felix interfacePollIntervalMs ${this.interfacePollIntervalMs} must be a number > 0`);
    }
    this.options = options;
    this.log = options.log ?? SILENT;
    this.calc = new RouteCalculator({
      nodeName: options.nodeName,
      onProblem: (message) => this.log.warn(message),
    });
    this.routes = new RouteManager({
      runner: options.runner,
      desired: () => this.calc.routes(),
      ...(options.routeDebounceMs !== undefined && { debounceMs: options.routeDebounceMs }),
      ...(options.routeReconcileIntervalMs !== undefined && {
        reconcileIntervalMs: options.routeReconcileIntervalMs,
      }),
      onError: (message) => this.log.warn(message),
    });
  }

  /** True once both watches have delivered their first complete snapshot. */
  get inSync(): boolean {
    return this.calc.inSync;
  }

  /** Reads the interfaces, then starts watching. Programming begins at the first in-sync. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`Felix cannot start: it is already ${this.state}`);
    this.state = 'started';
    // Interfaces first: a snapshot applied without them would look like no workload has a
    // veth, and the first reconcile would delete every workload route.
    this.calc.setInterfaces(await readUpInterfaces(this.options.runner));
    const { nodeName } = this.options;
    this.watches = [
      this.watch('endpoints', resourcePrefix('WorkloadEndpoint')),
      this.watch('affinities', ipamKeys.affinities(nodeName)),
    ];
    this.pollTimer = setInterval(() => void this.pollInterfaces(), this.interfacePollIntervalMs);
    this.log.info('felix started', { node: nodeName });
  }

  /** Stops watching and programming; the routes stay as programmed. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    const watches = this.watches;
    this.watches = [];
    await Promise.all(watches.map((watch) => watch.close()));
    await this.routes.stop();
  }

  private watch(source: RouteSource, prefix: string): Watch {
    return this.options.datastore.watch(prefix, {
      onEvent: (event) => this.onEvent(source, event),
      // The last known state stays programmed (fail static).
      onError: (error) => this.log.warn(`felix ${source} watch stopped: ${error.message}`),
    });
  }

  private onEvent(source: RouteSource, event: WatchEvent): void {
    if (event.type === 'resync') this.log.warn(`felix ${source} watch resyncing: ${event.reason}`);
    const changed = this.calc.apply(source, event);
    if (!this.calc.inSync) return;
    if (!this.programming) {
      this.programming = true;
      this.log.info('felix in sync: programming routes');
      void this.routes.start();
    } else if (changed) {
      this.routes.invalidate();
    }
  }

  private async pollInterfaces(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      if (this.calc.setInterfaces(await readUpInterfaces(this.options.runner))) this.routes.invalidate();
    } catch (error) {
      this.log.warn(`reading interfaces failed: ${(error as Error).message}`);
    } finally {
      this.polling = false;
    }
  }
}
