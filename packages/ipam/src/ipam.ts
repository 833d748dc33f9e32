// Calico-style block IPAM. A node claims whole blocks of a pool (affinity) and hands out addresses
// from them; when its blocks are full it claims a free block, and only when no pool has a free
// block left does it borrow an address from another node's block. Handles name who holds which
// addresses, which makes assignment and release idempotent.
//
// Every change is one etcd transaction conditioned on the modRevisions of everything it read
// (block, handle, affinity); a ConflictError means another writer got there first, so the
// operation re-reads and tries again. Within one Ipam instance operations run one at a time, like
// Calico's host-wide IPAM lock: concurrent pods of one node would otherwise all race for the same
// block and mostly conflict.
//
// Empty blocks: releasing the last address of a block releases the block (block and affinity are
// deleted), except a node's last block of a family, which it keeps (`keepLastBlock`, default true)
// so that the next pod on the node does not have to claim a block again. Calico goes further and
// keeps every affinity until a node is deleted; releasing blocks eagerly lets other nodes use them.

import { decodeResource, isKind, resourceKey, resourcePrefix } from '@margay/api';
import {
  ConflictError,
  type Datastore,
  type KeyValue,
  type TxnCondition,
  type TxnOp,
} from '@margay/datastore';
import { allocationAt, allocationsIn, type IpAllocation } from './allocations';
import { addressAt, allocate, inUse, newBlock, ordinalOf, ordinalsOf, release } from './block';
import { type CheckReport, checkState } from './check';
import { IpamError } from './errors';
import { findLeaks, type GcLeak, type GcReport } from './gc';
import {
  type Cidr,
  cidrContains,
  cidrContainsIp,
  cidrSize,
  type Family,
  formatCidr,
  parseCidr,
  parseIp,
} from './ip';
import { cidrOfKey, ipamKeys, nodeOfAffinityKey } from './keys';
import { eligiblePools, firstFreeBlock, listPools, nodeLabels, type Pool } from './pools';
import {
  type AllocationBlock,
  affinityNode,
  CONFIRMED_AFFINITY,
  type IpamHandle,
  parseBlock,
  parseHandle,
} from './records';

export interface AssignRequest {
  /** Who holds the address, e.g. `k8s-pod-network.<containerID>`, `ipip-tunnel-addr-<node>`. */
  handle: string;
  /** The node that asks: blocks are claimed with affinity to it. */
  node: string;
  /** Default 4. */
  family?: 4 | 6;
  /** The pools' allowedUses must include it. Default Workload. */
  use?: 'Workload' | 'Tunnel';
  /** Stored with the allocation: node, namespace, pod, type, ... */
  attributes?: Record<string, string>;
  /** Only these IPPools, in this order of preference (CNI config `ipv4_pools`). */
  pools?: string[];
}

export interface Assignment {
  ip: string;
  /** The address as a host route: ip/32 or ip/128. */
  cidr: string;
  block: string;
  /** Name of the pool the block belongs to ('' if that pool has been deleted). */
  pool: string;
  /** True if the block is affine to another node (or to none). */
  borrowed: boolean;
}

export interface BlockInfo {
  cidr: string;
  /** Name of the pool the block lies in, if it still exists. */
  pool: string | undefined;
  /** The node the block is affine to, if any. */
  node: string | undefined;
  total: number;
  inUse: number;
  free: number;
}

export interface PoolUsage {
  pool: string;
  cidr: string;
  /** Addresses of the pool (an approximation above 2^53, for large IPv6 pools). */
  total: number;
  inUse: number;
  free: number;
  blocks: BlockInfo[];
}

