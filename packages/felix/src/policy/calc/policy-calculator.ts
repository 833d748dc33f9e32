// The policy calc graph: from datastore updates (endpoints of every node, policies, profiles,
// pools) to what this node's dataplane needs, incrementally:
//   - the model of each local workload endpoint (tiers of ordered policies per direction, profiles),
//     and of each host endpoint of this node that names an interface (GlobalNetworkPolicies only);
//   - the rendered chains of the policies and profiles in use here (and only those);
//   - the members of every IP set those chains reference (selectors over endpoints of ALL nodes);
//   - the static configuration: pools, host endpoint interfaces, failsafe ports (FelixConfiguration
//     `default` overlaid by `node.<name>`).
// Two selector indexes keep the work proportional to the change: policy selectors × local
// endpoints (who applies where), and IP-set selectors × all endpoints (who is in which set).
// Changes accumulate until takeChanges(), so a burst of updates becomes one dataplane apply.

import { parseSelector, selectorToString } from '@margay/api';
import type { Chain, IpSetSpec } from '@margay/dataplane';
import type { KeyValue, WatchEvent } from '@margay/datastore';
import type {
  EndpointModel,
  HostEndpointModel,
  IpSetRef,
  PolicyModel,
  ProfileModel,
  TierModel,
} from '../model';
import type { PolicyRenderer, StaticConfig } from '../renderer';
import {
  type ConfigInfo,
  decodePolicyInput,
  type EndpointInfo,
  effectiveLabels,
  type PolicyInfo,
  type PoolInfo,
  type ProfileInfo,
} from './inputs';
import { addTo, removeFrom, SelectorIndex } from './selector-index';

/** The watches the calc graph consumes; it is in sync once each has delivered its snapshot. */
export const POLICY_SOURCES = [
  'workloadEndpoints',
  'hostEndpoints',
  'networkPolicies',
  'globalNetworkPolicies',
  'profiles',
  'ipPools',
  'felixConfigurations',
] as const;
export type PolicySource = (typeof POLICY_SOURCES)[number];

export interface IpSetContents {
  readonly spec: IpSetSpec;
  readonly members: readonly string[];
}

export interface IpSetDelta {
  readonly name: string;
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** Everything that changed since the last takeChanges(). */
export interface PolicyChanges {
  /** Local endpoints whose model changed, by datastore key; undefined = no longer a local endpoint. */
  readonly endpoints: ReadonlyMap<string, EndpointModel | undefined>;
  /** Host endpoints of this node whose model changed, by datastore key; undefined = gone. */
  readonly hostEndpoints: ReadonlyMap<string, HostEndpointModel | undefined>;
  /** Rendered chains of policies (`policy:<id>`) and profiles (`profile:<name>`); undefined = not in use any more. */
  readonly rules: ReadonlyMap<string, readonly Chain[] | undefined>;
  /** Sets new since the last take, with their full membership. */
  readonly createdSets: readonly IpSetContents[];
  /** Member changes of sets that already existed. */
  readonly updatedSets: readonly IpSetDelta[];
  /** Sets no longer referenced by any rule in use. */
  readonly deletedSets: readonly string[];
  /** The pools, host endpoint interfaces and failsafe ports, when they changed. */
  readonly staticConfig: StaticConfig | undefined;
}

export interface PolicyCalculatorOptions {
  /** Endpoints of this node get policy; endpoints of every node fill the IP sets. */
  readonly nodeName: string;
  readonly renderer: Pick<PolicyRenderer, 'renderPolicy' | 'renderProfile' | 'ipSetSpecFor'>;
  /** Told about a stored value or a policy that cannot be used. */
  readonly onProblem?: (message: string) => void;
}

interface SetState {
  readonly ref: IpSetRef;
  readonly spec: IpSetSpec;
  users: number;
  /** Member → how many endpoints contribute it (two endpoints may briefly share an address). */
  readonly members: Map<string, number>;
}

interface RenderedSource {
  readonly model: PolicyModel | ProfileModel;
  readonly setNames: readonly string[];
}

type Stored =
  | { kind: 'endpoint' }
  | { kind: 'policy'; id: string }
  | { kind: 'profile'; name: string }
  | { kind: 'pool' }
  | { kind: 'config'; name: string };

export class PolicyCalculator {
  private readonly nodeName: string;
  private readonly renderer: PolicyCalculatorOptions['renderer'];
  private readonly onProblem: (message: string) => void;
  private readonly synced = new Set<PolicySource>();

