// Which IPPools a node may take addresses from: enabled, of the right family and use, chosen by
// the request (if it names pools) and selecting the node by its labels.

import {
  decodeResource,
  type IPPool,
  isKind,
  parseSelector,
  resourceKey,
  resourcePrefix,
  selectorMatches,
} from '@margay/api';
import type { Datastore } from '@margay/datastore';
import { type Cidr, cidrSize, type Family, parseCidr } from './ip';

export interface Pool {
  name: string;
  cidr: Cidr;
  cidrText: string;
  blockSize: number;
  resource: IPPool;
}

export async function listPools(store: Datastore): Promise<Pool[]> {
  const { items } = await store.list(resourcePrefix('IPPool'));
  return items.map(({ key, value }) => {
    const resource = decodeResource(value);
    if (!isKind(resource, 'IPPool')) throw new Error(`${key} holds a ${resource.kind}, not an IPPool`);
    return {
      name: resource.metadata.name,
      cidr: parseCidr(resource.spec.cidr),
      cidrText: resource.spec.cidr,
      blockSize: resource.spec.blockSize,
      resource,
    };
  });
}

/** Labels of the Node resource; a node without one has no labels. */
export async function nodeLabels(store: Datastore, node: string): Promise<Record<string, string>> {
  const kv = await store.get(resourceKey('Node', node));
  return kv ? (decodeResource(kv.value).metadata.labels ?? {}) : {};
}

export interface PoolFilter {
  family: Family;
  use: 'Workload' | 'Tunnel';
  /** Only these pools, in this order of preference. */
  names?: readonly string[];
  labels: Readonly<Record<string, string>>;
}

export function eligiblePools(pools: readonly Pool[], filter: PoolFilter): Pool[] {
  const chosen = filter.names ? filter.names.map((name) => pools.find((pool) => pool.name === name)) : pools;
  return chosen.filter(
    (pool): pool is Pool =>
      pool !== undefined &&
      pool.cidr.family === filter.family &&
      !pool.resource.spec.disabled &&
      pool.resource.spec.allowedUses.includes(filter.use) &&
      selectorMatches(parseSelector(pool.resource.spec.nodeSelector), filter.labels),
  );
}

/**
 * The lowest block of the pool that overlaps no existing block, or undefined if the pool is full.
 * Walks the existing blocks in address order instead of the pool's blocks, so an IPv6 pool with
 * 2^58 blocks costs no more than the blocks that exist.
 */
export function firstFreeBlock(pool: Pool, existing: readonly Cidr[]): Cidr | undefined {
  const blockLength = cidrSize({ ...pool.cidr, prefixLength: pool.blockSize });
  const poolEnd = pool.cidr.base + cidrSize(pool.cidr);
  const alignUp = (address: bigint) =>
    pool.cidr.base + ((address - pool.cidr.base + blockLength - 1n) / blockLength) * blockLength;
  let candidate = pool.cidr.base;
  const sorted = existing
    .filter((cidr) => cidr.family === pool.cidr.family)
    .sort((a, b) => (a.base < b.base ? -1 : 1));
  for (const block of sorted) {
    const blockEnd = block.base + cidrSize(block);
    if (blockEnd <= candidate) continue;
    if (block.base >= candidate + blockLength) break;
    candidate = alignUp(blockEnd);
  }
  if (candidate + blockLength > poolEnd) return undefined;
  return { family: pool.cidr.family, base: candidate, prefixLength: pool.blockSize };
}
