import {
  decodeResource,
  encodeResource,
  type Node,
  ResourceValidationError,
  resourceKey,
  testNode,
} from '@margay/api';
import { MemoryDatastore } from '@margay/datastore';
import { nodeEnvironment, registerNode } from './registration';

const key = resourceKey('Node', 'n1');

async function storedNode(store: MemoryDatastore): Promise<Node> {
  const kv = await store.get(key);
  if (!kv) throw new Error('no Node stored');
  return decodeResource(kv.value) as Node;
}

describe('registerNode', () => {
  it('creates the Node with address, AS, cluster id and labels', async () => {
    const store = new MemoryDatastore();
    await registerNode(store, {
      name: 'n1',
      ipv4Address: '10.0.0.5/24',
      asNumber: 65001,
      routeReflectorClusterID: '244.0.0.1',
      labels: { rack: 'r1' },
    });
    const node = await storedNode(store);
    expect(node.metadata).toMatchObject({ name: 'n1', labels: { rack: 'r1' } });
    expect(node.spec.bgp).toEqual({
      ipv4Address: '10.0.0.5/24',
      asNumber: 65001,
      routeReflectorClusterID: '244.0.0.1',
    });
  });

  it('updates only what it owns and keeps every other field', async () => {
    const store = new MemoryDatastore();
    const existing = testNode(
      'n1',
      { ipv4Address: '10.0.0.5/24', asNumber: 65001, ipv4IPIPTunnelAddr: '10.244.0.1' },
      {
        zone: 'a',
      },
    );
    await store.put(
      key,
      encodeResource({ ...existing, spec: { ...existing.spec, ipv4VXLANTunnelAddr: '10.244.0.2' } }),
    );
    await registerNode(store, { name: 'n1', ipv4Address: '192.168.7.9/16', labels: { rack: 'r2' } });
    const node = await storedNode(store);
    expect(node.metadata.labels).toEqual({ zone: 'a', rack: 'r2' });
    expect(node.spec).toEqual({
      bgp: { ipv4Address: '192.168.7.9/16', asNumber: 65001, ipv4IPIPTunnelAddr: '10.244.0.1' },
      ipv4VXLANTunnelAddr: '10.244.0.2',
    });
  });

  it('retries when someone else writes the Node in between, keeping their change', async () => {
    const store = new MemoryDatastore();
    await store.put(key, encodeResource(testNode('n1', { ipv4Address: '10.0.0.5/24' })));
    const realGet = store.get.bind(store);
    let raced = false;
    store.get = async (k) => {
      const kv = await realGet(k);
      if (!raced) {
        raced = true;
        await store.put(
          key,
          encodeResource(testNode('n1', { ipv4Address: '10.0.0.5/24' }, { owner: 'other' })),
        );
      }
      return kv;
    };
    await registerNode(store, { name: 'n1', ipv4Address: '10.0.0.6/24' });
    const node = await storedNode(store);
    expect(node.metadata.labels).toEqual({ owner: 'other' });
    expect(node.spec.bgp?.ipv4Address).toBe('10.0.0.6/24');
  });

  it('rejects a bad address, naming the field, and writes nothing', async () => {
    const store = new MemoryDatastore();
    const attempt = registerNode(store, { name: 'n1', ipv4Address: '10.0.0.300/24' });
    await expect(attempt).rejects.toThrow(ResourceValidationError);
    await expect(attempt).rejects.toThrow(/spec\.bgp\.ipv4Address/);
    expect(await store.get(key)).toBeUndefined();
  });
});

describe('nodeEnvironment', () => {
  it('reads Calico-style variables', () => {
    expect(
      nodeEnvironment({
        NODENAME: 'n7',
        IP_AUTODETECTION_METHOD: 'cidr=10.0.0.0/8',
        AS: '65010',
        ROUTE_REFLECTOR_CLUSTER_ID: '1.0.0.1',
      }),
    ).toEqual({
      name: 'n7',
      addressMethod: 'cidr=10.0.0.0/8',
      asNumber: 65010,
      routeReflectorClusterID: '1.0.0.1',
    });
  });

  it('prefers an explicit IP over autodetection, and defaults to first-found', () => {
    expect(
      nodeEnvironment({ NODENAME: 'n7', IP: '10.1.2.3/24', IP_AUTODETECTION_METHOD: 'first-found' })
        .addressMethod,
    ).toBe('10.1.2.3/24');
    expect(nodeEnvironment({ NODENAME: 'n7', IP: 'autodetect' }).addressMethod).toBe('first-found');
  });

  it('rejects a bad AS number or method', () => {
    expect(() => nodeEnvironment({ AS: '65a' })).toThrow('AS: "65a" is not an AS number');
    expect(() => nodeEnvironment({ IP_AUTODETECTION_METHOD: 'nearest' })).toThrow(/"nearest"/);
  });
});