  // Inputs.
  private readonly stored = new Map<string, Stored>();
  private readonly endpoints = new Map<string, EndpointInfo>();
  private readonly policies = new Map<string, PolicyInfo>();
  private readonly profiles = new Map<string, ProfileInfo>();
  private readonly pools = new Map<string, PoolInfo>();
  /** FelixConfigurations by name (only `default` and `node.<this node>` matter). */
  private readonly configs = new Map<string, ConfigInfo>();
  /** Keys of host endpoints (stored, or gone but not yet reported): their models go to hostEndpoints. */
  private readonly hostKeys = new Set<string>();
  /** Profile → endpoints (any node) that inherit its labels. */
  private readonly endpointsByProfile = new Map<string, Set<string>>();
  /** Profile → local workload endpoints that use it. */
  private readonly localProfileUsers = new Map<string, Set<string>>();

  // Indexes.
  private readonly policyIndex: SelectorIndex<string, string>;
  private readonly setIndex: SelectorIndex<string, string>;

  // Derived state.
  private readonly rendered = new Map<string, RenderedSource>();
  private readonly sets = new Map<string, SetState>();
  private readonly setsBySelector = new Map<string, Set<string>>();

  // Pending output.
  private readonly touchedSources = new Set<string>();
  private readonly dirtyEndpoints = new Set<string>();
  private readonly ruleChanges = new Map<string, readonly Chain[] | undefined>();
  private readonly createdSets = new Set<string>();
  /** Per set: member → present, only where that differs from what was last taken. */
  private readonly memberChanges = new Map<string, Map<string, boolean>>();
  /** The sets as of the last take: those not wanted any more are reported deleted. */
  private takenSets = new Set<string>();
  /** A set taken before was released since (it may have been wanted again since). */
  private setDropped = false;
  private staticDirty = true;

  constructor(options: PolicyCalculatorOptions) {
    this.nodeName = options.nodeName;
    this.renderer = options.renderer;
    this.onProblem = options.onProblem ?? (() => {});
    this.policyIndex = new SelectorIndex({
      onMatchStarted: (policyId, endpointKey) => this.policyMatchChanged(policyId, endpointKey),
      onMatchStopped: (policyId, endpointKey) => this.policyMatchChanged(policyId, endpointKey),
    });
    this.setIndex = new SelectorIndex({
      onMatchStarted: (selector, endpointKey) => this.selectorMatchChanged(selector, endpointKey, +1),
      onMatchStopped: (selector, endpointKey) => this.selectorMatchChanged(selector, endpointKey, -1),
    });
  }

  /** True once every watch has delivered a complete snapshot: before that nothing may be programmed. */
  get inSync(): boolean {
    return this.synced.size === POLICY_SOURCES.length;
  }

  /** Applies one watch event. Returns true if there may be changes to take. */
  apply(source: PolicySource, event: WatchEvent): boolean {
    switch (event.type) {
      case 'put':
        return this.put(event.kv);
      case 'delete':
        return this.delete(event.key);
      case 'in-sync': {
        const first = !this.synced.has(source);
        this.synced.add(source);
        return first;
      }
      case 'resync':
        // The re-listing arrives as puts and deletes of what changed; the last state stands meanwhile.
        return false;
    }
  }

