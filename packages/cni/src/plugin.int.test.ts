// margay-cni for real: the bundled binary run as a runtime runs it, inside a network namespace
// playing the node, against real etcd and IPAM, wiring pod namespaces the test creates.

import { randomBytes } from 'node:crypto';
import { resourceKey } from '@margay/api';
import { NetworkNamespace } from '@margay/dataplane';
import { Ipam } from '@margay/ipam';
import { requireCommand, requireRoot } from '@margay/testkit';
import { ERROR_CODES } from './errors';
import { GATEWAY } from './links';
import { hostVethName, workloadEndpointName } from './naming';
import type { AddResult } from './result';
import { NETWORK, NODE_NAME, type PluginRun, TestNode } from './testing';

interface Pod {
  name: string;
  namespace: string;
  containerId: string;
  netns: NetworkNamespace;
  path: string;
  args: string;
}

describe('margay-cni on a real node', () => {
  let node: TestNode;
  const pods: Pod[] = [];

  beforeAll(async () => {
    requireRoot('margay-cni integration tests');
    requireCommand('ip', 'iproute2');
    requireCommand('nsenter', 'util-linux');
    requireCommand('ping', 'iputils-ping');
    node = await TestNode.start({
      'pool-a': { cidr: '10.77.0.0/24', blockSize: 28 },
      tiny: { cidr: '10.78.0.0/32', blockSize: 32 },
    });
  });

  afterAll(async () => {
    for (const pod of pods) await pod.netns.delete().catch(() => {});
    await node?.stop();
  });

  async function newPod(name: string): Promise<Pod> {
    const netns = await NetworkNamespace.create('mg-pod');
    const containerId = randomBytes(8).toString('hex');
    const pod = {
      name,
      namespace: 'shop',
      containerId,
      netns,
      path: `/run/netns/${netns.name}`,
      args: `K8S_POD_NAMESPACE=shop;K8S_POD_NAME=${name};MARGAY_POD_LABELS=app=web,tier=front`,
    };
    pods.push(pod);
    return pod;
  }

  const invocation = (pod: Pod) => ({ containerId: pod.containerId, netns: pod.path, args: pod.args });
  const endpointKey = (pod: Pod) =>
    resourceKey(
      'WorkloadEndpoint',
      workloadEndpointName(NODE_NAME, { kind: 'pod', ...podId(pod) }, 'eth0'),
      'shop',
    );
  const podId = (pod: Pod) => ({ namespace: pod.namespace, pod: pod.name });
  const handle = (pod: Pod) => `${NETWORK}.${pod.containerId}`;
  const addResult = (run: PluginRun) => run.output as unknown as AddResult;
  const podAddress = (run: PluginRun) => addResult(run).ips[0]!.address.replace('/32', '');

  async function ping(from: NetworkNamespace, to: string): Promise<void> {
    const result = await from.runner.run(['ping', '-c', '1', '-W', '5', to]);
    expect({ to, code: result.code, out: result.stdout }).toMatchObject({ code: 0 });
  }

  it('ADD wires a pod the node can reach; CHECK agrees; DEL removes everything and is idempotent', async () => {
    const pod = await newPod('web-1');
    const veth = hostVethName({ kind: 'pod', ...podId(pod) });

    const added = await node.run('ADD', invocation(pod));
    expect(added).toMatchObject({ code: 0 });
    const ip = podAddress(added);
    expect(ip).toMatch(/^10\.77\.0\.\d+$/);
    expect(added.output).toMatchObject({
      cniVersion: '1.1.0',
      interfaces: [
        { name: veth, mac: 'ee:ee:ee:ee:ee:ee', mtu: 1400 },
        { name: 'eth0', sandbox: pod.path, mtu: 1400 },
      ],
      ips: [{ address: `${ip}/32`, gateway: GATEWAY, interface: 1 }],
      routes: [{ dst: '0.0.0.0/0', gw: GATEWAY }],
    });

    // The pod: eth0 with its /32 and the default route via the link-local gateway.
    expect(await pod.netns.ip('-4', 'addr', 'show', 'dev', 'eth0')).toContain(`inet ${ip}/32`);
    expect(await pod.netns.ip('route', 'show', 'default')).toContain(`default via ${GATEWAY} dev eth0`);
    // The node: the host route in felix's proto, and the pod answers.
    expect(await node.netns.ip('route', 'show', 'exact', `${ip}/32`)).toContain(
      `dev ${veth} proto 78 scope link`,
    );
    await ping(node.netns, ip);

    const stored = await node.store.get(endpointKey(pod));
    expect(JSON.parse(stored!.value)).toMatchObject({
      kind: 'WorkloadEndpoint',
      metadata: { namespace: 'shop', labels: { app: 'web', tier: 'front' } },
      spec: {
        node: NODE_NAME,
        orchestrator: 'k8s',
        pod: 'web-1',
        containerID: pod.containerId,
        endpoint: 'eth0',
        interfaceName: veth,
        ipNetworks: [`${ip}/32`],
        mac: addResult(added).interfaces[1]!.mac,
      },
    });

    expect(await node.run('CHECK', invocation(pod), node.config({ prevResult: added.output }))).toMatchObject(
      {
        code: 0,
        output: undefined,
      },
    );
    await pod.netns.ip('route', 'del', 'default');
    const broken = await node.run('CHECK', invocation(pod), node.config({ prevResult: added.output }));
    expect(broken.output).toMatchObject({ code: ERROR_CODES.checkFailed });
    expect(broken.output?.['msg']).toContain(`lacks its default route via ${GATEWAY}`);

    expect(await node.run('DEL', invocation(pod))).toMatchObject({ code: 0, output: undefined });
    expect(await node.workloadLinks()).toEqual([]);
    expect(await node.netns.ip('route', 'show', 'exact', `${ip}/32`)).toBe('');
    expect(await new Ipam(node.store).lookupHandle(handle(pod))).toEqual([]);
    expect(await node.store.get(endpointKey(pod))).toBeUndefined();
    expect(await node.run('DEL', invocation(pod))).toMatchObject({ code: 0 });
  });

  it('DEL after the pod namespace is gone still releases the address and the endpoint', async () => {
    const pod = await newPod('web-gone');
    expect(await node.run('ADD', invocation(pod))).toMatchObject({ code: 0 });
    await pod.netns.delete();
    expect(await node.run('DEL', { containerId: pod.containerId, args: pod.args })).toMatchObject({
      code: 0,
    });
    expect(await node.workloadLinks()).toEqual([]);
    expect(await new Ipam(node.store).lookupHandle(handle(pod))).toEqual([]);
    expect(await node.store.get(endpointKey(pod))).toBeUndefined();
  });

  it('two pods on one node reach each other', async () => {
    const a = await newPod('chat-a');
    const b = await newPod('chat-b');
    const addedA = await node.run('ADD', invocation(a));
    const addedB = await node.run('ADD', invocation(b));
    try {
      await ping(a.netns, podAddress(addedB));
      await ping(b.netns, podAddress(addedA));
    } finally {
      await node.run('DEL', invocation(a));
      await node.run('DEL', invocation(b));
    }
    expect(await node.workloadLinks()).toEqual([]);
  });

  describe('bad input gets the spec error code and leaves nothing behind', () => {
    async function expectNothingLeft(pod: Pod): Promise<void> {
      expect(await node.workloadLinks()).toEqual([]);
      expect(await pod.netns.ip('-j', 'link', 'show')).not.toContain('eth0');
      expect(await new Ipam(node.store).lookupHandle(handle(pod))).toEqual([]);
      expect(await node.store.get(endpointKey(pod))).toBeUndefined();
    }

    it('missing CNI_NETNS', async () => {
      const pod = await newPod('no-netns');
      const run = await node.run('ADD', { containerId: pod.containerId, args: pod.args });
      expect(run.code).toBe(1);
      expect(run.output).toMatchObject({ cniVersion: '1.1.0', code: ERROR_CODES.invalidEnvironment });
      expect(run.output?.['msg']).toContain('CNI_NETNS');
      await expectNothingLeft(pod);
    });

    it('malformed config JSON', async () => {
      const pod = await newPod('bad-json');
      const run = await node.run('ADD', invocation(pod), '{"cniVersion": "1.0.0", "name": ');
      expect(run.output).toMatchObject({ code: ERROR_CODES.decode });
      expect(run.output?.['msg']).toContain('not JSON');
      await expectNothingLeft(pod);
    });

    it('pool exhausted: the second pod of a one-address pool', async () => {
      const first = await newPod('tiny-1');
      const second = await newPod('tiny-2');
      const config = node.config({ ipam: { type: 'margay-ipam', ipv4_pools: ['tiny'] } });
      expect(await node.run('ADD', invocation(first), config)).toMatchObject({ code: 0 });
      try {
        const run = await node.run('ADD', invocation(second), config);
        expect(run.code).toBe(1);
        expect(run.output).toMatchObject({ code: ERROR_CODES.poolExhausted });
        expect(run.output?.['msg']).toMatch(/tiny|10\.78\.0\.0/);
        expect(await node.workloadLinks()).toEqual([hostVethName({ kind: 'pod', ...podId(first) })]);
      } finally {
        expect(await node.run('DEL', invocation(first), config)).toMatchObject({ code: 0 });
      }
      await expectNothingLeft(second);
    });
  });

  it('GC releases the addresses of attachments the runtime no longer has', async () => {
    const kept = await newPod('gc-kept');
    const stale = await newPod('gc-stale');
    await node.run('ADD', invocation(kept));
    await node.run('ADD', invocation(stale));
    try {
      const valid = [{ containerID: kept.containerId, ifname: 'eth0' }];
      expect(await node.run('GC', {}, node.config({ 'cni.dev/valid-attachments': valid }))).toMatchObject({
        code: 0,
      });
      const ipam = new Ipam(node.store);
      expect(await ipam.lookupHandle(handle(kept))).toHaveLength(1);
      expect(await ipam.lookupHandle(handle(stale))).toEqual([]);
    } finally {
      await node.run('DEL', invocation(kept));
      await node.run('DEL', invocation(stale));
    }
  });

  it('VERSION and STATUS', async () => {
    expect((await node.run('VERSION', {}, '{"cniVersion":"1.0.0"}')).output).toEqual({
      cniVersion: '1.0.0',
      supportedVersions: ['0.4.0', '1.0.0', '1.1.0'],
    });
    expect(await node.run('STATUS', {})).toMatchObject({ code: 0, output: undefined });
    // Nothing listens on port 1 of loopback: etcd is unreachable.
    const down = await node.run('STATUS', {}, node.config({ etcd_endpoints: 'http://127.0.0.1:1' }));
    expect(down.output).toMatchObject({ code: ERROR_CODES.notAvailable });
    expect(down.output?.['msg']).toContain('etcd');
  });
});
