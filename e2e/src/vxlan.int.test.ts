// VXLAN in the netns harness (issue #7): four nodes on two subnets behind a router that knows the
// node subnets but no pod routes. With a vxlanMode Always pool every pod reaches every other, all
// through vxlan.margay (the routes come from IPAM and the Node resources; BGP runs but installs none
// of the pool's blocks). Flipped live to CrossSubnet, traffic between nodes of one subnet leaves
// the tunnel (its TX counter stays put) while traffic to the other subnet still goes through it.

import { encodeResource, type Resource, resourceKey, validateResource } from '@margay/api';
import { EtcdDatastore } from '@margay/datastore';
import { requireCommand, requireRoot, waitFor } from '@margay/testkit';
import { Cluster } from './cluster';
import type { PodInfo } from './pods';
import { freshClusterName } from './test-support';

jest.setTimeout(300_000);

const NODES = ['node-1', 'node-2', 'node-3', 'node-4'];
const POOL_CIDR = '10.244.0.0/16';

const resource = (kind: string, name: string, spec: object) =>
  validateResource({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec }, 'test');

const ipv4 = (text: string) => text.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);

function inCidr(ip: string, cidr: string): boolean {
  const [base, length] = cidr.split('/');
  if (base === undefined || length === undefined) return false;
  const size = 2 ** (32 - Number(length));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base) / size);
}

describe('VXLAN across two subnets', () => {
  const name = freshClusterName('vxlan');
  let cluster: Cluster | undefined;
  let store: EtcdDatastore | undefined;
  const pods = new Map<string, PodInfo>();

  const write = (r: Resource) => store!.put(resourceKey(r.kind, r.metadata.name), encodeResource(r));
  const pool = (vxlanMode: string) =>
    resource('IPPool', 'pods', { cidr: POOL_CIDR, blockSize: 26, vxlanMode });

  beforeAll(async () => {
    requireRoot('the VXLAN e2e test');
    requireCommand('ping', 'iputils-ping');
    cluster = await Cluster.up({ nodes: NODES.length, name, subnets: 2 });
    store = new EtcdDatastore({ endpoints: cluster.status().etcd.endpoints });
    await write(pool('Always'));
    await write(
      resource('Profile', 'kns.default', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }),
    );
    await Promise.all(NODES.map((node) => cluster!.startAgent(node)));
    for (const node of NODES) pods.set(node, await cluster.addPod(node, `pod-${node}`));
  });

  afterAll(async () => {
    await store?.close();
    await Cluster.down(name);
  });

  const pod = (node: string) => pods.get(node)!;
  const ping = async (from: PodInfo, to: PodInfo) =>
    (await cluster!.execInPod(from.name, ['ping', '-c', '1', '-W', '1', to.ip])).code === 0;

  async function run(node: string, argv: string[]): Promise<string> {
    const result = await cluster!.exec(node, argv);
    if (result.code !== 0) throw new Error(`${argv.join(' ')} on ${node} failed: ${result.stderr}`);
    return result.stdout;
  }

  const vxlanTx = async (node: string): Promise<number> => {
    const [link] = JSON.parse(await run(node, ['ip', '-j', '-s', 'link', 'show', 'dev', 'vxlan.margay'])) as {
      stats64: { tx: { packets: number } };
    }[];
    return link!.stats64.tx.packets;
  };

  /** TX packets of node-1's vxlan.margay sent while node-1's pod pings `to`'s pod three times. */
  async function tunnelledPackets(to: string): Promise<number> {
    const before = await vxlanTx('node-1');
    const result = await cluster!.execInPod(pod('node-1').name, [
      'ping',
      '-c',
      '3',
      '-i',
      '0.2',
      '-W',
      '1',
      pod(to).ip,
    ]);
    expect(result.code).toBe(0);
    return (await vxlanTx('node-1')) - before;
  }

  /** The tunnel manager's route (proto 79) on `from` to the block holding `node`'s pod, or ''. */
  const routeTo = async (from: string, node: string): Promise<string> => {
    const routes = await run(from, ['ip', 'route', 'show', 'proto', '79']);
    return routes.split('\n').find((line) => inCidr(pod(node).ip, line.split(' ')[0]!)) ?? '';
  };

  test('the harness puts node-1 and node-3 on one subnet, node-2 and node-4 on the other', () => {
    const subnet = (node: string) => cluster!.node(node).subnet;
    expect(subnet('node-1')).toBe(subnet('node-3'));
    expect(subnet('node-2')).toBe(subnet('node-4'));
    expect(subnet('node-1')).not.toBe(subnet('node-2'));
  });

  test('Always: every pod reaches every other, all through vxlan.margay; BGP installs none of the pool', async () => {
    const all = [...pods.values()];
    const pairs = all.flatMap((from) => all.filter((to) => to !== from).map((to) => [from, to] as const));
    await Promise.all(
      pairs.map(([from, to]) =>
        waitFor(`${from.name} (${from.ip}) to reach ${to.name} (${to.ip})`, () => ping(from, to), 60_000),
      ),
    );
    expect(await routeTo('node-1', 'node-3')).toMatch(/ via 10\.244\.\S+ dev vxlan\.margay onlink/);
    expect(await tunnelledPackets('node-3')).toBeGreaterThanOrEqual(3); // same subnet, still tunnelled
    expect(await tunnelledPackets('node-2')).toBeGreaterThanOrEqual(3);
    for (const node of NODES) {
      // The speaker's routes (proto 77) to the pool's blocks would be a second writer.
      expect(await run(node, ['ip', 'route', 'show', 'proto', '77', 'root', POOL_CIDR])).toBe('');
    }
  });

  test('CrossSubnet, flipped live: same-subnet traffic leaves the tunnel, cross-subnet traffic stays in it', async () => {
    await write(pool('CrossSubnet'));
    const node3 = cluster!.node('node-3').address.split('/')[0]!;
    await waitFor(
      "node-1 to route node-3's block over eth0",
      async () => (await routeTo('node-1', 'node-3')).includes(`via ${node3} dev eth0`),
      30_000,
    );
    await waitFor(
      "node-3 to route node-1's block over eth0",
      async () =>
        (await routeTo('node-3', 'node-1')).includes(
          `via ${cluster!.node('node-1').address.split('/')[0]} dev eth0`,
        ),
      30_000,
    );
    expect(await tunnelledPackets('node-3')).toBe(0);
    expect(await tunnelledPackets('node-2')).toBeGreaterThanOrEqual(3);
    expect(await routeTo('node-1', 'node-2')).toMatch(/ dev vxlan\.margay onlink/);
  });
});
