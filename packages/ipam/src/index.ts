// @margay/ipam: Calico-style block IPAM on the Datastore.

export type { IpAllocation } from './allocations';
export type { BlockProblem, CheckReport, DoubleAllocation, HandleMismatch, Leak } from './check';
export { IpamError, type IpamErrorCode } from './errors';
export type { GcLeak, GcReport } from './gc';
export {
  type Assignment,
  type AssignRequest,
  type BlockInfo,
  Ipam,
  type IpamLogger,
  type IpamOptions,
  type PoolUsage,
} from './ipam';
export { cidrOfKey, ipamKeys } from './keys';
export type { AllocationAttribute, AllocationBlock, IpamHandle } from './records';
export { isConfirmedAffinity } from './records';
