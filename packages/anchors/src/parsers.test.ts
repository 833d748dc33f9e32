import { parseBirdProtocols, parseBirdRoutes } from './bird-control';
import { parseExabgpAdjRibIn, parseExabgpSummary } from './exabgp';
import { parseFrrNeighbors, parseFrrRoutes } from './frr';
import { parseGobgpNeighbors, parseGobgpRib } from './gobgp';
import { parseOpenbgpdNeighbors, parseOpenbgpdRib } from './openbgpd';

// Outputs recorded from the Debian bookworm daemons (BIRD 2.0.12 and 1.6.8, GoBGP 3.10.0, FRR 8.4.4,
// OpenBGPD 7.7, ExaBGP 4.2.21), trimmed.

test('BIRD 2 and 1.6 `show protocols`: state of each BGP protocol, Passive as Active, down as Idle', () => {
  const bird2 = [
    'Name       Proto      Table      State  Since         Info',
    'device1    Device     ---        up     16:00:48.851  ',
    'peer0      BGP        ---        up     16:00:49.688  Established   ',
    'peer1      BGP        ---        start  16:00:48.851  Active        Socket: Connection refused',
    'peer2      BGP        ---        start  16:00:48.851  Passive',
    'peer3      BGP        ---        down   2026-11-20 16:00:48  ',
  ].join('\n');
  expect([...parseBirdProtocols(bird2)]).toEqual([
    ['peer0', 'Established'],
    ['peer1', 'Active'],
    ['peer2', 'Active'],
    ['peer3', 'Idle'],
  ]);
  const bird1 = [
    'name     proto    table    state  since       info',
    'peer0    BGP      master   up     16:02:32    OpenSent',
  ];
  expect([...parseBirdProtocols(bird1.join('\n'))]).toEqual([['peer0', 'OpenSent']]);
});

test('BIRD `show route all`: attributes per path, second paths of a prefix included', () => {
  const text = [
    'Table master4:',
    '10.23.0.0/24         unreachable [peer0 16:01:01.990 from 127.31.0.2] * (100) [AS65011?]',
    '\tType: BGP univ',
    '\tBGP.origin: Incomplete',
    '\tBGP.as_path: 65002 65010 65011',
    '\tBGP.next_hop: 192.0.2.2',
    '\tBGP.med: 20',
    '\tBGP.local_pref: 100',
    '\tBGP.community: (65002,7) (65002,8)',
    '                     unreachable [peer1 16:01:02.000 from 127.31.0.3] (100) [AS65003i]',
    '\tBGP.as_path: 65003',
    '\tBGP.next_hop: 2001:db8::1 fe80::1',
    '\tBGP.originator_id: 10.0.0.3',
    '\tBGP.cluster_list: 10.0.0.99 10.0.0.98',
    '10.55.0.0/24       unreachable [p1 16:02:32 from 127.31.0.5] * (100/-) [AS65005i]',
    '\tType: BGP unicast univ',
    '\tBGP.as_path: ',
  ].join('\n');
  expect(parseBirdRoutes(text)).toEqual([
    {
      prefix: '10.23.0.0/24',
      asPath: [65002, 65010, 65011],
      nextHop: '192.0.2.2',
      med: 20,
      localPref: 100,
      communities: ['65002:7', '65002:8'],
    },
    {
      prefix: '10.23.0.0/24',
      asPath: [65003],
      nextHop: '2001:db8::1',
      originatorId: '10.0.0.3',
      clusterList: ['10.0.0.99', '10.0.0.98'],
    },
    { prefix: '10.55.0.0/24', asPath: [] },
  ]);
});

test('GoBGP `neighbor -j` and `global rib -j`: enum states, learned paths only', () => {
  const neighbors = JSON.stringify([
    { conf: { neighbor_address: '127.31.0.1' }, state: { neighbor_address: '127.31.0.1', session_state: 6 } },
    { conf: { neighbor_address: '127.31.0.9' }, state: {} },
  ]);
  expect(parseGobgpNeighbors(neighbors)).toEqual([
    { address: '127.31.0.1', state: 'Established' },
    { address: '127.31.0.9', state: 'Idle' },
  ]);
  const rib = JSON.stringify({
    '10.11.0.0/24': [
      {
        attrs: [
          { type: 1, value: 0 },
          { type: 2, as_paths: [{ segment_type: 2, num: 1, asns: [65001] }] },
          { type: 3, nexthop: '192.0.2.1' },
          { type: 4, metric: 20 },
          { type: 8, communities: [4259971079, 4259971080] },
          { type: 9, value: '10.0.0.3' },
          { type: 10, value: ['10.0.0.99'] },
        ],
        'neighbor-ip': '127.31.0.1',
      },
    ],
    '10.22.0.0/24': [
      {
        attrs: [
          { type: 1, value: 2 },
          { type: 3, nexthop: '192.0.2.2' },
        ],
      },
    ],
  });
  expect(parseGobgpRib(rib)).toEqual([
    {
      prefix: '10.11.0.0/24',
      asPath: [65001],
      nextHop: '192.0.2.1',
      med: 20,
      communities: ['65002:7', '65002:8'],
      originatorId: '10.0.0.3',
      clusterList: ['10.0.0.99'],
    },
  ]);
});

