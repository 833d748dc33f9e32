export { type CpioEntry, writeCpio } from './cpio';
export { type BuiltInitramfs, buildInitramfs, DEFAULT_VM_MODULES, type InitramfsOptions } from './initramfs';
export { findCloudKernel, moduleLoadOrder, moduleName, type VmKernel } from './kernel';
export { runInVm, type VmRunOptions, type VmRunResult } from './run';
export {
  handWrittenIpipScript,
  inNs,
  ipBatch,
  parseCounters,
  pingAndCountScript,
  plainRoutesScript,
  shellInNs,
  TWO_NODES,
  twoNodeBaseScript,
  UNDERLAY_DEVICE,
  UNDERLAY_MTU,
  type VmTopologyNode,
} from './two-node';
