// Decoding of the stored resources the policy calc graph consumes into the facts it works with.
// Each decoder throws an error naming the key and what is wrong, so a corrupt value can be
// reported and ignored.

import {
  DEFAULT_TIER,
  type EndpointPort,
  type FelixConfiguration,
  type GlobalNetworkPolicy,
  type HostEndpoint,
  type IPPool,
  type NetworkPolicy,
  type PolicyType,
  type Profile,
  type ProtoPort,
  parseSelector,
  type Resource,
  type Selector,
  type WorkloadEndpoint,
} from '@margay/api';
import { parsePrefix } from '@margay/dataplane';
import type { KeyValue } from '@margay/datastore';
import { decodeStored, endpointNetworks } from '../../calc/decode-once';
import type { PolicyModel, ProfileModel } from '../model';
import { TextMemo } from '../render/memo';
import { NAMESPACE_LABEL, namespaceLabelsSelector } from '../render/selectors';
import type { Labels } from './selector-index';

/** What policy needs to know of a workload or host endpoint. */
export interface EndpointInfo {
  readonly kind: 'workload' | 'host';
  readonly node: string;
  /** Workload endpoints only; host endpoints are cluster-scoped. */
  readonly namespace: string | undefined;
  /** The host-side interface (workloads), or the host interface (`*` = every one). */
  readonly interfaceName: string | undefined;
  readonly ownLabels: Labels;
  readonly profiles: readonly string[];
  /** Canonical prefixes, e.g. "10.0.1.5/32". */
  readonly networks: readonly string[];
  /** The IPv4 networks as IP set members: host prefixes as bare addresses ("10.0.1.5"). */
  readonly ipv4Members: readonly string[];
  readonly ports: readonly EndpointPort[];
}

export interface PolicyInfo {
  /**
   * `np.<namespace>.<name>` or `gnp.<name>`: unique (namespaces have no dots) and made only of
   * characters iptables allows in chain names, which the renderer builds from it.
   */
  readonly id: string;
  readonly tier: string;
  /** Unset sorts last. */
  readonly order: number | undefined;
  /** The policy's selector with its namespace scoping folded in. */
  readonly selector: Selector;
  readonly types: readonly PolicyType[];
  readonly model: PolicyModel;
}

export interface ProfileInfo {
  readonly name: string;
  readonly labelsToApply: Labels;
  readonly model: ProfileModel;
}

export interface PoolInfo {
  readonly cidr: string;
  readonly natOutgoing: boolean;
}

/** The parts of a FelixConfiguration (`default` or `node.<name>`) policy uses; unset = not overridden. */
export interface ConfigInfo {
  readonly name: string;
  readonly failsafeInbound?: readonly ProtoPort[];
  readonly failsafeOutbound?: readonly ProtoPort[];
}

export type PolicyInput =
  | { readonly kind: 'endpoint'; readonly value: EndpointInfo }
  | { readonly kind: 'policy'; readonly value: PolicyInfo }
  | { readonly kind: 'profile'; readonly value: ProfileInfo }
  | { readonly kind: 'pool'; readonly value: PoolInfo }
  | { readonly kind: 'config'; readonly value: ConfigInfo };

/**
 * Decodes a stored WorkloadEndpoint, HostEndpoint, NetworkPolicy, GlobalNetworkPolicy, Profile,
 * IPPool or FelixConfiguration.
 */
export function decodePolicyInput(kv: KeyValue): PolicyInput {
  try {
    return toInput(decodeStored(kv));
  } catch (error) {
    throw new Error(`${kv.key}: ${(error as Error).message}`);
  }
}

/**
 * One small function per kind: a start calls this for every stored endpoint and policy, and one
 * function holding every kind's decoding was among the costliest for V8 to optimize.
 */
function toInput(resource: Resource): PolicyInput {
  switch (resource.kind) {
    case 'WorkloadEndpoint':
      return { kind: 'endpoint', value: workloadInfo(resource as WorkloadEndpoint) };
    case 'HostEndpoint':
      return { kind: 'endpoint', value: hostInfo(resource as HostEndpoint) };
    case 'NetworkPolicy':
      return { kind: 'policy', value: networkPolicyInfo(resource as NetworkPolicy) };
    case 'GlobalNetworkPolicy':
      return { kind: 'policy', value: globalPolicyInfo(resource as GlobalNetworkPolicy) };
    case 'Profile':
      return { kind: 'profile', value: profileInfo(resource as Profile) };
    case 'IPPool':
      return { kind: 'pool', value: poolInfo(resource as IPPool) };
    case 'FelixConfiguration':
      return { kind: 'config', value: configInfo(resource as FelixConfiguration) };
    default:
      throw new Error(`policy does not use a ${resource.kind}`);
  }
}

// Every EndpointInfo is built with the same fields in the same order (absent ones undefined), so
// the calc graph's code that reads them sees one object shape.

