import { asPathToString, asSequence } from '../packet/as-path';
import type { AttributeSetSpec } from '../packet/attribute-builder';
import { buildAttributes } from '../packet/attribute-builder';
import { Afi, Origin } from '../packet/constants';
import { parseIpv4 } from '../packet/ip';
import { prefixList } from '../packet/prefixes';
import { decodeUpdate } from '../packet/update-decode';
import { encodeAnnouncements, encodeEndOfRib, encodeWithdrawals } from '../packet/update-encode';
import { pathAttributes } from './attribute-store';
import type { PeerConfig } from './peer';
import { Receiver } from './receiver.fixture';
import { type BestChange, Rib } from './rib';
import { NO_ADVERTISE, NO_EXPORT } from './rules';

const LOCAL = {
  asn: 65000,
  routerId: parseIpv4('10.0.0.1'),
  nextHopIpv4: '10.0.0.1',
  nextHopIpv6: '2001:db8::1',
};
const EBGP_A = 1;
const EBGP_B = 2;
const CLIENT_A = 3;
const CLIENT_B = 4;
const NONCLIENT_A = 5;
const NONCLIENT_B = 6;

const PEERS: PeerConfig[] = [
  {
    index: EBGP_A,
    address: '192.0.2.1',
    asn: 65001,
    routerId: parseIpv4('192.0.2.1'),
    importPolicy: 'all',
    exportPolicy: 'all',
  },
  {
    index: EBGP_B,
    address: '192.0.2.2',
    asn: 65002,
    routerId: parseIpv4('192.0.2.2'),
    importPolicy: 'all',
    exportPolicy: 'all',
  },
  {
    index: CLIENT_A,
    address: '10.0.0.3',
    asn: 65000,
    routerId: parseIpv4('10.0.0.3'),
    routeReflectorClient: true,
  },
  {
    index: CLIENT_B,
    address: '10.0.0.4',
    asn: 65000,
    routerId: parseIpv4('10.0.0.4'),
    routeReflectorClient: true,
  },
  { index: NONCLIENT_A, address: '10.0.0.5', asn: 65000, routerId: parseIpv4('10.0.0.5') },
  { index: NONCLIENT_B, address: '10.0.0.6', asn: 65000, routerId: parseIpv4('10.0.0.6') },
];

function setup(peers: PeerConfig[] = PEERS): { rib: Rib; rx: Map<number, Receiver> } {
  const rib = new Rib(LOCAL);
  const rx = new Map<number, Receiver>();
  for (const config of peers) {
    const peer = rib.addPeer(config);
    const receiver = new Receiver({ fourOctetAs: true, extendedMessages: false, ibgp: peer.ibgp });
    rx.set(peer.index, receiver);
    rib.peerUp(peer.index, receiver.send);
  }
  return { rib, rx };
}

const v4 = (...prefixes: string[]) => prefixList(Afi.Ipv4, prefixes);
const fromEbgp = (asns: number[], extra: Partial<AttributeSetSpec> = {}) =>
  pathAttributes({ origin: Origin.Igp, asPath: asSequence(asns), nextHop: parseIpv4('192.0.2.1'), ...extra });
const fromIbgp = (nextHop: string, extra: Partial<AttributeSetSpec> = {}) =>
  pathAttributes({ origin: Origin.Igp, nextHop: parseIpv4(nextHop), localPref: 100, ...extra });
const receivedBy = (rx: Map<number, Receiver>, index: number) => [...rx.get(index)!.routes.keys()].sort();

