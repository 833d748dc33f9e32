// Drives the kernel's filter and nat tables and the IP sets from the policy calc graph's changes.
// Bursts of changes are batched into one apply, in the order that never leaves a rule pointing at
// a missing set: IP sets created/updated → nat and filter tables → unwanted IP sets destroyed.
// Only chains whose rules changed are handed to the tables. A failed apply is retried; the desired
// state stays in the tables meanwhile, so the retry writes whatever is still missing.
//
// Early programming (felix asks for it only on a fresh kernel, while the snapshot arrives): an
// "unreferenced" apply writes only what no rule in the kernel can reach yet: the IP sets, the
// policy and profile chains and the workload endpoint chains (filter, additive: no hooks, no
// deletions). Only the dispatch chains jump to endpoint chains, and only the static chains and the
// hooks lead to the dispatch: those, the host endpoint chains and nat are held until the first full
// apply, which writes them with whatever early state is still pending, and does every deletion.

import type { Chain, IpSets, IptablesTable } from '@margay/dataplane';
import type { PolicyChanges } from './calc/policy-calculator';
import { ChainLedger } from './chain-ledger';
import type { EndpointModel, HostEndpointModel } from './model';
import type { RenderedStatic } from './render';
import type { PolicyRenderer, StaticConfig } from './renderer';

export interface PolicyManagerOptions {
  /** Where changes come from (the PolicyCalculator). */
  readonly changes: { takeChanges(): PolicyChanges };
  readonly renderer: Pick<
    PolicyRenderer,
    'renderEndpoint' | 'renderDispatch' | 'renderHostEndpoint' | 'renderHostEndpointDispatch' | 'renderStatic'
  >;
  readonly filter: IptablesTable;
  readonly nat: IptablesTable;
  readonly ipSets: IpSets;
  /** How long changes gather before one apply. Default 10 ms. */
  readonly debounceMs?: number;
  /** Wait before retrying a failed apply. Default 1 s. */
  readonly retryMs?: number;
  readonly onError?: (message: string) => void;
}

export interface PolicyManagerStats {
  /** Full applies that completed. */
  readonly applies: number;
  /** Unreferenced (early) applies that completed, before the first full one. */
  readonly earlyApplies: number;
  readonly failures: number;
  /** When the last successful apply finished (ms since the epoch), 0 before the first. */
  readonly lastApplyAt: number;
  readonly lastApplyDurationMs: number;
  /** Bytes written to iptables-restore and ipset restore by the last full apply, and by all applies. */
  readonly lastBytesWritten: number;
  readonly totalBytesWritten: number;
  /** Chains handed to the tables (created, changed or removed) by the last apply. */
  readonly lastChainsChanged: number;
}

export class PolicyManager {
  private readonly options: PolicyManagerOptions;
  private readonly debounceMs: number;
  private readonly retryMs: number;
  private readonly filterChains = new ChainLedger();
  private readonly natChains = new ChainLedger();
  /** Local endpoints' models by datastore key, for the dispatch chains. */
  private readonly endpoints = new Map<string, EndpointModel>();
  /** This node's host endpoints' models by datastore key, for the host endpoint dispatch chains. */
  private readonly hostEndpoints = new Map<string, HostEndpointModel>();
  /** Like the workload dispatch, the host endpoint dispatch exists from the first apply. */
  private hostDispatchStaged = false;
  /** Keys whose host endpoint chains are staged (one per interface). */
  private hostChainOwners = new Set<string>();
  /** Kernel chains we hooked, per table, so dropped hooks are removed. */
  private readonly hooked: Record<'filter' | 'nat', Set<string>> = { filter: new Set(), nat: new Set() };
  /** The fixed sets the static rules use (all pools, NAT pools). */
  private staticSets = new Set<string>();
  /** The static chains jump to the dispatch chains: they exist from the first apply, endpoints or not. */
  private dispatchStaged = false;
  /** A full apply was asked for: from then on every apply is full (early programming is over). */
  private referencing = false;
  /**
   * Endpoints whose chains are staged but whose dispatch entries are not yet (the model, or
   * undefined once removed or unrenderable); taken by the next full stage.
   */
  private readonly undispatched = new Map<string, EndpointModel | undefined>();
  /** What early applies took from the calc but may not write yet (the latest value per key wins). */
  private readonly held = {
    hostEndpoints: new Map<string, HostEndpointModel | undefined>(),
    staticConfig: undefined as StaticConfig | undefined,
  };
  private timer: NodeJS.Timeout | undefined;
  private pending = false;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private counters: PolicyManagerStats = {
    applies: 0,
    earlyApplies: 0,
    failures: 0,
    lastApplyAt: 0,
    lastApplyDurationMs: 0,
    lastBytesWritten: 0,
    totalBytesWritten: 0,
    lastChainsChanged: 0,
  };

