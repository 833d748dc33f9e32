import { resourceKey } from '@margay/api';
import { ConflictError, type Datastore, MemoryDatastore } from '@margay/datastore';
import { allocate, newBlock } from './block';
import { IpamError } from './errors';
import { parseCidr } from './ip';
import { Ipam } from './ipam';
import { ipamKeys } from './keys';
import { parseBlock } from './records';
import { putNode, putPool } from './testing';

let store: MemoryDatastore;

beforeEach(() => {
  store = new MemoryDatastore();
});

afterEach(async () => {
  await store.close();
});

async function rejection(promise: Promise<unknown>): Promise<IpamError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof IpamError)) throw new Error(`expected an IpamError, got ${String(error)}`);
  return error;
}

async function storedBlock(cidr: string) {
  const kv = await store.get(ipamKeys.block(cidr));
  if (!kv) throw new Error(`no block ${cidr}`);
  return parseBlock(kv.key, kv.value);
}

describe('assign and release', () => {
  test('the first address comes from a block claimed for the node, with affinity, handle and attributes', async () => {
    await putPool(store, 'default', { cidr: '10.1.0.0/16' });
    const ipam = new Ipam(store);
    const assignment = await ipam.assign({
      handle: 'k8s-pod-network.c1',
      node: 'node-a',
      attributes: { node: 'node-a', namespace: 'ns', pod: 'web' },
    });
    expect(assignment).toEqual({
      ip: '10.1.0.0',
      cidr: '10.1.0.0/32',
      block: '10.1.0.0/26',
      pool: 'default',
      borrowed: false,
    });
    expect(await store.get(ipamKeys.affinity('node-a', '10.1.0.0/26'))).toBeDefined();
    const block = await storedBlock('10.1.0.0/26');
    expect(block.affinity).toBe('host:node-a');
    expect(block.attributes).toEqual([
      { handle_id: 'k8s-pod-network.c1', secondary: { node: 'node-a', namespace: 'ns', pod: 'web' } },
    ]);
    expect(block.unallocated).toHaveLength(63);
    expect(JSON.parse((await store.get(ipamKeys.handle('k8s-pod-network.c1')))!.value)).toEqual({
      block: { '10.1.0.0/26': 1 },
      deleted: false,
    });
  });

  test('assign is idempotent per handle; different handles get different addresses', async () => {
    await putPool(store, 'default', { cidr: '10.1.0.0/16' });
    const ipam = new Ipam(store);
    const first = await ipam.assign({ handle: 'h1', node: 'node-a' });
    const again = await ipam.assign({ handle: 'h1', node: 'node-a' });
    const other = await ipam.assign({ handle: 'h2', node: 'node-a' });
    expect(again).toEqual(first);
    expect(other.ip).not.toBe(first.ip);
    expect(await ipam.lookupHandle('h1')).toEqual([first.ip]);
  });

  test('releaseByHandle returns the addresses once, then []; the address is free again', async () => {
    await putPool(store, 'default', { cidr: '10.1.0.0/16' });
    const ipam = new Ipam(store);
    const { ip } = await ipam.assign({ handle: 'h1', node: 'node-a' });
    await ipam.assign({ handle: 'h2', node: 'node-a' });
    expect(await ipam.releaseByHandle('h1')).toEqual([ip]);
    expect(await ipam.releaseByHandle('h1')).toEqual([]);
    expect(await ipam.releaseByHandle('never-assigned')).toEqual([]);
    expect(await ipam.lookupHandle('h1')).toEqual([]);
    expect(await store.get(ipamKeys.handle('h1'))).toBeUndefined();
    // Released addresses go to the back of the free list: the pool hands out fresh ones first.
    const block = await storedBlock('10.1.0.0/26');
    expect(block.unallocated.at(-1)).toBe(0);
    expect((await ipam.check()).clean).toBe(true);
  });

  test('releaseIp frees one address and updates its handle record', async () => {
    await putPool(store, 'default', { cidr: '10.1.0.0/16' });
    const ipam = new Ipam(store);
    const { ip } = await ipam.assign({ handle: 'h1', node: 'node-a' });
    const { ip: again } = await new Ipam(store).assign({ handle: 'h1', node: 'node-a', pools: ['default'] });
    expect(again).toBe(ip); // another instance, same handle: same address
    expect(await ipam.releaseIp(ip)).toBe(true);
    expect(await ipam.releaseIp(ip)).toBe(false);
    expect(await ipam.releaseIp('10.9.9.9')).toBe(false);
    expect(await store.get(ipamKeys.handle('h1'))).toBeUndefined();
    expect((await ipam.check()).clean).toBe(true);
  });

  test('a full block makes the node claim the next free block', async () => {
    await putPool(store, 'small', { cidr: '10.2.0.0/24', blockSize: 30 });
    const ipam = new Ipam(store);
    const blocks = [];
    for (let i = 0; i < 5; i++) blocks.push((await ipam.assign({ handle: `h${i}`, node: 'node-a' })).block);
    expect(blocks).toEqual(['10.2.0.0/30', '10.2.0.0/30', '10.2.0.0/30', '10.2.0.0/30', '10.2.0.4/30']);
    expect((await ipam.blocksOf('node-a')).map((block) => [block.cidr, block.inUse, block.free])).toEqual([
      ['10.2.0.0/30', 4, 0],
      ['10.2.0.4/30', 1, 3],
    ]);
  });

  test('an emptied block is released, except the node keeps its last one', async () => {
    await putPool(store, 'small', { cidr: '10.2.0.0/24', blockSize: 30 });
    const ipam = new Ipam(store);
    for (let i = 0; i < 5; i++) await ipam.assign({ handle: `h${i}`, node: 'node-a' });
    await ipam.releaseByHandle('h4'); // empties 10.2.0.4/30, but 10.2.0.0/30 remains
    expect(await store.get(ipamKeys.block('10.2.0.4/30'))).toBeUndefined();
    expect(await store.get(ipamKeys.affinity('node-a', '10.2.0.4/30'))).toBeUndefined();
    for (let i = 0; i < 4; i++) await ipam.releaseByHandle(`h${i}`);
    expect((await ipam.blocksOf('node-a')).map((block) => [block.cidr, block.inUse])).toEqual([
      ['10.2.0.0/30', 0],
    ]);
  });

  test('with keepLastBlock false the last empty block goes too', async () => {
    await putPool(store, 'small', { cidr: '10.2.0.0/24', blockSize: 30 });
    const ipam = new Ipam(store, { keepLastBlock: false });
    await ipam.assign({ handle: 'h1', node: 'node-a' });
    await ipam.releaseByHandle('h1');
    expect(await ipam.blocksOf('node-a')).toEqual([]);
    expect((await store.list(ipamKeys.root)).items).toEqual([]);
  });

  test('IPv6 addresses come from /122 blocks', async () => {
    await putPool(store, 'v6', { cidr: 'fd00:10::/112' });
    const ipam = new Ipam(store);
    const first = await ipam.assign({ handle: 'h1', node: 'node-a', family: 6 });
    const second = await ipam.assign({ handle: 'h2', node: 'node-a', family: 6 });
    expect(first).toEqual({
      ip: 'fd00:10::',
      cidr: 'fd00:10::/128',
      block: 'fd00:10::/122',
      pool: 'v6',
      borrowed: false,
    });
    expect(second.ip).toBe('fd00:10::1');
    expect(await store.get(ipamKeys.affinity('node-a', 'fd00:10::/122'))).toBeDefined();
    expect(await ipam.releaseIp('fd00:10::1')).toBe(true);
    expect(await ipam.lookupHandle('h2')).toEqual([]);
  });

  test('tunnel addresses come from pools allowing Tunnel, with their handle and type', async () => {
    await putPool(store, 'workloads', { cidr: '10.1.0.0/16', allowedUses: ['Workload'] });
    await putPool(store, 'tunnels', { cidr: '10.3.0.0/24', allowedUses: ['Tunnel'] });
    const ipam = new Ipam(store);
    const tunnel = await ipam.assign({
      handle: 'ipip-tunnel-addr-node-a',
      node: 'node-a',
      use: 'Tunnel',
      attributes: { node: 'node-a', type: 'ipipTunnelAddress' },
    });
    expect(tunnel.pool).toBe('tunnels');
    const pod = await ipam.assign({ handle: 'k8s-pod-network.c1', node: 'node-a' });
    expect(pod.pool).toBe('workloads');
    expect((await storedBlock(tunnel.block)).attributes[0]?.secondary['type']).toBe('ipipTunnelAddress');
  });
});