  /** Whether anything is waiting to be taken. */
  get hasChanges(): boolean {
    return (
      this.dirtyEndpoints.size > 0 ||
      this.ruleChanges.size > 0 ||
      this.createdSets.size > 0 ||
      this.memberChanges.size > 0 ||
      this.setDropped ||
      this.staticDirty
    );
  }

  /**
   * Everything that changed since the last call, and forgets it. Each part is gathered by a
   * function of its own with plain loops: a start takes changes a few times only, with thousands
   * of entries each, so V8 optimizes this while it runs (on-stack), and one function doing all of
   * it (with closures, spreads and entry destructuring) was among the costliest to compile.
   */
  takeChanges(): PolicyChanges {
    const endpoints = new Map<string, EndpointModel | undefined>();
    const hostEndpoints = new Map<string, HostEndpointModel | undefined>();
    for (const key of this.dirtyEndpoints) {
      if (this.hostKeys.has(key)) this.takeHostEndpoint(key, hostEndpoints);
      else endpoints.set(key, this.localModel(key));
    }
    const changes: PolicyChanges = {
      endpoints,
      hostEndpoints,
      rules: new Map(this.ruleChanges),
      createdSets: this.takeCreatedSets(),
      updatedSets: this.takeUpdatedSets(),
      deletedSets: this.takeDeletedSets(),
      staticConfig: this.staticDirty ? this.staticConfig() : undefined,
    };
    this.dirtyEndpoints.clear();
    this.ruleChanges.clear();
    this.createdSets.clear();
    this.memberChanges.clear();
    this.takenSets = new Set(this.sets.keys());
    this.setDropped = false;
    this.staticDirty = false;
    return changes;
  }

  private takeHostEndpoint(key: string, into: Map<string, HostEndpointModel | undefined>): void {
    into.set(key, this.localHostModel(key));
    if (!this.endpoints.has(key)) this.hostKeys.delete(key);
  }

  private takeCreatedSets(): IpSetContents[] {
    const created: IpSetContents[] = [];
    for (const name of this.createdSets) {
      const state = this.sets.get(name);
      if (state !== undefined) created.push({ spec: state.spec, members: Array.from(state.members.keys()) });
    }
    return created;
  }

  private takeUpdatedSets(): IpSetDelta[] {
    const updated: IpSetDelta[] = [];
    for (const name of this.memberChanges.keys()) {
      if (this.createdSets.has(name) || !this.sets.has(name)) continue;
      const changes = this.memberChanges.get(name)!;
      const added: string[] = [];
      const removed: string[] = [];
      for (const member of changes.keys()) {
        if (changes.get(member) === true) added.push(member);
        else removed.push(member);
      }
      updated.push({ name, added, removed });
    }
    return updated;
  }

  private takeDeletedSets(): string[] {
    const deleted: string[] = [];
    for (const name of this.takenSets) if (!this.sets.has(name)) deleted.push(name);
    return deleted;
  }

  /** Figures for logs and metrics. */
  stats(): {
    localEndpoints: number;
    localHostEndpoints: number;
    activePolicies: number;
    activeProfiles: number;
    ipSets: number;
  } {
    let localEndpoints = 0;
    let localHostEndpoints = 0;
    for (const endpoint of this.endpoints.values()) {
      if (this.isLocalHost(endpoint)) localHostEndpoints++;
      else if (this.isLocal(endpoint)) localEndpoints++;
    }
    let activePolicies = 0;
    for (const source of this.rendered.keys()) if (source.startsWith('policy:')) activePolicies++;
    return {
      localEndpoints,
      localHostEndpoints,
      activePolicies,
      activeProfiles: this.rendered.size - activePolicies,
      ipSets: this.sets.size,
    };
  }