export interface IpamLogger {
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export interface IpamOptions {
  /** Most blocks a node may claim per family; 0 = unlimited. Overrides IPAMConfiguration `default`. */
  maxBlocksPerHost?: number;
  /** Never borrow from another node's block. Overrides IPAMConfiguration `default`. */
  strictAffinity?: boolean;
  /** Keep a node's last block of a family when it empties. Default true. */
  keepLastBlock?: boolean;
  logger?: IpamLogger;
}

interface NormalizedRequest {
  handle: string;
  node: string;
  family: Family;
  use: 'Workload' | 'Tunnel';
  attributes: Record<string, string>;
  pools: string[] | undefined;
}

/** A block as read, with what a transaction needs to write it back. */
interface ReadBlock {
  key: string;
  modRevision: number;
  cidr: Cidr;
  block: AllocationBlock;
}

const MAX_ATTEMPTS = 30;
const MAX_BACKOFF_MS = 100;
const silent: IpamLogger = { debug: () => {}, info: () => {} };

export class Ipam {
  private readonly log: IpamLogger;
  /** Tail of this instance's operation queue. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Datastore,
    private readonly options: IpamOptions = {},
  ) {
    const max = options.maxBlocksPerHost;
    if (max !== undefined && !(Number.isInteger(max) && max >= 0)) {
      throw new IpamError(
        'invalid-request',
        `Ipam options: maxBlocksPerHost must be an integer >= 0, got ${max}`,
      );
    }
    this.log = options.logger ?? silent;
  }

  /** An address for `req.handle`; the same one again if the handle already holds one of the family. */
  async assign(req: AssignRequest): Promise<Assignment> {
    const request = normalizeRequest(req);
    return this.exclusive(() => this.retrying(`assign ${request.handle}`, () => this.tryAssign(request)));
  }

  /** Releases every address of the handle; returns them ([] if it held none). */
  async releaseByHandle(handle: string): Promise<string[]> {
    checkName('handle', handle);
    return this.exclusive(() => this.retrying(`release ${handle}`, () => this.tryReleaseHandle(handle)));
  }

  /** Releases one address whoever holds it; false if it was not allocated. */
  async releaseIp(ip: string): Promise<boolean> {
    const address = parseIp(ip);
    if (!address) throw new IpamError('invalid-request', `releaseIp: "${ip}" is not an IP address`);
    return this.exclusive(() => this.retrying(`release ${ip}`, () => this.tryReleaseIp(address.family, ip)));
  }

  /** The addresses the handle holds. */
  async lookupHandle(handle: string): Promise<string[]> {
    checkName('handle', handle);
    const record = await this.readHandle(handle);
    if (!record) return [];
    const addresses: string[] = [];
    for (const cidrText of Object.keys(record.handle.block)) {
      const read = await this.readBlock(cidrText);
      if (read)
        addresses.push(...ordinalsOf(read.block, handle).map((ordinal) => addressAt(read.cidr, ordinal)));
    }
    return addresses;
  }

  /** Who holds the address, with its block and whether it is borrowed; undefined if it is free. */
  async lookupIp(ip: string): Promise<IpAllocation | undefined> {
    const address = parseIp(ip);
    if (!address) throw new IpamError('invalid-request', `lookupIp: "${ip}" is not an IP address`);
    const read = (await this.readAllBlocks(address.family)).find((candidate) =>
      cidrContainsIp(candidate.cidr, address),
    );
    return read && allocationAt(read.block, read.cidr, ordinalOf(read.cidr, address));
  }

  /** Every address taken from a block affine to another node than the allocation's `node`. */
  async borrowed(): Promise<IpAllocation[]> {
    return (await this.readAllBlocks())
      .flatMap((read) => allocationsIn(read.block, read.cidr))
      .filter((allocation) => allocation.borrowed);
  }