describe('pool choice', () => {
  test('nodeSelector is evaluated on the Node labels; a node without a Node resource has none', async () => {
    await putPool(store, 'zone-a', { cidr: '10.4.0.0/24', nodeSelector: "zone == 'a'" });
    const ipam = new Ipam(store);
    expect((await rejection(ipam.assign({ handle: 'h1', node: 'ghost' }))).code).toBe('no-pool');
    await putNode(store, 'node-b', { zone: 'b' });
    expect((await rejection(ipam.assign({ handle: 'h1', node: 'node-b' }))).code).toBe('no-pool');
    await putNode(store, 'node-a', { zone: 'a' });
    expect((await ipam.assign({ handle: 'h1', node: 'node-a' })).pool).toBe('zone-a');
  });

  test('disabled pools, pools of the other family and pools without the use are not eligible', async () => {
    await putPool(store, 'off', { cidr: '10.4.0.0/24', disabled: true });
    await putPool(store, 'v6', { cidr: 'fd00::/120' });
    await putPool(store, 'tunnels', { cidr: '10.5.0.0/24', allowedUses: ['Tunnel'] });
    const ipam = new Ipam(store);
    const error = await rejection(ipam.assign({ handle: 'h1', node: 'node-a' }));
    expect(error.code).toBe('no-pool');
    expect(error.message).toContain('no enabled IPv4 pool allows Workload addresses on node node-a');
  });

  test('pools restricts and orders the choice; an unknown pool name is an invalid request', async () => {
    await putPool(store, 'one', { cidr: '10.6.0.0/24' });
    await putPool(store, 'two', { cidr: '10.7.0.0/24' });
    const ipam = new Ipam(store);
    expect((await ipam.assign({ handle: 'h1', node: 'node-a', pools: ['two', 'one'] })).pool).toBe('two');
    const error = await rejection(ipam.assign({ handle: 'h2', node: 'node-a', pools: ['three'] }));
    expect(error.code).toBe('invalid-request');
    expect(error.message).toContain('no IPPool named three');
  });

  test('bad requests are rejected with a message naming the field, and write nothing', async () => {
    await putPool(store, 'default', { cidr: '10.1.0.0/16' });
    const ipam = new Ipam(store);
    const before = await store.revision();
    const cases: [object, string][] = [
      [{ handle: '', node: 'node-a' }, 'handle must be'],
      [{ handle: 'a/b', node: 'node-a' }, 'handle must be'],
      [{ handle: 'h', node: 'Node_A' }, 'node "Node_A"'],
      [{ handle: 'h', node: 'node-a', family: 5 }, 'family must be 4 or 6, got 5'],
      [{ handle: 'h', node: 'node-a', use: 'LoadBalancer' }, 'use must be Workload or Tunnel'],
      [{ handle: 'h', node: 'node-a', attributes: { pod: 7 } }, 'attribute "pod" must be a string'],
      [{ handle: 'h', node: 'node-a', pools: [] }, 'pools, if given, must be a non-empty list'],
    ];
    for (const [request, message] of cases) {
      const error = await rejection(ipam.assign(request as never));
      expect(error.code).toBe('invalid-request');
      expect(error.message).toContain(message);
    }
    expect((await rejection(ipam.releaseIp('10.1.0.300'))).message).toContain(
      '"10.1.0.300" is not an IP address',
    );
    expect(() => new Ipam(store, { maxBlocksPerHost: -1 })).toThrow(
      'maxBlocksPerHost must be an integer >= 0',
    );
    expect(await store.revision()).toBe(before);
  });
});