describe('Rib import', () => {
  test('RFC 8212: an eBGP peer without policy imports and exports nothing', () => {
    const { rib, rx } = setup([
      { index: 1, address: '192.0.2.1', asn: 65001, routerId: 1 },
      { index: 2, address: '192.0.2.2', asn: 65002, routerId: 2, importPolicy: 'all' },
    ]);
    expect(rib.announce(1, v4('198.51.100.0/24'), fromEbgp([65001]))).toBe('import policy');
    expect(rib.announce(2, v4('203.0.113.0/24'), fromEbgp([65002]))).toBeNull();
    rib.flush();
    expect(rib.best('198.51.100.0/24')).toBeNull();
    expect(rib.best('203.0.113.0/24')?.from).toBe(2);
    expect(rib.adjRibOut(1).size).toBe(0);
    expect(receivedBy(rx, 1)).toEqual([]);
  });

  test('an iBGP peer without policy imports and exports everything', () => {
    const { rib, rx } = setup([
      { index: 1, address: '192.0.2.1', asn: 65001, routerId: 1, importPolicy: 'all' },
      { index: 2, address: '10.0.0.2', asn: 65000, routerId: 2 },
    ]);
    rib.announce(1, v4('198.51.100.0/24'), fromEbgp([65001]));
    rib.flush();
    expect(receivedBy(rx, 2)).toEqual(['198.51.100.0/24']);
  });

  test.each([
    ['our AS in the AS path', fromEbgp([65001, 65000, 65009]), 'AS path contains our AS 65000'],
    [
      'ORIGINATOR_ID equal to our router id',
      fromIbgp('10.0.0.9', { originatorId: LOCAL.routerId }),
      'ORIGINATOR_ID is our router id',
    ],
    [
      'our cluster id in CLUSTER_LIST',
      fromIbgp('10.0.0.9', { clusterList: [7, LOCAL.routerId] }),
      'CLUSTER_LIST contains our cluster id',
    ],
  ])('rejects a path with %s, withdrawing the peer’s earlier path', (_, looped, reason) => {
    const { rib } = setup();
    rib.announce(CLIENT_A, v4('198.51.100.0/24'), fromIbgp('10.0.0.3'));
    expect(rib.announce(CLIENT_A, v4('198.51.100.0/24'), looped)).toBe(reason);
    expect(rib.best('198.51.100.0/24')).toBeNull();
    expect(rib.adjRibIn(CLIENT_A).size).toBe(0);
  });

  test('a predicate import policy decides per prefix', () => {
    const { rib } = setup([
      {
        index: 1,
        address: '192.0.2.1',
        asn: 65001,
        routerId: 1,
        importPolicy: (route) => route.prefix.startsWith('198.51.100.') && route.from === 1,
      },
    ]);
    rib.announce(1, v4('198.51.100.0/25', '203.0.113.0/24'), fromEbgp([65001]));
    expect([...rib.adjRibIn(1).keys()]).toEqual(['198.51.100.0/25']);
  });

  test('bad input is refused with a clear error and changes nothing', () => {
    const { rib } = setup();
    expect(() => rib.announce(42, v4('198.51.100.0/24'), fromEbgp([65001]))).toThrow(
      'peer 42 is not configured',
    );
    expect(() => rib.announce(EBGP_A, prefixList(Afi.Ipv6, ['2001:db8::/32']), fromEbgp([65001]))).toThrow(
      'peer 1 (192.0.2.1) has not negotiated IPv6 unicast',
    );
    expect(() => rib.addPeer(PEERS[0]!)).toThrow('peer 1 is already configured');
    expect(() =>
      rib.addPeer({ index: 9, address: '192.0.2.9', asn: 65009, routerId: 9, routeReflectorClient: true }),
    ).toThrow('peer 9 (192.0.2.9): a route reflector client must be an iBGP peer (AS 65000)');
    expect(() => rib.addPeer({ index: 9, address: 'nowhere', asn: 65009, routerId: 9 })).toThrow(
      'peer 9 (nowhere): address is not an IP address',
    );
    expect(() => rib.addPeer({ index: 9, address: '192.0.2.9', asn: 0, routerId: 9 })).toThrow(
      'asn must be an integer',
    );
    expect(() => rib.peerUp(EBGP_A, () => {})).toThrow('peer 1 is already up');
    expect(() => new Rib({ ...LOCAL, nextHopIpv4: '10.0.0' })).toThrow(
      'local speaker: nextHopIpv4 is not an IPv4 address',
    );
    expect(() => new Rib({ ...LOCAL, clusterId: -1 })).toThrow('local speaker: clusterId must be an integer');
    expect(rib.stats()).toEqual({ prefixes: 0, attributeSets: 0, exportedSets: 0, updateGroups: 3 });
  });
});

