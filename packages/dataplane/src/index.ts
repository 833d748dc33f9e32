// @margay/dataplane — the only code that runs ip, iptables-restore/-save and ipset. Each writer
// owns exactly the kernel state it tags: routes by proto, iptables rules by hash comment, ipsets by name.

export {
  type CommandResponder,
  type CommandResult,
  type CommandRunner,
  ProcessRunner,
  type ProcessRunnerOptions,
  type RecordedCommand,
  RecordingRunner,
} from './command';
export {
  type BackendDetection,
  BackendDetector,
  type BackendDetectorOptions,
  type IptablesBackend,
  type IptablesBackendMode,
  type IptablesCommands,
  iptablesCommands,
} from './iptables/backend';
export { IPSET_MAX_ELEMENTS, IpSetManager, type IpSetManagerOptions } from './iptables/ipsets';
export { CHAIN_PREFIX, HASH_PREFIX, hashRules } from './iptables/rules';
export { DEFAULT_REFRESH_INTERVAL_MS, Table, type TableOptions } from './iptables/table';
export type {
  Chain,
  IpSetApplyResult,
  IpSetSpec,
  IpSets,
  IpSetType,
  IptablesTable,
  PrimeResult,
  Rule,
  TableApplyOptions,
  TableApplyResult,
  TableName,
} from './iptables/types';
export { NetworkNamespace } from './netns';
export { canonicalAddress, type IpFamily, type Prefix, parsePrefix } from './prefix';
export { type CanonicalRoute, canonicalRoute, type KernelRoute } from './route';
export { ROUTE_PROTO } from './route-protos';
export {
  MAIN_TABLE,
  type RouteFailure,
  RouteTable,
  type RouteTableOptions,
  type WriteResult,
} from './route-table';
