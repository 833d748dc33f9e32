import { hostVethName, ipamHandle, workloadEndpointName } from './naming';

describe('naming', () => {
  it('names the host veth mg + 11 hex digits of sha1("<namespace>.<pod>"), as felix computes it', () => {
    // sha1("default.nginx") = c440f455693...
    expect(hostVethName({ kind: 'pod', namespace: 'default', pod: 'nginx' })).toBe('mgc440f455693');
    // Without Kubernetes arguments, the container id is hashed instead.
    expect(hostVethName({ kind: 'container', containerId: 'abc123' })).toBe('mg6367c48dd19');
  });

  it('keeps veth names within IFNAMSIZ and distinct per pod', () => {
    const names = ['a', 'b', 'very-long-pod-name-that-goes-on-and-on'].map((pod) =>
      hostVethName({ kind: 'pod', namespace: 'default', pod }),
    );
    expect(new Set(names).size).toBe(3);
    for (const name of names) expect(name).toMatch(/^mg[0-9a-f]{11}$/);
  });

  it("names WorkloadEndpoints as Calico does, doubling each part's dashes", () => {
    expect(workloadEndpointName('node-1', { kind: 'pod', namespace: 'shop', pod: 'web-1' }, 'eth0')).toBe(
      'node--1-k8s-web--1-eth0',
    );
    expect(workloadEndpointName('n1', { kind: 'container', containerId: 'abc' }, 'eth0')).toBe(
      'n1-cni-abc-eth0',
    );
  });

  it('names the IPAM handle <network>.<container id>', () => {
    expect(ipamHandle('k8s-pod-network', 'abc')).toBe('k8s-pod-network.abc');
  });
});
