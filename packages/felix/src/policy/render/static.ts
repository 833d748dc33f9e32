// The fixed chains: what hooks our chains into the kernel's, connection tracking, the explicit
// ACCEPT of what policy allowed, host traffic, failsafe ports and NAT outgoing.
//
// filter:
//   FORWARD: workload traffic (`mg+`) of established flows (ESTABLISHED,RELATED) is accepted in
//     the hook itself, then → mg-FORWARD: INVALID dropped, then egress policy (from-wl dispatch)
//     and ingress policy (to-wl dispatch); what policy accepted is ACCEPTed here, so a host whose
//     FORWARD policy is DROP (Docker sets that) still forwards it. Other traffic is left alone.
//   INPUT: established flows from workloads accepted in the hook, then → mg-INPUT (workload
//     traffic only, unless there are host endpoints): INVALID dropped, the workload's egress policy
//     and the endpoint-to-host action; then, with host endpoints, their dispatch
//     (mg-from-host-endpoint) and an ACCEPT of what their policy accepted.
//   OUTPUT → mg-OUTPUT (traffic to workloads only, unless there are host endpoints): the host may
//     always reach its own workloads (Kubernetes allows ingress from the pod's node whatever the
//     policy); then, with host endpoints, mg-to-host-endpoint.
// nat:
//   POSTROUTING → mg-nat-outgoing: MASQUERADE from natOutgoing pools to outside all pools; hooked
//     only while some IPv4 pool has natOutgoing.
//
// Per-packet cost (measured back to back with iptables-nft 1.8.9, docs/benchmarks.md
// "Datapath"): almost every packet needs only the established accept, so it sits in the kernel
// chain, and the hook rules carry nothing else a packet must run. Interface, protocol and mark
// matches are native nft expressions; `-m conntrack` and every `-m comment` (also the hash comment
// each rule of ours carries) are xt compat matches, run for every packet that reaches them. A nat
// base chain, even empty, makes the kernel run NAT on every packet. INVALID and
// ESTABLISHED,RELATED are disjoint states, so accepting established flows first changes no verdict.
//
// The failsafe chains live here; the host endpoint chains and their dispatch come from
// host-endpoint.ts (they follow the policy model), and jump to the failsafe chains first.

import { FELIX_DEFAULTS, type ProtoPort } from '@margay/api';
import type { Chain, IpSetSpec, Rule } from '@margay/dataplane';
import { checkCidr } from './addresses';
import { checkHostInterfaceName } from './host-endpoint';
import { clearMarks, MARK_ACCEPT, MARK_ALL, markIsSet } from './marks';
import { CHAIN, DEFAULT_INTERFACE_PREFIX } from './names';

export const ALL_POOLS_SET: IpSetSpec = { name: 'mg4-all-pools', type: 'hash:net' };
export const MASQ_POOLS_SET: IpSetSpec = { name: 'mg4-masq-pools', type: 'hash:net' };

export type EndpointToHostAction = 'Drop' | 'Accept' | 'Return';

export interface StaticConfig {
  /** Every IP pool's CIDR (IPv6 ones are ignored by this IPv4 renderer). */
  readonly pools: readonly string[];
  /** CIDRs of the pools with natOutgoing. */
  readonly natOutgoingPools: readonly string[];
  readonly failsafeInbound?: readonly ProtoPort[];
  readonly failsafeOutbound?: readonly ProtoPort[];
  /**
   * Host interfaces with a HostEndpoint of this node. When there are any, mg-INPUT / mg-OUTPUT
   * jump to the host endpoint dispatch chains, which renderHostEndpointDispatch renders.
   */
  readonly hostEndpoints?: readonly { readonly interfaceName: string }[];
  readonly interfacePrefix?: string;
  /** What happens to workload → host traffic its egress policy allowed (felix default: Drop). */
  readonly endpointToHostAction?: EndpointToHostAction;
}

export interface Hook {
  /** A kernel chain, e.g. `FORWARD`. */
  readonly kernelChain: string;
  readonly rules: readonly Rule[];
}

