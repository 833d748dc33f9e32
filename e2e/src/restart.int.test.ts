// Forwarding through control-plane outages on a 3-node mesh: margay-node restarting on one node
// (BGP graceful restart: peers keep its routes, it keeps the kernel's, stale ones are swept once
// everyone has sent End-of-RIB), and etcd stopped for a while (nothing changes in the kernel; what is
// changed once etcd is back reaches every node).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { encodeResource, resourceKey, validateResource } from '@margay/api';
import { requireCommand, requireRoot, waitFor } from '@margay/testkit';
import { Cluster } from './cluster';
import {
  applyPool,
  blockOf,
  configuredPeers,
  continuousPing,
  establishedPeers,
  PROTO,
  routesOf,
  waitForPing,
  withStore,
} from './routing-support';
import { freshClusterName } from './test-support';

jest.setTimeout(180_000);

/** Two addresses per block: a third pod on a node gets a block of its own, which it frees when deleted. */
const BLOCK_SIZE = 31;
const PLUGIN_BUNDLE = join(__dirname, '..', '..', 'packages', 'cni', 'dist', 'bundle', 'margay-cni.js');
const NODE_MAIN = join(__dirname, '..', '..', 'packages', 'node', 'dist', 'main.js');
const NODES = ['node-1', 'node-2', 'node-3'];

