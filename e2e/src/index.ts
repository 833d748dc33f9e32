export {
  MAX_NODES,
  MAX_SUBNETS,
  type NodeInfo,
  type RouterInfo,
  SLOT_COUNT,
  type SubnetInfo,
} from './address-plan';
export type { StartAgentOptions } from './agents';
export {
  Cluster,
  DEFAULT_CLUSTER_NAME,
  type ExecOptions,
  type ExecResult,
  type SpawnInNodeOptions,
  type UpOptions,
} from './cluster';
export { type AddPodOptions, type PodInfo, parseLabels } from './pods';
export type { ClusterStatus, EtcdInfo } from './state';
