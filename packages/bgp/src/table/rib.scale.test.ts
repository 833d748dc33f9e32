// The Rib at the sizes where its key table grows, keeps prefixes in many blocks and chunks,
// and compacts in the middle of a flush: what the peers receive must still be exactly the
// best paths. (The property test covers the decision and export rules on a few prefixes.)

import { asPathToString, asSequence } from '../packet/as-path';
import { Afi, Origin } from '../packet/constants';
import { formatIpv4, parseIpv4 } from '../packet/ip';
import type { PathAttributes } from '../packet/path-attributes';
import type { PrefixList } from '../packet/prefixes';
import { pathAttributes } from './attribute-store';
import { Receiver } from './receiver.fixture';
import { Rib } from './rib';

const LOCAL = { asn: 65000, routerId: parseIpv4('10.0.0.1'), nextHopIpv4: '10.0.0.1' };
const A = 1;
const B = 2;
const OUT = 3;
const CLIENT = 4;
const FIRST = 0x64000000;

/** /32s first..first+count-1 after 100.0.0.0. */
function hosts(first: number, count: number): PrefixList {
  const words = new Uint32Array(count);
  for (let n = 0; n < count; n++) words[n] = FIRST + first + n;
  return { afi: Afi.Ipv4, words, lengths: new Uint8Array(count).fill(32) };
}

const host = (n: number): string => `${formatIpv4(FIRST + n)}/32`;
const fromA = (community: number): PathAttributes =>
  pathAttributes({
    origin: Origin.Igp,
    asPath: asSequence([65001]),
    nextHop: parseIpv4('192.0.2.1'),
    communities: [0xfde90000 + community],
  });
const FROM_B = pathAttributes({
  origin: Origin.Igp,
  asPath: asSequence([65002, 65009]),
  nextHop: parseIpv4('192.0.2.2'),
});

function setup(): { rib: Rib; out: Receiver; client: Receiver } {
  const rib = new Rib(LOCAL);
  const common = { importPolicy: 'all', exportPolicy: 'all' } as const;
  rib.addPeer({ index: A, address: '192.0.2.1', asn: 65001, routerId: 1, ...common });
  rib.addPeer({ index: B, address: '192.0.2.2', asn: 65002, routerId: 2, ...common });
  rib.addPeer({ index: OUT, address: '192.0.2.3', asn: 65003, routerId: 3, ...common });
  rib.addPeer({ index: CLIENT, address: '10.0.0.4', asn: 65000, routerId: 4, routeReflectorClient: true });
  const out = new Receiver({ fourOctetAs: true, extendedMessages: false, ibgp: false });
  const client = new Receiver({ fourOctetAs: true, extendedMessages: false, ibgp: true });
  rib.peerUp(OUT, out.send);
  rib.peerUp(CLIENT, client.send);
  return { rib, out, client };
}

/** What a receiver holds, as prefix → "AS path, community". */
function held(receiver: Receiver): Map<string, string> {
  const view = new Map<string, string>();
  for (const [prefix, attributes] of receiver.routes) {
    view.set(prefix, `${asPathToString(attributes.asPath)} ${attributes.communities?.[0] ?? '-'}`);
  }
  return view;
}

/** A peer's Adj-RIB-Out as prefix → its COMMUNITIES value (decimal), or '-'. */
function advertisedCommunities(rib: Rib, index: number): Map<string, string> {
  const view = new Map<string, string>();
  for (const [prefix, { attributes }] of rib.adjRibOut(index)) {
    // Optional transitive COMMUNITIES of one value: flags 0xc0, type 8, length 4.
    const at = attributes.indexOf(Buffer.of(0xc0, 8, 4));
    view.set(prefix, at < 0 ? '-' : String(attributes.readUInt32BE(at + 3)));
  }
  return view;
}

