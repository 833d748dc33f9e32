import { doc, problemsOf } from '../testing';
import { validateResource } from '../validate';

describe('Node', () => {
  test('a node with BGP addresses in CIDR form (the prefix is its subnet)', () => {
    const spec = {
      bgp: {
        ipv4Address: '10.0.0.5/24',
        ipv6Address: 'FD00::5/64',
        asNumber: 64513,
        ipv4IPIPTunnelAddr: '10.244.1.1',
        routeReflectorClusterID: '224.0.0.1',
      },
      ipv4VXLANTunnelAddr: '10.244.1.0',
      vxlanTunnelMACAddr: '66:8f:00:aa:01:02',
      addresses: [{ address: '10.0.0.5', type: 'InternalIP' }],
      orchRefs: [{ nodeName: 'worker-1', orchestrator: 'k8s' }],
    };
    expect(validateResource(doc('Node', spec, { name: 'worker-1' })).spec).toEqual({
      ...spec,
      bgp: { ...spec.bgp, ipv6Address: 'fd00::5/64' },
    });
  });

  test('an empty node is valid (addresses are filled in at startup)', () => {
    expect(validateResource(doc('Node', {}, { name: 'worker-1' })).spec).toEqual({});
  });

  test.each([
    [
      { bgp: { ipv4Address: '10.0.0.5/33' } },
      'spec.bgp.ipv4Address: "10.0.0.5/33" is not an IPv4 address or address/prefix-length',
    ],
    [
      { bgp: { ipv4Address: 'fd00::5/64' } },
      'spec.bgp.ipv4Address: "fd00::5/64" is not an IPv4 address or address/prefix-length',
    ],
    [
      { bgp: { ipv6Address: '10.0.0.5' } },
      'spec.bgp.ipv6Address: "10.0.0.5" is not an IPv6 address or address/prefix-length',
    ],
    [{ bgp: { asNumber: -1 } }, 'spec.bgp.asNumber: must be from 1 to 4294967295 (got -1)'],
    [
      { bgp: { ipv4IPIPTunnelAddr: '10.244.1.1/32' } },
      'spec.bgp.ipv4IPIPTunnelAddr: "10.244.1.1/32" is not an IPv4 address',
    ],
    [
      { bgp: { routeReflectorClusterID: 'rr-1' } },
      'spec.bgp.routeReflectorClusterID: "rr-1" is not an IPv4 address',
    ],
    [
      { vxlanTunnelMACAddr: '66:8f:00:aa:01' },
      'spec.vxlanTunnelMACAddr: "66:8f:00:aa:01" is not a MAC address',
    ],
    [
      { bgp: { ipv4address: '10.0.0.5/24' } },
      'spec.bgp: unknown field "ipv4address" (did you mean "ipv4Address"?)',
    ],
  ])('%j → %s', (spec, problem) => {
    expect(problemsOf(doc('Node', spec))).toEqual([problem]);
  });
});
