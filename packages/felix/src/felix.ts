// Felix, this increment: datastore watches → route calc stage → route manager. Two watches feed
// the calc stage (every WorkloadEndpoint, filtered to this node, and this node's IPAM affinities);
// a poll of the interfaces tells it which workload interfaces exist. Nothing is programmed
// before both watches have delivered a complete snapshot; after that every change is flushed
// (debounced) and the kernel is reconciled periodically. Stopping leaves the routes in place so
// that a restarting felix does not interrupt pod traffic.

import { type Kind, resourceKey, resourcePrefix } from '@margay/api';
import {
  BackendDetector,
  type CommandRunner,
  IpSetManager,
  type IpSets,
  type IptablesTable,
  Table,
} from '@margay/dataplane';
import type { Datastore, Watch, WatchEvent } from '@margay/datastore';
import { ipamKeys } from '@margay/ipam';
import { RouteCalculator, type RouteSource } from './calc/route-calculator';
import { PolicyCalculator, type PolicySource } from './policy/calc/policy-calculator';
import { DEFAULT_RENDERER } from './policy/default-renderer';
import { PolicyManager, type PolicyManagerStats } from './policy/policy-manager';
import type { PolicyRenderer } from './policy/renderer';
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
  /** Enforces network policy in iptables and ipsets when set (absent: routes only). */
  readonly policy?: FelixPolicyOptions;
}

/** The kernel state the policy manager programs. */
export interface PolicyDataplane {
  readonly filter: IptablesTable;
  readonly nat: IptablesTable;
  readonly ipSets: IpSets;
  /** Called once programming begins (e.g. to start periodic refreshes), and at stop. */
  start?(): void;
  stop?(): void;
}

export interface FelixPolicyOptions {
  /** Builds the tables and sets. Default: iptables Tables (filter, nat) and an IpSetManager on the runner. */
  readonly dataplane?: (runner: CommandRunner) => PolicyDataplane;
  /** The rule renderer. Default: ./policy/render. */
  readonly renderer?: PolicyRenderer;
  /** How long policy changes gather before one apply. Default 10 ms. */
  readonly debounceMs?: number;
  /** Wait before retrying a failed apply. Default 1 s. */
  readonly retryMs?: number;
  /**
   * On a fresh kernel, write IP sets, policy/profile and endpoint chains while the snapshot arrives (see
   * primePolicyDataplane). Default true; false applies everything at in-sync (for comparison).
   */
  readonly earlyProgramming?: boolean;
}

/** The kinds policy watches besides WorkloadEndpoint (which routes watch too), by calc source. */
const POLICY_KINDS: readonly [Exclude<PolicySource, 'workloadEndpoints'>, Kind][] = [
  ['hostEndpoints', 'HostEndpoint'],
  ['networkPolicies', 'NetworkPolicy'],
  ['globalNetworkPolicies', 'GlobalNetworkPolicy'],
  ['profiles', 'Profile'],
  ['ipPools', 'IPPool'],
  // `default` and `node.<name>`: the failsafe ports of host endpoints.
  ['felixConfigurations', 'FelixConfiguration'],
];

function defaultPolicyDataplane(runner: CommandRunner, log: FelixLogger): PolicyDataplane {
  const onRefreshError = (error: Error) => log.warn(`iptables refresh failed: ${error.message}`);
  // One detection for both tables, whose full save primes them both.
  const detector = new BackendDetector({ runner });
  const filter = new Table({ runner, name: 'filter', detector, onRefreshError });
  const nat = new Table({ runner, name: 'nat', detector, onRefreshError });
  return {
    filter,
    nat,
    ipSets: new IpSetManager({ runner }),
    start: () => {
      filter.startPeriodicRefresh();
      nat.startPeriodicRefresh();
    },
    stop: () => {
      filter.stop();
      nat.stop();
    },
  };
}

