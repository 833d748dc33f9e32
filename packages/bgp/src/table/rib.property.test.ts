// Property: whatever sequence of announcements and withdrawals several peers send, the RIB's
// Loc-RIB equals that of a naive reference (every path kept in plain maps, the best chosen
// afresh each time), and after every flush each peer's Adj-RIB-Out, and what it decoded from
// the wire, equals "best paths filtered and rewritten by the export rules".

import fc from 'fast-check';
import { asSequence } from '../packet/as-path';
import { type AttributeSetSpec, buildAttributes } from '../packet/attribute-builder';
import { Afi, Origin } from '../packet/constants';
import { parseIpv4 } from '../packet/ip';
import type { PathAttributes } from '../packet/path-attributes';
import { prefixList } from '../packet/prefixes';
import { attributeKey, pathAttributes, storedAttributes } from './attribute-store';
import { DEFAULT_LOCAL_PREF, type PathView, selectBest } from './decision';
import { LOCAL_PEER, localPeer, makePeer, type Peer, type PeerConfig } from './peer';
import { Receiver } from './receiver.fixture';
import { Rib } from './rib';
import { exportSpec, importRejection, mayExport, type Speaker } from './rules';

const LOCAL = { asn: 65000, routerId: parseIpv4('10.0.0.1'), nextHopIpv4: '10.0.0.1' };
const SPEAKER: Speaker = {
  asn: LOCAL.asn,
  routerId: LOCAL.routerId,
  clusterId: LOCAL.routerId,
  nextHopIpv4: parseIpv4(LOCAL.nextHopIpv4),
  nextHopIpv6: null,
};
/** 192.0.2.n: a unicast next hop. */
const hop = (n: number): number => parseIpv4(`192.0.2.${n}`);
const CONFIGS: PeerConfig[] = [
  { index: 1, address: '192.0.2.1', asn: 65001, routerId: 11, importPolicy: 'all', exportPolicy: 'all' },
  { index: 2, address: '192.0.2.2', asn: 65002, routerId: 12, importPolicy: 'all', exportPolicy: 'all' },
  { index: 3, address: '10.0.0.3', asn: 65000, routerId: 13, routeReflectorClient: true },
  { index: 4, address: '10.0.0.4', asn: 65000, routerId: 14, routeReflectorClient: true },
  { index: 5, address: '10.0.0.5', asn: 65000, routerId: 15 },
  {
    index: 6,
    address: '10.0.0.6',
    asn: 65000,
    routerId: 16,
    nextHopSelf: true,
    exportPolicy: (route) => !route.prefix.startsWith('198.51.100.1'),
  },
];
const PEERS: Peer[] = CONFIGS.map((c) => makePeer(c, LOCAL));
const ALL_PEERS: Peer[] = [localPeer(LOCAL), ...PEERS];
const PREFIXES = ['198.51.100.0/24', '198.51.100.1/32', '198.51.100.2/32', '203.0.113.0/24', '10.1.0.0/16'];

const EBGP_SPECS: AttributeSetSpec[] = [
  { origin: Origin.Igp, asPath: asSequence([65001]), nextHop: hop(1) },
  { origin: Origin.Igp, asPath: asSequence([65001, 65007]), nextHop: hop(1), med: 10 },
  { origin: Origin.Egp, asPath: asSequence([65002]), nextHop: hop(2), med: 5, communities: [0xffffff01] },
  { origin: Origin.Igp, asPath: asSequence([65001, 65000]), nextHop: hop(1) },
];
const IBGP_SPECS: AttributeSetSpec[] = [
  { origin: Origin.Igp, nextHop: hop(3), localPref: 100 },
  { origin: Origin.Igp, nextHop: hop(3), localPref: 200, med: 7 },
  {
    origin: Origin.Igp,
    asPath: asSequence([65001]),
    nextHop: hop(4),
    localPref: 100,
    originatorId: 99,
    clusterList: [7],
  },
  { origin: Origin.Incomplete, nextHop: hop(5), localPref: 100, clusterList: [LOCAL.routerId] },
];

type Op =
  | { kind: 'announce'; peer: number; prefixes: number[]; spec: number }
  | { kind: 'withdraw'; peer: number; prefixes: number[] }
  | { kind: 'bounce'; peer: number }
  | { kind: 'restart'; peer: number }
  | { kind: 'end-of-rib'; peer: number }
  | { kind: 'flush' };

const prefixIndexes = fc.uniqueArray(fc.nat(PREFIXES.length - 1), { minLength: 1, maxLength: 3 });
const peerIndex = fc.nat(CONFIGS.length);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('announce' as const),
    peer: peerIndex,
    prefixes: prefixIndexes,
    spec: fc.nat(3),
  }),
  fc.record({ kind: fc.constant('withdraw' as const), peer: peerIndex, prefixes: prefixIndexes }),
  fc.record({
    kind: fc.constantFrom('bounce' as const, 'restart' as const, 'end-of-rib' as const),
    peer: fc.integer({ min: 1, max: CONFIGS.length }),
  }),
  fc.constant({ kind: 'flush' as const }),
);

/** The reference: accepted paths per peer, in plain maps. */
class Reference {
  readonly paths = new Map<number, Map<string, PathAttributes>>(ALL_PEERS.map((p) => [p.index, new Map()]));
  /** Graceful restart: per peer, prefixes not re-announced since the restart. */
  readonly stale = new Map<number, Set<string>>(ALL_PEERS.map((p) => [p.index, new Set()]));

  announce(peer: Peer, prefixes: string[], attributes: PathAttributes): void {
    const rejected = importRejection(attributes, SPEAKER) !== null;
    for (const prefix of prefixes) {
      this.stale.get(peer.index)!.delete(prefix);
      if (rejected) this.paths.get(peer.index)!.delete(prefix);
      else this.paths.get(peer.index)!.set(prefix, attributes);
    }
  }

