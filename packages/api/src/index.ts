// @margay/api: resource schemas (Calico v3 field names), parsing and validation, Kubernetes
// NetworkPolicy conversion, the selector language and the etcd key layout.

export { decodeResource, decodeResources, encodeResource } from './codec';
export { type DocumentIssue, ResourceValidationError } from './errors';
export { K8S_NETWORKING_API_VERSION, K8S_POLICY_NAME_PREFIX, K8S_POLICY_ORDER } from './k8s-network-policy';
export { RESOURCE_KEY_ROOT, resourceKey, resourcePrefix, STATUS_KEY_ROOT, statusKeys } from './keys';
export { KINDS, type Kind, type KindInfo, kindInfo, lookupKind } from './kinds';
export {
  dnsLabelProblem,
  dnsSubdomainProblem,
  labelKeyProblem,
  labelValueProblem,
  portNameProblem,
} from './names';
export { formatIp, type IpAddress, parseIp } from './net';
export { parseResources } from './parse';
export { isKind, type ResourceOfKind } from './resource-kinds';
export {
  BGP_DEFAULTS,
  type BGPConfiguration,
  type BGPConfigurationSpec,
  DEFAULT_CONFIGURATION_NAME,
} from './resources/bgp-configuration';
export type { BGPPeer, BGPPeerSpec } from './resources/bgp-peer';
export type {
  EndpointPort,
  HostEndpoint,
  HostEndpointSpec,
  WorkloadEndpoint,
  WorkloadEndpointSpec,
} from './resources/endpoints';
export {
  FELIX_DEFAULTS,
  type FelixConfiguration,
  type FelixConfigurationSpec,
  type ProtoPort,
} from './resources/felix-configuration';
export {
  IPAM_CONFIGURATION_NAME,
  type IPAMConfiguration,
  type IPAMConfigurationSpec,
} from './resources/ipam-configuration';
export {
  ENCAPSULATION_MODES,
  type EncapsulationMode,
  type IPPool,
  type IPPoolSpec,
} from './resources/ippool';
export {
  API_VERSION,
  CALICO_API_VERSION,
  DEFAULT_NAMESPACE,
  type ObjectMeta,
  type Resource,
} from './resources/meta';
export type { Node, NodeSpec } from './resources/node';
export {
  DEFAULT_TIER,
  type EntityRule,
  type GlobalNetworkPolicy,
  type GlobalNetworkPolicySpec,
  type NetworkPolicy,
  type NetworkPolicySpec,
  POLICY_TYPES,
  type PolicyType,
  type Profile,
  type ProfileSpec,
  RULE_ACTIONS,
  type Rule,
} from './resources/policy';
export { type Port, PROTOCOL_NAMES, type Protocol, type ProtocolName } from './schema/fields';
export { type Selector, SelectorSyntaxError } from './selector/ast';
export { selectorMatches } from './selector/evaluate';
export { parseSelector } from './selector/parse';
export { selectorToString } from './selector/print';
export { testBgpConfiguration, testNode, testPeer, testPool, writeResource } from './test-resources';
export { validateResource } from './validate';
