// Decoding of the stored resources the policy calc graph consumes into the facts it works with.
// Each decoder throws an error naming the key and what is wrong, so a corrupt value can be
// reported and ignored.

import {
  DEFAULT_TIER,
  type EndpointPort,
  isKind,
  type PolicyType,
  type ProtoPort,
  parseSelector,
  type Resource,
  type Selector,
} from '@margay/api';
import { parsePrefix } from '@margay/dataplane';
import type { KeyValue } from '@margay/datastore';
import { decodeStored, endpointNetworks } from '../../calc/decode-once';
import type { PolicyModel, ProfileModel } from '../model';
import { NAMESPACE_LABEL, namespaceLabelsSelector } from '../render/selectors';
import type { Labels } from './selector-index';

/** What policy needs to know of a workload or host endpoint. */
export interface EndpointInfo {
  readonly kind: 'workload' | 'host';
  readonly node: string;
  /** Workload endpoints only; host endpoints are cluster-scoped. */
  readonly namespace?: string;
  /** The host-side interface (workloads), or the host interface (`*` = every one). */
  readonly interfaceName?: string;
  readonly ownLabels: Labels;
  readonly profiles: readonly string[];
  /** Canonical prefixes, e.g. "10.0.1.5/32". */
  readonly networks: readonly string[];
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

function toInput(resource: Resource): PolicyInput {
  if (isKind(resource, 'WorkloadEndpoint')) {
    const { spec, metadata } = resource;
    const namespace = metadata.namespace ?? 'default';
    return {
      kind: 'endpoint',
      value: {
        kind: 'workload',
        node: spec.node,
        namespace,
        interfaceName: spec.interfaceName,
        // Calico labels every workload with its namespace; namespaced selectors test it.
        ownLabels: { ...metadata.labels, [NAMESPACE_LABEL]: namespace },
        profiles: spec.profiles ?? [],
        networks: endpointNetworks(resource),
        ports: spec.ports ?? [],
      },
    };
  }
  if (isKind(resource, 'HostEndpoint')) {
    const { spec, metadata } = resource;
    return {
      kind: 'endpoint',
      value: {
        kind: 'host',
        node: spec.node,
        ...(spec.interfaceName !== undefined && { interfaceName: spec.interfaceName }),
        ownLabels: { ...metadata.labels },
        profiles: spec.profiles ?? [],
        networks: (spec.expectedIPs ?? []).map(
          (ip, index) => parsePrefix(ip, `spec.expectedIPs[${index}]`).text,
        ),
        ports: spec.ports ?? [],
      },
    };
  }
  if (isKind(resource, 'NetworkPolicy')) {
    const { spec, metadata } = resource;
    const namespace = metadata.namespace ?? 'default';
    return {
      kind: 'policy',
      value: {
        id: `np.${namespace}.${metadata.name}`,
        tier: spec.tier ?? DEFAULT_TIER,
        order: spec.order,
        // A namespaced policy only ever applies to endpoints of its own namespace.
        selector: and(equals(NAMESPACE_LABEL, namespace), parseSelector(spec.selector)),
        types: spec.types,
        model: {
          id: `np.${namespace}.${metadata.name}`,
          namespace,
          ingress: spec.types.includes('Ingress') ? spec.ingress : [],
          egress: spec.types.includes('Egress') ? spec.egress : [],
        },
      },
    };
  }
  if (isKind(resource, 'GlobalNetworkPolicy')) {
    const { spec, metadata } = resource;
    const selector = parseSelector(spec.selector);
    return {
      kind: 'policy',
      value: {
        id: `gnp.${metadata.name}`,
        tier: spec.tier ?? DEFAULT_TIER,
        order: spec.order,
        // namespaceSelector tests the namespace's labels, which endpoints inherit as `pcns.<key>`.
        selector:
          spec.namespaceSelector === undefined
            ? selector
            : and(namespaceLabelsSelector(parseSelector(spec.namespaceSelector)), selector),
        types: spec.types,
        model: {
          id: `gnp.${metadata.name}`,
          ingress: spec.types.includes('Ingress') ? spec.ingress : [],
          egress: spec.types.includes('Egress') ? spec.egress : [],
        },
      },
    };
  }
  if (isKind(resource, 'Profile')) {
    const { spec, metadata } = resource;
    return {
      kind: 'profile',
      value: {
        name: metadata.name,
        labelsToApply: spec.labelsToApply ?? {},
        model: { id: metadata.name, ingress: spec.ingress, egress: spec.egress },
      },
    };
  }
  if (isKind(resource, 'IPPool')) {
    return { kind: 'pool', value: { cidr: resource.spec.cidr, natOutgoing: resource.spec.natOutgoing } };
  }
  if (isKind(resource, 'FelixConfiguration')) {
    const { spec, metadata } = resource;
    return {
      kind: 'config',
      value: {
        name: metadata.name,
        ...(spec.failsafeInboundHostPorts !== undefined && {
          failsafeInbound: spec.failsafeInboundHostPorts,
        }),
        ...(spec.failsafeOutboundHostPorts !== undefined && {
          failsafeOutbound: spec.failsafeOutboundHostPorts,
        }),
      },
    };
  }
  throw new Error(`policy does not use a ${resource.kind}`);
}

/** The labels selectors see on an endpoint: its profiles' labelsToApply, then its own (which win). */
export function effectiveLabels(endpoint: EndpointInfo, profiles: ReadonlyMap<string, ProfileInfo>): Labels {
  if (endpoint.profiles.length === 0) return endpoint.ownLabels;
  const labels: Record<string, string> = {};
  for (const name of endpoint.profiles) Object.assign(labels, profiles.get(name)?.labelsToApply);
  return Object.assign(labels, endpoint.ownLabels);
}

function equals(label: string, value: string): Selector {
  return { type: 'equals', label, value };
}

function and(left: Selector, right: Selector): Selector {
  if (right.type === 'all') return left;
  return { type: 'and', left, right };
}
