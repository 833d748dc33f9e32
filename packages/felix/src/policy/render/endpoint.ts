// Per-workload chains, in felix's structure (calico.md §2.2):
//
//   mg-tw-<iface> (to the workload: its ingress policy) and mg-fw-<iface> (from it: egress):
//   1. clear our mark bits;
//   2. (egress only) anti-spoofing: the source must be one of the endpoint's addresses; and no
//      IPIP/VXLAN from workloads (they could otherwise inject packets into our tunnels);
//   3. for each tier that has policies for this endpoint in this direction: clear the pass bit,
//      jump to each policy chain while the pass bit is clear and RETURN once one accepted; at the
//      end of the tier DROP unless a policy passed ("default deny once any policy selects");
//   4. the profiles, in order, RETURN once one accepted (reached when no tier has a policy for
//      this direction, or when the last tier passed);
//   5. DROP: nothing accepted.
//
// RETURN with the accept bit set is how the verdict reaches mg-FORWARD / mg-wl-to-host, which
// accept the packet explicitly.

import type { Chain, Rule } from '@margay/dataplane';
import type { EndpointModel } from '../model';
import { checkCidr } from './addresses';
import type { Direction } from './errors';
import {
  clearMarks,
  MARK_ACCEPT,
  MARK_ALL,
  MARK_PASS,
  MARK_SCRATCH,
  markIsClear,
  markIsSet,
  setMark,
} from './marks';
import { policyChainName, profileChainName, workloadChainName } from './names';

export const VXLAN_PORT = 4789;
const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function checkInterfaceName(name: string): void {
  if (!INTERFACE_NAME.test(name)) {
    throw new Error(
      `endpoint interface name ${JSON.stringify(name)} is not a Linux interface name (1-15 of A-Z a-z 0-9 _ . -)`,
    );
  }
}

export function renderEndpoint(endpoint: EndpointModel): Chain[] {
  checkInterfaceName(endpoint.interfaceName);
  for (const address of endpoint.addresses) checkCidr(`endpoint ${endpoint.interfaceName} address`, address);
  return [endpointChain(endpoint, 'ingress'), endpointChain(endpoint, 'egress')];
}

function endpointChain(endpoint: EndpointModel, direction: Direction): Chain {
  const rules: Rule[] = [{ match: '', action: clearMarks(MARK_ALL), comment: 'start: clear marks' }];
  if (direction === 'egress') rules.push(...antiSpoofing(endpoint), ...noEncapsulation());
  rules.push(...tierAndProfileRules(endpoint, direction));
  return { name: workloadChainName(direction, endpoint.interfaceName), rules };
}

/**
 * Steps 3-5 of an endpoint chain, shared by workload and host endpoints: each tier with policies
 * for this direction (default deny at its end unless a policy passed), then the profiles, then DROP.
 */
export function tierAndProfileRules(
  endpoint: Pick<EndpointModel, 'tiers' | 'profileIds'>,
  direction: Direction,
): Rule[] {
  const rules: Rule[] = [];
  for (const tier of endpoint.tiers) {
    const policies = direction === 'ingress' ? tier.ingressPolicies : tier.egressPolicies;
    if (policies.length === 0) continue;
    rules.push({ match: '', action: CLEAR_PASS, comment: `start of tier ${tier.name}` });
    for (const id of policies) {
      rules.push(
        { match: PASS_IS_CLEAR, action: `-j ${policyChainName(direction, id)}` },
        { match: ACCEPT_IS_SET, action: '-j RETURN', comment: 'return if policy accepted' },
      );
    }
    rules.push({
      match: PASS_IS_CLEAR,
      action: '-j DROP',
      comment: `end of tier ${tier.name}: drop if no policy passed`,
    });
  }

  for (const id of endpoint.profileIds) {
    rules.push(
      { match: '', action: `-j ${profileChainName(direction, id)}` },
      { match: ACCEPT_IS_SET, action: '-j RETURN', comment: 'return if profile accepted' },
    );
  }
  rules.push({ match: '', action: '-j DROP', comment: 'drop if no profile accepted' });
  return rules;
}

// Built once: every endpoint chain repeats them for each policy.
const CLEAR_PASS = clearMarks(MARK_PASS);
const PASS_IS_CLEAR = markIsClear(MARK_PASS);
const ACCEPT_IS_SET = markIsSet(MARK_ACCEPT);

/** Only the endpoint's own IPv4 addresses may be sources; with none, nothing IPv4 leaves it. */
function antiSpoofing(endpoint: EndpointModel): Rule[] {
  const addresses = endpoint.addresses.filter((address) => !address.includes(':'));
  const comment = 'anti-spoofing: source must be the endpoint';
  const [only] = addresses;
  if (addresses.length === 1 && only !== undefined)
    return [{ match: `! -s ${only}`, action: '-j DROP', comment }];
  if (addresses.length === 0) return [{ match: '', action: '-j DROP', comment }];
  return [
    ...addresses.map((address) => ({ match: `-s ${address}`, action: setMark(MARK_SCRATCH) })),
    { match: markIsClear(MARK_SCRATCH), action: '-j DROP', comment },
    { match: '', action: clearMarks(MARK_SCRATCH) },
  ];
}

function noEncapsulation(): Rule[] {
  return [
    { match: '-p 4', action: '-j DROP', comment: 'no IPIP from workloads' },
    { match: `-p udp -m udp --dport ${VXLAN_PORT}`, action: '-j DROP', comment: 'no VXLAN from workloads' },
  ];
}