  constructor(options: PolicyManagerOptions) {
    this.options = options;
    this.debounceMs = options.debounceMs ?? 10;
    this.retryMs = options.retryMs ?? 1_000;
    for (const [name, value] of [
      ['debounceMs', this.debounceMs],
      ['retryMs', this.retryMs],
    ] as const) {
      if (!Number.isFinite(value) || value < 0) {
        throw new Error(`PolicyManager ${name} ${value} must be a number >= 0`);
      }
    }
  }

  stats(): PolicyManagerStats {
    return this.counters;
  }

  /** Something changed: apply after the debounce (one apply for the whole burst). */
  invalidate(): void {
    this.referencing = true;
    this.schedule();
  }

  /**
   * Early programming: after the debounce, apply only the unreferenced state (see the top of the
   * file). Does nothing once a full apply was asked for.
   */
  invalidateUnreferenced(): void {
    if (!this.referencing) this.schedule();
  }

  /** Applies everything pending now; resolves when done (errors are reported, and retried). */
  flush(): Promise<void> {
    this.referencing = true;
    return this.drainNow();
  }

  /** No more applies; what is programmed stays (a restarting felix must not cut pod traffic). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.queue;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.pending = true;
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drainNow();
    }, this.debounceMs);
  }

  private drainNow(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = true;
    this.queue = this.queue.then(() => this.drain());
    return this.queue;
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.stopped) {
      this.pending = false;
      try {
        if (this.referencing) await this.applyOnce();
        else await this.applyUnreferenced();
      } catch (error) {
        this.counters = { ...this.counters, failures: this.counters.failures + 1 };
        this.options.onError?.(
          `policy apply failed, retrying in ${this.retryMs} ms: ${(error as Error).message}`,
        );
        this.retryLater();
        return;
      }
    }
  }

  private retryLater(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drainNow();
    }, this.retryMs);
  }

  /** Sets (created, members written; none destroyed), policy/profile and workload endpoint chains. */
  private async applyUnreferenced(): Promise<void> {
    const { filter, ipSets } = this.options;
    this.stage(this.options.changes.takeChanges(), false);
    const updates = await ipSets.applyUpdates();
    const filterResult = await filter.apply({ additive: true });
    this.counters = {
      ...this.counters,
      earlyApplies: this.counters.earlyApplies + 1,
      totalBytesWritten: this.counters.totalBytesWritten + updates.bytesWritten + filterResult.bytesWritten,
    };
  }

  private async applyOnce(): Promise<void> {
    const started = Date.now();
    const { filter, nat, ipSets } = this.options;
    const chainsChanged = this.stage(this.options.changes.takeChanges(), true);
    const updates = await ipSets.applyUpdates();
    // nat first: its few rules are cheap to write, and a table's first apply reads the whole
    // ruleset to tell iptables-legacy from -nft, which costs far less before filter's thousands.
    const natResult = await nat.apply();
    const filterResult = await filter.apply();
    const deletions = await ipSets.applyDeletions();
    const bytes =
      updates.bytesWritten + filterResult.bytesWritten + natResult.bytesWritten + deletions.bytesWritten;
    const finished = Date.now();
    this.counters = {
      ...this.counters,
      applies: this.counters.applies + 1,
      lastApplyAt: finished,
      lastApplyDurationMs: finished - started,
      lastBytesWritten: bytes,
      totalBytesWritten: this.counters.totalBytesWritten + bytes,
      lastChainsChanged: chainsChanged,
    };
  }

