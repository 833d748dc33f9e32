// Who holds an address, read off its block: the view `ipam show --ip`, `--show-borrowed` and GC share.

import { addressAt } from './block';
import type { Cidr } from './ip';
import { type AllocationBlock, affinityNode } from './records';

export interface IpAllocation {
  ip: string;
  handle: string;
  /** What the assigner stored: node, namespace, pod, containerID, type, ... */
  attributes: Record<string, string>;
  block: string;
  /** The node the block is affine to; undefined once no node claims it. */
  blockOwner: string | undefined;
  /** The allocation's `node` attribute names another node than the block's owner. */
  borrowed: boolean;
}

/** The allocation of one ordinal of the block; undefined if that address is free. */
export function allocationAt(block: AllocationBlock, cidr: Cidr, ordinal: number): IpAllocation | undefined {
  const index = block.allocations[ordinal];
  const attribute = index === null || index === undefined ? undefined : block.attributes[index];
  if (!attribute) return undefined;
  const blockOwner = affinityNode(block);
  const node = attribute.secondary['node'];
  return {
    ip: addressAt(cidr, ordinal),
    handle: attribute.handle_id,
    attributes: { ...attribute.secondary },
    block: block.cidr,
    blockOwner,
    borrowed: node !== undefined && node !== blockOwner,
  };
}

/** Every allocation of the block, in address order. */
export function allocationsIn(block: AllocationBlock, cidr: Cidr): IpAllocation[] {
  return block.allocations.flatMap((_, ordinal) => allocationAt(block, cidr, ordinal) ?? []);
}