function workloadInfo(resource: WorkloadEndpoint): EndpointInfo {
  const { spec, metadata } = resource;
  const namespace = metadata.namespace ?? 'default';
  const networks = endpointNetworks(resource);
  return {
    kind: 'workload',
    node: spec.node,
    namespace,
    interfaceName: spec.interfaceName,
    // Calico labels every workload with its namespace; namespaced selectors test it.
    ownLabels: { ...metadata.labels, [NAMESPACE_LABEL]: namespace },
    profiles: spec.profiles ?? [],
    networks,
    ipv4Members: ipv4MembersOf(networks),
    ports: spec.ports ?? [],
  };
}

function hostInfo(resource: HostEndpoint): EndpointInfo {
  const { spec, metadata } = resource;
  const networks = (spec.expectedIPs ?? []).map(
    (ip, index) => parsePrefix(ip, `spec.expectedIPs[${index}]`).text,
  );
  return {
    kind: 'host',
    node: spec.node,
    namespace: undefined,
    interfaceName: spec.interfaceName,
    ownLabels: { ...metadata.labels },
    profiles: spec.profiles ?? [],
    networks,
    ipv4Members: ipv4MembersOf(networks),
    ports: spec.ports ?? [],
  };
}

/**
 * The IPv4 networks as set members, once for all the IP sets the endpoint joins: a start adds each
 * endpoint to several sets, and deriving them per set cost an array and a string each time.
 */
function ipv4MembersOf(networks: readonly string[]): string[] {
  const members: string[] = [];
  for (const net of networks) {
    if (!net.includes(':')) members.push(net.endsWith('/32') ? net.slice(0, -3) : net);
  }
  return members;
}

function networkPolicyInfo(resource: NetworkPolicy): PolicyInfo {
  const { spec, metadata } = resource;
  const namespace = metadata.namespace ?? 'default';
  const id = `np.${namespace}.${metadata.name}`;
  return {
    id,
    tier: spec.tier ?? DEFAULT_TIER,
    order: spec.order,
    // A namespaced policy only ever applies to endpoints of its own namespace.
    selector: and(equals(NAMESPACE_LABEL, namespace), parsed(spec.selector)),
    types: spec.types,
    model: {
      id,
      namespace,
      ingress: spec.types.includes('Ingress') ? spec.ingress : [],
      egress: spec.types.includes('Egress') ? spec.egress : [],
    },
  };
}

function globalPolicyInfo(resource: GlobalNetworkPolicy): PolicyInfo {
  const { spec, metadata } = resource;
  const selector = parsed(spec.selector);
  const id = `gnp.${metadata.name}`;
  return {
    id,
    tier: spec.tier ?? DEFAULT_TIER,
    order: spec.order,
    // namespaceSelector tests the namespace's labels, which endpoints inherit as `pcns.<key>`.
    selector:
      spec.namespaceSelector === undefined
        ? selector
        : and(namespaceLabelsSelector(parsed(spec.namespaceSelector)), selector),
    types: spec.types,
    model: {
      id,
      ingress: spec.types.includes('Ingress') ? spec.ingress : [],
      egress: spec.types.includes('Egress') ? spec.egress : [],
    },
  };
}

function profileInfo(resource: Profile): ProfileInfo {
  const { spec, metadata } = resource;
  return {
    name: metadata.name,
    labelsToApply: spec.labelsToApply ?? {},
    model: { id: metadata.name, ingress: spec.ingress, egress: spec.egress },
  };
}

function poolInfo(resource: IPPool): PoolInfo {
  return { cidr: resource.spec.cidr, natOutgoing: resource.spec.natOutgoing };
}

function configInfo(resource: FelixConfiguration): ConfigInfo {
  const { spec, metadata } = resource;
  return {
    name: metadata.name,
    ...(spec.failsafeInboundHostPorts !== undefined && { failsafeInbound: spec.failsafeInboundHostPorts }),
    ...(spec.failsafeOutboundHostPorts !== undefined && { failsafeOutbound: spec.failsafeOutboundHostPorts }),
  };
}

/** The labels selectors see on an endpoint: its profiles' labelsToApply, then its own (which win). */
export function effectiveLabels(endpoint: EndpointInfo, profiles: ReadonlyMap<string, ProfileInfo>): Labels {
  if (endpoint.profiles.length === 0) return endpoint.ownLabels;
  const labels: Record<string, string> = {};
  for (const name of endpoint.profiles) Object.assign(labels, profiles.get(name)?.labelsToApply);
  return Object.assign(labels, endpoint.ownLabels);
}

/**
 * Parsed selectors by text. 1,000 policies repeat a few dozen selectors; a parsed selector is
 * never modified (everything that derives one builds new nodes), so policies can share it.
 */
const parsedSelectors = new TextMemo<Selector>();

function parsed(text: string): Selector {
  return parsedSelectors.find(text) ?? parsedSelectors.remember(text, parseSelector(text));
}

function equals(label: string, value: string): Selector {
  return { type: 'equals', label, value };
}

function and(left: Selector, right: Selector): Selector {
  if (right.type === 'all') return left;
  return { type: 'and', left, right };
}