test('FRR `show bgp neighbors json` and `show bgp ipv4 unicast json detail`: local paths left out', () => {
  const neighbors = JSON.stringify({
    '127.31.0.1': { remoteAs: 65001, bgpState: 'Established' },
    '127.31.0.9': { bgpState: 'Connect' },
  });
  expect(parseFrrNeighbors(neighbors)).toEqual([
    { address: '127.31.0.1', state: 'Established' },
    { address: '127.31.0.9', state: 'Connect' },
  ]);
  const routes = JSON.stringify({
    routes: {
      '10.23.0.0/24': [
        { prefix: '10.23.0.0/24', version: 4 },
        {
          aspath: { string: '65001 65002', segments: [{ type: 'as-sequence', list: [65001, 65002] }] },
          community: { string: '65002:7', list: ['65002:7'] },
          nexthops: [{ ip: '192.0.2.1' }],
          peer: { peerId: '127.31.0.1' },
        },
      ],
      '10.33.0.0/24': [
        { prefix: '10.33.0.0/24' },
        { aspath: { string: 'Local', segments: [] }, metric: 0, local: true, nexthops: [{ ip: '0.0.0.0' }] },
      ],
    },
  });
  expect(parseFrrRoutes(routes)).toEqual([
    { prefix: '10.23.0.0/24', asPath: [65001, 65002], nextHop: '192.0.2.1', communities: ['65002:7'] },
  ]);
});

test('OpenBGPD `bgpctl -j show neighbor` and `show rib detail`: LOCAL networks left out', () => {
  const neighbors = JSON.stringify({ neighbors: [{ remote_addr: '127.31.0.1', state: 'Established' }] });
  expect(parseOpenbgpdNeighbors(neighbors)).toEqual([{ address: '127.31.0.1', state: 'Established' }]);
  const rib = JSON.stringify({
    rib: [
      {
        prefix: '10.23.0.0/24',
        aspath: '65001 65002',
        exit_nexthop: '192.0.2.1',
        neighbor: { remote_addr: '127.31.0.1' },
        metric: 0,
        localpref: 100,
        communities: ['65002:7'],
      },
      { prefix: '10.45.0.0/24', aspath: '', exit_nexthop: '192.0.2.4', neighbor: { description: 'LOCAL' } },
    ],
  });
  expect(parseOpenbgpdRib(rib)).toEqual([
    {
      prefix: '10.23.0.0/24',
      asPath: [65001, 65002],
      nextHop: '192.0.2.1',
      med: 0,
      localPref: 100,
      communities: ['65002:7'],
    },
  ]);
});

test('ExaBGP `show neighbor summary` and `show adj-rib in extensive`', () => {
  const summary = [
    'Peer            AS        up/down state       |     #sent     #recvd',
    '127.31.0.1      65001     0:00:05 established           2          2',
    '127.31.0.2      65002        down active                0          0',
  ].join('\n');
  expect(parseExabgpSummary(summary)).toEqual([
    { address: '127.31.0.1', state: 'Established' },
    { address: '127.31.0.2', state: 'Active' },
  ]);
  const rib = [
    'neighbor 127.31.0.1 local-ip 127.31.0.6 local-as 65006 peer-as 65001 router-id 10.0.0.6 family-allowed in-open ipv4 unicast 10.11.0.0/24 next-hop 198.51.100.1 origin igp as-path [ 65001 65002 ] community 65001:9',
    'neighbor 127.31.0.1 local-ip 127.31.0.6 local-as 65006 peer-as 65001 router-id 10.0.0.6 family-allowed in-open ipv4 unicast 10.12.0.0/24 next-hop 198.51.100.1 origin igp as-path 65001 med 5 local-preference 200 community [ 65001:9 65001:10 ]',
  ].join('\n');
  expect(parseExabgpAdjRibIn(rib)).toEqual([
    { prefix: '10.11.0.0/24', nextHop: '198.51.100.1', asPath: [65001, 65002], communities: ['65001:9'] },
    {
      prefix: '10.12.0.0/24',
      nextHop: '198.51.100.1',
      asPath: [65001],
      med: 5,
      localPref: 200,
      communities: ['65001:9', '65001:10'],
    },
  ]);
});