describe('borrowing and exhaustion', () => {
  // 10.8.0.0/29 in /30 blocks: exactly two blocks of four addresses.
  beforeEach(async () => {
    await putPool(store, 'tiny', { cidr: '10.8.0.0/29', blockSize: 30 });
  });

  async function fill(ipam: Ipam, node: string, count: number, prefix = node) {
    const assignments = [];
    for (let i = 0; i < count; i++) assignments.push(await ipam.assign({ handle: `${prefix}-${i}`, node }));
    return assignments;
  }

  test('a node borrows from another node only when no pool has a free block, then the pool is exhausted', async () => {
    const ipam = new Ipam(store);
    await fill(ipam, 'node-a', 4);
    const [b0] = await fill(ipam, 'node-b', 1);
    expect(b0?.block).toBe('10.8.0.4/30'); // node-b claimed the free block rather than borrowing
    const borrowed = await fill(ipam, 'node-a', 3, 'node-a-more');
    expect(borrowed.map((a) => [a.block, a.borrowed])).toEqual([
      ['10.8.0.4/30', true],
      ['10.8.0.4/30', true],
      ['10.8.0.4/30', true],
    ]);
    const error = await rejection(ipam.assign({ handle: 'one-too-many', node: 'node-a' }));
    expect(error.code).toBe('pool-exhausted');
    expect(error.message).toContain('tiny (10.8.0.0/29)');
    expect((await ipam.blocksOf('node-b')).map((block) => block.inUse)).toEqual([4]);
    expect((await ipam.check()).clean).toBe(true);
  });

  test('lookupIp and borrowed show who holds an address and which addresses are borrowed', async () => {
    const ipam = new Ipam(store);
    const assign = (handle: string, node: string) =>
      ipam.assign({ handle, node, attributes: { node, pod: handle } });
    for (let i = 0; i < 4; i++) await assign(`a-${i}`, 'node-a');
    const own = await assign('b-0', 'node-b');
    const lent = await assign('a-4', 'node-a');
    expect(lent.borrowed).toBe(true);

    expect(await ipam.lookupIp(own.ip)).toEqual({
      ip: own.ip,
      handle: 'b-0',
      attributes: { node: 'node-b', pod: 'b-0' },
      block: '10.8.0.4/30',
      blockOwner: 'node-b',
      borrowed: false,
    });
    const borrowed = await ipam.borrowed();
    expect(borrowed).toEqual([
      {
        ip: lent.ip,
        handle: 'a-4',
        attributes: { node: 'node-a', pod: 'a-4' },
        block: '10.8.0.4/30',
        blockOwner: 'node-b',
        borrowed: true,
      },
    ]);
    expect(await ipam.lookupIp('10.8.0.7')).toBeUndefined(); // free, in a block
    expect(await ipam.lookupIp('10.9.0.1')).toBeUndefined(); // in no block
    expect(await ipam.lookupIp('fd00::1')).toBeUndefined();
    const error = await rejection(ipam.lookupIp('10.8.0'));
    expect([error.code, error.message]).toEqual([
      'invalid-request',
      'lookupIp: "10.8.0" is not an IP address',
    ]);
  });

  test('strictAffinity never borrows', async () => {
    const ipam = new Ipam(store, { strictAffinity: true });
    await fill(ipam, 'node-a', 4);
    await fill(ipam, 'node-b', 1);
    const error = await rejection(ipam.assign({ handle: 'x', node: 'node-a' }));
    expect(error.code).toBe('pool-exhausted');
    expect(error.message).toContain('strict affinity');
  });

  test('maxBlocksPerHost and strictAffinity are read from IPAMConfiguration default', async () => {
    const config = {
      apiVersion: 'margay.io/v1',
      kind: 'IPAMConfiguration',
      metadata: { name: 'default' },
      spec: { maxBlocksPerHost: 1, strictAffinity: true },
    };
    await store.put(resourceKey('IPAMConfiguration', 'default'), JSON.stringify(config));
    const ipam = new Ipam(store);
    await fill(ipam, 'node-a', 4);
    expect((await rejection(ipam.assign({ handle: 'x', node: 'node-a' }))).code).toBe('pool-exhausted');
    // Options override the stored configuration.
    const relaxed = new Ipam(store, { maxBlocksPerHost: 0 });
    expect((await relaxed.assign({ handle: 'x', node: 'node-a' })).block).toBe('10.8.0.4/30');
  });

  test('with maxBlocksPerHost reached a node borrows instead of claiming', async () => {
    const ipam = new Ipam(store, { maxBlocksPerHost: 1 });
    await fill(ipam, 'node-a', 4);
    await fill(ipam, 'node-b', 1);
    const next = await ipam.assign({ handle: 'x', node: 'node-a' });
    expect([next.block, next.borrowed]).toEqual(['10.8.0.4/30', true]);
  });

  test('usage reports per pool and per block', async () => {
    const ipam = new Ipam(store);
    await fill(ipam, 'node-a', 3);
    await fill(ipam, 'node-b', 1);
    expect(await ipam.usage()).toEqual([
      {
        pool: 'tiny',
        cidr: '10.8.0.0/29',
        total: 8,
        inUse: 4,
        free: 4,
        blocks: [
          { cidr: '10.8.0.0/30', pool: 'tiny', node: 'node-a', total: 4, inUse: 3, free: 1 },
          { cidr: '10.8.0.4/30', pool: 'tiny', node: 'node-b', total: 4, inUse: 1, free: 3 },
        ],
      },
    ]);
  });
});

