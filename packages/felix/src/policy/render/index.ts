// The policy renderer: pure functions from the policy model (model.ts) to iptables chains and the
// IP sets they refer to. The same model always renders the same text.

export { checkCidr } from './addresses';
export { type DispatchOptions, renderDispatch } from './dispatch';
export { renderEndpoint, tierAndProfileRules } from './endpoint';
export { type Direction, PolicyRenderError, type RenderErrorWhere } from './errors';
export {
  checkHostInterfaceName,
  type HostEndpointOptions,
  renderHostEndpoint,
  renderHostEndpointDispatch,
} from './host-endpoint';
export { ipSetKey, ipSetSpecFor, MAX_IPSET_NAME_LENGTH } from './ipset-names';
export { MARK_ACCEPT, MARK_ALL, MARK_PASS, MARK_SCRATCH } from './marks';
export {
  CHAIN,
  DEFAULT_INTERFACE_PREFIX,
  hostEndpointChainName,
  lengthLimitedName,
  MAX_CHAIN_NAME_LENGTH,
  policyChainName,
  profileChainName,
  workloadChainName,
} from './names';
export { type RenderedPolicy, renderPolicy, renderProfile } from './policy';
export { type RuleOwner, renderRules } from './rule';
export {
  type FoldedSelectors,
  foldSelectors,
  NAMESPACE_LABEL,
  NAMESPACE_LABEL_PREFIX,
  namespaceLabelsSelector,
} from './selectors';
export {
  ALL_POOLS_SET,
  type EndpointToHostAction,
  type Hook,
  MASQ_POOLS_SET,
  type RenderedStatic,
  type RenderedTable,
  renderStatic,
  type StaticConfig,
} from './static';