  /**
   * Turns the changes into desired table and set state; returns how many chains changed. Without
   * `referencing`, the ways into our chains (dispatch, host endpoint, static, hooks) are held back
   * for the next full stage (a removed set or chain only leaves the desired state: early applies
   * delete nothing).
   */
  private stage(changes: PolicyChanges, referencing: boolean): number {
    const { ipSets } = this.options;
    for (const set of changes.createdSets) ipSets.replaceMembers(set.spec, set.members);
    for (const { name, added, removed } of changes.updatedSets) {
      if (removed.length > 0) ipSets.removeMembers(name, removed);
      if (added.length > 0) ipSets.addMembers(name, added);
    }
    for (const name of changes.deletedSets) ipSets.removeSet(name);

    for (const [source, chains] of changes.rules) this.filterChains.set(source, chains ?? []);

    // Endpoint chains are staged at once, early or not: only the dispatch chains jump to them, and
    // only a full stage stages the dispatch. During the first listing an endpoint's set of
    // selecting policies only grows, so what an early apply writes is what the full apply wants
    // unless the endpoint changes, and then its chain is rewritten like any update. One removed or
    // unrenderable before in-sync leaves the desired state, and its chain, if written early, is
    // deleted by the full apply, never before (early applies delete nothing).
    for (const [key, model] of changes.endpoints) this.undispatched.set(key, this.stageEndpoint(key, model));

    if (referencing) this.stageReferencing(this.withHeld(changes));
    else this.hold(changes);
    const filter = this.filterChains.flushInto(this.options.filter);
    const nat = this.natChains.flushInto(this.options.nat);
    return filter.updated + filter.removed + nat.updated + nat.removed;
  }

  /**
   * Stages one endpoint's chains (none if removed or unrenderable); returns the model the dispatch
   * should use, undefined if none.
   */
  private stageEndpoint(key: string, wanted: EndpointModel | undefined): EndpointModel | undefined {
    let chains: readonly Chain[] = [];
    let model = wanted;
    if (model !== undefined) {
      try {
        chains = this.options.renderer.renderEndpoint(model);
      } catch (error) {
        // Left out of the dispatch, its interface hits the dispatch's final DROP (fail closed).
        this.options.onError?.(`endpoint ${key} cannot be rendered: ${(error as Error).message}`);
        model = undefined;
      }
    }
    this.filterChains.set(`endpoint:${key}`, chains);
    return model;
  }

  /**
   * Host endpoint chains are held too: unlike a workload's, they jump to the static failsafe
   * chains, which only a full apply writes (and a node has a handful of them).
   */
  private hold(changes: PolicyChanges): void {
    for (const [key, model] of changes.hostEndpoints) this.held.hostEndpoints.set(key, model);
    if (changes.staticConfig !== undefined) this.held.staticConfig = changes.staticConfig;
  }

  /** The changes with what early applies held back underneath them (newer values win). */
  private withHeld(changes: PolicyChanges): PolicyChanges {
    const { hostEndpoints, staticConfig } = this.held;
    if (hostEndpoints.size === 0 && staticConfig === undefined) return changes;
    const merged: PolicyChanges = {
      ...changes,
      hostEndpoints: new Map([...hostEndpoints, ...changes.hostEndpoints]),
      staticConfig: changes.staticConfig ?? staticConfig,
    };
    hostEndpoints.clear();
    this.held.staticConfig = undefined;
    return merged;
  }

  /** The dispatch, host endpoint and static chains, and the hooks (endpoint chains are staged). */
  private stageReferencing(changes: PolicyChanges): void {
    const { ipSets } = this.options;
    let dispatchChanged = !this.dispatchStaged;
    for (const [key, model] of this.undispatched) {
      const before = this.endpoints.get(key);
      if (model === undefined) this.endpoints.delete(key);
      else this.endpoints.set(key, model);
      dispatchChanged ||= before?.interfaceName !== model?.interfaceName;
    }
    this.undispatched.clear();
    if (dispatchChanged) {
      const models = [...this.endpoints.values()].sort((a, b) =>
        a.interfaceName < b.interfaceName ? -1 : a.interfaceName > b.interfaceName ? 1 : 0,
      );
      this.filterChains.set('dispatch', this.renderDispatch(models));
      this.dispatchStaged = true;
    }

    this.stageHostEndpoints(changes.hostEndpoints);

    const rendered = changes.staticConfig && this.renderStatic(changes.staticConfig);
    if (rendered !== undefined) {
      this.stageStatic('filter', this.filterChains, rendered.filter);
      this.stageStatic('nat', this.natChains, rendered.nat);
      const sets = new Set<string>();
      for (const { spec, members } of rendered.ipSets) {
        ipSets.replaceMembers(spec, members);
        sets.add(spec.name);
      }
      for (const name of this.staticSets) if (!sets.has(name)) ipSets.removeSet(name);
      this.staticSets = sets;
    }
  }

