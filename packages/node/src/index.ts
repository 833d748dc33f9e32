// @margay/node: margay-node's address autodetection, Node registration and the BGP agent that
// keeps an in-process speaker in step with the datastore.

export { type AutodetectMethod, autodetectIpv4, parseAutodetectMethod } from './autodetect';
export { BgpAgent, type BgpAgentOptions } from './bgp-agent';
export { type BgpConfigOptions, type BgpSnapshot, bgpServerConfig } from './bgp-peers';
export { type NodeEnvironment, type NodeRegistration, nodeEnvironment, registerNode } from './registration';