describe('concurrency', () => {
  test('instances racing on one store never hand out an address twice', async () => {
    await putPool(store, 'default', { cidr: '10.9.0.0/24', blockSize: 28 });
    const instances = ['node-a', 'node-a', 'node-b', 'node-c'].map((node) => ({
      node,
      ipam: new Ipam(store),
    }));
    const assignments = await Promise.all(
      instances.flatMap(({ node, ipam }, n) =>
        Array.from({ length: 30 }, (_, i) => ipam.assign({ handle: `h-${n}-${i}`, node })),
      ),
    );
    const ips = assignments.map((assignment) => assignment.ip);
    expect(new Set(ips).size).toBe(120);
    const report = await instances[0]!.ipam.check();
    expect(report.clean).toBe(true);
    expect(report.allocations).toBe(120);
  });

  test('a store that always conflicts makes assign give up with conflict-retries', async () => {
    await putPool(store, 'default', { cidr: '10.1.0.0/16' });
    const conflicting: Datastore = Object.assign(Object.create(store) as Datastore, {
      txn: async () => {
        throw new ConflictError(ipamKeys.handle('h1'));
      },
    });
    const error = await rejection(new Ipam(conflicting).assign({ handle: 'h1', node: 'node-a' }));
    expect(error.code).toBe('conflict-retries');
    expect(error.message).toContain(ipamKeys.handle('h1'));
  });
});

