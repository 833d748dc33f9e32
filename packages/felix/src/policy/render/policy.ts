// Policy and profile chains: `mg-pi-<id>` / `mg-po-<id>` for a policy's ingress / egress rules,
// `mg-pri-<id>` / `mg-pro-<id>` for a profile's. The endpoint chains jump to them in order.

import type { Chain } from '@margay/dataplane';
import type { IpSetRef, PolicyModel, ProfileModel } from '../model';
import { ipSetSpecFor } from './ipset-names';
import { policyChainName, profileChainName } from './names';
import { type RuleOwner, renderRules } from './rule';

export interface RenderedPolicy {
  /** The ingress chain, then the egress chain. */
  readonly chains: Chain[];
  /** Every set the chains refer to, once each. */
  readonly ipSets: IpSetRef[];
}

export function renderPolicy(policy: PolicyModel): RenderedPolicy {
  const owner: RuleOwner = { owner: 'policy', id: policy.id, namespace: policy.namespace };
  return renderBoth(owner, policy, policyChainName);
}

/** Profiles are global: their selectors are not scoped to a namespace. */
export function renderProfile(profile: ProfileModel): RenderedPolicy {
  return renderBoth({ owner: 'profile', id: profile.id }, profile, profileChainName);
}

function renderBoth(
  owner: RuleOwner,
  model: PolicyModel | ProfileModel,
  chainName: typeof policyChainName,
): RenderedPolicy {
  const ingress = renderRules(owner, 'ingress', model.ingress);
  const egress = renderRules(owner, 'egress', model.egress);
  // Each set once, in order of first use (a start renders 1,000 policies: no spread arrays).
  const ipSets = new Map<string, IpSetRef>();
  for (const ref of ingress.ipSets) ipSets.set(ipSetSpecFor(ref).name, ref);
  for (const ref of egress.ipSets) ipSets.set(ipSetSpecFor(ref).name, ref);
  return {
    chains: [
      { name: chainName('ingress', model.id), rules: ingress.rules },
      { name: chainName('egress', model.id), rules: egress.rules },
    ],
    ipSets: Array.from(ipSets.values()),
  };
}
