// Consistency check of the IPAM state: a pure function of the stored blocks and handles.

import { addressAt } from './block';
import { parseCidr } from './ip';
import type { AllocationBlock, IpamHandle } from './records';

export interface Leak {
  ip: string;
  handle: string;
  block: string;
  /** `handle-missing`: no handle record; `not-live`: the handle is not among the live ones. */
  reason: 'handle-missing' | 'not-live';
}

export interface DoubleAllocation {
  ip: string;
  /** Every allocation of the address: overlapping blocks each handing it out. */
  holders: { block: string; handle: string }[];
}

export interface HandleMismatch {
  handle: string;
  block: string;
  /** Addresses the handle record says it holds in the block. */
  recorded: number;
  /** Addresses the block actually holds for the handle. */
  actual: number;
}

export interface BlockProblem {
  block: string;
  message: string;
}

export interface CheckReport {
  /** Allocated addresses seen. */
  allocations: number;
  leaks: Leak[];
  doubleAllocations: DoubleAllocation[];
  handleMismatches: HandleMismatch[];
  /** Blocks whose free list disagrees with their allocations (an address could be handed out twice). */
  blockProblems: BlockProblem[];
  /** True if nothing above was found. */
  clean: boolean;
}

export function checkState(
  blocks: readonly AllocationBlock[],
  handles: ReadonlyMap<string, IpamHandle>,
  liveHandles?: ReadonlySet<string>,
): CheckReport {
  const leaks: Leak[] = [];
  const blockProblems: BlockProblem[] = [];
  const holdersByIp = new Map<string, { block: string; handle: string }[]>();
  /** `handle block` → addresses the blocks hold for it. */
  const actualCounts = new Map<string, number>();
  let allocations = 0;

  for (const block of blocks) {
    const cidr = parseCidr(block.cidr);
    const free = new Set<number>();
    for (const ordinal of block.unallocated) {
      if (free.has(ordinal))
        blockProblems.push({ block: block.cidr, message: `ordinal ${ordinal} is free twice` });
      if (block.allocations[ordinal] !== null) {
        blockProblems.push({
          block: block.cidr,
          message: `${addressAt(cidr, ordinal)} is allocated and also on the free list`,
        });
      }
      free.add(ordinal);
    }
    block.allocations.forEach((index, ordinal) => {
      if (index === null) {
        if (!free.has(ordinal)) {
          blockProblems.push({
            block: block.cidr,
            message: `${addressAt(cidr, ordinal)} is neither used nor free`,
          });
        }
        return;
      }
      allocations++;
      const ip = addressAt(cidr, ordinal);
      const handle = block.attributes[index]!.handle_id;
      const holders = holdersByIp.get(ip) ?? [];
      holders.push({ block: block.cidr, handle });
      holdersByIp.set(ip, holders);
      const countKey = `${handle} ${block.cidr}`;
      actualCounts.set(countKey, (actualCounts.get(countKey) ?? 0) + 1);
      if (!handles.has(handle)) leaks.push({ ip, handle, block: block.cidr, reason: 'handle-missing' });
      else if (liveHandles && !liveHandles.has(handle))
        leaks.push({ ip, handle, block: block.cidr, reason: 'not-live' });
    });
  }

  const handleMismatches: HandleMismatch[] = [];
  for (const [handle, record] of handles) {
    for (const [block, recorded] of Object.entries(record.block)) {
      const actual = actualCounts.get(`${handle} ${block}`) ?? 0;
      if (actual !== recorded) handleMismatches.push({ handle, block, recorded, actual });
    }
  }
  for (const [countKey, actual] of actualCounts) {
    const [handle = '', block = ''] = countKey.split(' ');
    const record = handles.get(handle);
    if (record && record.block[block] === undefined)
      handleMismatches.push({ handle, block, recorded: 0, actual });
  }

  const doubleAllocations = [...holdersByIp]
    .filter(([, holders]) => holders.length > 1)
    .map(([ip, holders]) => ({ ip, holders }));

  return {
    allocations,
    leaks,
    doubleAllocations,
    handleMismatches,
    blockProblems,
    clean: leaks.length + doubleAllocations.length + handleMismatches.length + blockProblems.length === 0,
  };
}
