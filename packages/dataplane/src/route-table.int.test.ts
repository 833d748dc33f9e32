import { requireCommand, requireRoot } from '@margay/testkit';
import { NetworkNamespace } from './netns';
import { RouteTable } from './route-table';

const PROTO = 196;

/** A namespace with a veth pair: 10.99.0.1/24 and 2001:db8:99::1/64 on mg-a, its peer mg-b up. */
async function namespaceWithVeth(): Promise<NetworkNamespace> {
  const netns = await NetworkNamespace.create('mg-rt');
  try {
    await netns.ip('link', 'add', 'mg-a', 'type', 'veth', 'peer', 'name', 'mg-b');
    await netns.ip('addr', 'add', '10.99.0.1/24', 'dev', 'mg-a');
    await netns.ip('addr', 'add', '2001:db8:99::1/64', 'dev', 'mg-a', 'nodad');
    await netns.ip('link', 'set', 'mg-a', 'up');
    await netns.ip('link', 'set', 'mg-b', 'up');
    return netns;
  } catch (error) {
    await netns.delete();
    throw error;
  }
}

const shown = async (netns: NetworkNamespace, ...selector: string[]): Promise<string[]> =>
  [
    ...(await netns.ip('-4', 'route', 'show', ...selector)).split('\n'),
    ...(await netns.ip('-6', 'route', 'show', ...selector)).split('\n'),
  ]
    .map((line) => line.trim())
    .filter((line) => line !== '');

describe('RouteTable on a real kernel', () => {
  let netns: NetworkNamespace | undefined;

  beforeAll(async () => {
    requireRoot('RouteTable integration tests');
    requireCommand('ip', 'iproute2');
    netns = await namespaceWithVeth();
  });

  afterAll(async () => {
    await netns?.delete();
  });

  test('installs, changes and deletes its routes, leaves other protos alone, and a successor adopts them', async () => {
    const ns = netns!;
    await ns.ip('route', 'add', '10.50.0.0/24', 'via', '10.99.0.2', 'proto', '4'); // static
    const table = new RouteTable({ runner: ns.runner, proto: PROTO });
    table.set({ dst: '10.1.0.0/24', type: 'unicast', via: '10.99.0.2' });
    table.set({
      dst: '10.2.0.0/24',
      type: 'unicast',
      via: '10.77.0.1',
      dev: 'mg-a',
      onlink: true,
      mtu: 1400,
    });
    table.set({ dst: '10.3.0.5', type: 'link', dev: 'mg-a' });
    table.set({ dst: '10.4.0.0/26', type: 'blackhole', metric: 5 });
    table.set({ dst: '2001:db8:1::/64', type: 'unicast', via: '2001:db8:99::2' });
    table.set({ dst: '10.50.0.0/16', type: 'blackhole' });
    expect(await table.reconcile()).toEqual({ lines: 6, failures: [] });
    expect(await shown(ns, 'proto', String(PROTO))).toEqual([
      '10.1.0.0/24 via 10.99.0.2 dev mg-a',
      '10.2.0.0/24 via 10.77.0.1 dev mg-a onlink mtu 1400',
      '10.3.0.5 dev mg-a scope link',
      'blackhole 10.4.0.0/26 metric 5',
      'blackhole 10.50.0.0/16',
      '2001:db8:1::/64 via 2001:db8:99::2 dev mg-a metric 1024 pref medium',
    ]);

    table.set({ dst: '10.1.0.0/24', type: 'unicast', via: '10.99.0.3' });
    table.set({ dst: '10.4.0.0/26', type: 'blackhole', metric: 9 });
    table.delete('10.3.0.5/32');
    table.delete('10.50.0.0/16');
    expect(await table.flush()).toEqual({ lines: 5, failures: [] });
    expect(await shown(ns, 'proto', String(PROTO))).toEqual([
      '10.1.0.0/24 via 10.99.0.3 dev mg-a',
      '10.2.0.0/24 via 10.77.0.1 dev mg-a onlink mtu 1400',
      'blackhole 10.4.0.0/26 metric 9',
      '2001:db8:1::/64 via 2001:db8:99::2 dev mg-a metric 1024 pref medium',
    ]);
    // Reconciling again finds the kernel in sync.
    expect(await table.reconcile()).toEqual({ lines: 0, failures: [] });

    // A successor (a restarted agent) keeps what it still wants without rewriting it, drops the rest.
    const successor = new RouteTable({ runner: ns.runner, proto: PROTO });
    successor.set({ dst: '10.1.0.0/24', type: 'unicast', via: '10.99.0.3' });
    expect(await successor.reconcile()).toEqual({ lines: 3, failures: [] });
    expect(await shown(ns, 'proto', String(PROTO))).toEqual(['10.1.0.0/24 via 10.99.0.3 dev mg-a']);
    successor.clear();
    await successor.reconcile();
    expect(await shown(ns, 'proto', String(PROTO))).toEqual([]);
    expect(await shown(ns, 'proto', '4')).toEqual(['10.50.0.0/24 via 10.99.0.2 dev mg-a']);
  });

  test('a line the kernel refuses is reported while the rest of the batch is applied', async () => {
    const ns = netns!;
    const table = new RouteTable({ runner: ns.runner, proto: PROTO, table: 100 });
    table.set({ dst: '10.1.0.0/24', type: 'unicast', via: '10.99.0.2' });
    table.set({ dst: '10.2.0.0/24', type: 'unicast', via: '10.98.0.2' });
    table.set({ dst: '10.3.0.0/24', type: 'blackhole' });
    const result = await table.reconcile();
    expect(result.failures).toEqual([
      {
        dst: '10.2.0.0/24',
        line: 'route replace 10.2.0.0/24 via 10.98.0.2 proto 196 table 100 metric 0',
        error: expect.stringContaining('Nexthop has invalid gateway'),
      },
    ]);
    expect(await ns.ip('-4', 'route', 'show', 'table', '100', 'proto', String(PROTO))).toBe(
      '10.1.0.0/24 via 10.99.0.2 dev mg-a \nblackhole 10.3.0.0/24 \n',
    );
    // Once the gateway becomes reachable the retry succeeds.
    await ns.ip('addr', 'add', '10.98.0.1/24', 'dev', 'mg-a');
    expect(await table.flush()).toEqual({ lines: 1, failures: [] });
    table.clear();
    await table.reconcile();
    expect(await ns.ip('-4', 'route', 'show', 'table', '100')).toBe('');
  });
});