  private put(kv: KeyValue): boolean {
    let input: ReturnType<typeof decodePolicyInput>;
    try {
      input = decodePolicyInput(kv);
    } catch (error) {
      this.onProblem(`ignoring ${(error as Error).message}`);
      return false;
    }
    switch (input.kind) {
      case 'endpoint':
        this.stored.set(kv.key, STORED_ENDPOINT);
        this.putEndpoint(kv.key, input.value);
        break;
      case 'policy':
        this.stored.set(kv.key, { kind: 'policy', id: input.value.id });
        this.putPolicy(input.value);
        break;
      case 'profile':
        this.stored.set(kv.key, { kind: 'profile', name: input.value.name });
        this.putProfile(input.value);
        break;
      case 'pool':
        this.stored.set(kv.key, STORED_POOL);
        this.pools.set(kv.key, input.value);
        this.staticDirty = true;
        break;
      case 'config':
        this.stored.set(kv.key, { kind: 'config', name: input.value.name });
        this.configs.set(input.value.name, input.value);
        if (this.isOwnConfig(input.value.name)) this.staticDirty = true;
        break;
    }
    this.settle();
    return this.hasChanges;
  }

  private delete(key: string): boolean {
    const stored = this.stored.get(key);
    if (stored === undefined) return false;
    this.stored.delete(key);
    switch (stored.kind) {
      case 'endpoint': {
        const old = this.endpoints.get(key);
        if (old !== undefined) this.detachEndpoint(key, old);
        this.endpoints.delete(key);
        // A local host endpoint is reported gone at the next take, which forgets its key then.
        if (!this.dirtyEndpoints.has(key)) this.hostKeys.delete(key);
        break;
      }
      case 'policy':
        this.deletePolicy(stored.id);
        break;
      case 'profile':
        this.deleteProfile(stored.name);
        break;
      case 'pool':
        this.pools.delete(key);
        this.staticDirty = true;
        break;
      case 'config':
        this.configs.delete(stored.name);
        if (this.isOwnConfig(stored.name)) this.staticDirty = true;
        break;
    }
    this.settle();
    return this.hasChanges;
  }

  // --- endpoints -------------------------------------------------------------------------------

  private putEndpoint(key: string, endpoint: EndpointInfo): void {
    const old = this.endpoints.get(key);
    if (old !== undefined) {
      if (JSON.stringify(old) === JSON.stringify(endpoint)) return; // a resync re-put
      this.detachEndpoint(key, old);
    }
    this.endpoints.set(key, endpoint);
    if (endpoint.kind === 'host') this.hostKeys.add(key);
    this.attachEndpoint(key, endpoint);
  }

  /** Indexes the endpoint (which must already be in this.endpoints). */
  private attachEndpoint(key: string, endpoint: EndpointInfo): void {
    const labels = effectiveLabels(endpoint, this.profiles);
    for (const name of endpoint.profiles) addTo(this.endpointsByProfile, name, key);
    this.setIndex.updateItem(key, labels);
    if (this.isLocalHost(endpoint)) this.staticDirty = true;
    if (!this.isLocal(endpoint)) return;
    this.dirtyEndpoints.add(key);
    this.policyIndex.updateItem(key, labels);
    for (const name of endpoint.profiles) {
      addTo(this.localProfileUsers, name, key);
      this.touchedSources.add(profileSource(name));
    }
  }

  /** Unindexes the endpoint (while this.endpoints still holds what was indexed, for its members). */
  private detachEndpoint(key: string, endpoint: EndpointInfo): void {
    for (const name of endpoint.profiles) removeFrom(this.endpointsByProfile, name, key);
    this.setIndex.deleteItem(key);
    if (this.isLocalHost(endpoint)) this.staticDirty = true;
    if (!this.isLocal(endpoint)) return;
    this.dirtyEndpoints.add(key);
    this.policyIndex.deleteItem(key);
    for (const name of endpoint.profiles) {
      removeFrom(this.localProfileUsers, name, key);
      this.touchedSources.add(profileSource(name));
    }
  }

  /** Policy applies here: a workload of this node, or a host endpoint of this node (see isLocalHost). */
  private isLocal(endpoint: EndpointInfo): boolean {
    return (endpoint.kind === 'workload' && endpoint.node === this.nodeName) || this.isLocalHost(endpoint);
  }