describe('Rib export', () => {
  test('iBGP split horizon, and route reflection of RFC 4456 §6', () => {
    const { rib, rx } = setup();
    rib.announce(CLIENT_A, v4('198.51.100.1/32'), fromIbgp('10.0.0.3'));
    rib.announce(NONCLIENT_A, v4('198.51.100.2/32'), fromIbgp('10.0.0.5'));
    rib.announce(EBGP_A, v4('198.51.100.3/32'), fromEbgp([65001]));
    rib.flush();
    // From a client: everyone but that client. From a non-client: clients and eBGP only. From eBGP: everyone else.
    expect(receivedBy(rx, CLIENT_A)).toEqual(['198.51.100.2/32', '198.51.100.3/32']);
    expect(receivedBy(rx, CLIENT_B)).toEqual(['198.51.100.1/32', '198.51.100.2/32', '198.51.100.3/32']);
    expect(receivedBy(rx, NONCLIENT_A)).toEqual(['198.51.100.1/32', '198.51.100.3/32']);
    expect(receivedBy(rx, NONCLIENT_B)).toEqual(['198.51.100.1/32', '198.51.100.3/32']);
    expect(receivedBy(rx, EBGP_A)).toEqual(['198.51.100.1/32', '198.51.100.2/32']);
    expect(receivedBy(rx, EBGP_B)).toEqual(['198.51.100.1/32', '198.51.100.2/32', '198.51.100.3/32']);
    for (const [index, receiver] of rx) {
      expect([...rib.adjRibOut(index).keys()].sort()).toEqual(receivedBy(rx, index));
      expect(receiver.endOfRib).toEqual([{ afi: Afi.Ipv4, safi: 1 }]);
    }
  });

  test('a reflected path carries ORIGINATOR_ID and our cluster id first in CLUSTER_LIST', () => {
    const { rib, rx } = setup();
    rib.announce(CLIENT_A, v4('198.51.100.1/32'), fromIbgp('10.0.0.3'));
    rib.announce(
      CLIENT_A,
      v4('198.51.100.2/32'),
      fromIbgp('10.0.0.3', { originatorId: 77, clusterList: [88] }),
    );
    rib.flush();
    const first = rx.get(NONCLIENT_A)!.routes.get('198.51.100.1/32')!;
    expect(first.originatorId).toBe(parseIpv4('10.0.0.3'));
    expect(Array.from(first.clusterList!)).toEqual([LOCAL.routerId]);
    expect(first.nextHop).toBe(parseIpv4('10.0.0.3'));
    const second = rx.get(NONCLIENT_A)!.routes.get('198.51.100.2/32')!;
    expect(second.originatorId).toBe(77);
    expect(Array.from(second.clusterList!)).toEqual([LOCAL.routerId, 88]);
    // Not reflection: eBGP peers see neither attribute.
    expect(rx.get(EBGP_A)!.routes.get('198.51.100.1/32')!.originatorId).toBeNull();
  });

  test('eBGP export prepends our AS, sets our next hop, drops LOCAL_PREF and a learned MED', () => {
    const { rib, rx } = setup();
    rib.announce(EBGP_A, v4('198.51.100.0/24'), fromEbgp([65001, 65010], { med: 50 }));
    rib.announce(CLIENT_A, v4('203.0.113.0/24'), fromIbgp('10.0.0.3', { localPref: 300 }));
    rib.flush();
    const toEbgp = rx.get(EBGP_B)!.routes.get('198.51.100.0/24')!;
    expect(asPathToString(toEbgp.asPath)).toBe('65000 65001 65010');
    expect(toEbgp.nextHop).toBe(parseIpv4('10.0.0.1'));
    expect(toEbgp.med).toBeNull();
    expect(toEbgp.localPref).toBeNull();
    // To iBGP: path and next hop unchanged, MED kept, LOCAL_PREF defaulted for the eBGP-learned path.
    const toIbgp = rx.get(CLIENT_B)!.routes.get('198.51.100.0/24')!;
    expect(asPathToString(toIbgp.asPath)).toBe('65001 65010');
    expect(toIbgp.nextHop).toBe(parseIpv4('192.0.2.1'));
    expect(toIbgp.med).toBe(50);
    expect(toIbgp.localPref).toBe(100);
    expect(rx.get(CLIENT_B)!.routes.get('203.0.113.0/24')!.localPref).toBe(300);
  });

  test('next-hop-self to an iBGP peer, and our next hop on originated routes', () => {
    const { rib, rx } = setup([
      {
        index: 1,
        address: '10.0.0.2',
        asn: 65000,
        routerId: 2,
        routeReflectorClient: true,
        nextHopSelf: true,
      },
      { index: 2, address: '10.0.0.3', asn: 65000, routerId: 3, routeReflectorClient: true },
    ]);
    rib.announce(2, v4('198.51.100.0/24'), fromIbgp('10.0.0.3'));
    rib.originate(v4('203.0.113.0/24'), { origin: Origin.Igp, med: 5, nextHop: parseIpv4('10.9.9.9') });
    rib.flush();
    expect(rx.get(1)!.routes.get('198.51.100.0/24')!.nextHop).toBe(parseIpv4('10.0.0.1'));
    const originated = rx.get(2)!.routes.get('203.0.113.0/24')!;
    expect(originated.nextHop).toBe(parseIpv4('10.0.0.1'));
    expect(originated.med).toBe(5);
    expect(originated.originatorId).toBeNull();
  });

  test('NO_ADVERTISE goes nowhere; NO_EXPORT stays inside the AS', () => {
    const { rib, rx } = setup();
    rib.announce(EBGP_A, v4('198.51.100.1/32'), fromEbgp([65001], { communities: [NO_ADVERTISE] }));
    rib.announce(EBGP_A, v4('198.51.100.2/32'), fromEbgp([65001], { communities: [NO_EXPORT, 0xfde80001] }));
    rib.flush();
    expect(receivedBy(rx, EBGP_B)).toEqual([]);
    expect(receivedBy(rx, CLIENT_A)).toEqual(['198.51.100.2/32']);
    expect(Array.from(rx.get(CLIENT_A)!.routes.get('198.51.100.2/32')!.communities!)).toEqual([
      NO_EXPORT,
      0xfde80001,
    ]);
  });

  test('withdrawals are exact, repeats are suppressed, and a group shares its bytes', () => {
    const { rib, rx } = setup();
    rib.announce(EBGP_A, v4('198.51.100.1/32', '198.51.100.2/32', '198.51.100.3/32'), fromEbgp([65001]));
    rib.flush();
    const clientA = rx.get(CLIENT_A)!;
    const clientB = rx.get(CLIENT_B)!;
    expect(clientA.sent.at(-1)).toBe(clientB.sent.at(-1));
    const sentBefore = clientA.sent.length;
    rib.announce(EBGP_A, v4('198.51.100.1/32'), fromEbgp([65001]));
    rib.flush();
    expect(clientA.sent.length).toBe(sentBefore);
    rib.withdraw(EBGP_A, v4('198.51.100.2/32', '192.0.2.0/24'));
    rib.flush();
    expect(clientA.sent.length).toBe(sentBefore + 1);
    expect(receivedBy(rx, CLIENT_A)).toEqual(['198.51.100.1/32', '198.51.100.3/32']);
    // An update with the same export result for everyone changes nothing on the wire.
    rib.announce(EBGP_B, v4('198.51.100.1/32'), fromEbgp([65002, 65003]));
    rib.flush();
    expect(clientA.sent.length).toBe(sentBefore + 1);
    expect(receivedBy(rx, EBGP_A)).toEqual([]);
  });

  test('a better path from a member is withdrawn from that member only', () => {
    const { rib, rx } = setup();
    rib.announce(CLIENT_A, v4('198.51.100.0/24'), fromIbgp('10.0.0.3', { localPref: 100 }));
    rib.flush();
    expect(receivedBy(rx, CLIENT_B)).toEqual(['198.51.100.0/24']);
    rib.announce(CLIENT_B, v4('198.51.100.0/24'), fromIbgp('10.0.0.4', { localPref: 200 }));
    rib.flush();
    expect(receivedBy(rx, CLIENT_A)).toEqual(['198.51.100.0/24']);
    expect(rx.get(CLIENT_A)!.routes.get('198.51.100.0/24')!.localPref).toBe(200);
    expect(receivedBy(rx, CLIENT_B)).toEqual([]);
    expect(rib.adjRibOut(CLIENT_B).size).toBe(0);
    rib.withdraw(CLIENT_B, v4('198.51.100.0/24'));
    rib.flush();
    expect(rx.get(CLIENT_A)!.routes.size).toBe(0);
    expect(rx.get(CLIENT_B)!.routes.get('198.51.100.0/24')!.localPref).toBe(100);
  });

  test('the best path moving between members with equal exports reaches only those two', () => {
    const { rib, rx } = setup();
    // Both eBGP peers are in one update group, and their paths export to the same bytes.
    rib.announce(EBGP_A, v4('198.51.100.0/24'), fromEbgp([65009]));
    rib.announce(EBGP_B, v4('198.51.100.0/24'), fromEbgp([65009]));
    rib.flush();
    expect(receivedBy(rx, EBGP_A)).toEqual([]);
    expect(receivedBy(rx, EBGP_B)).toEqual(['198.51.100.0/24']);
    const clientSent = rx.get(CLIENT_A)!.sent.length;
    rib.withdraw(EBGP_A, v4('198.51.100.0/24'));
    rib.flush();
    expect(receivedBy(rx, EBGP_A)).toEqual(['198.51.100.0/24']);
    expect(receivedBy(rx, EBGP_B)).toEqual([]);
    expect(rib.adjRibOut(EBGP_A).size).toBe(1);
    expect(rib.adjRibOut(EBGP_B).size).toBe(0);
    expect(rx.get(CLIENT_A)!.sent.length).toBe(clientSent);
  });

  test('a peer coming up gets the table without its own paths, then End-of-RIB', () => {
    const { rib, rx } = setup(PEERS.slice(0, 3));
    rib.announce(CLIENT_A, v4('198.51.100.1/32'), fromIbgp('10.0.0.3'));
    rib.announce(EBGP_A, v4('198.51.100.2/32'), fromEbgp([65001]));
    rib.flush();
    rib.peerDown(CLIENT_A, true);
    const again = new Receiver({ fourOctetAs: true, extendedMessages: false, ibgp: true });
    rib.peerUp(CLIENT_A, again.send);
    expect([...again.routes.keys()]).toEqual(['198.51.100.2/32']);
    expect(again.endOfRib).toHaveLength(1);
    expect(receivedBy(rx, EBGP_B)).toEqual(['198.51.100.1/32', '198.51.100.2/32']);
  });

  test('IPv6 paths go out in MP_REACH_NLRI with the right next hop', () => {
    const v6Peers = PEERS.map((p) => ({ ...p, families: [{ afi: Afi.Ipv6, safi: 1 }] }));
    const rib = new Rib(LOCAL);
    const rx = new Map<number, Receiver>();
    for (const config of v6Peers.slice(0, 4)) {
      const peer = rib.addPeer(config);
      const receiver = new Receiver({ fourOctetAs: true, extendedMessages: false, ibgp: peer.ibgp });
      rx.set(peer.index, receiver);
      rib.peerUp(peer.index, receiver.send);
    }
    const mpNextHop = Buffer.from('20010db8000000000000000000000099', 'hex');
    rib.announce(
      CLIENT_A,
      prefixList(Afi.Ipv6, ['2001:db8:1::/48']),
      pathAttributes({ origin: Origin.Igp, localPref: 100 }, mpNextHop),
    );
    rib.flush();
    expect(rx.get(CLIENT_B)!.routes.get('2001:db8:1::/48')!.mpNextHop).toEqual(mpNextHop);
    expect(rx.get(EBGP_A)!.routes.get('2001:db8:1::/48')!.mpNextHop).toEqual(
      Buffer.from('20010db8000000000000000000000001', 'hex'),
    );
    expect(rx.get(EBGP_A)!.endOfRib).toEqual([{ afi: Afi.Ipv6, safi: 1 }]);
  });
});

