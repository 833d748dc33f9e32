// The JSON documents IPAM stores, in the shapes of Calico's AllocationBlock, BlockAffinity and
// IPAMHandle, with parsing that names the key of a corrupt document.

import { z } from 'zod';

const allocationAttribute = z.object({
  handle_id: z.string().min(1),
  /** Secondary attributes: node, namespace, pod, type, ... */
  secondary: z.record(z.string(), z.string()),
});
export type AllocationAttribute = z.infer<typeof allocationAttribute>;

const ordinal = z.number().int().nonnegative();

const allocationBlock = z.object({
  cidr: z.string(),
  /** `host:<node>` for a block claimed by a node; null once the node let go of it. */
  affinity: z.string().nullable(),
  /** One entry per address of the block: the index of its attributes, or null if free. */
  allocations: z.array(ordinal.nullable()),
  /** Free ordinals in the order they are handed out; released ones go to the back. */
  unallocated: z.array(ordinal),
  attributes: z.array(allocationAttribute),
  /** Bumped by every change, so a reader can tell a reused address from the one it saw. */
  sequenceNumber: z.number().int().nonnegative(),
  /** Ordinal → the block's sequence number when that address was allocated. */
  sequenceNumberForAllocation: z.record(z.string(), z.number().int().nonnegative()),
  deleted: z.boolean(),
});
export type AllocationBlock = z.infer<typeof allocationBlock>;

const ipamHandle = z.object({
  /** Block CIDR → how many addresses of the handle it holds. */
  block: z.record(z.string(), z.number().int().positive()),
  deleted: z.boolean(),
});
export type IpamHandle = z.infer<typeof ipamHandle>;

export const CONFIRMED_AFFINITY = JSON.stringify({ state: 'confirmed', deleted: false });

/** A pending or deleted affinity (or one that does not parse) is not the node's to announce. */
export function isConfirmedAffinity(value: string): boolean {
  try {
    const affinity = JSON.parse(value) as { state?: unknown; deleted?: unknown } | null;
    return affinity?.state === 'confirmed' && affinity.deleted !== true;
  } catch {
    return false;
  }
}

function parseRecord<T>(schema: z.ZodType<T>, what: string, key: string, value: string): T {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (error) {
    throw new Error(`${what} at ${key} is not JSON: ${(error as Error).message}`);
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`${what} at ${key} is corrupt: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}

export function parseBlock(key: string, value: string): AllocationBlock {
  const block = parseRecord(allocationBlock, 'allocation block', key, value);
  if (block.allocations.some((index) => index !== null && index >= block.attributes.length)) {
    throw new Error(`allocation block at ${key} is corrupt: an allocation points past its attributes`);
  }
  return block;
}

export function parseHandle(key: string, value: string): IpamHandle {
  return parseRecord(ipamHandle, 'IPAM handle', key, value);
}

/** The node of a `host:<node>` affinity, if it is one. */
export function affinityNode(block: AllocationBlock): string | undefined {
  return block.affinity?.startsWith('host:') ? block.affinity.slice('host:'.length) : undefined;
}