  // --- policies and profiles -------------------------------------------------------------------

  private putPolicy(policy: PolicyInfo): void {
    const old = this.policies.get(policy.id);
    this.policies.set(policy.id, policy);
    this.touchedSources.add(policySource(policy.id));
    const sameSelector =
      old !== undefined && selectorToString(old.selector) === selectorToString(policy.selector);
    const samePlace =
      old !== undefined &&
      old.tier === policy.tier &&
      old.order === policy.order &&
      old.types.join() === policy.types.join();
    // Endpoints the policy already selects need a new model only if its place among them moved.
    if (!samePlace) this.markSelectedEndpoints(policy.id);
    if (!sameSelector) this.policyIndex.updateSelector(policy.id, policy.selector);
  }

  private deletePolicy(id: string): void {
    this.policies.delete(id);
    this.touchedSources.add(policySource(id));
    this.policyIndex.deleteSelector(id);
  }

  private markSelectedEndpoints(policyId: string): void {
    for (const key of this.policyIndex.itemsMatching(policyId)) this.dirtyEndpoints.add(key);
  }

  private putProfile(profile: ProfileInfo): void {
    const old = this.profiles.get(profile.name);
    this.profiles.set(profile.name, profile);
    this.touchedSources.add(profileSource(profile.name));
    // A new profile appears in its local endpoints' profile lists.
    if (old === undefined) this.markProfileUsers(profile.name);
    if (old === undefined || JSON.stringify(old.labelsToApply) !== JSON.stringify(profile.labelsToApply)) {
      this.relabelProfileMembers(profile.name);
    }
  }

  private deleteProfile(name: string): void {
    if (!this.profiles.delete(name)) return;
    this.touchedSources.add(profileSource(name));
    this.markProfileUsers(name);
    this.relabelProfileMembers(name);
  }

  private markProfileUsers(name: string): void {
    for (const key of this.localProfileUsers.get(name) ?? []) this.dirtyEndpoints.add(key);
  }

  /** The profile's labels changed: its endpoints may now match other selectors. */
  private relabelProfileMembers(name: string): void {
    for (const key of this.endpointsByProfile.get(name) ?? []) {
      const endpoint = this.endpoints.get(key);
      if (endpoint === undefined) continue;
      const labels = effectiveLabels(endpoint, this.profiles);
      this.setIndex.updateItem(key, labels);
      if (this.isLocal(endpoint)) this.policyIndex.updateItem(key, labels);
    }
  }

  private policyMatchChanged(policyId: string, endpointKey: string): void {
    this.dirtyEndpoints.add(endpointKey);
    this.touchedSources.add(policySource(policyId));
  }

  /** Renders what became used, drops what became unused, re-renders what changed. */
  private settle(): void {
    for (const source of this.touchedSources) {
      const wanted = this.wantedModel(source);
      const current = this.rendered.get(source);
      if (wanted !== undefined && current?.model === wanted) continue;
      if (wanted === undefined && current === undefined) continue;
      if (wanted === undefined) {
        this.rendered.delete(source);
        this.releaseSets(current?.setNames ?? []);
        this.ruleChanges.set(source, undefined);
        continue;
      }
      const { chains, ipSets } = this.render(source, wanted);
      const setNames = ipSets.map((ref) => this.acquireSet(ref));
      // Acquire before release, so a set both versions use is never dropped in between.
      this.releaseSets(current?.setNames ?? []);
      this.rendered.set(source, { model: wanted, setNames });
      this.ruleChanges.set(source, chains);
    }
    this.touchedSources.clear();
  }

  /** The model of a policy or profile that is in use here; undefined if absent or unused. */
  private wantedModel(source: string): PolicyModel | ProfileModel | undefined {
    const id = sourceId(source);
    if (isPolicySource(source)) {
      const policy = this.policies.get(id);
      return policy !== undefined && this.policyIndex.itemsMatching(id).size > 0 ? policy.model : undefined;
    }
    const profile = this.profiles.get(id);
    return profile !== undefined && (this.localProfileUsers.get(id)?.size ?? 0) > 0
      ? profile.model
      : undefined;
  }

