import { EtcdDatastore } from '@margay/datastore';
import { EtcdServer, requireCommand } from '@margay/testkit';
import { Ipam } from './ipam';
import { ipamKeys } from './keys';
import { putEndpoint, putNode, putPool } from './testing';

let server: EtcdServer;
let store: EtcdDatastore;

beforeAll(async () => {
  requireCommand('etcd', 'etcd-server');
  server = await EtcdServer.start();
  store = new EtcdDatastore({ endpoints: server.endpoints });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await server?.stop();
});

test('GC on etcd frees leaked pod and tunnel addresses and releases a deleted node’s blocks', async () => {
  await putPool(store, 'pods', { cidr: '10.20.0.0/24', blockSize: 28 });
  await putNode(store, 'node-a', {});
  const ipam = new Ipam(store);
  const pod = (node: string, name: string) =>
    ipam.assign({
      handle: `k8s-pod-network.${name}-id`,
      node,
      attributes: { node, namespace: 'web', pod: name, containerID: `${name}-id` },
    });
  const live = await pod('node-a', 'live');
  await putEndpoint(store, { node: 'node-a', namespace: 'web', pod: 'live', containerId: 'live-id' });
  const leaked = await pod('node-a', 'leaked');
  const tunnel = await ipam.assign({
    handle: 'vxlan-tunnel-addr-node-gone',
    node: 'node-gone',
    use: 'Tunnel',
    attributes: { node: 'node-gone', type: 'vxlanTunnelAddress' },
  });

  const report = await ipam.gcLeaks();

  expect(report.freed.map((leak) => [leak.ip, leak.reason]).sort()).toEqual(
    [
      [leaked.ip, 'no-endpoint'],
      [tunnel.ip, 'node-deleted'],
    ].sort(),
  );
  expect(report.releasedNodes).toEqual([{ node: 'node-gone', blocks: 1 }]);
  expect((await ipam.lookupIp(live.ip))?.handle).toBe('k8s-pod-network.live-id');
  expect(await ipam.lookupIp(leaked.ip)).toBeUndefined();
  // The deleted node's block held only its tunnel address: block and affinity are gone.
  expect(await store.get(ipamKeys.block(tunnel.block))).toBeUndefined();
  expect((await store.list(ipamKeys.affinities('node-gone'))).items).toEqual([]);
  expect(await ipam.check()).toMatchObject({ clean: true, allocations: 1 });
  expect(await ipam.gcLeaks()).toEqual({ freed: [], releasedNodes: [] });
}, 60_000);
