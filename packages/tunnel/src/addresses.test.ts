import { decodeResource, type IPPool, type Node, resourceKey, validateResource } from '@margay/api';
import { MemoryDatastore } from '@margay/datastore';
import { Ipam } from '@margay/ipam';
import { hasTunnelFields, syncTunnelAddresses, tunnelAddressPools, withTunnelFields } from './addresses';
import { putNode, putPool } from './testing';

const poolResource = (name: string, spec: object) =>
  validateResource(
    { apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name }, spec },
    'test',
  ) as IPPool;
const nodeResource = (labels: Record<string, string>, spec: object = {}) =>
  validateResource(
    { apiVersion: 'margay.io/v1', kind: 'Node', metadata: { name: 'a', labels }, spec },
    'test',
  ) as Node;

describe('tunnelAddressPools', () => {
  test('enabled IPv4 pools of the mode that select the node and allow tunnel use', () => {
    const pools = [
      poolResource('ipip', { cidr: '10.1.0.0/16', ipipMode: 'Always' }),
      poolResource('cross', { cidr: '10.2.0.0/16', ipipMode: 'CrossSubnet' }),
      poolResource('never', { cidr: '10.3.0.0/16' }),
      poolResource('vxlan', { cidr: '10.4.0.0/16', vxlanMode: 'Always' }),
      poolResource('disabled', { cidr: '10.5.0.0/16', ipipMode: 'Always', disabled: true }),
      poolResource('workload-only', { cidr: '10.6.0.0/16', ipipMode: 'Always', allowedUses: ['Workload'] }),
      poolResource('elsewhere', { cidr: '10.7.0.0/16', ipipMode: 'Always', nodeSelector: "zone == 'b'" }),
      poolResource('v6', { cidr: 'fd00::/48', vxlanMode: 'Always' }),
    ];
    const node = nodeResource({ zone: 'a' });
    expect(tunnelAddressPools(pools, node, 'ipip').map((p) => p.metadata.name)).toEqual(['ipip', 'cross']);
    expect(tunnelAddressPools(pools, node, 'vxlan').map((p) => p.metadata.name)).toEqual(['vxlan']);
  });
});

describe('withTunnelFields', () => {
  test('sets and clears the fields, keeping everything else', () => {
    const node = nodeResource(
      {},
      { bgp: { ipv4Address: '192.168.1.10/24' }, addresses: [{ address: '192.168.1.10' }] },
    );
    const set = withTunnelFields(node, { ipip: '10.1.0.1', vxlan: '10.4.0.1' });
    expect(set.spec).toEqual({
      bgp: { ipv4Address: '192.168.1.10/24', ipv4IPIPTunnelAddr: '10.1.0.1' },
      addresses: [{ address: '192.168.1.10' }],
      ipv4VXLANTunnelAddr: '10.4.0.1',
      vxlanTunnelMACAddr: expect.stringMatching(/^66:/),
    });
    expect(hasTunnelFields(set, { ipip: '10.1.0.1', vxlan: '10.4.0.1' })).toBe(true);
    expect(hasTunnelFields(set, { ipip: undefined, vxlan: '10.4.0.1' })).toBe(false);
    const cleared = withTunnelFields(set, { ipip: undefined, vxlan: undefined });
    expect(cleared.spec).toEqual(node.spec);
    expect(hasTunnelFields(cleared, { ipip: undefined, vxlan: undefined })).toBe(true);
  });
});

describe('syncTunnelAddresses', () => {
  test('assigns from an eligible pool, keeps it, trades it when its pool stops encapsulating, releases it at the end', async () => {
    const store = new MemoryDatastore();
    const ipam = new Ipam(store);
    try {
      await putNode(store, 'a', '192.168.1.10/24');
      const pools = (specs: [string, string, object][]) =>
        specs.map(([n, cidr, modes]) => poolResource(n, { cidr, blockSize: 26, ...modes }));
      for (const [name, cidr] of [
        ['one', '10.1.0.0/16'],
        ['two', '10.2.0.0/16'],
      ] as const)
        await putPool(store, name, cidr, {});

      const first = await syncTunnelAddresses(
        store,
        ipam,
        'a',
        pools([
          ['one', '10.1.0.0/16', { ipipMode: 'Always' }],
          ['two', '10.2.0.0/16', {}],
        ]),
      );
      expect(first.ipip).toMatch(/^10\.1\./);
      expect(first.vxlan).toBeUndefined();
      const again = await syncTunnelAddresses(
        store,
        ipam,
        'a',
        pools([
          ['one', '10.1.0.0/16', { ipipMode: 'Always' }],
          ['two', '10.2.0.0/16', { ipipMode: 'Always' }],
        ]),
      );
      expect(again.ipip).toBe(first.ipip);

      const traded = await syncTunnelAddresses(
        store,
        ipam,
        'a',
        pools([
          ['one', '10.1.0.0/16', {}],
          ['two', '10.2.0.0/16', { ipipMode: 'Always' }],
        ]),
      );
      expect(traded.ipip).toMatch(/^10\.2\./);
      expect(await ipam.lookupHandle('ipip-tunnel-addr-a')).toEqual([traded.ipip]);
      const stored = decodeResource((await store.get(resourceKey('Node', 'a')))!.value) as Node;
      expect(stored.spec.bgp).toEqual({ ipv4Address: '192.168.1.10/24', ipv4IPIPTunnelAddr: traded.ipip });

      expect(await syncTunnelAddresses(store, ipam, 'a', pools([['two', '10.2.0.0/16', {}]]))).toEqual({
        ipip: undefined,
        vxlan: undefined,
      });
      expect(await ipam.lookupHandle('ipip-tunnel-addr-a')).toEqual([]);
      const cleared = decodeResource((await store.get(resourceKey('Node', 'a')))!.value) as Node;
      expect(cleared.spec.bgp).toEqual({ ipv4Address: '192.168.1.10/24' });
    } finally {
      await store.close();
    }
  });

  test('an unregistered node is an error naming it', async () => {
    const store = new MemoryDatastore();
    await expect(syncTunnelAddresses(store, new Ipam(store), 'ghost', [])).rejects.toThrow(
      'Node ghost is not registered',
    );
    await store.close();
  });
});
