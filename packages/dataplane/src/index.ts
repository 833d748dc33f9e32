// @margay/dataplane — the only code that runs ip, iptables-restore/-save and ipset. Each writer
// owns exactly the kernel state it tags. This increment: the route table writer.

export {
  type CommandResponder,
  type CommandResult,
  type CommandRunner,
  ProcessRunner,
  type ProcessRunnerOptions,
  type RecordedCommand,
  RecordingRunner,
} from './command';
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