describe('Rib graceful restart', () => {
  test('stale paths stay until End-of-RIB, which sweeps those not refreshed', () => {
    const { rib, rx } = setup();
    rib.announce(CLIENT_A, v4('198.51.100.1/32', '198.51.100.2/32', '198.51.100.3/32'), fromIbgp('10.0.0.3'));
    rib.flush();
    rib.peerDown(CLIENT_A, true);
    rib.flush();
    expect(rib.staleCount(CLIENT_A)).toBe(3);
    expect(receivedBy(rx, CLIENT_B)).toHaveLength(3);
    rib.announce(CLIENT_A, v4('198.51.100.2/32'), fromIbgp('10.0.0.3'));
    expect(rib.staleCount(CLIENT_A)).toBe(2);
    rib.endOfRib(CLIENT_A, Afi.Ipv4);
    rib.flush();
    expect(rib.staleCount(CLIENT_A)).toBe(0);
    expect(receivedBy(rx, CLIENT_B)).toEqual(['198.51.100.2/32']);
  });

  test('the restart timer sweeps every stale path; a plain peer down withdraws at once', () => {
    const { rib, rx } = setup();
    rib.announce(CLIENT_A, v4('198.51.100.1/32'), fromIbgp('10.0.0.3'));
    rib.announce(EBGP_A, v4('198.51.100.2/32'), fromEbgp([65001]));
    rib.flush();
    rib.peerDown(CLIENT_A, true);
    rib.peerDown(EBGP_A);
    rib.flush();
    expect(receivedBy(rx, CLIENT_B)).toEqual(['198.51.100.1/32']);
    rib.sweepStale(CLIENT_A);
    rib.flush();
    expect(receivedBy(rx, CLIENT_B)).toEqual([]);
  });
});