  best(prefix: string): { peer: Peer; attributes: PathAttributes } | null {
    const candidates = ALL_PEERS.filter((p) => this.paths.get(p.index)!.has(prefix)).map((peer) => ({
      peer,
      attributes: this.paths.get(peer.index)!.get(prefix)!,
    }));
    if (candidates.length === 0) return null;
    return candidates[selectBest(candidates.map((c) => view(c.peer, c.attributes)))]!;
  }

  expectedOut(target: Peer): Map<string, string> {
    const out = new Map<string, string>();
    for (const prefix of PREFIXES) {
      const best = this.best(prefix);
      if (!best || best.peer.index === target.index || !mayExport(best.attributes, best.peer, target))
        continue;
      const policy = target.exportPolicy;
      if (policy === 'none') continue;
      if (
        typeof policy === 'function' &&
        !policy({ prefix, attributes: best.attributes, from: best.peer.index })
      )
        continue;
      const { spec } = exportSpec(best.attributes, best.peer, target, SPEAKER)!;
      out.set(prefix, buildAttributes(spec, { fourOctetAs: true, ibgp: target.ibgp }).toString('hex'));
    }
    return out;
  }
}

function view(peer: Peer, attributes: PathAttributes): PathView {
  const stored = storedAttributes(attributes);
  return {
    local: peer.index === LOCAL_PEER,
    localPref: attributes.localPref ?? DEFAULT_LOCAL_PREF,
    asPathLength: stored.asPathLength,
    origin: attributes.origin,
    med: attributes.med ?? 0,
    neighbourAs: stored.neighbourAs || LOCAL.asn,
    ebgp: !peer.ibgp,
    igpCost: undefined,
    clusterListLength: attributes.clusterList?.length ?? 0,
    routerId: attributes.originatorId ?? peer.routerId,
    peerAddress: peer.addressOrder,
  };
}

function run(ops: Op[]): void {
  const rib = new Rib(LOCAL);
  const reference = new Reference();
  const receivers = new Map<number, Receiver>();
  const up = (peer: Peer): void => {
    const receiver = new Receiver({ fourOctetAs: true, extendedMessages: false, ibgp: peer.ibgp });
    receivers.set(peer.index, receiver);
    rib.peerUp(peer.index, receiver.send);
  };
  for (const config of CONFIGS) rib.addPeer(config);
  PEERS.forEach(up);

  for (const o of [...ops, { kind: 'flush' } as const]) {
    if (o.kind === 'flush') {
      rib.flush();
      for (const peer of PEERS) {
        const expected = reference.expectedOut(peer);
        const out = new Map(
          [...rib.adjRibOut(peer.index)].map(([p, e]) => [p, e.attributes.toString('hex')]),
        );
        const wire = new Map(
          [...receivers.get(peer.index)!.routes].map(([p, a]) => [p, a.canonical.toString('hex')]),
        );
        expect(out).toEqual(expected);
        expect(wire).toEqual(expected);
      }
      continue;
    }
    const peer = ALL_PEERS[o.peer]!;
    const paths = reference.paths.get(peer.index)!;
    const stale = reference.stale.get(peer.index)!;
    if (o.kind === 'bounce') {
      rib.peerDown(peer.index);
      paths.clear();
      stale.clear();
      up(peer);
      continue;
    }
    if (o.kind === 'restart') {
      rib.peerDown(peer.index, true);
      for (const prefix of paths.keys()) stale.add(prefix);
      up(peer);
      continue;
    }
    if (o.kind === 'end-of-rib') {
      rib.endOfRib(peer.index, Afi.Ipv4);
      for (const prefix of stale) paths.delete(prefix);
      stale.clear();
      continue;
    }
    const prefixes = o.prefixes.map((i) => PREFIXES[i]!);
    const list = prefixList(Afi.Ipv4, prefixes);
    if (o.kind === 'withdraw') {
      rib.withdraw(peer.index, list);
      for (const prefix of prefixes) {
        paths.delete(prefix);
        stale.delete(prefix);
      }
    } else if (peer.index === LOCAL_PEER) {
      const spec = { ...IBGP_SPECS[o.spec]!, originatorId: null, clusterList: null };
      rib.originate(list, spec);
      reference.announce(peer, prefixes, pathAttributes({ ...spec, nextHop: SPEAKER.nextHopIpv4 }));
    } else {
      const attributes = pathAttributes((peer.ibgp ? IBGP_SPECS : EBGP_SPECS)[o.spec]!);
      rib.announce(peer.index, list, attributes);
      reference.announce(peer, prefixes, attributes);
    }
    for (const prefix of PREFIXES) {
      const expected = reference.best(prefix);
      const best = rib.best(prefix);
      expect(best && [best.from, attributeKey(best.attributes)]).toEqual(
        expected && [expected.peer.index, attributeKey(expected.attributes)],
      );
      expect(rib.paths(prefix)).toHaveLength(
        ALL_PEERS.filter((p) => reference.paths.get(p.index)!.has(prefix)).length,
      );
    }
    for (const p of PEERS) expect(rib.staleCount(p.index)).toBe(reference.stale.get(p.index)!.size);
  }

  // Withdrawing everything leaves no interned set behind.
  for (const peer of ALL_PEERS) rib.withdraw(peer.index, prefixList(Afi.Ipv4, PREFIXES));
  rib.flush();
  expect(rib.stats()).toMatchObject({ prefixes: 0, attributeSets: 0, exportedSets: 0 });
}

test('the RIB matches a naive reference after any announce/withdraw sequence', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => run(ops)),
    { numRuns: 400 },
  );
});