  /**
   * A policy the renderer rejects is rendered without rules: the endpoints it selects then fall
   * to the end of its tier and are denied (fail closed), and the problem is reported.
   */
  private render(source: string, model: PolicyModel | ProfileModel) {
    const policy = isPolicySource(source);
    try {
      return this.renderModel(policy, model);
    } catch (error) {
      this.onProblem(
        `${policy ? 'policy' : 'profile'} ${model.id} cannot be rendered, enforcing it with no rules (deny): ${(error as Error).message}`,
      );
      return this.renderModel(policy, { ...model, ingress: [], egress: [] });
    }
  }

  private renderModel(policy: boolean, model: PolicyModel | ProfileModel) {
    return policy ? this.renderer.renderPolicy(model) : this.renderer.renderProfile(model);
  }

  // --- IP sets ---------------------------------------------------------------------------------

  /** Counts one more user of the set, creating and filling it if new; returns its name. */
  private acquireSet(ref: IpSetRef): string {
    const spec = this.renderer.ipSetSpecFor(ref);
    const existing = this.sets.get(spec.name);
    if (existing !== undefined) {
      existing.users++;
      return spec.name;
    }
    const state: SetState = { ref, spec, users: 1, members: new Map() };
    this.sets.set(spec.name, state);
    // Written whole at the next take (replacing whatever an earlier incarnation left).
    this.createdSets.add(spec.name);
    this.memberChanges.delete(spec.name);
    if (ref.kind === 'nets') {
      for (const net of ref.nets) if (isIpv4(net)) state.members.set(net, 1);
      return spec.name;
    }
    addTo(this.setsBySelector, ref.selector, spec.name);
    if (this.setIndex.hasSelector(ref.selector)) {
      for (const key of this.setIndex.itemsMatching(ref.selector)) this.adjustMembers(state, key, +1);
    } else {
      // Indexing the selector reports every endpoint it matches, which fills this set.
      this.setIndex.updateSelector(ref.selector, parseSelector(ref.selector));
    }
    return spec.name;
  }

  private releaseSets(names: readonly string[]): void {
    for (const name of names) {
      const state = this.sets.get(name);
      if (state === undefined || --state.users > 0) continue;
      this.sets.delete(name);
      this.memberChanges.delete(name);
      this.createdSets.delete(name);
      if (this.takenSets.has(name)) this.setDropped = true;
      if (state.ref.kind === 'nets') continue;
      const selector = state.ref.selector;
      removeFrom(this.setsBySelector, selector, name);
      if (!this.setsBySelector.has(selector)) this.setIndex.deleteSelector(selector);
    }
  }

  private selectorMatchChanged(selector: string, endpointKey: string, sign: 1 | -1): void {
    const names = this.setsBySelector.get(selector);
    if (names === undefined) return;
    for (const name of names) {
      const state = this.sets.get(name);
      if (state !== undefined) this.adjustMembers(state, endpointKey, sign);
    }
  }

  /** Adds (sign +1) or removes (-1) what one endpoint contributes to a set. */
  private adjustMembers(state: SetState, endpointKey: string, sign: 1 | -1): void {
    const endpoint = this.endpoints.get(endpointKey);
    if (endpoint === undefined) return;
    // Selector sets (nearly all) take the endpoint's members as they are: no array per call.
    const members = state.ref.kind === 'selector' ? endpoint.ipv4Members : membersOf(state.ref, endpoint);
    for (const member of members) this.adjustMember(state, member, sign);
  }

  private adjustMember(state: SetState, member: string, sign: 1 | -1): void {
    const before = state.members.get(member) ?? 0;
    const after = before + sign;
    if (after > 0) state.members.set(member, after);
    else state.members.delete(member);
    if (before > 0 !== after > 0) this.noteMemberChange(state.spec.name, member, after > 0);
  }

