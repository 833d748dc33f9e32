// @margay/cni: the CNI plugin margay-cni (ADD, DEL, CHECK, VERSION, GC, STATUS).

export { type Attachment, type NetworkConfig, parseNetworkConfig, SUPPORTED_VERSIONS } from './config';
export { type CniEnvironment, COMMANDS, type Command, parseEnvironment } from './env';
export { CniError, ERROR_CODES, type ErrorCode, type ErrorResult, errorResult } from './errors';
export { GATEWAY, HOST_VETH_MAC, type WorkloadLink, WorkloadLinks } from './links';
export { type PluginOutput, runPlugin } from './main';
export { hostVethName, ipamHandle, VETH_PREFIX, type Workload, workloadEndpointName } from './naming';
export { add, check, del, gc, type IpamClient, type PluginContext, status } from './plugin';
export type { AddResult } from './result';
