// A top-of-rack router outside the cluster (issue #5): BIRD 2 in the harness's router namespace,
// its own AS, on the nodes' subnet; one global BGPPeer makes every node peer with it over eBGP.
// BIRD learns every node's pod block and the serviceClusterIPs range; the mesh peers never get the
// service range from each other (Calico advertises service addresses to external peers only).

import { join } from 'node:path';
import { startBird2 } from '@margay/anchors';
import { encodeResource, type Resource, resourceKey, validateResource } from '@margay/api';
import { EtcdDatastore } from '@margay/datastore';
import { requireCommand, requireRoot, waitFor } from '@margay/testkit';
import { Cluster } from './cluster';
import type { PodInfo } from './pods';
import { freshClusterName } from './test-support';

jest.setTimeout(240_000);

const MARGAYCTL = join(__dirname, '..', '..', 'bin', 'margayctl');
const NODES = ['node-1', 'node-2', 'node-3'];
const CLUSTER_AS = 64512;
const TOR_AS = 65100;
const POOL = '10.244.0.0/16';
const SERVICE_CLUSTER_IPS = '10.96.0.0/12';

const resource = (kind: string, name: string, spec: object) =>
  validateResource({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec }, 'test');

describe('an external eBGP peer (BIRD 2 as top-of-rack router)', () => {
  const name = freshClusterName('tor');
  let cluster: Cluster | undefined;
  let store: EtcdDatastore | undefined;
  let tor: Awaited<ReturnType<typeof startBird2>> | undefined;
  const pods: PodInfo[] = [];

  const addressOf = (node: string) => cluster!.node(node).address.split('/')[0]!;

  beforeAll(async () => {
    requireRoot('the top-of-rack e2e test');
    requireCommand('bird', 'bird2');
    cluster = await Cluster.up({ nodes: NODES.length, name });
    const { subnets, router } = cluster.status();
    const gateway = subnets[0]!.gateway;
    store = new EtcdDatastore({ endpoints: cluster.status().etcd.endpoints });
    const write = (r: Resource) => store!.put(resourceKey(r.kind, r.metadata.name), encodeResource(r));
    await write(
      resource('BGPConfiguration', 'default', {
        asNumber: CLUSTER_AS,
        serviceClusterIPs: [{ cidr: SERVICE_CLUSTER_IPS }],
      }),
    );
    await write(resource('IPPool', 'pods', { cidr: POOL, blockSize: 26 }));
    await write(
      resource('Profile', 'kns.default', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }),
    );
    await write(resource('BGPPeer', 'tor', { peerIP: gateway, asNumber: TOR_AS }));

    // The router is every node's gateway: directly connected, so no multihop.
    tor = await startBird2(
      {
        routerId: gateway,
        asNumber: TOR_AS,
        listen: { address: gateway, port: 179 },
        peers: NODES.map((node) => ({ address: addressOf(node), asNumber: CLUSTER_AS, multihop: false })),
      },
      { netns: router.netns },
    );
    await Promise.all(NODES.map((node) => cluster!.startAgent(node)));
    for (const node of NODES) pods.push(await cluster.addPod(node, `pod-${node}`));
  });

  afterAll(async () => {
    await tor?.stop();
    await store?.close();
    await Cluster.down(name);
  });

  /** The pod block of each node: the /26 (the pool's block size) its pod's address is in. */
  function blocksByNode(): Map<string, string> {
    return new Map(
      pods.map((pod) => {
        const [a, b, c, d] = pod.ip.split('.').map(Number) as [number, number, number, number];
        return [pod.node, `${a}.${b}.${c}.${d & 0xc0}/26`];
      }),
    );
  }

  test('BIRD learns every node pod block and the service range; sessions show as global', async () => {
    const blocks = blocksByNode();
    // Until BIRD has each node's block, next hop that node, and the service range.
    await waitFor('the pod blocks and the service range at the ToR', async () => {
      const routes = await tor!.routes();
      const has = (prefix: string, nextHop?: string) =>
        routes.some((r) => r.prefix === prefix && (nextHop === undefined || r.nextHop === nextHop));
      return [...blocks].every(([node, block]) => has(block, addressOf(node))) && has(SERVICE_CLUSTER_IPS);
    });
    const routes = await tor!.routes();
    // Only cluster routes cross: pod blocks and the service range, all from AS 64512.
    for (const route of routes) {
      expect(route.asPath).toEqual([CLUSTER_AS]);
      expect([...blocks.values(), SERVICE_CLUSTER_IPS]).toContain(route.prefix);
    }
    expect((await tor!.peers()).map((p) => p.state)).toEqual(['Established', 'Established', 'Established']);

    const status = await cluster!.exec('node-1', [MARGAYCTL, 'node', 'status']);
    expect(status.code).toBe(0);
    const gateway = cluster!.status().subnets[0]!.gateway;
    expect(status.stdout).toMatch(new RegExp(`\\n${gateway.replaceAll('.', '\\.')}\\s+global\\s+up\\s`));
    expect(status.stdout).toMatch(
      new RegExp(`\\n${addressOf('node-2').replaceAll('.', '\\.')}\\s+node-to-node mesh\\s+up\\s`),
    );
  });

  test('mesh peers do not send each other the service range, but do send pod blocks', async () => {
    const blocks = blocksByNode();
    for (const node of NODES) {
      const rib = await cluster!.exec(node, [MARGAYCTL, 'bgp', 'rib', '-o', 'json']);
      expect(rib.code).toBe(0);
      const entries = JSON.parse(rib.stdout) as { prefix: string; fromPeer: string }[];
      const service = entries.filter((e) => e.prefix === SERVICE_CLUSTER_IPS);
      // Originated here, and at most what the ToR sends back (dropped: our AS is in its path).
      expect(service.map((e) => e.fromPeer)).toEqual(['local']);
      for (const other of NODES.filter((n) => n !== node)) {
        expect(entries).toContainEqual(
          expect.objectContaining({ prefix: blocks.get(other), fromPeer: addressOf(other) }),
        );
      }
    }
    // Pods reach each other over the mesh.
    for (const from of pods) {
      for (const to of pods.filter((p) => p !== from)) {
        await waitFor(
          `${from.name} to reach ${to.name}`,
          async () => {
            return (await cluster!.execInPod(from.name, ['ping', '-c', '1', '-W', '1', to.ip])).code === 0;
          },
          30_000,
        );
      }
    }
  });
});
