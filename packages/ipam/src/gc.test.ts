import { MemoryDatastore } from '@margay/datastore';
import { Ipam } from './ipam';
import { ipamKeys } from './keys';
import { putEndpoint, putNode, putPool } from './testing';

let store: MemoryDatastore;
let ipam: Ipam;

beforeEach(async () => {
  store = new MemoryDatastore();
  ipam = new Ipam(store);
  await putPool(store, 'default', { cidr: '10.1.0.0/24', blockSize: 28 });
  await putNode(store, 'node-a', {});
  await putNode(store, 'node-b', {});
});

afterEach(async () => {
  await store.close();
});

/** An address for a pod, with the attributes and handle the CNI plugin gives it. */
function assignPod(node: string, namespace: string, pod: string, containerId: string) {
  return ipam.assign({
    handle: `k8s-pod-network.${containerId}`,
    node,
    attributes: { node, namespace, pod, containerID: containerId },
  });
}

function assignTunnel(node: string) {
  return ipam.assign({
    handle: `ipip-tunnel-addr-${node}`,
    node,
    use: 'Tunnel',
    attributes: { node, type: 'ipipTunnelAddress' },
  });
}

describe('gcLeaks', () => {
  test('frees a pod address whose endpoint is gone and keeps the live pod', async () => {
    const live = await assignPod('node-a', 'web', 'frontend', 'c1');
    await putEndpoint(store, { node: 'node-a', namespace: 'web', pod: 'frontend', containerId: 'c1' });
    const leaked = await assignPod('node-a', 'web', 'gone', 'c2');

    const report = await ipam.gcLeaks();

    expect(report).toEqual({
      freed: [{ ip: leaked.ip, handle: 'k8s-pod-network.c2', block: leaked.block, reason: 'no-endpoint' }],
      releasedNodes: [],
    });
    expect(await ipam.lookupIp(leaked.ip)).toBeUndefined();
    expect((await ipam.lookupIp(live.ip))?.handle).toBe('k8s-pod-network.c1');
    expect(await ipam.lookupHandle('k8s-pod-network.c2')).toEqual([]);
    expect((await ipam.check()).clean).toBe(true);
  });

  test("an endpoint of the pod's newer sandbox does not keep the old sandbox's address", async () => {
    const old = await assignPod('node-a', 'web', 'frontend', 'old');
    const current = await assignPod('node-a', 'web', 'frontend', 'new');
    await putEndpoint(store, { node: 'node-a', namespace: 'web', pod: 'frontend', containerId: 'new' });

    const { freed } = await ipam.gcLeaks();

    expect(freed.map((leak) => leak.ip)).toEqual([old.ip]);
    expect(await ipam.lookupHandle('k8s-pod-network.new')).toEqual([current.ip]);
  });

  test('bare containers match by node and container; namespace and node must match for pods', async () => {
    const bare = await ipam.assign({
      handle: 'net.c3',
      node: 'node-b',
      attributes: { node: 'node-b', containerID: 'c3' },
    });
    await putEndpoint(store, { node: 'node-b', namespace: 'default', containerId: 'c3' });
    const otherNamespace = await assignPod('node-a', 'web', 'api', 'c4');
    await putEndpoint(store, { node: 'node-a', namespace: 'shop', pod: 'api', containerId: 'c4' });
    const otherNode = await assignPod('node-a', 'web', 'db', 'c5');
    await putEndpoint(store, { node: 'node-b', namespace: 'web', pod: 'db', containerId: 'c5' });

    const { freed } = await ipam.gcLeaks();

    expect(freed.map((leak) => leak.ip).sort()).toEqual([otherNamespace.ip, otherNode.ip].sort());
    expect(await ipam.lookupHandle('net.c3')).toEqual([bare.ip]);
  });

  test("frees a deleted node's tunnel address and releases its blocks; live nodes keep theirs", async () => {
    const liveTunnel = await assignTunnel('node-a');
    const deadTunnel = await assignTunnel('node-gone');
    const podOfDeadNode = await assignPod('node-gone', 'web', 'still-there', 'c6');
    await putEndpoint(store, { node: 'node-gone', namespace: 'web', pod: 'still-there', containerId: 'c6' });

    const report = await ipam.gcLeaks();

    expect(report.freed).toEqual([
      {
        ip: deadTunnel.ip,
        handle: 'ipip-tunnel-addr-node-gone',
        block: deadTunnel.block,
        reason: 'node-deleted',
      },
    ]);
    expect(report.releasedNodes).toEqual([{ node: 'node-gone', blocks: 1 }]);
    expect((await store.list(ipamKeys.affinities('node-gone'))).items).toEqual([]);
    // The pod's address stays (its endpoint exists) in a block no node owns any more.
    expect(await ipam.lookupIp(podOfDeadNode.ip)).toMatchObject({ blockOwner: undefined, borrowed: true });
    expect((await ipam.lookupIp(liveTunnel.ip))?.handle).toBe('ipip-tunnel-addr-node-a');
    expect(await ipam.blocksOf('node-a')).toHaveLength(1);
  });

  test('allocations of unknown shape have no owner to ask about and are kept', async () => {
    const manual = await ipam.assign({
      handle: 'reserved-gateway',
      node: 'node-a',
      attributes: { note: 'x' },
    });
    const noNode = await ipam.assign({
      handle: 'k8s-pod-network.c7',
      node: 'node-a',
      attributes: { pod: 'p' },
    });

    expect(await ipam.gcLeaks()).toEqual({ freed: [], releasedNodes: [] });
    expect((await ipam.lookupIp(manual.ip))?.handle).toBe('reserved-gateway');
    expect((await ipam.lookupIp(noNode.ip))?.handle).toBe('k8s-pod-network.c7');
  });

  test('a dry run reports what it would free and changes nothing', async () => {
    const leaked = await assignPod('node-a', 'web', 'gone', 'c8');
    await assignTunnel('node-gone');
    const before = await store.list(ipamKeys.root);

    const report = await ipam.gcLeaks({ dryRun: true });

    expect(report.freed.map((leak) => [leak.ip, leak.reason])).toEqual([
      [leaked.ip, 'no-endpoint'],
      [expect.any(String), 'node-deleted'],
    ]);
    expect(report.releasedNodes).toEqual([{ node: 'node-gone', blocks: 1 }]);
    expect(await store.list(ipamKeys.root)).toEqual(before);
  });
});
