// Route reflectors in the netns harness (issue #5): two margay-node reflectors sharing a cluster id
// and six clients, the node-to-node mesh off, one BGPPeer (nodeSelector all(), peerSelector
// has(route-reflector)) as in Calico's recipe. Every pod reaches every other; with one reflector
// stopped, the clients keep the routes they learned through the other and still reach each other.

import { join } from 'node:path';
import { encodeResource, type Resource, resourceKey, validateResource } from '@margay/api';
import { EtcdDatastore } from '@margay/datastore';
import { requireCommand, requireRoot, waitFor } from '@margay/testkit';
import { Cluster } from './cluster';
import type { PodInfo } from './pods';
import { freshClusterName } from './test-support';

jest.setTimeout(300_000);

const MARGAYCTL = join(__dirname, '..', '..', 'bin', 'margayctl');
const REFLECTORS = ['node-1', 'node-2'];
const CLIENTS = ['node-3', 'node-4', 'node-5', 'node-6', 'node-7', 'node-8'];
const CLUSTER_ID = '244.0.0.1';

const resource = (kind: string, name: string, spec: object, labels?: Record<string, string>) =>
  validateResource({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, labels }, spec }, 'test');

describe('2 route reflectors and 6 clients, mesh off', () => {
  const name = freshClusterName('rr');
  let cluster: Cluster | undefined;
  let store: EtcdDatastore | undefined;
  const pods: PodInfo[] = [];

  beforeAll(async () => {
    requireRoot('the route reflector e2e test');
    requireCommand('ping', 'iputils-ping');
    cluster = await Cluster.up({ nodes: 8, name });
    store = new EtcdDatastore({ endpoints: cluster.status().etcd.endpoints });
    const write = (r: Resource) => store!.put(resourceKey(r.kind, r.metadata.name), encodeResource(r));
    await write(resource('BGPConfiguration', 'default', { nodeToNodeMeshEnabled: false, asNumber: 64512 }));
    await write(resource('IPPool', 'pods', { cidr: '10.244.0.0/16', blockSize: 26 }));
    await write(
      resource('Profile', 'kns.default', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }),
    );
    await write(
      resource('BGPPeer', 'to-reflectors', { nodeSelector: 'all()', peerSelector: 'has(route-reflector)' }),
    );
    // The reflectors' labels, before they register: registration keeps labels it does not own.
    for (const node of REFLECTORS) await write(resource('Node', node, {}, { 'route-reflector': 'true' }));

    const reflectorArgs = ['--mode', 'route-reflector', '--route-reflector-cluster-id', CLUSTER_ID];
    await Promise.all(REFLECTORS.map((node) => cluster!.startAgent(node, { args: reflectorArgs })));
    await Promise.all(CLIENTS.map((node) => cluster!.startAgent(node)));
    for (const node of CLIENTS) pods.push(await cluster.addPod(node, `pod-${node}`));
  });

  afterAll(async () => {
    await store?.close();
    await Cluster.down(name);
  });

  const ping = async (from: PodInfo, to: PodInfo) =>
    (await cluster!.execInPod(from.name, ['ping', '-c', '1', '-W', '1', to.ip])).code === 0;

  /** Every pod pings every other; waits (bounded) for routes to arrive, fails naming the pairs that never work. */
  async function expectFullReachability(): Promise<void> {
    const pairs = pods.flatMap((from) => pods.filter((to) => to !== from).map((to) => [from, to] as const));
    await Promise.all(
      pairs.map(([from, to]) =>
        waitFor(`${from.name} (${from.ip}) to reach ${to.name} (${to.ip})`, () => ping(from, to), 30_000),
      ),
    );
  }

  /** `margayctl node status` inside the node: its peers and their types. */
  async function nodeStatus(node: string): Promise<string> {
    const result = await cluster!.exec(node, [MARGAYCTL, 'node', 'status']);
    if (result.code !== 0) throw new Error(`margayctl node status on ${node}: ${result.stderr}`);
    return result.stdout;
  }

  const addressOf = (node: string) => cluster!.node(node).address.split('/')[0]!;
  const rowOf = (status: string, address: string) =>
    status.split('\n').find((line) => line.startsWith(`${address} `));

  test('every pod reaches every other through the reflectors, and node status shows who is who', async () => {
    await expectFullReachability();

    const client = await nodeStatus('node-3');
    for (const reflector of REFLECTORS) {
      expect(rowOf(client, addressOf(reflector))).toMatch(/node specific \(route reflector\)\s+up\s/);
    }
    // No mesh: a client has sessions to the reflectors only.
    for (const other of CLIENTS.filter((n) => n !== 'node-3'))
      expect(rowOf(client, addressOf(other))).toBeUndefined();

    const reflector = await nodeStatus('node-1');
    for (const node of CLIENTS) {
      expect(rowOf(reflector, addressOf(node))).toMatch(/node specific \(route reflector client\)\s+up\s/);
    }
    // The other reflector of the same cluster is a plain iBGP peer, not a client.
    expect(rowOf(reflector, addressOf('node-2'))).toMatch(/^\S+\s+node specific\s+up\s/);
  });

  test('with one reflector stopped, every pod still reaches every other', async () => {
    await cluster!.stopAgent('node-1');
    // Until every client has seen its session to node-1 go down (routes via node-1 withdrawn).
    await waitFor('the clients to lose node-1', async () => {
      const statuses = await Promise.all(CLIENTS.map(nodeStatus));
      return statuses.every((status) =>
        /^\S+\s+\S.*\s+start\s/.test(rowOf(status, addressOf('node-1')) ?? ''),
      );
    });
    await expectFullReachability();
    const status = await nodeStatus('node-4');
    expect(rowOf(status, addressOf('node-2'))).toMatch(/route reflector\)\s+up\s/);
  });
});
