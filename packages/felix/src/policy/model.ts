// The contract between felix's policy calc graph (which works out what applies where, and who is
// in which set) and the rule renderer (which turns that into iptables chains). The renderer is pure:
// the same model always renders the same chains. IP sets are named by what they hold, so two rules
// using the same selector share one set.

import type { Rule as PolicyRule } from '@margay/api';

/** What an IP set holds; the calc graph keeps the members, the renderer only references the set. */
export type IpSetRef =
  /** Addresses of every endpoint (any node) matching a selector; the selector text is canonical
   *  (selectorToString of the parsed form, namespace scoping already folded in). */
  | { readonly kind: 'selector'; readonly selector: string }
  /** Literal CIDRs (rule nets/notNets). */
  | { readonly kind: 'nets'; readonly nets: readonly string[] }
  /** `addr,proto:port` of endpoints matching `selector` that expose the named port. */
  | {
      readonly kind: 'named-port';
      readonly selector: string;
      readonly protocol: 'tcp' | 'udp' | 'sctp';
      readonly port: string;
    };

/** A policy as rendered: its rules in order, already in the namespace/tier they belong to. */
export interface PolicyModel {
  /** Stable id used in chain names, e.g. `default/knp.default.allow-web` or `gnp/deny-all`. */
  readonly id: string;
  /** For namespaced policies: the namespace its selectors are scoped to. */
  readonly namespace?: string;
  readonly ingress: readonly PolicyRule[];
  readonly egress: readonly PolicyRule[];
}

/** A profile (per-namespace defaults and labels); rendered like a policy, into profile chains. */
export interface ProfileModel {
  readonly id: string;
  readonly ingress: readonly PolicyRule[];
  readonly egress: readonly PolicyRule[];
}

/** Ordered policy ids for one direction of one tier; Pass jumps to the next tier (or the profiles). */
export interface TierModel {
  readonly name: string;
  readonly ingressPolicies: readonly string[];
  readonly egressPolicies: readonly string[];
}

/** A local workload endpoint as the dataplane sees it. */
export interface EndpointModel {
  /** Host-side veth name, e.g. `mg0123456789a`. */
  readonly interfaceName: string;
  /** Tiers in order with the policies that select this endpoint (empty = no policy selects it). */
  readonly tiers: readonly TierModel[];
  /** Profile ids in order (applied when no policy in a direction decides). */
  readonly profileIds: readonly string[];
  /** Addresses (CIDR /32) of the endpoint, for anti-spoofing on egress. */
  readonly addresses: readonly string[];
}

/**
 * A host endpoint of this node: one host interface under policy (`mg-fh-<iface>` for traffic to
 * the host through it, `mg-th-<iface>` for traffic from the host out of it). Only
 * GlobalNetworkPolicies apply to host endpoints; the failsafe ports are accepted before them.
 */
export interface HostEndpointModel {
  /** A host interface, e.g. `eth0` (never one with the workload prefix, never `*`). */
  readonly interfaceName: string;
  /** Tiers in order with the policies that select this host endpoint. */
  readonly tiers: readonly TierModel[];
  /** Profile ids in order (applied when no policy in a direction decides). */
  readonly profileIds: readonly string[];
}