  /**
   * Frees the workload addresses no WorkloadEndpoint uses and the tunnel addresses of deleted
   * nodes, then releases the blocks of deleted nodes (nodes without a Node resource). Caution: a
   * pod being added holds its address a moment before its endpoint is written, and GC would take
   * it; `dryRun` reports without changing anything.
   */
  async gcLeaks(options: { dryRun?: boolean } = {}): Promise<GcReport> {
    const [blocks, endpoints, nodeItems, affinities] = await Promise.all([
      this.readAllBlocks(),
      this.store.list(resourcePrefix('WorkloadEndpoint')),
      this.store.list(resourcePrefix('Node')),
      this.store.list(ipamKeys.hosts),
    ]);
    const nodes = new Set(nodeItems.items.map(({ value }) => decodeResource(value).metadata.name));
    const leaks = findLeaks(
      blocks.flatMap((read) => allocationsIn(read.block, read.cidr)),
      endpoints.items
        .map(({ value }) => decodeResource(value))
        .filter((resource) => isKind(resource, 'WorkloadEndpoint')),
      nodes,
    );
    const blocksOfDeleted = new Map<string, number>();
    for (const { key } of affinities.items) {
      const node = nodeOfAffinityKey(key);
      if (!nodes.has(node)) blocksOfDeleted.set(node, (blocksOfDeleted.get(node) ?? 0) + 1);
    }
    const report: GcReport = {
      freed: leaks,
      releasedNodes: [...blocksOfDeleted].map(([node, count]) => ({ node, blocks: count })),
    };
    if (options.dryRun) return report;

    // Each address is freed only if the leaked handle still holds it: it may have been reused since.
    const freed: GcLeak[] = [];
    for (const leak of leaks) {
      const address = parseIp(leak.ip)!;
      const done = await this.exclusive(() =>
        this.retrying(`release ${leak.ip}`, () => this.tryReleaseIp(address.family, leak.ip, leak.handle)),
      );
      if (done) freed.push(leak);
    }
    const releasedNodes: GcReport['releasedNodes'] = [];
    for (const { node } of report.releasedNodes) {
      releasedNodes.push({ node, blocks: await this.releaseNodeBlocks(node) });
    }
    if (freed.length + releasedNodes.length > 0) {
      this.log.info('IPAM GC freed leaks', { addresses: freed.length, nodes: releasedNodes.length });
    }
    return { freed, releasedNodes };
  }

  /** The blocks affine to the node. */
  async blocksOf(node: string): Promise<BlockInfo[]> {
    checkNode(node);
    const pools = await listPools(this.store);
    const { items } = await this.store.list(ipamKeys.affinities(node));
    const blocks: BlockInfo[] = [];
    for (const { key } of items) {
      const read = await this.readBlock(cidrOfKey(key));
      if (read) blocks.push(blockInfo(read, pools));
    }
    return blocks;
  }

  /** Per pool and per block: addresses in total, in use and free, and the blocks' affinities. */
  async usage(): Promise<PoolUsage[]> {
    const pools = await listPools(this.store);
    const blocks = (await this.readAllBlocks()).map((read) => blockInfo(read, pools));
    return pools.map((pool) => {
      const ofPool = blocks.filter((block) => block.pool === pool.name);
      const total = Number(cidrSize(pool.cidr));
      const used = ofPool.reduce((sum, block) => sum + block.inUse, 0);
      return { pool: pool.name, cidr: pool.cidrText, total, inUse: used, free: total - used, blocks: ofPool };
    });
  }

  /**
   * Finds leaks (allocations whose handle record is gone, or, given `liveHandles`, whose handle is
   * not among them), addresses allocated twice, handle records that disagree with the blocks, and
   * blocks whose free list disagrees with their allocations.
   */
  async check(liveHandles?: Iterable<string>): Promise<CheckReport> {
    const blocks = (await this.readAllBlocks()).map((read) => read.block);
    const handles = new Map<string, IpamHandle>();
    for (const { key, value } of (await this.store.list(ipamKeys.handles)).items) {
      handles.set(key.slice(ipamKeys.handles.length), parseHandle(key, value));
    }
    return checkState(blocks, handles, liveHandles ? new Set(liveHandles) : undefined);
  }

