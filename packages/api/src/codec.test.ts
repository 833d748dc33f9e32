import { decodeResource, decodeResources, encodeResource } from './codec';
import { ResourceValidationError } from './errors';
import { doc } from './testing';
import { validateResource } from './validate';

describe('store encoding', () => {
  test('round trip, without resourceVersion', () => {
    const pool = validateResource(
      doc('IPPool', { cidr: '10.0.0.0/16' }, { name: 'p', resourceVersion: '42', uid: 'u-1' }),
    );
    const stored = encodeResource(pool);
    expect(JSON.parse(stored).metadata).toEqual({ name: 'p', uid: 'u-1' });
    const { resourceVersion: _, ...metadata } = pool.metadata;
    expect(decodeResource(stored)).toEqual({ ...pool, metadata });
  });

  // Decoding re-validates, so this also checks that defaults and normalisation are stable.
  test.each([
    doc('IPPool', { cidr: 'FD00:0::/48', vxlanMode: 'Always' }),
    doc('BGPConfiguration', { asNumber: '1.10' }, { name: 'default' }),
    doc('BGPPeer', { peerIP: '[2001:db8::1]:179', asNumber: '65001' }),
    doc('Node', { bgp: { ipv4Address: '10.0.0.5/24', asNumber: 64512 } }),
    doc('FelixConfiguration', { failsafeInboundHostPorts: [{ protocol: 'TCP', port: 22 }] }),
    doc('NetworkPolicy', { ingress: [{ action: 'Allow', protocol: 'tcp', destination: { ports: ['80'] } }] }),
    doc('GlobalNetworkPolicy', { egress: [{ action: 'Deny', destination: { nets: ['10.0.0.1'] } }] }),
    doc('HostEndpoint', { node: 'n', expectedIPs: ['FD00::1'] }),
    doc(
      'WorkloadEndpoint',
      { node: 'n', interfaceName: 'mg0', ipNetworks: ['10.0.0.1'] },
      { name: 'w', namespace: 'x' },
    ),
    doc('Profile', { labelsToApply: { a: 'b' } }),
    doc('IPAMConfiguration', {}, { name: 'default' }),
  ])('$kind survives encode → decode unchanged', (input) => {
    const resource = validateResource(input);
    expect(decodeResource(encodeResource(resource))).toEqual(resource);
  });

  test('round trip of a converted Kubernetes policy keeps its meaning', () => {
    const policy = validateResource({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'web', namespace: 'prod' },
      spec: { podSelector: {}, ingress: [{ ports: [{ port: 80, endPort: 90 }] }] },
    });
    expect(decodeResource(encodeResource(policy))).toEqual(policy);
  });

  test('corrupt stored values are validation errors', () => {
    expect(() => decodeResource('{not json')).toThrow(ResourceValidationError);
    expect(() => decodeResource('{not json')).toThrow(/^datastore: document 1: invalid JSON: /);
    expect(() => decodeResource(JSON.stringify(doc('IPPool', { cidr: 'x' })))).toThrow(
      'datastore: document 1 (IPPool test): spec.cidr: "x" is not a CIDR (expected address/prefix-length)',
    );
  });
});

describe('decodeResources', () => {
  it('keeps the values that decode, in order, and hands each corrupt one to onCorrupt', () => {
    const pool = validateResource(doc('IPPool', { cidr: '10.244.0.0/16' }, { name: 'pods' }));
    const corrupt: Array<[string, string]> = [];
    const decoded = decodeResources(
      [
        ['/a', encodeResource(pool)],
        ['/b', '{not json'],
        ['/c', JSON.stringify(doc('IPPool', { cidr: 'nonsense' }))],
      ],
      (key, error) => corrupt.push([key, error.message]),
    );
    expect(decoded.map((r) => r.metadata.name)).toEqual(['pods']);
    expect(corrupt.map(([key]) => key)).toEqual(['/b', '/c']);
    expect(corrupt[0]![1]).toContain('invalid JSON');
  });
});
