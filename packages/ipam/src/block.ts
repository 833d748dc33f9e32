// Allocation within one block. Blocks are parsed fresh from the store for every attempt, so these
// functions change the block in place; the caller writes it back with compare-and-swap.

import { type Cidr, cidrSize, formatIp, type Ip } from './ip';
import type { AllocationBlock } from './records';

export function newBlock(cidr: Cidr, cidrText: string, node: string | undefined): AllocationBlock {
  const size = Number(cidrSize(cidr));
  return {
    cidr: cidrText,
    affinity: node === undefined ? null : `host:${node}`,
    allocations: Array<null>(size).fill(null),
    unallocated: Array.from({ length: size }, (_, ordinal) => ordinal),
    attributes: [],
    sequenceNumber: 0,
    sequenceNumberForAllocation: {},
    deleted: false,
  };
}

/** Takes the next free address for `handle`; undefined if the block is full. */
export function allocate(
  block: AllocationBlock,
  handle: string,
  attributes: Record<string, string>,
): number | undefined {
  const ordinal = block.unallocated.shift();
  if (ordinal === undefined) return undefined;
  block.attributes.push({ handle_id: handle, secondary: attributes });
  block.allocations[ordinal] = block.attributes.length - 1;
  block.sequenceNumber++;
  block.sequenceNumberForAllocation[String(ordinal)] = block.sequenceNumber;
  return ordinal;
}

/** Frees the given ordinals and drops the attributes nothing refers to any more. */
export function release(block: AllocationBlock, ordinals: readonly number[]): void {
  for (const ordinal of ordinals) {
    if (block.allocations[ordinal] === null || block.allocations[ordinal] === undefined) continue;
    block.allocations[ordinal] = null;
    block.unallocated.push(ordinal);
    delete block.sequenceNumberForAllocation[String(ordinal)];
  }
  const used = [...new Set(block.allocations.filter((index) => index !== null))].sort((a, b) => a - b);
  const renumbered = new Map(used.map((index, position) => [index, position]));
  block.attributes = used.map((index) => block.attributes[index]!);
  block.allocations = block.allocations.map((index) => (index === null ? null : renumbered.get(index)!));
  block.sequenceNumber++;
}

/** The allocated ordinals of the block that belong to `handle`. */
export function ordinalsOf(block: AllocationBlock, handle: string): number[] {
  const ordinals: number[] = [];
  block.allocations.forEach((index, ordinal) => {
    if (index !== null && block.attributes[index]?.handle_id === handle) ordinals.push(ordinal);
  });
  return ordinals;
}

export function inUse(block: AllocationBlock): number {
  return block.allocations.filter((index) => index !== null).length;
}

export function addressAt(cidr: Cidr, ordinal: number): string {
  return formatIp(cidr.family, cidr.base + BigInt(ordinal));
}

export function ordinalOf(cidr: Cidr, ip: Ip): number {
  return Number(ip.value - cidr.base);
}
