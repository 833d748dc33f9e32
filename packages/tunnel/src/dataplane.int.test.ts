// The tunnel manager on a real kernel: two "nodes" (network namespaces joined by a veth pair on
// 198.18.0.0/24), each with a pod address on lo inside its block. The calculator's state applied
// by the dataplane must carry a ping between the pods through vxlan.margay, be stable (a second
// apply writes nothing), follow changes, and leave nothing behind when the pool stops encapsulating.
// (IPIP cannot be created on this kernel, which has no ipip module: its proof boots a VM.)

import { NetworkNamespace, ProcessRunner } from '@margay/dataplane';
import { requireCommand, requireRoot } from '@margay/testkit';
import { calculateTunnelState } from './calculate';
import { TunnelDataplane } from './dataplane';
import { readKernelTunnelState } from './kernel';
import type { TunnelInputs, TunnelPool, TunnelState } from './state';
import { findUnderlay } from './underlay';

const NODES = [
  {
    name: 'a',
    ipv4Address: '198.18.0.1/24',
    vxlanTunnelAddr: '10.98.0.1',
    vxlanMac: '66:00:00:00:00:0a',
    block: '10.98.0.0/26',
    pod: '10.98.0.10',
  },
  {
    name: 'b',
    ipv4Address: '198.18.0.2/24',
    vxlanTunnelAddr: '10.98.0.65',
    vxlanMac: '66:00:00:00:00:0b',
    block: '10.98.0.64/26',
    pod: '10.98.0.74',
  },
];

function pool(vxlanMode: TunnelPool['vxlanMode']): TunnelPool {
  return { name: 'default', cidr: '10.98.0.0/16', ipipMode: 'Never', vxlanMode };
}