  /**
   * A deleted node lets go of its blocks: empty ones are deleted, the others lose their affinity
   * and are deleted once their last address is released. Returns the number of blocks let go.
   * Release the node's pods first (gc) if their addresses should go too.
   */
  async releaseNodeBlocks(node: string): Promise<number> {
    checkNode(node);
    return this.exclusive(async () => {
      const { items } = await this.store.list(ipamKeys.affinities(node));
      for (const { key } of items) {
        const cidrText = cidrOfKey(key);
        await this.retrying(`release block ${cidrText} of ${node}`, () =>
          this.tryReleaseAffinity(node, cidrText),
        );
      }
      return items.length;
    });
  }

  /** Releases the addresses of every handle (tunnel ones included) that `isLive` says is gone; returns them. */
  async gc(
    isLive: (handle: string, attributes: Readonly<Record<string, string>>) => boolean | Promise<boolean>,
  ): Promise<string[]> {
    const handles = new Map<string, Record<string, string>>();
    for (const { block } of await this.readAllBlocks()) {
      for (const index of block.allocations) {
        const attribute = index === null ? undefined : block.attributes[index];
        if (attribute && !handles.has(attribute.handle_id))
          handles.set(attribute.handle_id, attribute.secondary);
      }
    }
    const released: string[] = [];
    for (const [handle, attributes] of handles) {
      if (await isLive(handle, attributes)) continue;
      released.push(...(await this.releaseByHandle(handle)));
    }
    if (released.length > 0) this.log.info('IPAM GC released addresses', { count: released.length });
    return released;
  }

  private async tryAssign(req: NormalizedRequest): Promise<Assignment> {
    const handleKey = ipamKeys.handle(req.handle);
    // Independent reads go out together: a node's assignments run one at a time, so latency counts.
    const [handleKv, pools, labels, { items: affinities }] = await Promise.all([
      this.store.get(handleKey),
      listPools(this.store),
      nodeLabels(this.store, req.node),
      this.store.list(ipamKeys.affinities(req.node, req.family)),
    ]);
    const handle = handleKv ? parseHandle(handleKey, handleKv.value) : { block: {}, deleted: false };
    const unknown = (req.pools ?? []).filter((name) => !pools.some((pool) => pool.name === name));
    if (unknown.length > 0) {
      throw new IpamError('invalid-request', `assign ${req.handle}: no IPPool named ${unknown.join(', ')}`);
    }
    const held = await this.heldAddress(req, handle, pools);
    if (held) return held;

    const eligible = eligiblePools(pools, { family: req.family, use: req.use, names: req.pools, labels });
    if (eligible.length === 0) {
      throw new IpamError(
        'no-pool',
        `assign ${req.handle}: no enabled IPv${req.family} pool allows ${req.use} addresses on node ${req.node}` +
          (req.pools ? ` (among ${req.pools.join(', ')})` : ''),
      );
    }
    const poolOf = (cidr: Cidr) => eligible.find((pool) => cidrContains(pool.cidr, cidr));
    const commit = async (read: ReadBlock, pool: Pool, claim: boolean): Promise<Assignment> => {
      const ordinal = allocate(read.block, req.handle, req.attributes)!;
      handle.block[read.block.cidr] = (handle.block[read.block.cidr] ?? 0) + 1;
      const conditions: TxnCondition[] = [
        { key: read.key, modRevision: read.modRevision },
        { key: handleKey, modRevision: handleKv?.modRevision ?? 0 },
      ];
      const ops: TxnOp[] = [
        { op: 'put', key: read.key, value: JSON.stringify(read.block) },
        { op: 'put', key: handleKey, value: JSON.stringify(handle) },
      ];
      if (claim) {
        const affinityKey = ipamKeys.affinity(req.node, read.block.cidr);
        conditions.push({ key: affinityKey, modRevision: 0 });
        ops.push({ op: 'put', key: affinityKey, value: CONFIRMED_AFFINITY });
      }
      await this.store.txn(conditions, ops);
      const assignment = toAssignment(read, ordinal, pool.name, req.node);
      if (claim) {
        this.log.info('claimed IPAM block', { node: req.node, block: read.block.cidr, pool: pool.name });
      }
      if (assignment.borrowed) this.log.info('borrowed an address', { node: req.node, ...assignment });
      return assignment;
    };

    // 1. The node's own blocks.
    const ownBlocks = await Promise.all(
      affinities.map(({ key }) => {
        const cidrText = cidrOfKey(key);
        return poolOf(parseCidr(cidrText)) ? this.readBlock(cidrText) : undefined;
      }),
    );
    for (const read of ownBlocks) {
      const pool = read && poolOf(read.cidr);
      if (pool && affinityNode(read.block) === req.node && read.block.unallocated.length > 0) {
        return commit(read, pool, false);
      }
    }

    // 2. A new block: create-only on the block and affinity keys, so two nodes cannot both claim it.
    const blocks = await this.readAllBlocks(req.family);
    const config = await this.config();
    if (config.maxBlocksPerHost === 0 || affinities.length < config.maxBlocksPerHost) {
      const existing = blocks.map((read) => read.cidr);
      for (const pool of eligible) {
        const cidr = firstFreeBlock(pool, existing);
        if (!cidr) continue;
        const cidrText = formatCidr(cidr);
        const block = newBlock(cidr, cidrText, req.node);
        return commit({ key: ipamKeys.block(cidrText), modRevision: 0, cidr, block }, pool, true);
      }
    }

    // 3. Borrow from any block of an eligible pool.
    if (!config.strictAffinity) {
      for (const read of blocks) {
        const pool = poolOf(read.cidr);
        if (pool && read.block.unallocated.length > 0) return commit(read, pool, false);
      }
    }
    throw new IpamError(
      'pool-exhausted',
      `assign ${req.handle}: no free IPv${req.family} address for node ${req.node} in ${eligible
        .map((pool) => `${pool.name} (${pool.cidrText})`)
        .join(', ')}` + (config.strictAffinity ? ' (strict affinity: no borrowing)' : ''),
    );
  }

