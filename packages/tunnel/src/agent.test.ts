import { decodeResource, type Node, resourceKey } from '@margay/api';
import { RecordingRunner } from '@margay/dataplane';
import { type Datastore, MemoryDatastore, type WatchOptions } from '@margay/datastore';
import { Ipam } from '@margay/ipam';
import { waitFor } from '@margay/testkit';
import { TunnelAgent } from './agent';
import { FakeKernel, putNode, putPool } from './testing';

async function node(store: Datastore, name: string): Promise<Node> {
  const kv = await store.get(resourceKey('Node', name));
  if (!kv) throw new Error(`no Node ${name}`);
  return decodeResource(kv.value) as Node;
}

describe('TunnelAgent', () => {
  let store: MemoryDatastore;
  const agents: TunnelAgent[] = [];

  beforeEach(() => {
    store = new MemoryDatastore();
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.stop()));
    await store.close();
  });

  function start(name: string, kernel: FakeKernel, pools?: (cidrs: readonly string[]) => void): TunnelAgent {
    const agent = new TunnelAgent({
      datastore: store,
      nodeName: name,
      runner: kernel.runner,
      debounceMs: 0,
      retryDelayMs: 10,
      ...(pools && { onEncapsulatedPools: pools }),
    });
    agents.push(agent);
    agent.start();
    return agent;
  }

  test('assigns VXLAN tunnel addresses, routes the remote block via its VTEP, and undoes it all when the pool flips to Never', async () => {
    await putPool(store, 'default', '10.244.0.0/16', { vxlanMode: 'Always' });
    await putNode(store, 'a', '192.168.1.10/24');
    await putNode(store, 'b', '192.168.2.10/24');
    const kernelA = new FakeKernel('192.168.1.10');
    const kernelB = new FakeKernel('192.168.2.10');
    const reported: string[][] = [];
    start('a', kernelA, (cidrs) => reported.push([...cidrs]));
    start('b', kernelB);

    await waitFor(
      'both nodes get VXLAN addresses',
      async () => {
        const [a, b] = [await node(store, 'a'), await node(store, 'b')];
        return a.spec.ipv4VXLANTunnelAddr !== undefined && b.spec.ipv4VXLANTunnelAddr !== undefined;
      },
      5_000,
    );
    const a = await node(store, 'a');
    const b = await node(store, 'b');
    expect(a.spec.vxlanTunnelMACAddr).toMatch(/^66(:[0-9a-f]{2}){5}$/);
    expect(a.spec.bgp?.ipv4Address).toBe('192.168.1.10/24'); // other fields kept
    const ipam = new Ipam(store);
    expect(await ipam.lookupHandle('vxlan-tunnel-addr-a')).toEqual([a.spec.ipv4VXLANTunnelAddr]);
    const blockB = (await ipam.blocksOf('b'))[0]!.cidr;

    await waitFor(
      "node a routes b's block through the tunnel",
      () =>
        kernelA.routes.some(
          (r) => r.dst === blockB && r.gateway === b.spec.ipv4VXLANTunnelAddr && r.dev === 'vxlan.margay',
        ),
      5_000,
    );
    expect(kernelA.devices.get('vxlan.margay')).toEqual({
      kind: 'vxlan',
      addresses: [`${a.spec.ipv4VXLANTunnelAddr}/32`],
      up: true,
    });
    expect(kernelA.writes()).toContain(
      `ip neigh replace ${b.spec.ipv4VXLANTunnelAddr} lladdr ${b.spec.vxlanTunnelMACAddr} dev vxlan.margay nud permanent`,
    );
    expect(kernelA.writes()).toContain(
      `bridge fdb replace ${b.spec.vxlanTunnelMACAddr} dev vxlan.margay dst 192.168.2.10 self permanent`,
    );
    expect(reported).toEqual([['10.244.0.0/16']]);

    await putPool(store, 'default', '10.244.0.0/16', { vxlanMode: 'Never' });
    await waitFor(
      'the device and routes are gone on node a',
      () => !kernelA.devices.has('vxlan.margay') && kernelA.routes.length === 0,
      5_000,
    );
    await waitFor(
      'the tunnel addresses are released',
      async () => (await ipam.lookupHandle('vxlan-tunnel-addr-a')).length === 0,
      5_000,
    );
    const after = await node(store, 'a');
    expect(after.spec.ipv4VXLANTunnelAddr).toBeUndefined();
    expect(after.spec.vxlanTunnelMACAddr).toBeUndefined();
    expect(reported).toEqual([['10.244.0.0/16'], []]);
  });

  test('IPIP: the address goes to spec.bgp.ipv4IPIPTunnelAddr and a node that moves subnet is followed live', async () => {
    await putPool(store, 'default', '10.244.0.0/16', { ipipMode: 'CrossSubnet' });
    await putNode(store, 'a', '192.168.1.10/24');
    await putNode(store, 'b', '192.168.1.11/24');
    const kernelA = new FakeKernel('192.168.1.10');
    start('a', kernelA);
    start('b', new FakeKernel('192.168.1.11'));
    await waitFor(
      'b has an IPIP address',
      async () => (await node(store, 'b')).spec.bgp?.ipv4IPIPTunnelAddr !== undefined,
      5_000,
    );
    const blockB = (await new Ipam(store).blocksOf('b'))[0]!.cidr;
    await waitFor(
      'same subnet: plain route over eth0',
      () => kernelA.routes.some((r) => r.dst === blockB && r.gateway === '192.168.1.11' && r.dev === 'eth0'),
      5_000,
    );
    expect(kernelA.devices.get('tunl0')?.up).toBe(true);

    // b moves to another subnet: its Node changes (as registration writes it), a follows.
    const moved = await node(store, 'b');
    const spec = { ...moved.spec, bgp: { ...moved.spec.bgp, ipv4Address: '192.168.7.11/24' } };
    await store.put(resourceKey('Node', 'b'), JSON.stringify({ ...moved, spec }));
    await waitFor(
      'other subnet: through tunl0',
      () =>
        kernelA.routes.some(
          (r) =>
            r.dst === blockB &&
            r.gateway === '192.168.7.11' &&
            r.dev === 'tunl0' &&
            r.flags.includes('onlink'),
        ),
      5_000,
    );
  });

  test('writes nothing, to the kernel or the datastore, before all three watches are in sync', async () => {
    const handlers = new Map<string, WatchOptions>();
    const datastore = {
      watch: (prefix: string, options: WatchOptions) => {
        handlers.set(prefix, options);
        return { close: async () => {} };
      },
    } as unknown as Datastore;
    const runner = new RecordingRunner();
    const agent = new TunnelAgent({ datastore, nodeName: 'a', runner, debounceMs: 0 });
    agents.push(agent);
    agent.start();
    expect([...handlers.keys()]).toEqual([
      '/margay/resources/v1/nodes/',
      '/margay/resources/v1/ippools/',
      '/margay/ipam/v2/host/',
    ]);
    const [nodes, pools] = [...handlers.values()];
    nodes!.onEvent({ type: 'in-sync', revision: 1 });
    pools!.onEvent({ type: 'in-sync', revision: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(agent.inSync).toBe(false);
    expect(runner.commands).toEqual([]);
  });

  test('refuses a bad node name or timing option', () => {
    const runner = new RecordingRunner();
    expect(() => new TunnelAgent({ datastore: store, nodeName: 'A/B', runner })).toThrow(/A\/B/);
    expect(() => new TunnelAgent({ datastore: store, nodeName: 'a', runner, debounceMs: -1 })).toThrow(
      'TunnelAgent debounceMs -1 must be a number >= 0',
    );
  });
});
