import { asPathToString, asSequence } from '../packet/as-path';
import { parseIpv4 } from '../packet/ip';
import { pathAttributes } from './attribute-store';
import { LOCAL_PEER, makePeer, type Peer } from './peer';
import {
  exportSpec,
  importRejection,
  mayExport,
  NO_ADVERTISE,
  NO_EXPORT,
  NO_EXPORT_SUBCONFED,
  type Speaker,
} from './rules';

const LOCAL = { asn: 65000, routerId: 1, nextHopIpv4: '10.0.0.1' };
const SPEAKER: Speaker = {
  asn: 65000,
  routerId: 1,
  clusterId: 42,
  nextHopIpv4: parseIpv4('10.0.0.1'),
  nextHopIpv6: null,
};

const ebgp = makePeer({ index: 1, address: '192.0.2.1', asn: 65001, routerId: 11 }, LOCAL);
const client = makePeer(
  { index: 2, address: '10.0.0.2', asn: 65000, routerId: 12, routeReflectorClient: true },
  LOCAL,
);
const nonClient = makePeer({ index: 3, address: '10.0.0.3', asn: 65000, routerId: 13 }, LOCAL);
const local = { ...nonClient, index: LOCAL_PEER } as Peer;

const plain = pathAttributes({ origin: 0, asPath: asSequence([65001]), nextHop: parseIpv4('192.0.2.1') });
const withCommunity = (c: number) => pathAttributes({ origin: 0, nextHop: 1, communities: [c] });

describe('importRejection', () => {
  test.each([
    ['a clean path', plain, null],
    [
      'our AS anywhere in the path',
      pathAttributes({ origin: 0, asPath: asSequence([65001, 65000]) }),
      'AS path contains our AS 65000',
    ],
    [
      'ORIGINATOR_ID = our router id',
      pathAttributes({ origin: 0, originatorId: 1 }),
      'ORIGINATOR_ID is our router id',
    ],
    [
      'our cluster id in CLUSTER_LIST',
      pathAttributes({ origin: 0, clusterList: [5, 42] }),
      'CLUSTER_LIST contains our cluster id',
    ],
  ])('%s', (_, attributes, expected) => {
    expect(importRejection(attributes, SPEAKER)).toBe(expected);
  });
});

describe('mayExport', () => {
  test.each([
    // source, target, allowed
    ['eBGP → eBGP', ebgp, ebgp, true],
    ['eBGP → client', ebgp, client, true],
    ['eBGP → non-client', ebgp, nonClient, true],
    ['client → client', client, client, true],
    ['client → non-client', client, nonClient, true],
    ['non-client → client', nonClient, client, true],
    ['non-client → non-client (split horizon)', nonClient, nonClient, false],
    ['non-client → eBGP', nonClient, ebgp, true],
    ['local → non-client', local, nonClient, true],
  ] as const)('%s', (_, source, target, allowed) => {
    expect(mayExport(plain, source, target)).toBe(allowed);
  });

  test.each([
    [NO_ADVERTISE, false, false],
    [NO_EXPORT, true, false],
    [NO_EXPORT_SUBCONFED, true, false],
    [0xfde80001, true, true],
  ])('community %s: to iBGP %s, to eBGP %s', (community, toIbgp, toEbgp) => {
    expect(mayExport(withCommunity(community), local, client)).toBe(toIbgp);
    expect(mayExport(withCommunity(community), local, ebgp)).toBe(toEbgp);
  });
});

describe('exportSpec', () => {
  test('to eBGP: prepend, next hop self, no LOCAL_PREF, learned MED dropped', () => {
    const attributes = pathAttributes({
      origin: 0,
      asPath: asSequence([65009]),
      nextHop: 7,
      med: 3,
      localPref: 200,
    });
    const { spec } = exportSpec(attributes, client, ebgp, SPEAKER)!;
    expect(asPathToString(spec.asPath!)).toBe('65000 65009');
    expect(spec.nextHop).toBe(SPEAKER.nextHopIpv4);
    expect(spec.med).toBeNull();
    expect(spec.localPref).toBeNull();
    expect(spec.originatorId).toBeNull();
  });

  test('locally originated MED does go to eBGP', () => {
    const { spec } = exportSpec(pathAttributes({ origin: 0, nextHop: 7, med: 3 }), local, ebgp, SPEAKER)!;
    expect(spec.med).toBe(3);
  });

  test('reflection sets ORIGINATOR_ID once and prepends the cluster id', () => {
    const fresh = exportSpec(plain, client, nonClient, SPEAKER)!.spec;
    expect(fresh.originatorId).toBe(12);
    expect(fresh.clusterList).toEqual([42]);
    expect(fresh.localPref).toBe(100);
    expect(fresh.nextHop).toBe(parseIpv4('192.0.2.1'));
    const again = exportSpec(
      pathAttributes({ origin: 0, nextHop: 7, originatorId: 99, clusterList: [7] }),
      client,
      client,
      SPEAKER,
    )!;
    expect(again.spec.originatorId).toBe(99);
    expect(again.spec.clusterList).toEqual([42, 7]);
  });

  test('an IPv6 path needing our next hop is not exported without an IPv6 address', () => {
    const v6 = pathAttributes({ origin: 0 }, Buffer.alloc(16, 1));
    expect(exportSpec(v6, client, ebgp, SPEAKER)).toBeNull();
    expect(exportSpec(v6, client, nonClient, SPEAKER)?.mpNextHop).toEqual(Buffer.alloc(16, 1));
  });

  test('a next hop passed on unchanged loses its link-local part', () => {
    const global = Buffer.alloc(16, 1);
    const withLinkLocal = Buffer.concat([global, Buffer.from('fe800000000000000000000000000001', 'hex')]);
    const v6 = pathAttributes({ origin: 0 }, withLinkLocal);
    expect(exportSpec(v6, client, nonClient, SPEAKER)?.mpNextHop).toEqual(global);
    // IPv4 next hops in MP_REACH_NLRI (4 octets) stay as they are.
    const v4 = pathAttributes({ origin: 0 }, Buffer.from([192, 0, 2, 9]));
    expect(exportSpec(v4, client, nonClient, SPEAKER)?.mpNextHop).toEqual(Buffer.from([192, 0, 2, 9]));
  });
});
