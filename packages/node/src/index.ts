// @margay/node: margay-node's address autodetection, Node registration, the BGP agent that
// keeps an in-process speaker in step with the datastore, and the node process that runs them
// with felix, a status key, health probes and metrics.

export { type AutodetectMethod, autodetectIpv4, parseAutodetectMethod } from './autodetect';
export { BgpAgent, type BgpAgentOptions } from './bgp-agent';
export {
  type BgpConfigOptions,
  type BgpPeering,
  type BgpSnapshot,
  bgpPeering,
  bgpServerConfig,
  PEER_TYPES,
  type PlannedPeer,
} from './bgp-peers';
export { healthResponse, type Readiness } from './health';
export {
  type AgentAndNode,
  type ListenThenRegisterOptions,
  listenThenRegister,
} from './listen-then-register';
export { type NodeFlags, parseNodeFlags } from './main';
export { type MetricsSample, metricsText } from './metrics';
export { type NodeMode, NodeProcess, type NodeProcessOptions, type NodeSettings } from './node-process';
export { type NodeEnvironment, type NodeRegistration, nodeEnvironment, registerNode } from './registration';
export { COMMAND_PRIORITY, NODE_FLAGS } from './runtime';
export { type NodeStatus, StatusReporter, type StatusReporterOptions, statusKey } from './status';
