import { doc, problemsOf } from '../testing';
import { validateResource } from '../validate';

const peer = (spec: unknown) => validateResource(doc('BGPPeer', spec)).spec;

describe('BGPPeer', () => {
  test.each([
    [{ peerIP: '192.0.2.1', asNumber: 65001 }],
    [{ peerIP: '192.0.2.1:1179', asNumber: '65001' }],
    [{ peerIP: '[2001:db8::1]:1179', asNumber: 65001 }],
    [{ peerIP: '2001:db8::1', asNumber: 65001 }],
    [{ peerIP: '2001:db8::1:179', asNumber: 65001 }], // an IPv6 address; a port needs brackets
    [
      {
        node: 'rack1-host1',
        peerIP: '192.0.2.1',
        asNumber: '1.10',
        password: { secretKeyRef: { name: 's', key: 'k' } },
      },
    ],
    [{ nodeSelector: 'rack == "1"', peerSelector: 'has(route-reflector)' }],
    [{ localWorkloadSelector: 'app == "bird"', asNumber: 65010 }],
    [
      {
        peerIP: '192.0.2.1',
        asNumber: 65001,
        keepOriginalNextHop: true,
        maxRestartTime: '120s',
        sourceAddress: 'None',
      },
    ],
  ])('accepts %j', (spec) => {
    expect(peer(spec)).toBeDefined();
  });

  test('AS numbers are normalised to numbers', () => {
    expect(peer({ peerIP: '192.0.2.1', asNumber: '1.10' })).toEqual({ peerIP: '192.0.2.1', asNumber: 65546 });
  });

  test.each([
    [{ peerIP: '192.0.2.1' }, 'spec.asNumber: required when peerIP is set'],
    [
      { peerIP: '192.0.2.300', asNumber: 65001 },
      'spec.peerIP: "192.0.2.300" is not a peer address: use IP, IPv4:port or [IPv6]:port',
    ],
    [
      { peerIP: '[192.0.2.1]:179', asNumber: 65001 },
      'spec.peerIP: "[192.0.2.1]:179" is not a peer address: use IP, IPv4:port or [IPv6]:port',
    ],
    [
      { peerIP: '192.0.2.1:0', asNumber: 65001 },
      'spec.peerIP: "192.0.2.1:0" is not a peer address: use IP, IPv4:port or [IPv6]:port',
    ],
    [{ asNumber: 65001 }, 'spec: set exactly one of peerIP, peerSelector and localWorkloadSelector'],
    [
      { peerIP: '192.0.2.1', peerSelector: 'all()', asNumber: 65001 },
      'spec: set exactly one of peerIP, peerSelector and localWorkloadSelector',
    ],
    [
      { peerSelector: 'all()', asNumber: 65001 },
      'spec.asNumber: not allowed with peerSelector: selected nodes peer with their own AS number',
    ],
    [
      { node: 'a', nodeSelector: 'all()', peerSelector: 'all()' },
      'spec.nodeSelector: set either node or nodeSelector, not both',
    ],
    [
      { peerIP: '192.0.2.1', asNumber: 4294967296 },
      'spec.asNumber: must be from 1 to 4294967295 (got 4294967296)',
    ],
    [
      { peerSelector: 'has(' },
      'spec.peerSelector: invalid selector "has(": unexpected end of selector, expected a label at position 4',
    ],
    [{ peerIp: '192.0.2.1', asNumber: 65001 }, 'spec: unknown field "peerIp" (did you mean "peerIP"?)'],
  ])('%j → %s', (spec, problem) => {
    expect(problemsOf(doc('BGPPeer', spec))).toContain(problem);
  });
});