describe('Rib route refresh', () => {
  test('BoRR marks one family stale; EoRR sweeps what was not sent again', () => {
    const families = [
      { afi: Afi.Ipv4, safi: 1 },
      { afi: Afi.Ipv6, safi: 1 },
    ];
    const { rib } = setup([{ index: CLIENT_A, address: '10.0.0.3', asn: 65000, routerId: 3, families }]);
    const mpNextHop = Buffer.from('20010db8000000000000000000000003', 'hex');
    rib.announce(CLIENT_A, v4('198.51.100.1/32', '198.51.100.2/32'), fromIbgp('10.0.0.3'));
    rib.announce(
      CLIENT_A,
      prefixList(Afi.Ipv6, ['2001:db8:1::/48']),
      pathAttributes({ origin: Origin.Igp, localPref: 100 }, mpNextHop),
    );
    rib.flush();
    rib.markStale(CLIENT_A, Afi.Ipv4);
    expect(rib.staleCount(CLIENT_A)).toBe(2);
    rib.announce(CLIENT_A, v4('198.51.100.2/32'), fromIbgp('10.0.0.3'));
    rib.endOfRib(CLIENT_A, Afi.Ipv4);
    rib.flush();
    expect(rib.staleCount(CLIENT_A)).toBe(0);
    expect([...rib.adjRibIn(CLIENT_A).keys()].sort()).toEqual(['198.51.100.2/32', '2001:db8:1::/48']);
  });

  test('a new import policy applies to what the peer sends next', () => {
    const { rib } = setup([
      { index: 1, address: '192.0.2.1', asn: 65001, routerId: 1, importPolicy: 'none' },
    ]);
    expect(rib.announce(1, v4('198.51.100.0/24'), fromEbgp([65001]))).toBe('import policy');
    rib.setImportPolicy(1, 'all');
    expect(rib.announce(1, v4('198.51.100.0/24'), fromEbgp([65001]))).toBeNull();
    rib.flush();
    expect(rib.best('198.51.100.0/24')?.from).toBe(1);
    rib.setImportPolicy(1, 'none');
    expect(rib.announce(1, v4('198.51.100.0/24'), fromEbgp([65001]))).toBe('import policy');
    expect(rib.adjRibIn(1).size).toBe(0);
  });
});

