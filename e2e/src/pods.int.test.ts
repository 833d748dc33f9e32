import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { encodeResource, resourceKey, validateResource } from '@margay/api';
import { EtcdDatastore } from '@margay/datastore';
import { requireCommand, requireRoot } from '@margay/testkit';
import { Cluster } from './cluster';
import { ip, listNetns } from './ip';
import type { PodInfo } from './pods';
import { freshClusterName, leftoversOf, runCli } from './test-support';

const PLUGIN_BUNDLE = join(__dirname, '..', '..', 'packages', 'cni', 'dist', 'bundle', 'margay-cni.js');

describe('pods and namespaces on a 2-node cluster', () => {
  const name = freshClusterName('pods');
  let cluster: Cluster;
  let store: EtcdDatastore;
  const cli = (...args: string[]) => runCli([...args.slice(0, 2), '--name', name, ...args.slice(2)]);

  beforeAll(async () => {
    requireRoot('the e2e pod commands');
    requireCommand('ping', 'iputils-ping');
    if (!existsSync(PLUGIN_BUNDLE)) {
      throw new Error(
        `${PLUGIN_BUNDLE} is missing: run pnpm -s build && pnpm -s --filter @margay/cni bundle`,
      );
    }
    cluster = await Cluster.up({ nodes: 2, name });
    store = new EtcdDatastore({ endpoints: cluster.status().etcd.endpoints });
  });
  afterAll(async () => {
    await store?.close();
    await Cluster.down(name);
  });

  const workloadVeths = (node: string) =>
    (JSON.parse(ip('-n', cluster.node(node).netns, '-j', 'link', 'show')) as { ifname: string }[])
      .map((link) => link.ifname)
      .filter((link) => link.startsWith('mg'));

  test('without an IPPool, pod add says to apply one and leaves nothing', () => {
    const add = cli('pod', 'add', 'node-1', 'early');
    expect(add.status).toBe(1);
    expect(add.stderr).toContain('no enabled IPv4 IPPool in etcd');
    expect(add.stderr).toContain('margayctl apply');
    expect(listNetns().filter((netns) => netns.endsWith('-pod-early'))).toEqual([]);
    expect(cli('pod', 'list', '-o', 'json').stdout).toBe('[]\n');
  });

  test('two pods on node-1 reach each other; list shows them; del leaves nothing of a pod', async () => {
    const pool = validateResource({
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
      metadata: { name: 'pods' },
      spec: { cidr: '10.244.0.0/24', blockSize: 28 },
    });
    await store.put(resourceKey('IPPool', 'pods'), encodeResource(pool));

    const ns = cli('ns', 'add', 'shop', '--labels', 'env=prod');
    expect(ns.status).toBe(0);
    const profile = await store.get(resourceKey('Profile', 'kns.shop'));
    expect(JSON.parse(profile!.value)).toMatchObject({
      kind: 'Profile',
      spec: { labelsToApply: { 'pcns.projectcalico.org/name': 'shop', 'pcns.env': 'prod' } },
    });

    const addA = cli(
      'pod',
      'add',
      'node-1',
      'web-a',
      '--labels',
      'app=web,tier=front',
      '--namespace',
      'shop',
    );
    expect(addA.stderr).toBe('');
    const addB = cli('pod', 'add', 'node-1', 'web-b');
    expect(addB.status).toBe(0);
    const [ipA, ipB] = [addA.stdout.trim(), addB.stdout.trim()];
    expect(ipA).toMatch(/^10\.244\.0\.\d+$/);
    expect(ipB).toMatch(/^10\.244\.0\.\d+$/);
    expect(ipA).not.toBe(ipB);

    const prefix = `mge${cluster.status().slot}-pod-`;
    const pods = JSON.parse(cli('pod', 'list', '-o', 'json').stdout) as PodInfo[];
    expect(pods).toEqual([
      {
        name: 'web-a',
        node: 'node-1',
        namespace: 'shop',
        ip: ipA,
        netns: `${prefix}web-a`,
        labels: { app: 'web', tier: 'front' },
      },
      { name: 'web-b', node: 'node-1', namespace: 'default', ip: ipB, netns: `${prefix}web-b`, labels: {} },
    ]);

    // Nodes forward with iptables FORWARD policy DROP (as Docker leaves hosts): pod traffic flows
    // once margay-node's policy chains accept it.
    await cluster.startAgent('node-1');
    expect(cli('pod', 'exec', 'web-a', '--', 'ping', '-c', '1', '-W', '5', ipB).status).toBe(0);
    expect(cli('pod', 'exec', 'web-b', '--', 'ping', '-c', '1', '-W', '5', ipA).status).toBe(0);
    expect(cli('pod', 'exec', 'web-a', '--', 'sh', '-c', 'exit 7').status).toBe(7);
    expect((await cluster.execInPod('web-a', ['ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout).toContain(
      `inet ${ipA}/32`,
    );
    expect(workloadVeths('node-1')).toHaveLength(2);

    const handlesBefore = (await store.list('/margay/ipam/v2/handle/')).items.length;
    const del = cli('pod', 'del', 'web-b');
    expect(del.status).toBe(0);
    expect(listNetns()).not.toContain(`${prefix}web-b`);
    expect(workloadVeths('node-1')).toHaveLength(1);
    expect((await store.list('/margay/ipam/v2/handle/')).items.length).toBe(handlesBefore - 1);
    expect(cluster.pods().map((pod) => pod.name)).toEqual(['web-a']);
    expect(cli('pod', 'del', 'web-b').stderr).toContain(`no pod 'web-b' in cluster '${name}'`);

    const duplicate = cli('pod', 'add', 'node-2', 'web-a');
    expect(duplicate.status).toBe(1);
    expect(duplicate.stderr).toContain(`pod 'web-a' already exists`);
    const badLabels = cli('pod', 'add', 'node-2', 'web-c', '--labels', 'app');
    expect(badLabels.stderr).toContain('label "app" is not key=value');
    expect(cli('pod', 'add', 'node-9', 'web-c').stderr).toContain("unknown node 'node-9'");
    expect(listNetns().filter((netns) => netns.startsWith(prefix))).toEqual([`${prefix}web-a`]);
  });

  test('down after pods leaves nothing', async () => {
    await cluster.addPod('node-2', 'late');
    const { slot, etcd } = cluster.status();
    expect(cli('down').status).toBe(0);
    expect(leftoversOf(name, slot, etcd.pid)).toEqual([]);
  });
});
