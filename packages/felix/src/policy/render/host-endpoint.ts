// Host endpoint chains, in felix's structure (calico.md §2.1-2.2): a host interface with a
// HostEndpoint of this node gets
//
//   mg-fh-<iface> (from the host endpoint: traffic to the host arriving on it, INPUT) and
//   mg-th-<iface> (to the host endpoint: traffic from the host leaving through it, OUTPUT):
//   1. INVALID dropped, replies (ESTABLISHED,RELATED) accepted;
//   2. the failsafe chain: SSH, BGP, etcd, the API server, DNS, DHCP... are accepted BEFORE any
//      policy, so no policy mistake can cut the node off;
//   3. clear our mark bits, then the tiers and profiles exactly as for a workload; nothing
//      accepted → DROP (a host endpoint no policy or profile allows carries failsafe traffic only).
//
// The dispatch chains `mg-from-host-endpoint` (`-i`) and `mg-to-host-endpoint` (`-o`) goto these
// and, unlike the workload dispatch, end without a DROP: a host interface without a HostEndpoint is
// left alone. mg-INPUT / mg-OUTPUT (static.ts) clear the marks, jump to the dispatch and ACCEPT
// what a policy accepted. Workload traffic never gets here: mg-INPUT sends `-i mg+` to the
// workload's own chains first, and mg-OUTPUT accepts `-o mg+` first. Forwarded traffic through a
// host endpoint (Calico's applyOnForward, `mg-fhfw-`/`mg-thfw-`) is not policed yet.

import type { Chain, Rule } from '@margay/dataplane';
import type { HostEndpointModel } from '../model';
import { checkInterfaceName, tierAndProfileRules } from './endpoint';
import type { Direction } from './errors';
import { clearMarks, MARK_ALL } from './marks';
import { CHAIN, DEFAULT_INTERFACE_PREFIX, hostEndpointChainName } from './names';

export interface HostEndpointOptions {
  /** Prefix of workload interfaces (default `mg`): a host endpoint may not use it. */
  readonly interfacePrefix?: string;
}

/** Throws, naming the interface, unless it can be a host endpoint's interface. */
export function checkHostInterfaceName(name: string, options: HostEndpointOptions = {}): void {
  checkInterfaceName(name);
  const prefix = options.interfacePrefix ?? DEFAULT_INTERFACE_PREFIX;
  if (name.startsWith(prefix)) {
    throw new Error(`host endpoint interface ${name} has the workload interface prefix ${prefix}`);
  }
}

export function renderHostEndpoint(endpoint: HostEndpointModel, options: HostEndpointOptions = {}): Chain[] {
  checkHostInterfaceName(endpoint.interfaceName, options);
  return [hostEndpointChain(endpoint, 'ingress'), hostEndpointChain(endpoint, 'egress')];
}

function hostEndpointChain(endpoint: HostEndpointModel, direction: Direction): Chain {
  const rules: Rule[] = [
    { match: '-m conntrack --ctstate INVALID', action: '-j DROP', comment: 'invalid' },
    { match: '-m conntrack --ctstate RELATED,ESTABLISHED', action: '-j ACCEPT', comment: 'replies' },
    {
      match: '',
      action: `-j ${direction === 'ingress' ? CHAIN.failsafeIn : CHAIN.failsafeOut}`,
      comment: 'failsafe ports before any policy',
    },
    { match: '', action: clearMarks(MARK_ALL), comment: 'start: clear marks' },
    ...tierAndProfileRules(endpoint, direction),
  ];
  return { name: hostEndpointChainName(direction, endpoint.interfaceName), rules };
}

/** The two dispatch chains (always both, empty without host endpoints: the static chains jump to them). */
export function renderHostEndpointDispatch(
  endpoints: readonly HostEndpointModel[],
  options: HostEndpointOptions = {},
): Chain[] {
  const names = endpoints.map((endpoint) => endpoint.interfaceName);
  const seen = new Set<string>();
  for (const name of names) {
    checkHostInterfaceName(name, options);
    if (seen.has(name)) throw new Error(`two host endpoints use interface ${name}`);
    seen.add(name);
  }
  names.sort();
  // Hosts have a handful of interfaces: one flat chain per direction.
  return [
    {
      name: CHAIN.fromHostEndpoint,
      rules: names.map((name) => ({
        match: `-i ${name}`,
        action: `-g ${hostEndpointChainName('ingress', name)}`,
      })),
    },
    {
      name: CHAIN.toHostEndpoint,
      rules: names.map((name) => ({
        match: `-o ${name}`,
        action: `-g ${hostEndpointChainName('egress', name)}`,
      })),
    },
  ];
}
