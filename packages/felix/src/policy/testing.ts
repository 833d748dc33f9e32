// Test helpers for policy: stored documents as margayctl, the CNI plugin and the e2e harness write
// them, and recording fakes of the iptables tables and IP sets.

import {
  API_VERSION,
  type EndpointPort,
  encodeResource,
  type Kind,
  type Resource,
  resourceKey,
  validateResource,
} from '@margay/api';
import type {
  Chain,
  IpSetApplyResult,
  IpSetSpec,
  IpSets,
  IptablesTable,
  Rule,
  TableApplyOptions,
  TableApplyResult,
  TableName,
} from '@margay/dataplane';
import type { KeyValue } from '@margay/datastore';
import type { PolicySource } from './calc/policy-calculator';

export interface StoredDocument {
  readonly key: string;
  readonly value: string;
}

/** Validates (so defaults and conversions apply, as margayctl would) and encodes a resource. */
export function document(resource: unknown): StoredDocument {
  const valid = validateResource(resource, 'test');
  return {
    key: resourceKey(valid.kind, valid.metadata.name, valid.metadata.namespace),
    value: encodeResource(valid as Resource),
  };
}

export interface TestWorkload {
  readonly name: string;
  readonly namespace?: string;
  readonly node: string;
  readonly interfaceName: string;
  readonly ip: string;
  readonly labels?: Record<string, string>;
  readonly profiles?: string[];
  readonly ports?: EndpointPort[];
}

/** A pod's WorkloadEndpoint as the CNI plugin writes it (namespace label, `kns.<ns>` profile). */
export function workload(w: TestWorkload): StoredDocument {
  const namespace = w.namespace ?? 'default';
  return document({
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: {
      name: w.name,
      namespace,
      labels: { ...w.labels, 'projectcalico.org/namespace': namespace },
    },
    spec: {
      orchestrator: 'k8s',
      node: w.node,
      interfaceName: w.interfaceName,
      ipNetworks: [`${w.ip}/32`],
      profiles: w.profiles ?? [`kns.${namespace}`],
      ...(w.ports !== undefined && { ports: w.ports }),
    },
  });
}

