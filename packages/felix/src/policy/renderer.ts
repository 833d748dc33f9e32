// What the policy calc graph and manager need from the rule renderer (policy/render): the pure
// functions from models to chains. An interface so tests can count calls or inject failures.

import type { Chain, IpSetSpec } from '@margay/dataplane';
import type { EndpointModel, HostEndpointModel, IpSetRef, PolicyModel, ProfileModel } from './model';
import type { RenderedStatic, StaticConfig } from './render';

export type { RenderedStatic, StaticConfig };

export interface RenderedRules {
  readonly chains: readonly Chain[];
  readonly ipSets: readonly IpSetRef[];
}

export interface PolicyRenderer {
  renderPolicy(policy: PolicyModel): RenderedRules;
  renderProfile(profile: ProfileModel): RenderedRules;
  renderEndpoint(endpoint: EndpointModel): readonly Chain[];
  renderDispatch(endpoints: readonly EndpointModel[]): readonly Chain[];
  /** `mg-fh-<iface>` and `mg-th-<iface>` of one host endpoint. */
  renderHostEndpoint(endpoint: HostEndpointModel): readonly Chain[];
  /** `mg-from-host-endpoint` and `mg-to-host-endpoint` (both, even when empty). */
  renderHostEndpointDispatch(endpoints: readonly HostEndpointModel[]): readonly Chain[];
  renderStatic(config: StaticConfig): RenderedStatic;
  ipSetSpecFor(ref: IpSetRef): IpSetSpec;
}