describe('TunnelDataplane on a real kernel (VXLAN)', () => {
  const namespaces: NetworkNamespace[] = [];

  beforeAll(async () => {
    requireRoot('tunnel dataplane integration tests');
    requireCommand('ip', 'iproute2');
    requireCommand('bridge', 'iproute2');
    const a = await NetworkNamespace.create('mg-tun-a');
    namespaces.push(a);
    const b = await NetworkNamespace.create('mg-tun-b');
    namespaces.push(b);
    await a.ip('link', 'add', 'under0', 'type', 'veth', 'peer', 'name', 'under1');
    await a.ip('link', 'set', 'under1', 'netns', b.name);
    await b.ip('link', 'set', 'under1', 'name', 'under0');
    for (const [netns, node] of [
      [a, NODES[0]!],
      [b, NODES[1]!],
    ] as const) {
      await netns.ip('addr', 'add', node.ipv4Address, 'dev', 'under0');
      await netns.ip('link', 'set', 'under0', 'up');
      await netns.ip('addr', 'add', `${node.pod}/32`, 'dev', 'lo');
    }
  });

  afterAll(async () => {
    for (const netns of namespaces) await netns.delete();
  });

  async function inputsFor(
    netns: NetworkNamespace,
    self: string,
    mode: TunnelPool['vxlanMode'],
  ): Promise<TunnelInputs> {
    const node = NODES.find((n) => n.name === self)!;
    return {
      nodeName: self,
      pools: [pool(mode)],
      nodes: NODES.map(({ block: _b, pod: _p, ...rest }) => rest),
      affinities: NODES.map((n) => ({ node: n.name, cidr: n.block })),
      underlay: await findUnderlay(netns.runner, node.ipv4Address.split('/')[0]!),
    };
  }

  async function stateFor(
    netns: NetworkNamespace,
    self: string,
    mode: TunnelPool['vxlanMode'],
  ): Promise<TunnelState> {
    const calculation = calculateTunnelState(await inputsFor(netns, self, mode));
    if (!calculation.ready) throw new Error(calculation.reason);
    expect(calculation.problems).toEqual([]);
    return calculation.state;
  }

  const txPackets = async (netns: NetworkNamespace): Promise<number> => {
    const [link] = JSON.parse(await netns.ip('-j', '-s', 'link', 'show', 'dev', 'vxlan.margay')) as {
      stats64: { tx: { packets: number } };
    }[];
    return link!.stats64.tx.packets;
  };

  const ping = (from: NetworkNamespace, to: string) =>
    new ProcessRunner({ netns: from.name }).run(['ping', '-c', '2', '-i', '0.2', '-W', '2', to]);

  test('pods on two nodes reach each other through vxlan.margay; a second apply writes nothing', async () => {
    const [a, b] = namespaces as [NetworkNamespace, NetworkNamespace];
    const dataplaneA = new TunnelDataplane({ runner: a.runner });
    const dataplaneB = new TunnelDataplane({ runner: b.runner });
    // Always, although both sit on one subnet: everything goes through the tunnel.
    expect((await dataplaneA.apply(await stateFor(a, 'a', 'Always'))).failures).toEqual([]);
    expect((await dataplaneB.apply(await stateFor(b, 'b', 'Always'))).failures).toEqual([]);

    const kernel = await readKernelTunnelState(a.runner);
    expect(kernel.vxlan).toMatchObject({
      kind: 'vxlan',
      vni: 4096,
      port: 4789,
      local: '198.18.0.1',
      parent: 'under0',
      mac: '66:00:00:00:00:0a',
      mtu: 1450,
      up: true,
      addresses: ['10.98.0.1/32'],
    });
    expect(kernel.neighbours).toEqual([{ ip: '10.98.0.65', mac: '66:00:00:00:00:0b' }]);
    expect(kernel.fdb).toEqual([{ mac: '66:00:00:00:00:0b', dst: '198.18.0.2' }]);
    expect((await a.ip('route', 'show', 'proto', '79')).trim()).toBe(
      '10.98.0.64/26 via 10.98.0.65 dev vxlan.margay onlink',
    );

    const before = await txPackets(a);
    const result = await ping(a, NODES[1]!.pod);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await txPackets(a)).toBeGreaterThanOrEqual(before + 2);

    expect(await dataplaneA.apply(await stateFor(a, 'a', 'Always'))).toEqual({ commands: 0, failures: [] });
  });

  test('CrossSubnet between same-subnet nodes: plain routes, nothing through the tunnel', async () => {
    const [a, b] = namespaces as [NetworkNamespace, NetworkNamespace];
    await new TunnelDataplane({ runner: a.runner }).apply(await stateFor(a, 'a', 'CrossSubnet'));
    await new TunnelDataplane({ runner: b.runner }).apply(await stateFor(b, 'b', 'CrossSubnet'));
    expect((await a.ip('route', 'show', 'proto', '79')).trim()).toBe(
      '10.98.0.64/26 via 198.18.0.2 dev under0',
    );
    const before = await txPackets(a);
    expect((await ping(a, NODES[1]!.pod)).code).toBe(0);
    expect(await txPackets(a)).toBe(before);
  });

  test('a pool flipped to Never removes the device, its entries and our routes, and nothing else', async () => {
    const [a] = namespaces as [NetworkNamespace];
    await a.ip('route', 'add', '10.50.0.0/24', 'via', '198.18.0.2', 'proto', 'static');
    const result = await new TunnelDataplane({ runner: a.runner }).apply(await stateFor(a, 'a', 'Never'));
    expect(result.failures).toEqual([]);
    expect(await readKernelTunnelState(a.runner)).toEqual({
      ipip: undefined,
      vxlan: undefined,
      neighbours: [],
      fdb: [],
    });
    expect((await a.ip('route', 'show', 'proto', '79')).trim()).toBe('');
    expect((await a.ip('route', 'show', '10.50.0.0/24')).trim()).toBe(
      '10.50.0.0/24 via 198.18.0.2 dev under0 proto static',
    );
  });
});
