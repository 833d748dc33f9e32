// @margay/tunnel: IPIP (tunl0) and VXLAN (vxlan.margay) overlays with CrossSubnet. The calculator
// turns pools, nodes and block affinities into this node's desired tunnel state; the dataplane
// writes it to the kernel (routes with proto 79); the agent feeds both from datastore watches and
// keeps the node's tunnel addresses in IPAM and its Node resource.

export {
  hasTunnelFields,
  syncTunnelAddresses,
  type TunnelAddresses,
  type TunnelKind,
  tunnelAddressPools,
  withTunnelFields,
} from './addresses';
export { TunnelAgent, type TunnelAgentOptions, type TunnelLogger } from './agent';
export { calculateTunnelState, poolEncapsulation, type TunnelCalculation } from './calculate';
export {
  derivedVxlanMac,
  IPIP_DEVICE,
  IPIP_OVERHEAD,
  tunnelHandle,
  VXLAN_DEVICE,
  VXLAN_OVERHEAD,
  VXLAN_PORT,
  VXLAN_VNI,
} from './constants';
export {
  type ApplyResult,
  commandsAsScript,
  type PlannedCommand,
  plannedCommands,
  TunnelDataplane,
} from './dataplane';
export { prefixInCidrs } from './ipv4';
export { EMPTY_KERNEL_STATE, type KernelTunnelState, type LinkState, readKernelTunnelState } from './kernel';
export { planTunnelCommands, type TunnelCommand, type TunnelPlan } from './plan';
export {
  type BlockAffinity,
  EMPTY_TUNNEL_STATE,
  type FdbEntry,
  type IpipDeviceSpec,
  type NeighbourEntry,
  type TunnelInputs,
  type TunnelNode,
  type TunnelPool,
  type TunnelState,
  type Underlay,
  type VxlanDeviceSpec,
} from './state';
export { findUnderlay } from './underlay';