  /** The address of the family the handle already holds, if any. */
  private async heldAddress(
    req: NormalizedRequest,
    handle: IpamHandle,
    pools: readonly Pool[],
  ): Promise<Assignment | undefined> {
    for (const cidrText of Object.keys(handle.block)) {
      const read = await this.readBlock(cidrText);
      if (!read || read.cidr.family !== req.family) continue;
      const [ordinal] = ordinalsOf(read.block, req.handle);
      if (ordinal === undefined) continue;
      const pool = pools.find((candidate) => cidrContains(candidate.cidr, read.cidr));
      return toAssignment(read, ordinal, pool?.name ?? '', req.node);
    }
    return undefined;
  }

  private async tryReleaseHandle(handleId: string): Promise<string[]> {
    const record = await this.readHandle(handleId);
    if (!record) return [];
    const conditions: TxnCondition[] = [{ key: record.key, modRevision: record.modRevision }];
    const ops: TxnOp[] = [{ op: 'delete', key: record.key }];
    const released: string[] = [];
    for (const cidrText of Object.keys(record.handle.block)) {
      const read = await this.readBlock(cidrText);
      const ordinals = read ? ordinalsOf(read.block, handleId) : [];
      if (!read || ordinals.length === 0) continue;
      release(read.block, ordinals);
      released.push(...ordinals.map((ordinal) => addressAt(read.cidr, ordinal)));
      conditions.push({ key: read.key, modRevision: read.modRevision });
      ops.push(...(await this.blockWriteOps(read)));
    }
    await this.store.txn(conditions, ops);
    this.log.debug('released handle', { handle: handleId, addresses: released });
    return released;
  }