describe('graceful restart and etcd outage on a 3-node mesh', () => {
  const name = freshClusterName('restart');
  let cluster: Cluster;
  const block = (pod: string) => blockOf(cluster.pod(pod).ip, BLOCK_SIZE);
  const bgpRoutes = (node: string) => routesOf(cluster, node, PROTO.bgp);

  beforeAll(async () => {
    requireRoot('the restart e2e tests');
    requireCommand('ping', 'iputils-ping');
    requireCommand('iptables', 'iptables');
    for (const file of [PLUGIN_BUNDLE, NODE_MAIN]) {
      if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm -s build (and the cni bundle)`);
    }
    cluster = await Cluster.up({ nodes: 3, name });
    await applyPool(cluster, '10.245.0.0/16', BLOCK_SIZE);
    await Promise.all(NODES.map((node) => cluster.startAgent(node)));
    await cluster.addPod('node-1', 'a');
    // b and b-pad fill node-2's first block; b-gone gets one of its own (likewise on node-3).
    for (const pod of ['b', 'b-pad', 'b-gone']) await cluster.addPod('node-2', pod);
    for (const pod of ['c', 'c-pad', 'c-gone']) await cluster.addPod('node-3', pod);
  });
  afterAll(async () => {
    await Cluster.down(name);
  });

  test('restarting margay-node loses no packets; stale routes are swept afterwards', async () => {
    for (const [from, to] of [
      ['a', 'b'],
      ['c', 'b'],
      ['b', 'a'],
      ['b', 'c-gone'],
    ] as const) {
      await waitForPing(cluster, from, to);
    }
    expect(block('b-gone')).not.toBe(block('b'));
    expect(block('c-gone')).not.toBe(block('c'));
    for (const node of ['node-1', 'node-3']) expect(bgpRoutes(node)).toContain(block('b-gone'));
    const felixBefore = routesOf(cluster, 'node-2', PROTO.felix);
    expect(felixBefore).toEqual(expect.arrayContaining([cluster.pod('b').ip, block('b')]));
    const goneBlocks = { b: block('b-gone'), c: block('c-gone') };

    const pings = [
      continuousPing(cluster, 'a', 'b'),
      continuousPing(cluster, 'c', 'b'),
      continuousPing(cluster, 'b', 'a'),
    ];
    await cluster.stopAgent('node-2');
    // While node-2's agent is down: one of its pods and one of node-3's go, each with its block.
    await cluster.deletePod('b-gone');
    await cluster.deletePod('c-gone');
    await waitFor(
      'node-3 to withdraw its freed block from node-1',
      () => !bgpRoutes('node-1').includes(goneBlocks.c),
    );
    // Nobody removes what node-2 had: its peers keep its routes, its kernel keeps theirs and felix's.
    for (const node of ['node-1', 'node-3']) expect(bgpRoutes(node)).toContain(goneBlocks.b);
    expect(bgpRoutes('node-2')).toContain(goneBlocks.c);
    expect(routesOf(cluster, 'node-2', PROTO.felix)).toEqual(
      expect.arrayContaining([cluster.pod('b').ip, block('b')]),
    );

    // node-3 comes back to node-2 only later (it connects, node-2 listens): until it has sent its
    // routes again, node-2 keeps forwarding to node-3's pods on the routes it had.
    const fromNode3 = [
      'INPUT',
      '-s',
      cluster.node('node-3').address.split('/')[0]!,
      '-p',
      'tcp',
      '--dport',
      '179',
    ];
    const reject = [...fromNode3, '-j', 'REJECT', '--reject-with', 'tcp-reset'];
    expect((await cluster.exec('node-2', ['iptables', '-I', ...reject])).code).toBe(0);
    await cluster.startAgent('node-2');
    await waitFor(
      'node-2 to be back in session with node-1',
      async () => (await establishedPeers(cluster, 'node-2')) === 1,
    );
    expect(bgpRoutes('node-2')).toEqual(expect.arrayContaining([block('a'), block('c'), goneBlocks.c]));
    expect((await cluster.exec('node-2', ['iptables', '-D', ...reject])).code).toBe(0);
    // Once every peer has sent End-of-RIB, the stale routes go: on the peers and on node-2.
    for (const node of ['node-1', 'node-3']) {
      await waitFor(
        `${node} to sweep node-2's freed block ${goneBlocks.b}`,
        () => !bgpRoutes(node).includes(goneBlocks.b),
      );
    }
    await waitFor(
      `node-2 to sweep node-3's freed block ${goneBlocks.c}`,
      () => !bgpRoutes('node-2').includes(goneBlocks.c),
    );
    // What is still there is still routed: node-1's and node-3's blocks on node-2, node-2's on them.
    expect(bgpRoutes('node-2')).toEqual([block('a'), block('c')].sort());
    for (const node of ['node-1', 'node-3']) expect(bgpRoutes(node)).toContain(block('b'));

    for (const ping of pings) {
      const count = await ping.stop();
      expect(count.lost).toEqual([]);
      expect(count.received).toBeGreaterThan(20);
    }
    expect(routesOf(cluster, 'node-2', PROTO.felix)).toEqual(
      expect.arrayContaining([cluster.pod('b').ip, block('b')]),
    );
  });

  test('etcd stopped for 10 s: forwarding goes on; changes made after it is back reach every node', async () => {
    const pings = [
      continuousPing(cluster, 'a', 'b'),
      continuousPing(cluster, 'b', 'c'),
      continuousPing(cluster, 'c', 'a'),
    ];
    await cluster.stopEtcd();
    await new Promise((resolve) => setTimeout(resolve, 10_000)); // the outage itself
    await cluster.startEtcd();

    // A new pod (with a new block) on node-1 becomes reachable from the other nodes.
    await cluster.addPod('node-1', 'late-pad');
    await cluster.addPod('node-1', 'late');
    for (const from of ['b', 'c']) await waitForPing(cluster, from, 'late');
    for (const node of ['node-2', 'node-3']) expect(bgpRoutes(node)).toContain(block('late'));

    // A new Node resource: every node's speaker gets a mesh peer for it, and loses it again.
    const ghost = validateResource({
      apiVersion: 'projectcalico.org/v3',
      kind: 'Node',
      metadata: { name: 'ghost' },
      spec: { bgp: { ipv4Address: '198.51.100.7/24' } },
    });
    await withStore(cluster, (store) => store.put(resourceKey('Node', 'ghost'), encodeResource(ghost)));
    for (const node of NODES) {
      await waitFor(
        `${node} to peer with the new node`,
        async () => (await configuredPeers(cluster, node)) === 3,
      );
    }
    await withStore(cluster, (store) => store.delete(resourceKey('Node', 'ghost')));
    for (const node of NODES) {
      await waitFor(
        `${node} to drop the deleted node`,
        async () => (await configuredPeers(cluster, node)) === 2,
      );
    }

    for (const ping of pings) {
      const count = await ping.stop();
      expect(count.lost).toEqual([]);
      expect(count.received).toBeGreaterThan(100); // it ran through the whole outage
    }
  });
});