  private noteMemberChange(name: string, member: string, present: boolean): void {
    if (this.createdSets.has(name)) return; // written whole anyway
    let changes = this.memberChanges.get(name);
    if (changes === undefined) {
      changes = new Map();
      this.memberChanges.set(name, changes);
    }
    // An entry means "differs from what was last taken"; flipping back cancels it.
    if (changes.has(member)) changes.delete(member);
    else changes.set(member, present);
    if (changes.size === 0) this.memberChanges.delete(name);
  }

  // --- output ----------------------------------------------------------------------------------

  private localModel(key: string): EndpointModel | undefined {
    const endpoint = this.endpoints.get(key);
    if (
      endpoint === undefined ||
      endpoint.kind !== 'workload' ||
      !this.isLocal(endpoint) ||
      endpoint.interfaceName === undefined
    ) {
      return undefined;
    }
    return {
      interfaceName: endpoint.interfaceName,
      tiers: tiersOf(this.policiesSelecting(key, false)),
      profileIds: this.knownProfiles(endpoint.profiles),
      addresses: endpoint.networks,
    };
  }

  /** Calico applies only GlobalNetworkPolicies (and profiles) to host endpoints. */
  private localHostModel(key: string): HostEndpointModel | undefined {
    const endpoint = this.endpoints.get(key);
    if (endpoint === undefined || !this.isLocalHost(endpoint) || endpoint.interfaceName === undefined) {
      return undefined;
    }
    return {
      interfaceName: endpoint.interfaceName,
      tiers: tiersOf(this.policiesSelecting(key, true)),
      profileIds: this.knownProfiles(endpoint.profiles),
    };
  }

  /** The policies (only global ones if `globalOnly`) whose selectors match the endpoint now. */
  private policiesSelecting(key: string, globalOnly: boolean): PolicyInfo[] {
    const selecting: PolicyInfo[] = [];
    for (const id of this.policyIndex.selectorsMatching(key)) {
      const policy = this.policies.get(id);
      if (policy !== undefined && (!globalOnly || policy.id.startsWith(GLOBAL_POLICY_PREFIX))) {
        selecting.push(policy);
      }
    }
    return selecting;
  }

  private knownProfiles(names: readonly string[]): string[] {
    const known: string[] = [];
    for (const name of names) if (this.profiles.has(name)) known.push(name);
    return known;
  }

  private staticConfig(): StaticConfig {
    const pools = [...this.pools.values()].filter((pool) => isIpv4(pool.cidr));
    // Host endpoints of this node that name one interface: mg-INPUT/mg-OUTPUT dispatch to them.
    const hostInterfaces = new Set<string>();
    for (const endpoint of this.endpoints.values()) {
      if (this.isLocalHost(endpoint) && endpoint.interfaceName !== undefined) {
        hostInterfaces.add(endpoint.interfaceName);
      }
    }
    // The per-node configuration overrides `default` field by field; unset falls to FELIX_DEFAULTS.
    const global = this.configs.get('default');
    const own = this.configs.get(`node.${this.nodeName}`);
    const failsafeInbound = own?.failsafeInbound ?? global?.failsafeInbound;
    const failsafeOutbound = own?.failsafeOutbound ?? global?.failsafeOutbound;
    return {
      pools: pools.map((pool) => pool.cidr).sort(),
      natOutgoingPools: pools
        .filter((pool) => pool.natOutgoing)
        .map((pool) => pool.cidr)
        .sort(),
      ...(hostInterfaces.size > 0 && {
        hostEndpoints: [...hostInterfaces].sort().map((interfaceName) => ({ interfaceName })),
      }),
      ...(failsafeInbound !== undefined && { failsafeInbound }),
      ...(failsafeOutbound !== undefined && { failsafeOutbound }),
    };
  }

