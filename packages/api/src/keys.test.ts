import { resourceKey, resourcePrefix } from './keys';

describe('etcd key layout', () => {
  test('cluster-scoped and namespaced keys', () => {
    expect(resourceKey('IPPool', 'default-ipv4-ippool')).toBe(
      '/margay/resources/v1/ippools/default-ipv4-ippool',
    );
    expect(resourceKey('FelixConfiguration', 'node.worker-1')).toBe(
      '/margay/resources/v1/felixconfigurations/node.worker-1',
    );
    expect(resourceKey('NetworkPolicy', 'knp.default.web', 'prod')).toBe(
      '/margay/resources/v1/networkpolicies/prod/knp.default.web',
    );
    expect(resourceKey('WorkloadEndpoint', 'w-k8s-pod-eth0')).toBe(
      '/margay/resources/v1/workloadendpoints/default/w-k8s-pod-eth0',
    );
  });

  test('prefixes list a kind or one namespace, and contain exactly their keys', () => {
    expect(resourcePrefix('BGPPeer')).toBe('/margay/resources/v1/bgppeers/');
    expect(resourcePrefix('NetworkPolicy')).toBe('/margay/resources/v1/networkpolicies/');
    expect(resourcePrefix('NetworkPolicy', 'prod')).toBe('/margay/resources/v1/networkpolicies/prod/');
    expect(
      resourceKey('NetworkPolicy', 'p', 'prod').startsWith(resourcePrefix('NetworkPolicy', 'prod')),
    ).toBe(true);
    // Namespace "prod" must not list "prod-2": the prefix ends with a slash.
    expect(
      resourceKey('NetworkPolicy', 'p', 'prod-2').startsWith(resourcePrefix('NetworkPolicy', 'prod')),
    ).toBe(false);
    // One kind's prefix never covers another kind whose plural starts the same way.
    expect(resourceKey('GlobalNetworkPolicy', 'g').startsWith(resourcePrefix('NetworkPolicy'))).toBe(false);
  });

  test('bad names and namespaces are rejected rather than producing odd keys', () => {
    expect(() => resourceKey('IPPool', 'a/b')).toThrow('IPPool name: "a/b" is not a valid name');
    expect(() => resourceKey('IPPool', '')).toThrow('IPPool name: must not be empty');
    expect(() => resourceKey('IPPool', 'p', 'prod')).toThrow(
      'IPPool is cluster-scoped and takes no namespace (got "prod")',
    );
    expect(() => resourcePrefix('NetworkPolicy', '../x')).toThrow(
      'namespace: "../x" is not a valid DNS label',
    );
  });
});