export interface RenderedTable {
  readonly chains: Chain[];
  readonly hooks: Hook[];
}

export interface RenderedStatic {
  readonly filter: RenderedTable;
  readonly nat: RenderedTable;
  /** Fixed sets with their full membership. */
  readonly ipSets: { readonly spec: IpSetSpec; readonly members: string[] }[];
}

const TO_HOST_ACTION: Record<EndpointToHostAction, string> = {
  Drop: '-j DROP',
  Accept: '-j ACCEPT',
  Return: '-j RETURN',
};

export function renderStatic(config: StaticConfig): RenderedStatic {
  const wl = `${config.interfacePrefix ?? DEFAULT_INTERFACE_PREFIX}+`;
  const hostEndpoints = config.hostEndpoints ?? [];
  for (const { interfaceName } of hostEndpoints) checkHostInterfaceName(interfaceName, config);
  const toHostAction = config.endpointToHostAction ?? FELIX_DEFAULTS.defaultEndpointToHostAction;
  const invalid = (flag: '-i' | '-o'): Rule => ({
    match: `${flag} ${wl} -m conntrack --ctstate INVALID`,
    action: '-j DROP',
    comment: 'invalid',
  });
  // No descriptive comment on the rules almost every packet meets: with iptables-nft 1.8 each
  // `-m comment` is an xt compat match run per packet (~70 ns each here), unlike `-i`, `-p` or a mark.
  const established = (flag: '-i' | '-o'): Rule => ({
    match: `${flag} ${wl} -m conntrack --ctstate RELATED,ESTABLISHED`,
    action: '-j ACCEPT',
  });
  // Without host endpoints, every rule of mg-INPUT / mg-OUTPUT is about workload interfaces, so
  // only their traffic needs the jump; host traffic (and VXLAN's underlay packets) is left alone
  // after a native interface check. Host endpoints need all traffic, so then the jump is for all.
  const hookJump = (flag: '-i' | '-o', chain: string): Rule => ({
    match: hostEndpoints.length > 0 ? '' : `${flag} ${wl}`,
    action: `-j ${chain}`,
  });
  const natOutgoingNeeded = ipv4Cidrs('natOutgoingPools', config.natOutgoingPools).length > 0;

  const forward: Chain = {
    name: CHAIN.forward,
    rules: [
      invalid('-i'),
      invalid('-o'),
      { match: `-i ${wl}`, action: `-j ${CHAIN.fromWorkloadDispatch}`, comment: 'workload egress policy' },
      { match: `-o ${wl}`, action: `-j ${CHAIN.toWorkloadDispatch}`, comment: 'workload ingress policy' },
      {
        match: `-i ${wl} ${markIsSet(MARK_ACCEPT)}`,
        action: '-j ACCEPT',
        comment: 'policy accepted (explicit: FORWARD policy may be DROP)',
      },
      {
        match: `-o ${wl} ${markIsSet(MARK_ACCEPT)}`,
        action: '-j ACCEPT',
        comment: 'policy accepted (explicit: FORWARD policy may be DROP)',
      },
    ],
  };
  const input: Chain = {
    name: CHAIN.input,
    rules: [
      invalid('-i'),
      { match: `-i ${wl}`, action: `-g ${CHAIN.workloadToHost}` },
      ...(hostEndpoints.length > 0 ? hostEndpointPolicy(CHAIN.fromHostEndpoint) : []),
    ],
  };
  const workloadToHost: Chain = {
    name: CHAIN.workloadToHost,
    rules: [
      { match: '', action: `-j ${CHAIN.fromWorkloadDispatch}`, comment: 'workload egress policy' },
      { match: '', action: TO_HOST_ACTION[toHostAction], comment: `endpoint to host: ${toHostAction}` },
    ],
  };
  const output: Chain = {
    name: CHAIN.output,
    rules: [
      {
        match: `-o ${wl}`,
        action: '-j ACCEPT',
        comment: 'the node may reach its own workloads (Kubernetes)',
      },
      ...(hostEndpoints.length > 0 ? hostEndpointPolicy(CHAIN.toHostEndpoint) : []),
    ],
  };

  const failsafeIn = failsafeChain(
    CHAIN.failsafeIn,
    config.failsafeInbound ?? FELIX_DEFAULTS.failsafeInboundHostPorts,
    '-s',
  );
  const failsafeOut = failsafeChain(
    CHAIN.failsafeOut,
    config.failsafeOutbound ?? FELIX_DEFAULTS.failsafeOutboundHostPorts,
    '-d',
  );

  const natOutgoing: Chain = {
    name: CHAIN.natOutgoing,
    rules: [
      {
        match: `-m set --match-set ${MASQ_POOLS_SET.name} src -m set ! --match-set ${ALL_POOLS_SET.name} dst`,
        action: '-j MASQUERADE',
        comment: 'nat outgoing: from natOutgoing pools to outside all pools',
      },
    ],
  };

  return {
    filter: {
      chains: [forward, input, workloadToHost, output, failsafeIn, failsafeOut],
      hooks: [
        {
          kernelChain: 'FORWARD',
          rules: [established('-i'), established('-o'), { match: '', action: `-j ${CHAIN.forward}` }],
        },
        { kernelChain: 'INPUT', rules: [established('-i'), hookJump('-i', CHAIN.input)] },
        { kernelChain: 'OUTPUT', rules: [hookJump('-o', CHAIN.output)] },
      ],
    },
    nat: {
      chains: [natOutgoing],
      // A nat base chain makes the kernel run NAT's hooks on every packet of every flow (~0.3 µs
      // per pod round trip over two nodes, measured): hooked only when a pool has natOutgoing.
      hooks: natOutgoingNeeded
        ? [{ kernelChain: 'POSTROUTING', rules: [{ match: '', action: `-j ${CHAIN.natOutgoing}` }] }]
        : [],
    },
    ipSets: [
      { spec: ALL_POOLS_SET, members: ipv4Cidrs('pools', config.pools) },
      { spec: MASQ_POOLS_SET, members: ipv4Cidrs('natOutgoingPools', config.natOutgoingPools) },
    ],
  };
}