  /**
   * A host endpoint of this node that names one interface. `*` (all interfaces) and endpoints
   * found only by expectedIPs are not enforced yet.
   */
  private isLocalHost(endpoint: EndpointInfo): boolean {
    return (
      endpoint.kind === 'host' &&
      endpoint.node === this.nodeName &&
      endpoint.interfaceName !== undefined &&
      endpoint.interfaceName !== '*'
    );
  }

  private isOwnConfig(name: string): boolean {
    return name === 'default' || name === `node.${this.nodeName}`;
  }
}

/**
 * Policies grouped by tier, tiers by name with `default` last (there is no Tier kind yet, and
 * Calico's default tier has the highest order); within a tier by order (unset last), then id.
 */
export function tiersOf(policies: readonly PolicyInfo[]): TierModel[] {
  const byTier = new Map<string, PolicyInfo[]>();
  for (const policy of policies) {
    const list = byTier.get(policy.tier);
    if (list === undefined) byTier.set(policy.tier, [policy]);
    else list.push(policy);
  }
  const tierNames = Array.from(byTier.keys()).sort(compareTierNames);
  const tiers: TierModel[] = [];
  for (const name of tierNames) tiers.push(tierModel(name, byTier.get(name)!.sort(comparePolicies)));
  return tiers;
}

/** Tiers by name, `default` last. */
function compareTierNames(a: string, b: string): number {
  return a === b ? 0 : a === 'default' ? 1 : b === 'default' ? -1 : a < b ? -1 : 1;
}

/** By order (unset last), then id. */
function comparePolicies(a: PolicyInfo, b: PolicyInfo): number {
  return (
    (a.order ?? Number.POSITIVE_INFINITY) - (b.order ?? Number.POSITIVE_INFINITY) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

function tierModel(name: string, sorted: readonly PolicyInfo[]): TierModel {
  const ingressPolicies: string[] = [];
  const egressPolicies: string[] = [];
  for (const policy of sorted) {
    if (policy.types.includes('Ingress')) ingressPolicies.push(policy.id);
    if (policy.types.includes('Egress')) egressPolicies.push(policy.id);
  }
  return { name, ingressPolicies, egressPolicies };
}

/** What one endpoint puts in a set: its IPv4 addresses, or `addr,proto:port` for a named port. */
export function membersOf(ref: IpSetRef, endpoint: EndpointInfo): readonly string[] {
  if (ref.kind === 'nets') return [];
  return ref.kind === 'selector'
    ? endpoint.ipv4Members
    : namedPortMembers(ref, endpoint, endpoint.ipv4Members);
}

function namedPortMembers(
  ref: Extract<IpSetRef, { kind: 'named-port' }>,
  endpoint: EndpointInfo,
  addresses: readonly string[],
): string[] {
  const members: string[] = [];
  for (const port of endpoint.ports) {
    if (port.name !== ref.port || port.protocol.toLowerCase() !== ref.protocol) continue;
    for (const address of addresses) {
      if (!address.includes('/')) members.push(`${address},${ref.protocol}:${port.port}`);
    }
  }
  return members;
}

/** Ids of GlobalNetworkPolicies (see inputs.ts). */
const GLOBAL_POLICY_PREFIX = 'gnp.';

function isIpv4(net: string): boolean {
  return !net.includes(':');
}

function policySource(id: string): string {
  return POLICY_SOURCE_PREFIX + id;
}

function profileSource(name: string): string {
  return `profile:${name}`;
}

const POLICY_SOURCE_PREFIX = 'policy:';

function isPolicySource(source: string): boolean {
  return source.startsWith(POLICY_SOURCE_PREFIX);
}

/** The id after `policy:` or `profile:`. */
function sourceId(source: string): string {
  return source.slice(source.indexOf(':') + 1);
}

const STORED_ENDPOINT: Stored = { kind: 'endpoint' };
const STORED_POOL: Stored = { kind: 'pool' };