describe('check, GC and node release', () => {
  beforeEach(async () => {
    await putPool(store, 'default', { cidr: '10.1.0.0/16' });
  });

  test('check finds a planted leak, a planted double allocation and a handle mismatch', async () => {
    const ipam = new Ipam(store);
    const kept = await ipam.assign({ handle: 'kept', node: 'node-a' });
    const leaked = await ipam.assign({ handle: 'leaked', node: 'node-a' });
    expect((await ipam.check()).clean).toBe(true);

    await store.delete(ipamKeys.handle('leaked'));
    // An overlapping /31 block (as after a pool's blockSize changed) handing out 10.1.0.0 again.
    const intruder = newBlock(parseCidr('10.1.0.0/31'), '10.1.0.0/31', 'node-b');
    allocate(intruder, 'intruder', {});
    await store.put(ipamKeys.block('10.1.0.0/31'), JSON.stringify(intruder));
    await store.put(
      ipamKeys.handle('intruder'),
      JSON.stringify({ block: { '10.1.0.0/31': 1 }, deleted: false }),
    );
    await store.put(ipamKeys.handle('kept'), JSON.stringify({ block: { '10.1.0.0/26': 2 }, deleted: false }));

    const report = await ipam.check();
    expect(report.clean).toBe(false);
    expect(report.allocations).toBe(3);
    expect(report.leaks).toEqual([
      { ip: leaked.ip, handle: 'leaked', block: '10.1.0.0/26', reason: 'handle-missing' },
    ]);
    expect(report.doubleAllocations).toEqual([
      {
        ip: kept.ip,
        holders: [
          { block: '10.1.0.0/26', handle: 'kept' },
          { block: '10.1.0.0/31', handle: 'intruder' },
        ],
      },
    ]);
    expect(report.handleMismatches).toEqual([
      { handle: 'kept', block: '10.1.0.0/26', recorded: 2, actual: 1 },
    ]);
  });

  test('check reports allocations whose handle is not live, and free-list corruption', async () => {
    const ipam = new Ipam(store);
    const live = await ipam.assign({ handle: 'live', node: 'node-a' });
    const gone = await ipam.assign({ handle: 'gone', node: 'node-a' });
    const report = await ipam.check(['live']);
    expect(report.leaks).toEqual([{ ip: gone.ip, handle: 'gone', block: '10.1.0.0/26', reason: 'not-live' }]);

    const block = await storedBlock('10.1.0.0/26');
    block.unallocated.push(0); // 10.1.0.0 is allocated, yet could be handed out again
    await store.put(ipamKeys.block('10.1.0.0/26'), JSON.stringify(block));
    expect((await ipam.check()).blockProblems).toEqual([
      { block: '10.1.0.0/26', message: `${live.ip} is allocated and also on the free list` },
    ]);
  });

  test('gc releases the handles that are not live and leaves the others', async () => {
    const ipam = new Ipam(store);
    await ipam.assign({ handle: 'pod-1', node: 'node-a', attributes: { pod: 'one' } });
    const dead = await ipam.assign({ handle: 'pod-2', node: 'node-a', attributes: { pod: 'two' } });
    const seen: [string, Record<string, string>][] = [];
    const released = await ipam.gc((handle, attributes) => {
      seen.push([handle, { ...attributes }]);
      return handle === 'pod-1';
    });
    expect(released).toEqual([dead.ip]);
    expect(seen).toEqual([
      ['pod-1', { pod: 'one' }],
      ['pod-2', { pod: 'two' }],
    ]);
    expect(await ipam.lookupHandle('pod-2')).toEqual([]);
    expect((await ipam.check(['pod-1'])).clean).toBe(true);
  });

  test('releaseNodeBlocks deletes empty blocks and unties the others from the node', async () => {
    await putPool(store, 'v6', { cidr: 'fd00:20::/120' });
    const ipam = new Ipam(store);
    const pod = await ipam.assign({ handle: 'pod', node: 'node-a' });
    await ipam.assign({ handle: 'pod-v6', node: 'node-a', family: 6 });
    await ipam.releaseByHandle('pod-v6'); // the node's last IPv6 block: kept, empty
    expect((await ipam.blocksOf('node-a')).map((block) => [block.cidr, block.inUse])).toEqual([
      ['10.1.0.0/26', 1],
      ['fd00:20::/122', 0],
    ]);

    expect(await ipam.releaseNodeBlocks('node-a')).toBe(2);
    expect(await ipam.blocksOf('node-a')).toEqual([]);
    expect(await store.get(ipamKeys.block('fd00:20::/122'))).toBeUndefined();
    expect((await storedBlock('10.1.0.0/26')).affinity).toBeNull();
    // The address still in use stays allocated; releasing it deletes the block that nobody owns.
    expect(await ipam.releaseByHandle('pod')).toEqual([pod.ip]);
    expect(await store.get(ipamKeys.block('10.1.0.0/26'))).toBeUndefined();
    expect((await ipam.check()).clean).toBe(true);
  });
});