describe('Rib bookkeeping', () => {
  test('the change feed reports added, changed and removed best paths per flush', () => {
    const { rib } = setup();
    const batches: BestChange[][] = [];
    rib.onChange((changes) => batches.push([...changes]));
    rib.announce(CLIENT_A, v4('198.51.100.0/24'), fromIbgp('10.0.0.3'));
    rib.announce(CLIENT_A, v4('198.51.100.0/24'), fromIbgp('10.0.0.3', { med: 1 }));
    rib.flush();
    rib.announce(CLIENT_B, v4('198.51.100.0/24'), fromIbgp('10.0.0.4', { localPref: 200 }));
    rib.flush();
    rib.announce(NONCLIENT_A, v4('198.51.100.0/24'), fromIbgp('10.0.0.5'));
    rib.flush();
    rib.peerDown(CLIENT_A);
    rib.peerDown(CLIENT_B);
    rib.peerDown(NONCLIENT_A);
    rib.flush();
    expect(batches.map((b) => b.map((c) => [c.kind, c.prefix, c.best?.from ?? null]))).toEqual([
      [['added', '198.51.100.0/24', CLIENT_A]],
      [['changed', '198.51.100.0/24', CLIENT_B]],
      [['removed', '198.51.100.0/24', null]],
    ]);
  });

  test('interned attribute and export sets are freed when nothing uses them', () => {
    const { rib } = setup();
    for (let i = 0; i < 20; i++) {
      rib.announce(EBGP_A, v4(`198.51.${i}.0/24`), fromEbgp([65001], { med: i % 4 }));
      rib.announce(CLIENT_A, v4(`198.51.${i}.0/24`), fromIbgp('10.0.0.3', { localPref: 90 + (i % 3) }));
      if (i % 5 === 0) rib.flush();
    }
    rib.originate(v4('203.0.113.0/24'), { origin: Origin.Igp });
    rib.flush();
    expect(rib.stats().attributeSets).toBe(4 + 3 + 1);
    expect(rib.stats().exportedSets).toBeGreaterThan(0);
    for (let i = 0; i < 20; i++) rib.withdraw(EBGP_A, v4(`198.51.${i}.0/24`));
    rib.peerDown(CLIENT_A);
    rib.stopOriginating(v4('203.0.113.0/24'));
    rib.flush();
    expect(rib.stats()).toEqual({ prefixes: 0, attributeSets: 0, exportedSets: 0, updateGroups: 3 });
    for (const index of [EBGP_A, EBGP_B, CLIENT_B, NONCLIENT_A, NONCLIENT_B]) rib.peerDown(index);
    expect(rib.stats().updateGroups).toBe(0);
  });

  test('an attribute object announced again reuses its set, but never a freed id now holding another', () => {
    const { rib } = setup();
    const first = fromEbgp([65001], { med: 1 });
    const second = fromEbgp([65001], { med: 2 });
    rib.announce(EBGP_A, v4('198.51.100.0/24'), first);
    rib.announce(EBGP_A, v4('198.51.101.0/24'), first); // the same object: the known id
    expect(rib.stats().attributeSets).toBe(1);
    expect(rib.paths('198.51.101.0/24')[0]?.attributes).toBe(first);
    rib.withdraw(EBGP_A, v4('198.51.100.0/24', '198.51.101.0/24'));
    rib.flush(); // the set is freed; its id goes to the next one
    rib.announce(EBGP_A, v4('198.51.102.0/24'), second);
    rib.announce(EBGP_A, v4('198.51.103.0/24'), first);
    rib.flush();
    expect(rib.best('198.51.102.0/24')?.attributes.med).toBe(2);
    expect(rib.best('198.51.103.0/24')?.attributes.med).toBe(1);
    expect(rib.stats().attributeSets).toBe(2);
    // A rejected object stays rejected, known or not.
    const looped = fromEbgp([65001, 65000]);
    expect(rib.announce(EBGP_A, v4('198.51.104.0/24'), looped)).toBe('AS path contains our AS 65000');
    expect(rib.announce(EBGP_A, v4('198.51.104.0/24'), looped)).toBe('AS path contains our AS 65000');
    expect(rib.best('198.51.104.0/24')).toBeNull();
  });

  test('applies decoded UPDATEs: announcements, withdrawals, End-of-RIB', () => {
    const { rib } = setup();
    const ctx = { fourOctetAs: true, extendedMessages: false, ibgp: false };
    const body = (message: Buffer) => decodeUpdate(message.subarray(19), ctx);
    const attributes = buildAttributes(
      { origin: Origin.Igp, asPath: asSequence([65001]), nextHop: parseIpv4('192.0.2.1') },
      ctx,
    );
    rib.applyUpdate(
      EBGP_A,
      body(encodeAnnouncements({ attributes, prefixes: v4('198.51.100.0/24', '203.0.113.0/24') }, ctx)),
    );
    rib.applyUpdate(EBGP_A, body(encodeWithdrawals(v4('203.0.113.0/24'), ctx)));
    expect([...rib.adjRibIn(EBGP_A).keys()]).toEqual(['198.51.100.0/24']);
    rib.peerDown(EBGP_A, true);
    rib.applyUpdate(EBGP_A, body(encodeEndOfRib({ afi: Afi.Ipv4, safi: 1 })));
    expect(rib.adjRibIn(EBGP_A).size).toBe(0);
  });

  test('ROUTE-REFRESH from a peer resends what it was advertised', () => {
    const { rib, rx } = setup();
    rib.announce(EBGP_A, v4('198.51.100.0/24'), fromEbgp([65001]));
    rib.flush();
    const receiver = rx.get(CLIENT_A)!;
    receiver.routes.clear();
    rib.routeRefresh(CLIENT_A);
    expect([...receiver.routes.keys()]).toEqual(['198.51.100.0/24']);
    expect(receiver.endOfRib).toHaveLength(1);
    rib.peerDown(CLIENT_A);
    expect(() => rib.routeRefresh(CLIENT_A)).toThrow('peer 3 is not up');
  });

  test('a peer removed and configured again under its index is exported afresh', () => {
    const { rib, rx } = setup();
    rib.announce(CLIENT_A, v4('198.51.100.0/24'), fromIbgp('10.0.0.3'));
    rib.announce(CLIENT_B, v4('203.0.113.0/24'), fromIbgp('10.0.0.3'));
    rib.flush();
    expect(receivedBy(rx, NONCLIENT_A)).toEqual(['198.51.100.0/24', '203.0.113.0/24']);
    rib.removePeer(CLIENT_A);
    rib.addPeer({ ...PEERS[2]!, routeReflectorClient: false });
    rib.announce(CLIENT_A, v4('198.51.100.0/24'), fromIbgp('10.0.0.3'));
    rib.flush();
    // Now a non-client: its path is not reflected to the other non-client.
    expect(receivedBy(rx, NONCLIENT_A)).toEqual(['203.0.113.0/24']);
  });
});