  /**
   * The dispatch chains; if the renderer rejects the set (say two endpoints claim one interface),
   * the endpoints it rejects on their own are left out (their traffic hits the final DROP).
   */
  private renderDispatch(models: readonly EndpointModel[]): readonly Chain[] {
    const { renderer, onError } = this.options;
    try {
      return renderer.renderDispatch(models);
    } catch (error) {
      onError?.(
        `dispatch cannot be rendered, leaving out the endpoints at fault: ${(error as Error).message}`,
      );
    }
    const accepted: EndpointModel[] = [];
    const seen = new Set<string>();
    for (const model of models) {
      if (seen.has(model.interfaceName)) continue;
      try {
        renderer.renderDispatch([model]);
        accepted.push(model);
        seen.add(model.interfaceName);
      } catch {
        // reported above
      }
    }
    return renderer.renderDispatch(accepted);
  }

  /**
   * Host endpoint chains and their dispatch. One the renderer rejects is left out of the dispatch,
   * so its interface is left alone (reported): unlike a workload's, a host interface without
   * chains carries traffic, and that keeps the node reachable. A node has a handful of host
   * endpoints, so any change re-derives them all (the ledger passes on only changed chains).
   */
  private stageHostEndpoints(changes: PolicyChanges['hostEndpoints']): void {
    const { renderer, onError } = this.options;
    if (changes.size === 0 && this.hostDispatchStaged) return;
    const chainsByKey = new Map<string, readonly Chain[]>();
    for (const [key, model] of changes) {
      this.hostEndpoints.delete(key);
      if (model === undefined) continue;
      try {
        chainsByKey.set(key, renderer.renderHostEndpoint(model));
        this.hostEndpoints.set(key, model);
      } catch (error) {
        onError?.(`host endpoint ${key} cannot be rendered: ${(error as Error).message}`);
      }
    }
    // Two host endpoints claiming one interface would write the same chains: the first by key
    // wins, and the clash is reported.
    const owners = new Map<string, string>();
    const models: HostEndpointModel[] = [];
    for (const key of [...this.hostEndpoints.keys()].sort()) {
      const model = this.hostEndpoints.get(key) as HostEndpointModel;
      const owner = owners.get(model.interfaceName);
      if (owner !== undefined) {
        onError?.(
          `host endpoints ${owner} and ${key} both claim interface ${model.interfaceName}; using ${owner}`,
        );
        continue;
      }
      owners.set(model.interfaceName, key);
      models.push(model);
    }
    const winners = new Set(owners.values());
    // Losers first, so a winner's chains of the same name are owned by the winner afterwards.
    for (const key of this.hostChainOwners) {
      if (!winners.has(key)) this.filterChains.set(`host-endpoint:${key}`, []);
    }
    for (const key of winners) {
      const chains =
        chainsByKey.get(key) ?? renderer.renderHostEndpoint(this.hostEndpoints.get(key) as HostEndpointModel);
      this.filterChains.set(`host-endpoint:${key}`, chains);
    }
    this.hostChainOwners = winners;
    this.filterChains.set('host-dispatch', renderer.renderHostEndpointDispatch(models));
    this.hostDispatchStaged = true;
  }

  /** The static chains; if the renderer rejects the configuration, the last good ones stay. */
  private renderStatic(config: StaticConfig): RenderedStatic | undefined {
    try {
      return this.options.renderer.renderStatic(config);
    } catch (error) {
      this.options.onError?.(
        `static rules cannot be rendered, keeping the last ones: ${(error as Error).message}`,
      );
      return undefined;
    }
  }

  private stageStatic(
    table: 'filter' | 'nat',
    ledger: ChainLedger,
    rendered: RenderedStatic['filter' | 'nat'],
  ): void {
    ledger.set('static', rendered.chains);
    const target = this.options[table];
    const now = new Set(rendered.hooks.map((hook) => hook.kernelChain));
    for (const kernelChain of this.hooked[table]) if (!now.has(kernelChain)) target.setHooks(kernelChain, []);
    for (const { kernelChain, rules } of rendered.hooks) target.setHooks(kernelChain, rules);
    this.hooked[table] = now;
  }
}