  /** Releases `ip`; with `expectedHandle`, only if that handle still holds it. */
  private async tryReleaseIp(family: Family, ip: string, expectedHandle?: string): Promise<boolean> {
    const address = parseIp(ip)!;
    const read = (await this.readAllBlocks(family)).find((candidate) =>
      cidrContainsIp(candidate.cidr, address),
    );
    const ordinal = read && ordinalOf(read.cidr, address);
    const index = read && ordinal !== undefined ? read.block.allocations[ordinal] : null;
    if (!read || ordinal === undefined || index === null || index === undefined) return false;
    const handleId = read.block.attributes[index]!.handle_id;
    if (expectedHandle !== undefined && handleId !== expectedHandle) return false;
    const handleKey = ipamKeys.handle(handleId);
    const handleKv = await this.store.get(handleKey);
    release(read.block, [ordinal]);
    const conditions: TxnCondition[] = [
      { key: read.key, modRevision: read.modRevision },
      { key: handleKey, modRevision: handleKv?.modRevision ?? 0 },
    ];
    const ops = await this.blockWriteOps(read);
    if (handleKv) {
      const handle = parseHandle(handleKey, handleKv.value);
      const remaining = (handle.block[read.block.cidr] ?? 0) - 1;
      if (remaining > 0) handle.block[read.block.cidr] = remaining;
      else delete handle.block[read.block.cidr];
      ops.push(
        Object.keys(handle.block).length === 0
          ? { op: 'delete', key: handleKey }
          : { op: 'put', key: handleKey, value: JSON.stringify(handle) },
      );
    }
    await this.store.txn(conditions, ops);
    return true;
  }

  private async tryReleaseAffinity(node: string, cidrText: string): Promise<void> {
    const affinityKey = ipamKeys.affinity(node, cidrText);
    const read = await this.readBlock(cidrText);
    if (!read || affinityNode(read.block) !== node) {
      await this.store.delete(affinityKey);
      return;
    }
    const conditions = [{ key: read.key, modRevision: read.modRevision }];
    if (inUse(read.block) === 0) {
      await this.store.txn(conditions, [
        { op: 'delete', key: read.key },
        { op: 'delete', key: affinityKey },
      ]);
    } else {
      read.block.affinity = null;
      read.block.sequenceNumber++;
      await this.store.txn(conditions, [
        { op: 'put', key: read.key, value: JSON.stringify(read.block) },
        { op: 'delete', key: affinityKey },
      ]);
    }
    this.log.info('released IPAM block affinity', { node, block: cidrText });
  }

  /** How to write back a block after releasing addresses: deleted with its affinity once empty. */
  private async blockWriteOps(read: ReadBlock): Promise<TxnOp[]> {
    const put: TxnOp[] = [{ op: 'put', key: read.key, value: JSON.stringify(read.block) }];
    if (inUse(read.block) > 0) return put;
    const node = affinityNode(read.block);
    if (node !== undefined && (this.options.keepLastBlock ?? true)) {
      const { items } = await this.store.list(ipamKeys.affinities(node, read.cidr.family));
      if (items.length <= 1) return put;
    }
    this.log.info('released empty IPAM block', { block: read.block.cidr, node });
    return [
      { op: 'delete', key: read.key },
      ...(node === undefined
        ? []
        : [{ op: 'delete' as const, key: ipamKeys.affinity(node, read.block.cidr) }]),
    ];
  }

  private async readBlock(cidrText: string): Promise<ReadBlock | undefined> {
    const key = ipamKeys.block(cidrText);
    const kv = await this.store.get(key);
    return kv && toReadBlock(kv);
  }

  private async readAllBlocks(family?: Family): Promise<ReadBlock[]> {
    return (await this.store.list(ipamKeys.blocks(family))).items.map(toReadBlock);
  }

  private async readHandle(handleId: string) {
    const key = ipamKeys.handle(handleId);
    const kv = await this.store.get(key);
    return kv && { key, modRevision: kv.modRevision, handle: parseHandle(key, kv.value) };
  }