/** A namespace as Calico records it: Profile `kns.<ns>` allowing all, labels prefixed `pcns.`. */
export function namespaceProfile(name: string, labels: Record<string, string> = {}): StoredDocument {
  const labelsToApply = Object.fromEntries(
    Object.entries({ 'projectcalico.org/name': name, ...labels }).map(([k, v]) => [`pcns.${k}`, v]),
  );
  return document({
    apiVersion: API_VERSION,
    kind: 'Profile',
    metadata: { name: `kns.${name}` },
    spec: { labelsToApply, ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
  });
}

export function resource(kind: Kind, name: string, spec: unknown, namespace?: string): StoredDocument {
  return document({
    apiVersion: API_VERSION,
    kind,
    metadata: { name, ...(namespace !== undefined && { namespace }) },
    spec,
  });
}

/** A Kubernetes networking.k8s.io/v1 NetworkPolicy, converted as margayctl stores it. */
export function kubernetesPolicy(namespace: string, name: string, spec: unknown): StoredDocument {
  return document({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec,
  });
}

let revision = 1;

/** A KeyValue as a watch delivers it. */
/** The calc source a stored key feeds, by the plural in /margay/resources/v1/<plural>/... */
export function sourceOfKey(key: string): PolicySource {
  const found = SOURCES_BY_PLURAL[key.split('/')[4] ?? ''];
  if (found === undefined) throw new Error(`no policy source for ${key}`);
  return found;
}

const SOURCES_BY_PLURAL: Readonly<Record<string, PolicySource>> = {
  workloadendpoints: 'workloadEndpoints',
  hostendpoints: 'hostEndpoints',
  networkpolicies: 'networkPolicies',
  globalnetworkpolicies: 'globalNetworkPolicies',
  profiles: 'profiles',
  ippools: 'ipPools',
  felixconfigurations: 'felixConfigurations',
};

export function stored(doc: StoredDocument): KeyValue {
  revision++;
  return { key: doc.key, value: doc.value, createRevision: revision, modRevision: revision, version: 1 };
}

/** An IptablesTable that records what it is given and keeps the desired state. */
export class FakeTable implements IptablesTable {
  readonly chains = new Map<string, readonly Rule[]>();
  readonly hooks = new Map<string, readonly Rule[]>();
  /** Names passed to updateChains / removeChains, per apply (the last entry is being gathered). */
  readonly updated: string[][] = [[]];
  readonly removed: string[][] = [[]];
  /** Per apply: was it additive (only our missing or changed chains: no hooks, no deletions)? */
  readonly additive: boolean[] = [];
  /** Hooks as of each apply. */
  readonly hooksAtApply: string[][] = [];
  applies = 0;
  failNext: Error | undefined;

  constructor(readonly name: TableName) {}

  updateChains(chains: readonly Chain[]): void {
    for (const chain of chains) {
      this.chains.set(chain.name, chain.rules);
      this.updated.at(-1)?.push(chain.name);
    }
  }

  removeChains(names: readonly string[]): void {
    for (const name of names) {
      this.chains.delete(name);
      this.removed.at(-1)?.push(name);
    }
  }

  setHooks(kernelChain: string, rules: readonly Rule[]): void {
    if (rules.length === 0) this.hooks.delete(kernelChain);
    else this.hooks.set(kernelChain, rules);
  }

  async apply(options: TableApplyOptions = {}): Promise<TableApplyResult> {
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure !== undefined) throw failure;
    this.applies++;
    this.additive.push(options.additive === true);
    this.hooksAtApply.push([...this.hooks.keys()]);
    const chainsWritten = (this.updated.at(-1)?.length ?? 0) + (this.removed.at(-1)?.length ?? 0);
    this.updated.push([]);
    this.removed.push([]);
    return { chainsWritten, bytesWritten: chainsWritten * 100 };
  }

  /** Every rule text of a chain, `match action`. */
  ruleTexts(chain: string): string[] {
    return (this.chains.get(chain) ?? []).map((rule) => `${rule.match} ${rule.action}`.trim());
  }
}

export type IpSetCall =
  | { op: 'replace'; name: string; members: string[] }
  | { op: 'add' | 'remove'; name: string; members: string[] }
  | { op: 'removeSet'; name: string }
  | { op: 'applyUpdates' | 'applyDeletions' };

/** IpSets that keep the desired members and log every call in order. */
export class FakeIpSets implements IpSets {
  readonly sets = new Map<string, { spec: IpSetSpec; members: Set<string> }>();
  /** Sets removed but not yet destroyed by applyDeletions. */
  readonly doomed = new Set<string>();
  readonly calls: IpSetCall[] = [];

  replaceMembers(set: IpSetSpec, members: Iterable<string>): void {
    const list = [...members].sort();
    this.sets.set(set.name, { spec: set, members: new Set(list) });
    this.doomed.delete(set.name);
    this.calls.push({ op: 'replace', name: set.name, members: list });
  }

  addMembers(name: string, members: Iterable<string>): void {
    const list = [...members].sort();
    for (const m of list) this.set(name).members.add(m);
    this.calls.push({ op: 'add', name, members: list });
  }

  removeMembers(name: string, members: Iterable<string>): void {
    const list = [...members].sort();
    for (const m of list) this.set(name).members.delete(m);
    this.calls.push({ op: 'remove', name, members: list });
  }

  removeSet(name: string): void {
    this.doomed.add(name);
    this.calls.push({ op: 'removeSet', name });
  }

  async applyUpdates(): Promise<IpSetApplyResult> {
    this.calls.push({ op: 'applyUpdates' });
    return { bytesWritten: 10 };
  }

  async applyDeletions(): Promise<IpSetApplyResult> {
    for (const name of this.doomed) this.sets.delete(name);
    this.doomed.clear();
    this.calls.push({ op: 'applyDeletions' });
    return { bytesWritten: 0 };
  }

  members(name: string): string[] {
    return [...(this.sets.get(name)?.members ?? [])].sort();
  }

  private set(name: string) {
    const set = this.sets.get(name);
    if (set === undefined) throw new Error(`FakeIpSets: no set ${name}`);
    return set;
  }
}