interface PolicyParts {
  readonly calc: PolicyCalculator;
  readonly manager: PolicyManager;
  readonly dataplane: PolicyDataplane;
  readonly earlyProgramming: boolean;
  programming: boolean;
  /** The prime found no chains or sets of ours: state nothing references may be written early. */
  freshKernel: boolean;
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
  private interfacesKnown = false;
  private readonly policy: PolicyParts | undefined;

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
    this.policy = options.policy === undefined ? undefined : this.createPolicy(options.policy);
  }

  private createPolicy(policy: FelixPolicyOptions): PolicyParts {
    const renderer = policy.renderer ?? DEFAULT_RENDERER;
    const calc = new PolicyCalculator({
      nodeName: this.options.nodeName,
      renderer,
      onProblem: (message) => this.log.warn(message),
    });
    const dataplane = (policy.dataplane ?? ((runner) => defaultPolicyDataplane(runner, this.log)))(
      this.options.runner,
    );
    const manager = new PolicyManager({
      changes: calc,
      renderer,
      filter: dataplane.filter,
      nat: dataplane.nat,
      ipSets: dataplane.ipSets,
      ...(policy.debounceMs !== undefined && { debounceMs: policy.debounceMs }),
      ...(policy.retryMs !== undefined && { retryMs: policy.retryMs }),
      onError: (message) => this.log.warn(message),
    });
    return {
      calc,
      manager,
      dataplane,
      earlyProgramming: policy.earlyProgramming ?? true,
      programming: false,
      freshKernel: false,
    };
  }

  /** True once the policy watches have all delivered their first snapshot (false without policy). */
  get policyInSync(): boolean {
    return this.policy?.calc.inSync ?? false;
  }

  /** Policy apply counters, or undefined without policy. */
  policyStats(): (PolicyManagerStats & ReturnType<PolicyCalculator['stats']>) | undefined {
    if (this.policy === undefined) return undefined;
    return { ...this.policy.manager.stats(), ...this.policy.calc.stats() };
  }

  /** True once both watches have delivered their first complete snapshot. */
  get inSync(): boolean {
    return this.calc.inSync;
  }

  /** Reads the interfaces, then starts watching. Programming begins at the first in-sync. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`Felix cannot start: it is already ${this.state}`);
    this.state = 'started';
    const { nodeName } = this.options;
    this.watches = [
      this.watch('endpoints', resourcePrefix('WorkloadEndpoint'), (event) => {
        this.onEvent('endpoints', event);
        this.onPolicyEvent('workloadEndpoints', event);
      }),
      this.watch('affinities', ipamKeys.affinities(nodeName), (event) => this.onEvent('affinities', event)),
    ];
    if (this.policy !== undefined) {
      for (const [source, kind] of POLICY_KINDS) {
        this.watches.push(
          this.watch(source, resourcePrefix(kind), (event) => this.onPolicyEvent(source, event)),
        );
      }
    }
    // Read while the watches list (their snapshots take far longer), started after them: starting
    // a command blocks felix for a few milliseconds, and etcd can serve the first pages meanwhile.
    // Routes are programmed only once the interfaces are known: a snapshot applied without them
    // would look like no workload has a veth, and the first reconcile would delete every workload
    // route.
    const interfaces = readUpInterfaces(this.options.runner);
    // Settled here so that a failure is handled below, not reported as unhandled meanwhile.
    interfaces.catch(() => {});
    this.primePolicyDataplane();
    try {
      this.calc.setInterfaces(await interfaces);
    } catch (error) {
      const watches = this.watches;
      this.watches = [];
      await Promise.all(watches.map((watch) => watch.close()));
      throw error;
    }
    this.interfacesKnown = true;
    this.pollTimer = setInterval(() => void this.pollInterfaces(), this.interfacePollIntervalMs);
    this.log.info('felix started', { node: nodeName });
    this.startRoutesWhenReady();
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
    if (this.policy !== undefined) {
      // The rules stay programmed, like the routes.
      await this.policy.manager.stop();
      this.policy.dataplane.stop?.();
    }
  }

  private watch(source: string, prefix: string, onEvent: (event: WatchEvent) => void): Watch {
    return this.options.datastore.watch(prefix, {
      onEvent,
      // The last known state stays programmed (fail static).
      onError: (error) => this.log.warn(`felix ${source} watch stopped: ${error.message}`),
      // Retried with backoff; said every time, or a felix that never gets in sync says nothing.
      onListError: (error) =>
        this.log.warn(`felix ${source} watch: listing ${prefix} failed, retrying: ${error.message}`, {
          prefix,
        }),
    });
  }

  private onEvent(source: RouteSource, event: WatchEvent): void {
    if (event.type === 'resync') this.log.warn(`felix ${source} watch resyncing: ${event.reason}`);
    const changed = this.calc.apply(source, event);
    if (!this.programming) this.startRoutesWhenReady();
    else if (changed) this.routes.invalidate();
  }

  /** Routes are programmed once both watches are in sync and the interfaces have been read. */
  private startRoutesWhenReady(): void {
    if (this.programming || !this.interfacesKnown || !this.calc.inSync || this.state !== 'started') return;
    this.programming = true;
    this.log.info('felix in sync: programming routes');
    void this.routes.start();
  }

  /**
   * The tables and sets are read (backend detection, iptables-save, ipset save) while the
   * watches list, so the first apply only plans and writes. If a read fails, the apply reads again.
   *
   * Early programming: when every read finds no chain, hook rule or set of ours (a fresh kernel),
   * the IP sets and the policy, profile and workload endpoint chains are written while the
   * snapshot still arrives: nothing jumps to them and no rule uses the sets until the in-sync
   * apply writes the dispatch, host endpoint and static chains and the hooks. Not on a kernel holding our state (a restart): its live chains
   * reference live sets, and a partial desired state could rewrite them, so that state is only
   * touched once the snapshot is complete, by the in-sync apply. If felix stops before in-sync,
   * the early chains and sets are unreachable, and the next start deletes what it does not want.
   */
  private primePolicyDataplane(): void {
    const policy = this.policy;
    if (policy === undefined) return;
    const { filter, nat, ipSets } = policy.dataplane;
    const reads = (
      [
        ['iptables nat', nat.prime?.bind(nat)],
        ['iptables filter', filter.prime?.bind(filter)],
        ['ipsets', ipSets.prime?.bind(ipSets)],
      ] as const
    ).map(([what, prime]) =>
      // A table or set manager that cannot say what the kernel holds counts as not fresh.
      (prime?.() ?? Promise.resolve(undefined)).catch((error: Error) => {
        this.log.warn(`reading ${what} ahead of the first apply failed (it reads again): ${error.message}`);
        return undefined;
      }),
    );
    void Promise.all(reads).then((found) => {
      if (this.state !== 'started' || policy.programming || !policy.earlyProgramming) return;
      policy.freshKernel = found.every((result) => result?.ours === 0);
      if (!policy.freshKernel) return;
      this.log.info('felix policy: no chains or sets of ours in the kernel: writing unreferenced ones early');
      if (policy.calc.hasChanges) policy.manager.invalidateUnreferenced();
    });
  }

  private onPolicyEvent(source: PolicySource, event: WatchEvent): void {
    const policy = this.policy;
    if (policy === undefined || this.state !== 'started') return;
    if (event.type === 'resync' && source !== 'workloadEndpoints') {
      this.log.warn(`felix ${source} watch resyncing: ${event.reason}`);
    }
    const changed = policy.calc.apply(source, event);
    // Nothing the kernel's traffic can reach is written before every policy input has delivered
    // its snapshot; on a fresh kernel, what nothing references yet is (see primePolicyDataplane).
    if (!policy.calc.inSync) {
      if (changed && policy.freshKernel) policy.manager.invalidateUnreferenced();
      return;
    }
    if (!policy.programming) {
      policy.programming = true;
      this.log.info('felix policy in sync: programming iptables and ipsets');
      policy.dataplane.start?.();
      void policy.manager.flush();
    } else if (changed) {
      policy.manager.invalidate();
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
