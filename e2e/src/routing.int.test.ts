// margay-node on every node of a namespace cluster, default BGP settings (full mesh, AS 64512):
// pods on different nodes reach each other over the routes BGP spreads; a node joins later and
// leaves again, and its routes follow.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireCommand, requireRoot, waitFor } from '@margay/testkit';
import { Cluster } from './cluster';
import {
  applyPool,
  blockOf,
  PROTO,
  pings,
  routesOf,
  startTcpServer,
  tcpFetch,
  waitForPing,
} from './routing-support';
import { freshClusterName, runCli } from './test-support';

jest.setTimeout(120_000);

const BLOCK_SIZE = 26;
const TCP_PORT = 7000;
const MARGAYCTL = join(__dirname, '..', '..', 'bin', 'margayctl');
const PLUGIN_BUNDLE = join(__dirname, '..', '..', 'packages', 'cni', 'dist', 'bundle', 'margay-cni.js');
const NODE_MAIN = join(__dirname, '..', '..', 'packages', 'node', 'dist', 'main.js');

describe('full mesh on 3 nodes, then a 4th joins and leaves', () => {
  const name = freshClusterName('mesh');
  let cluster: Cluster;
  const meshPods = ['a1', 'a2', 'a3'];

  beforeAll(async () => {
    requireRoot('the routing e2e tests');
    requireCommand('ping', 'iputils-ping');
    for (const file of [PLUGIN_BUNDLE, NODE_MAIN]) {
      if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm -s build (and the cni bundle)`);
    }
    cluster = await Cluster.up({ nodes: 4, name });
    await applyPool(cluster, '10.244.0.0/16', BLOCK_SIZE);
    await Promise.all(['node-1', 'node-2', 'node-3'].map((node) => cluster.startAgent(node)));
    for (const [index, pod] of meshPods.entries()) await cluster.addPod(`node-${index + 1}`, pod);
  });
  afterAll(async () => {
    await Cluster.down(name);
  });

  test('every pod pings every pod on the other nodes, over BGP routes', async () => {
    for (const from of meshPods) {
      for (const to of meshPods) if (from !== to) await waitForPing(cluster, from, to);
    }
    // Each node learned the other two nodes' blocks from BGP, next hop the node's address.
    for (const [index, node] of ['node-1', 'node-2', 'node-3'].entries()) {
      const others = meshPods
        .filter((_, i) => i !== index)
        .map((pod) => blockOf(cluster.pod(pod).ip, BLOCK_SIZE));
      expect(routesOf(cluster, node, PROTO.bgp)).toEqual(others.sort());
    }
  });

  test('TCP works both ways between pods on different nodes', async () => {
    for (const pod of meshPods) await startTcpServer(cluster, pod, TCP_PORT, `hello from ${pod}`);
    for (const from of meshPods) {
      for (const to of meshPods) {
        if (from === to) continue;
        expect(await tcpFetch(cluster, from, cluster.pod(to).ip, TCP_PORT)).toBe(`hello from ${to}`);
      }
    }
  });

  test('a 4th node joins (agent started from the CLI): its pod and the others reach each other', async () => {
    const start = runCli(['agent', 'start', 'node-4', '--name', name]);
    expect(start.stderr).toBe('');
    expect(start.stdout).toContain('margay-node is ready on node-4');
    await cluster.addPod('node-4', 'a4');
    for (const pod of meshPods) {
      await waitForPing(cluster, pod, 'a4');
      await waitForPing(cluster, 'a4', pod);
    }
    const block = blockOf(cluster.pod('a4').ip, BLOCK_SIZE);
    for (const node of ['node-1', 'node-2', 'node-3'])
      expect(routesOf(cluster, node, PROTO.bgp)).toContain(block);

    const logs = runCli(['agent', 'logs', 'node-4', '--name', name]);
    expect(logs.status).toBe(0);
    expect(logs.stdout).toContain('"margay-node started"');
    expect(readFileSync(cluster.agentLog('node-4'), 'utf8')).toBe(logs.stdout);
  });

  test('the 4th node leaves: agent stopped, Node deleted; its routes disappear everywhere', async () => {
    const block = blockOf(cluster.pod('a4').ip, BLOCK_SIZE);
    await cluster.stopAgent('node-4');
    expect(cluster.runningAgents().sort()).toEqual(['node-1', 'node-2', 'node-3']);
    // Stopping is a graceful restart to the peers: they keep the route until the Node goes.
    for (const node of ['node-1', 'node-2', 'node-3'])
      expect(routesOf(cluster, node, PROTO.bgp)).toContain(block);
    expect(await pings(cluster, 'a1', 'a4')).toBe(true);

    const deleted = await cluster.exec('node-1', [MARGAYCTL, 'delete', 'node', 'node-4']);
    expect(deleted.stderr).toBe('');
    expect(deleted.code).toBe(0);
    for (const node of ['node-1', 'node-2', 'node-3']) {
      await waitFor(
        `${node} to drop the route to node-4's block ${block}`,
        () => !routesOf(cluster, node, PROTO.bgp).includes(block),
      );
    }
    expect(await pings(cluster, 'a1', 'a4')).toBe(false);
    // The mesh among the others is untouched.
    for (const from of meshPods) {
      for (const to of meshPods) if (from !== to) expect(await pings(cluster, from, to)).toBe(true);
    }
  });
});
