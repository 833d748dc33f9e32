import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { requireCommand, requireRoot } from '@margay/testkit';
import { Cluster } from './cluster';
import { ip } from './ip';
import { clusterDir } from './state';
import { freshClusterName, leftoversOf } from './test-support';

const withoutLength = (cidr: string) => cidr.split('/')[0]!;

function requireHarnessTools(): void {
  requireRoot('the e2e cluster harness');
  requireCommand('ping', 'iputils-ping');
  requireCommand('etcdctl', 'etcd-client');
}

describe('3 nodes on 1 subnet', () => {
  const name = freshClusterName('three');
  let cluster: Cluster;

  beforeAll(async () => {
    requireHarnessTools();
    cluster = await Cluster.up({ nodes: 3, name });
  });
  afterAll(() => Cluster.down(name));

  test('status describes the planned topology, also to another loader', () => {
    const status = cluster.status();
    const { slot } = status;
    // the slot's first /24: 198.18.0.0 + slot * 8 * 256
    const net = (subnet: number) => `198.${18 + Math.floor(slot / 32)}.${(slot % 32) * 8 + subnet}`;
    const port = new URL(status.etcd.endpoints[0]!).port;
    expect(status).toEqual({
      name,
      slot,
      etcd: {
        endpoints: [`http://127.0.0.1:${port}`],
        nodeEndpoints: [`http://${net(0)}.1:${port}`],
        pid: expect.any(Number),
        dataDir: `${clusterDir(name)}/etcd`,
        logFile: `${clusterDir(name)}/etcd/etcd.log`,
      },
      router: { netns: `mge${slot}-router`, addresses: [`${net(0)}.2/24`, `${net(1)}.1/24`] },
      subnets: [{ index: 1, cidr: `${net(1)}.0/24`, gateway: `${net(1)}.1` }],
      nodes: [1, 2, 3].map((k) => ({
        name: `node-${k}`,
        netns: `mge${slot}-node-${k}`,
        subnet: 1,
        address: `${net(1)}.${10 + k}/24`,
        interface: 'eth0',
      })),
    });
    expect(Cluster.load(name).status()).toEqual(status);
  });

  test('every node has its address on eth0 and pings every other node', async () => {
    const { nodes } = cluster.status();
    for (const node of nodes) {
      const shown = await cluster.exec(node.name, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
      expect(shown.stdout).toContain(`inet ${node.address}`);
    }
    const pings = nodes.flatMap((from) =>
      nodes
        .filter((to) => to !== from)
        .map(async (to) => {
          const ping = await cluster.exec(from.name, [
            'ping',
            '-c',
            '1',
            '-W',
            '5',
            withoutLength(to.address),
          ]);
          return `${from.name} -> ${to.name}: ${ping.code === 0 ? 'ok' : ping.stdout + ping.stderr}`;
        }),
    );
    expect(await Promise.all(pings)).toEqual([
      'node-1 -> node-2: ok',
      'node-1 -> node-3: ok',
      'node-2 -> node-1: ok',
      'node-2 -> node-3: ok',
      'node-3 -> node-1: ok',
      'node-3 -> node-2: ok',
    ]);
  });

  test('every node reaches etcd at its ETCD_ENDPOINTS, and the host sees what they wrote', async () => {
    for (const node of cluster.status().nodes) {
      const put = await cluster.exec(node.name, [
        'sh',
        '-c',
        'etcdctl --endpoints "$ETCD_ENDPOINTS" put "/e2e/$MARGAY_NODE_NAME" "hello from $MARGAY_NODE_NAME"',
      ]);
      expect(put).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
    }
    const [endpoint] = cluster.status().etcd.endpoints;
    const values = execFileSync('etcdctl', ['--endpoints', endpoint!, 'get', '--prefix', '/e2e/'], {
      encoding: 'utf8',
    });
    expect(values.trim().split('\n')).toEqual([
      '/e2e/node-1',
      'hello from node-1',
      '/e2e/node-2',
      'hello from node-2',
      '/e2e/node-3',
      'hello from node-3',
    ]);
  });

  test('exec passes input and environment, and reports the exit code or the signal', async () => {
    const result = await cluster.exec('node-2', ['sh', '-c', 'read line; echo "$line $EXTRA"; exit 7'], {
      input: 'hello\n',
      env: { EXTRA: 'world' },
    });
    expect(result).toEqual({ code: 7, stdout: 'hello world\n', stderr: '' });
    expect((await cluster.exec('node-2', ['sh', '-c', 'kill -TERM $$'])).code).toBe(128 + 15);
  });

  test('unknown nodes and clusters, a taken name and bad sizes are refused clearly', async () => {
    expect(() => cluster.node('node-4')).toThrow(
      `unknown node 'node-4' in cluster '${name}' (its nodes: node-1, node-2, node-3)`,
    );
    await expect(cluster.exec('node-9', ['true'])).rejects.toThrow("unknown node 'node-9'");
    await expect(Cluster.up({ nodes: 1, name })).rejects.toThrow(`cluster '${name}' is already up`);
    expect(cluster.status().nodes).toHaveLength(3); // the failed `up` left the cluster alone

    const unused = freshClusterName('unused');
    expect(() => Cluster.load(unused)).toThrow(`cluster '${unused}' is not up`);
    await expect(Cluster.up({ nodes: 0, name: unused })).rejects.toThrow('nodes must be a whole number');
    await expect(Cluster.up({ nodes: 2, subnets: 8, name: unused })).rejects.toThrow(
      'subnets must be a whole number from 1 to 7, got 8',
    );
    await expect(Cluster.up({ nodes: 1, name: 'Not/A-Name' })).rejects.toThrow(
      'invalid cluster name "Not/A-Name"',
    );
    expect(existsSync(clusterDir(unused))).toBe(false);
  });

  test('down removes everything, and again is harmless', async () => {
    const { slot, etcd } = cluster.status();
    await cluster.down();
    expect(leftoversOf(name, slot, etcd.pid)).toEqual([]);
    await cluster.down();
    expect(() => Cluster.load(name)).toThrow(`cluster '${name}' is not up`);
  });
});

describe('4 nodes on 2 subnets', () => {
  const name = freshClusterName('four');
  let cluster: Cluster;

  beforeAll(async () => {
    requireHarnessTools();
    cluster = await Cluster.up({ nodes: 4, subnets: 2, name });
  });
  afterAll(() => Cluster.down(name));

  test('nodes are spread round-robin over the subnets', () => {
    expect(cluster.status().nodes.map((n) => `${n.name}@${n.subnet}`)).toEqual([
      'node-1@1',
      'node-2@2',
      'node-3@1',
      'node-4@2',
    ]);
  });

  test('across subnets traffic goes through the router; within a subnet it does not', async () => {
    const [subnet1] = cluster.status().subnets;
    const address = (node: string) => withoutLength(cluster.node(node).address);

    const across = await cluster.exec('node-1', ['ip', 'route', 'get', address('node-2')]);
    expect(across.stdout).toContain(`via ${subnet1!.gateway} dev eth0`);
    const within = await cluster.exec('node-1', ['ip', 'route', 'get', address('node-3')]);
    expect(within.stdout).not.toContain('via');

    // The reply's TTL counts the routers on the way: 64 from next door, 63 through one router.
    const pingAcross = await cluster.exec('node-1', ['ping', '-c', '1', '-W', '5', address('node-2')]);
    expect(pingAcross.stdout).toContain('ttl=63');
    const pingWithin = await cluster.exec('node-1', ['ping', '-c', '1', '-W', '5', address('node-3')]);
    expect(pingWithin.stdout).toContain('ttl=64');
  });

  test('the router has only its connected routes: no default, no pod routes', () => {
    const { router, subnets } = cluster.status();
    const transit = `${withoutLength(router.addresses[0]!).replace(/\.2$/, '.0')}/24`;
    const routes = JSON.parse(ip('-n', router.netns, '-j', 'route', 'show', 'table', 'main')) as {
      dst: string;
      protocol: string;
      gateway?: string;
    }[];
    expect(routes.map((r) => `${r.dst} ${r.protocol}${r.gateway ? ` via ${r.gateway}` : ''}`).sort()).toEqual(
      [transit, ...subnets.map((s) => s.cidr)].map((cidr) => `${cidr} kernel`).sort(),
    );
  });

  test('down removes everything', async () => {
    const { slot, etcd } = cluster.status();
    await cluster.down();
    expect(leftoversOf(name, slot, etcd.pid)).toEqual([]);
  });
});