test('60,000 prefixes from two peers, nearly all withdrawn and some re-announced in one batch', () => {
  const { rib, out, client } = setup();
  // A announces 60,000 neighbours in UPDATEs of 500, flushed every 10; B a slice with a longer path.
  for (let first = 0; first < 60_000; first += 500) {
    expect(rib.announce(A, hosts(first, 500), fromA(first % 7))).toBeNull();
    if (first % 5000 === 4500) rib.flush();
  }
  rib.announce(B, hosts(20_000, 2000), FROM_B);
  rib.flush();
  const expected = new Map<string, string>();
  for (let n = 0; n < 60_000; n++)
    expected.set(host(n), `65001 ${0xfde90000 + ((Math.floor(n / 500) * 500) % 7)}`);
  expect(held(out)).toEqual(new Map([...expected].map(([p, v]) => [p, `65000 ${v}`])));
  expect(held(client)).toEqual(expected);

  // One batch: A withdraws 59,000 (B's slice falls back to B), then announces 1,000 of them
  // again with another community; flush empties most of the table and compacts it midway,
  // before it reaches those 1,000 (their slots, saved when they changed, have moved).
  rib.withdraw(A, hosts(0, 59_000));
  rib.announce(A, hosts(57_000, 1000), fromA(100));
  expect(rib.pendingChanges).toBe(59_000);
  rib.flush();
  expect(rib.pendingChanges).toBe(0);
  expected.clear();
  for (let n = 57_000; n < 58_000; n++) expected.set(host(n), `65001 ${0xfde90000 + 100}`);
  for (let n = 20_000; n < 22_000; n++) expected.set(host(n), '65002 65009 -');
  for (let n = 59_000; n < 60_000; n++)
    expected.set(host(n), `65001 ${0xfde90000 + ((Math.floor(n / 500) * 500) % 7)}`);
  expect(held(client)).toEqual(expected);
  expect(held(out)).toEqual(new Map([...expected].map(([p, v]) => [p, `65000 ${v}`])));
  expect(rib.stats().prefixes).toBe(expected.size);
  // The Adj-RIB-Outs must hold the same, each prefix at its own (moved) slot.
  const communities = new Map([...expected].map(([prefix, view]) => [prefix, view.split(' ').at(-1)]));
  expect(advertisedCommunities(rib, OUT)).toEqual(communities);
  expect(advertisedCommunities(rib, CLIENT)).toEqual(communities);
  expect(rib.best(host(21_000))?.from).toBe(B);
  expect(rib.paths(host(59_500)).map((r) => r.from)).toEqual([A]);

  // B going away leaves only A's paths, and its slice is withdrawn from the peers.
  rib.peerDown(B);
  rib.flush();
  for (let n = 20_000; n < 22_000; n++) expected.delete(host(n));
  expect(held(client)).toEqual(expected);
  expect(rib.adjRibIn(B).size).toBe(0);
  expect(rib.adjRibOut(OUT).size).toBe(expected.size);
});

test('a peer that comes up late is sent the whole large table, then changes as they come', () => {
  const { rib, out } = setup();
  for (let first = 0; first < 40_000; first += 500) rib.announce(A, hosts(first, 500), fromA(1));
  rib.flush();
  rib.addPeer({
    index: 5,
    address: '192.0.2.5',
    asn: 65005,
    routerId: 5,
    importPolicy: 'all',
    exportPolicy: 'all',
  });
  const late = new Receiver({ fourOctetAs: true, extendedMessages: false, ibgp: false });
  rib.peerUp(5, late.send);
  expect(late.routes.size).toBe(40_000);
  rib.withdraw(A, hosts(0, 39_990));
  rib.flush();
  expect([...late.routes.keys()].sort()).toEqual([...out.routes.keys()].sort());
  expect(late.routes.size).toBe(10);
  expect(late.routes.has(host(39_995))).toBe(true);
});

test('a peer with a large table going down withdraws it in bounded batches', () => {
  const { rib, out, client } = setup();
  for (let first = 0; first < 50_000; first += 500) rib.announce(A, hosts(first, 500), fromA(3));
  rib.announce(B, hosts(49_000, 2000), FROM_B);
  rib.flush();
  const writes = out.sent.length;
  rib.peerDown(A);
  // Sent before any flush of the caller's: the withdrawals went out while A's paths were removed.
  expect(out.sent.length - writes).toBeGreaterThanOrEqual(3);
  expect(rib.pendingChanges).toBeLessThan(16_384);
  rib.flush();
  const expected = new Map<string, string>();
  for (let n = 49_000; n < 51_000; n++) expected.set(host(n), '65002 65009 -');
  expect(held(client)).toEqual(expected);
  expect(out.routes.size).toBe(2000);
  expect(rib.stats().prefixes).toBe(2000);
  expect(rib.adjRibIn(A).size).toBe(0);
});
