import { EtcdDatastore } from '@margay/datastore';
import { EtcdServer, requireCommand } from '@margay/testkit';
import { Ipam } from './ipam';
import { ipamKeys } from './keys';
import { putPool } from './testing';

const NODES = 10;
const PODS_PER_NODE = 200;

let server: EtcdServer;
const stores: EtcdDatastore[] = [];

beforeAll(async () => {
  requireCommand('etcd', 'etcd-server');
  server = await EtcdServer.start();
}, 60_000);

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await server?.stop();
});

function newStore(): EtcdDatastore {
  const store = new EtcdDatastore({ endpoints: server.endpoints });
  stores.push(store);
  return store;
}

test(`${NODES} nodes × ${PODS_PER_NODE} pods allocated and released concurrently on etcd`, async () => {
  const admin = newStore();
  await putPool(admin, 'default-ipv4-ippool', { cidr: '10.200.0.0/16' });
  const nodes = Array.from({ length: NODES }, (_, n) => ({ name: `node-${n}`, ipam: new Ipam(newStore()) }));
  const handle = (node: string, pod: number) => `k8s-pod-network.${node}-${pod}`;

  const started = performance.now();
  const perNode = await Promise.all(
    nodes.map(({ name, ipam }) =>
      Promise.all(
        Array.from({ length: PODS_PER_NODE }, (_, pod) =>
          ipam.assign({
            handle: handle(name, pod),
            node: name,
            attributes: { node: name, pod: `pod-${pod}` },
          }),
        ),
      ),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(`IPAM on etcd: ${NODES * PODS_PER_NODE} allocations in ${seconds.toFixed(2)} s`);
  console.log(`IPAM on etcd: ${((NODES * PODS_PER_NODE) / seconds).toFixed(0)} allocations/s`);

  const ips = perNode.flat().map((assignment) => assignment.ip);
  expect(new Set(ips).size).toBe(NODES * PODS_PER_NODE);
  expect(perNode.flat().filter((assignment) => assignment.borrowed)).toEqual([]);
  const checker = new Ipam(admin);
  const lookups = await Promise.all(
    nodes.flatMap(({ name }, n) =>
      Array.from({ length: PODS_PER_NODE }, async (_, pod) => ({
        expected: [perNode[n]![pod]!.ip],
        actual: await checker.lookupHandle(handle(name, pod)),
      })),
    ),
  );
  for (const { expected, actual } of lookups) expect(actual).toEqual(expected);
  // Each node's addresses come from its own blocks.
  for (const { name } of nodes) {
    const blocks = await checker.blocksOf(name);
    expect(blocks.reduce((sum, block) => sum + block.inUse, 0)).toBe(PODS_PER_NODE);
  }
  const afterAssign = await checker.check();
  expect(afterAssign.clean).toBe(true);
  expect(afterAssign.allocations).toBe(NODES * PODS_PER_NODE);

  const released = await Promise.all(
    nodes.flatMap(({ name, ipam }) =>
      Array.from({ length: PODS_PER_NODE }, (_, pod) => ipam.releaseByHandle(handle(name, pod))),
    ),
  );
  expect(released.flat().sort()).toEqual([...ips].sort());
  const afterRelease = await checker.check();
  expect(afterRelease.clean).toBe(true);
  expect(afterRelease.allocations).toBe(0);
  expect((await admin.list(ipamKeys.handles)).items).toEqual([]);
  const usage = await checker.usage();
  expect(usage.map((pool) => pool.inUse)).toEqual([0]);
}, 120_000);
