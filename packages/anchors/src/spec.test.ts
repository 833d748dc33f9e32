import { checkSpec, type DaemonSpec, prefixFamily, resolvePeers } from './spec';

const valid: DaemonSpec = {
  routerId: '10.0.0.1',
  asNumber: 65001,
  listen: { address: '127.20.0.1', port: 1790 },
  peers: [{ address: '127.20.0.2', asNumber: 65002 }],
  originate: ['10.1.0.0/24', { prefix: '10.2.0.0/24', nextHop: '198.51.100.1' }],
};

function withChange(change: (spec: DaemonSpec) => void): DaemonSpec {
  const spec = structuredClone(valid);
  change(spec);
  return spec;
}

test('a valid spec passes and tells its address family', () => {
  expect(checkSpec('bird2', valid)).toBe(4);
  expect(
    checkSpec(
      'bird2',
      withChange((s) => {
        s.listen.address = '::1';
        s.peers = [{ address: '::1', port: 1791, asNumber: 65002 }];
        s.originate = ['2001:db8::/32'];
      }),
    ),
  ).toBe(6);
});

test.each([
  [
    'routerId',
    (s: DaemonSpec) => {
      s.routerId = '::1';
    },
    'bird2 spec: routerId "::1" is not a dotted-quad router ID',
  ],
  [
    'asNumber',
    (s: DaemonSpec) => {
      s.asNumber = 0;
    },
    'bird2 spec: asNumber 0 is not an AS number',
  ],
  [
    'listen.port',
    (s: DaemonSpec) => {
      s.listen.port = 70000;
    },
    'bird2 spec: listen.port 70000 is not a TCP port',
  ],
  [
    'peer family',
    (s: DaemonSpec) => {
      s.peers[0]!.address = '::2';
    },
    'bird2 spec: peers[0].address "::2" is not an IPv4 address',
  ],
  [
    'peer twice',
    (s: DaemonSpec) => {
      s.peers.push({ ...s.peers[0]! });
    },
    'peers[1].address 127.20.0.2 is listed twice',
  ],
  [
    'peer AS',
    (s: DaemonSpec) => {
      s.peers[0]!.asNumber = 2 ** 32;
    },
    'peers[0].asNumber 4294967296 is not an AS number',
  ],
  [
    'RR client on eBGP',
    (s: DaemonSpec) => {
      s.routeReflector = {};
      s.peers[0]!.routeReflectorClient = true;
    },
    'peers[0].routeReflectorClient needs an iBGP peer',
  ],
  [
    'RR client without RR',
    (s: DaemonSpec) => {
      s.peers[0]!.asNumber = 65001;
      s.peers[0]!.routeReflectorClient = true;
    },
    'peers[0].routeReflectorClient needs spec.routeReflector',
  ],
  [
    'prefix',
    (s: DaemonSpec) => {
      s.originate = ['10.1.0.0/33'];
    },
    'originate[0].prefix "10.1.0.0/33" is not a prefix',
  ],
  [
    'prefix family',
    (s: DaemonSpec) => {
      s.originate = ['2001:db8::/32'];
    },
    'originate[0].prefix "2001:db8::/32" is not IPv4',
  ],
  [
    'next hop',
    (s: DaemonSpec) => {
      s.originate = [{ prefix: '10.1.0.0/24', nextHop: 'x' }];
    },
    'originate[0].nextHop "x"',
  ],
  [
    'restart time',
    (s: DaemonSpec) => {
      s.gracefulRestart = { restartTime: 5000 };
    },
    'gracefulRestart.restartTime 5000',
  ],
])('rejects a bad %s with an error naming the field', (_, change, message) => {
  expect(() => checkSpec('bird2', withChange(change))).toThrow(message);
});

test('prefixFamily accepts only address/length with a length that fits', () => {
  expect(prefixFamily('10.0.0.0/8')).toBe(4);
  expect(prefixFamily('2001:db8::/128')).toBe(6);
  for (const bad of ['10.0.0.0', '10.0.0.0/x', '10.0.0.0/8/1', '2001:db8::/129', 'host/24'])
    expect(prefixFamily(bad)).toBeUndefined();
});

test('resolvePeers applies the defaults: port 179, multihop, GR only when the daemon has it', () => {
  expect(resolvePeers(valid)).toEqual([
    {
      address: '127.20.0.2',
      port: 179,
      asNumber: 65002,
      external: true,
      passive: false,
      routeReflectorClient: false,
      multihop: true,
      gracefulRestart: false,
      as4: true,
    },
  ]);
  expect(resolvePeers({ ...valid, gracefulRestart: { restartTime: 30 } })[0]?.gracefulRestart).toBe(true);
});