/** Host endpoint policy: a fresh verdict, the dispatch, and an explicit ACCEPT of what it accepted. */
function hostEndpointPolicy(dispatch: string): Rule[] {
  return [
    { match: '', action: clearMarks(MARK_ALL), comment: 'host endpoints: clear marks' },
    { match: '', action: `-j ${dispatch}`, comment: 'host endpoint policy' },
    { match: markIsSet(MARK_ACCEPT), action: '-j ACCEPT', comment: 'host endpoint policy accepted' },
  ];
}

function failsafeChain(name: string, ports: readonly ProtoPort[], netFlag: '-s' | '-d'): Chain {
  return {
    name,
    rules: ports.flatMap((entry, index) => {
      if (!['tcp', 'udp', 'sctp'].includes(entry.protocol)) {
        throw new Error(`${name} port ${index}: protocol must be tcp, udp or sctp (got ${entry.protocol})`);
      }
      if (!Number.isInteger(entry.port) || entry.port < 1 || entry.port > 65535) {
        throw new Error(`${name} port ${index}: port must be from 1 to 65535 (got ${entry.port})`);
      }
      // An IPv6 net does not apply to this IPv4 table.
      if (entry.net !== undefined && checkCidr(`${name} port ${index}`, entry.net) === 6) return [];
      const net = entry.net === undefined ? '' : ` ${netFlag} ${entry.net}`;
      return {
        match: `-p ${entry.protocol}${net} -m ${entry.protocol} --dport ${entry.port}`,
        action: '-j ACCEPT',
        comment: `failsafe ${entry.protocol}:${entry.port}`,
      };
    }),
  };
}

function ipv4Cidrs(field: string, cidrs: readonly string[]): string[] {
  return cidrs.filter((cidr, index) => checkCidr(`${field}[${index}]`, cidr) === 4);
}