  /** The cluster's IPAMConfiguration `default`, overridden by this instance's options. */
  private async config(): Promise<{ strictAffinity: boolean; maxBlocksPerHost: number }> {
    const kv = await this.store.get(ipamKeys.config);
    const resource = kv && decodeResource(kv.value);
    const spec = resource && isKind(resource, 'IPAMConfiguration') ? resource.spec : undefined;
    return {
      strictAffinity: this.options.strictAffinity ?? spec?.strictAffinity ?? false,
      maxBlocksPerHost: this.options.maxBlocksPerHost ?? spec?.maxBlocksPerHost ?? 0,
    };
  }

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    for (let attempts = 1; ; attempts++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        if (attempts >= MAX_ATTEMPTS) {
          throw new IpamError(
            'conflict-retries',
            `${what}: gave up after ${attempts} attempts that conflicted with concurrent updates (last on ${error.key})`,
          );
        }
        this.log.debug('IPAM update conflicted; retrying', { what, key: error.key, attempts });
        // Random backoff, so that writers that collided do not collide again in lockstep.
        await new Promise((resolve) =>
          setTimeout(resolve, Math.random() * Math.min(2 ** attempts, MAX_BACKOFF_MS)),
        );
      }
    }
  }
}

function toReadBlock(kv: KeyValue): ReadBlock {
  const block = parseBlock(kv.key, kv.value);
  const cidr = parseCidr(cidrOfKey(kv.key));
  if (block.allocations.length !== Number(cidrSize(cidr))) {
    throw new Error(
      `allocation block at ${kv.key} is corrupt: ${block.allocations.length} allocations for ${block.cidr}`,
    );
  }
  return { key: kv.key, modRevision: kv.modRevision, cidr, block };
}

function toAssignment(read: ReadBlock, ordinal: number, pool: string, node: string): Assignment {
  const ip = addressAt(read.cidr, ordinal);
  return {
    ip,
    cidr: `${ip}/${read.cidr.family === 4 ? 32 : 128}`,
    block: read.block.cidr,
    pool,
    borrowed: affinityNode(read.block) !== node,
  };
}

function blockInfo(read: ReadBlock, pools: readonly Pool[]): BlockInfo {
  const total = read.block.allocations.length;
  const used = inUse(read.block);
  return {
    cidr: read.block.cidr,
    pool: pools.find((pool) => cidrContains(pool.cidr, read.cidr))?.name,
    node: affinityNode(read.block),
    total,
    inUse: used,
    free: total - used,
  };
}

const USES = ['Workload', 'Tunnel'];

function normalizeRequest(req: AssignRequest): NormalizedRequest {
  const fail = (message: string): never => {
    throw new IpamError('invalid-request', `assign: ${message}`);
  };
  if (typeof req !== 'object' || req === null) fail('the request must be an object');
  checkName('handle', req.handle);
  checkNode(req.node);
  const family = req.family ?? 4;
  if (family !== 4 && family !== 6) fail(`family must be 4 or 6, got ${String(req.family)}`);
  const use = req.use ?? 'Workload';
  if (!USES.includes(use)) fail(`use must be ${USES.join(' or ')}, got ${String(req.use)}`);
  const attributes = req.attributes ?? {};
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    fail('attributes must be an object of strings');
  }
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value !== 'string') fail(`attribute "${name}" must be a string, got ${typeof value}`);
  }
  if (req.pools !== undefined) {
    if (!Array.isArray(req.pools) || req.pools.length === 0)
      fail('pools, if given, must be a non-empty list');
    for (const pool of req.pools)
      if (typeof pool !== 'string' || pool === '') fail('pool names must be strings');
  }
  return { handle: req.handle, node: req.node, family, use, attributes: { ...attributes }, pools: req.pools };
}

/** A handle is one key segment: no `/`, no whitespace. */
function checkName(what: string, value: unknown): void {
  if (typeof value !== 'string' || !/^[^\s/]{1,512}$/.test(value)) {
    throw new IpamError(
      'invalid-request',
      `${what} must be 1-512 characters without "/" or whitespace, got ${JSON.stringify(value)}`,
    );
  }
}

/** Node names are Node resource names (DNS subdomains). */
function checkNode(node: unknown): void {
  checkName('node', node);
  try {
    resourceKey('Node', node as string);
  } catch (error) {
    throw new IpamError('invalid-request', `node ${JSON.stringify(node)}: ${(error as Error).message}`);
  }
}
