import type { PrefixListPolicy } from '../config/schema';
import { asSequence } from '../packet/as-path';
import { Afi, Origin, Safi } from '../packet/constants';
import { parseIpv4 } from '../packet/ip';
import { prefixList } from '../packet/prefixes';
import { pathAttributes } from '../table/attribute-store';
import { Receiver } from '../table/receiver.fixture';
import { Rib } from '../table/rib';
import { compilePrefixList, PolicyCompiler } from './policy';

const list = (...prefixes: PrefixListPolicy['prefixes']): PrefixListPolicy => ({
  prefixes,
  action: 'accept',
});
const attributes = pathAttributes({ origin: Origin.Igp, asPath: asSequence([65001]), nextHop: 1 });
const accepts = (policy: PrefixListPolicy, prefix: string) =>
  compilePrefixList(policy)({ prefix, attributes, from: 1 });

const carveOut = list(
  { prefix: '10.244.5.0/24', le: 32, action: 'reject' },
  { prefix: '10.244.0.0/16', le: 32 },
);

describe('compilePrefixList', () => {
  test.each([
    // An entry without ge/le matches its prefix exactly.
    [list({ prefix: '10.244.0.0/16' }), '10.244.0.0/16', true],
    [list({ prefix: '10.244.0.0/16' }), '10.244.1.0/24', false],
    // le: the prefix and everything inside it down to that length.
    [list({ prefix: '10.244.0.0/16', le: 32 }), '10.244.0.0/16', true],
    [list({ prefix: '10.244.0.0/16', le: 32 }), '10.244.255.255/32', true],
    [list({ prefix: '10.244.0.0/16', le: 32 }), '10.245.0.0/26', false],
    [list({ prefix: '10.244.0.0/16', le: 32 }), '10.243.255.0/24', false],
    [list({ prefix: '10.244.0.0/16', le: 32 }), '10.0.0.0/8', false],
    // ge alone: from that length to that length; ge with le: the range.
    [list({ prefix: '10.244.0.0/16', ge: 26 }), '10.244.7.64/26', true],
    [list({ prefix: '10.244.0.0/16', ge: 26 }), '10.244.7.0/25', false],
    [list({ prefix: '10.244.0.0/16', ge: 24, le: 26 }), '10.244.7.0/25', true],
    [list({ prefix: '10.244.0.0/16', ge: 24, le: 26 }), '10.244.7.0/27', false],
    [list({ prefix: '0.0.0.0/0', le: 32 }), '255.255.255.255/32', true],
    [list({ prefix: '0.0.0.0/0' }), '0.0.0.0/0', true],
    // Any entry matching is enough; families never match each other.
    [list({ prefix: '10.96.0.0/12' }, { prefix: '10.244.0.0/16', le: 32 }), '10.244.3.0/26', true],
    [list({ prefix: '10.0.0.0/8', le: 32 }), '2001:db8::/32', false],
    [list({ prefix: '::/0', le: 128 }), '10.0.0.0/8', false],
    [list({ prefix: 'fd00:10::/48', le: 128 }), 'fd00:10:0:7::/64', true],
    [list({ prefix: 'fd00:10::/48', le: 128 }), 'fd00:11::/64', false],
    [list({ prefix: 'fd00:10::/48', le: 64 }), 'fd00:10::1/128', false],
    [list({ prefix: 'fd00:10:8000::/33', le: 128 }), 'fd00:10:8000:1::/64', true],
    [list({ prefix: 'fd00:10:8000::/33', le: 128 }), 'fd00:10::/64', false],
    // The first matching entry decides: a reject before a wider accept carves a range out.
    [carveOut, '10.244.5.0/26', false],
    [carveOut, '10.244.5.7/32', false],
    [carveOut, '10.244.6.0/26', true],
    [carveOut, '10.244.0.0/16', true],
    [
      list({ prefix: '10.244.0.0/16', le: 32 }, { prefix: '10.244.5.0/24', le: 32, action: 'reject' }),
      '10.244.5.0/26',
      true,
    ],
    [
      list({ prefix: 'fd00:10:0:5::/64', le: 128, action: 'reject' }, { prefix: 'fd00:10::/48', le: 128 }),
      'fd00:10:0:5::/122',
      false,
    ],
    [
      list({ prefix: 'fd00:10:0:5::/64', le: 128, action: 'reject' }, { prefix: 'fd00:10::/48', le: 128 }),
      'fd00:10:0:6::/122',
      true,
    ],
  ])('%j: %s → %s', (policy, prefix, accepted) => {
    expect(accepts(policy, prefix)).toBe(accepted);
  });
});

describe('PolicyCompiler', () => {
  test('hands out one predicate per distinct list, and names as they are', () => {
    const policies = new PolicyCompiler();
    const a = policies.compile(list({ prefix: '10.0.0.0/8', le: 32 }));
    expect(policies.compile(list({ prefix: '10.0.0.0/8', le: 32 }))).toBe(a);
    expect(policies.compile(list({ prefix: '10.0.0.0/8', le: 24 }))).not.toBe(a);
    expect(policies.compile('all')).toBe('all');
    policies.retain([]);
    expect(policies.compile(list({ prefix: '10.0.0.0/8', le: 32 }))).not.toBe(a);
  });
});

describe('a prefix-list export policy in the table', () => {
  const LOCAL = {
    asn: 65000,
    routerId: parseIpv4('10.0.0.1'),
    nextHopIpv4: '10.0.0.1',
    nextHopIpv6: 'fd00::1',
  };
  const families = [
    { afi: Afi.Ipv4, safi: Safi.Unicast },
    { afi: Afi.Ipv6, safi: Safi.Unicast },
  ];
  const clusterRoutes = list({ prefix: '10.244.0.0/16', le: 32 }, { prefix: 'fd00:10::/48', le: 128 });

  test('routes inside the list are exported, the others are not, and peers share an update group', () => {
    const policies = new PolicyCompiler();
    const rib = new Rib(LOCAL);
    const receivers = [1, 2].map((index) => {
      rib.addPeer({
        index,
        address: `192.0.2.${index}`,
        asn: 65000 + index,
        routerId: index,
        importPolicy: 'all',
        exportPolicy: policies.compile(clusterRoutes),
        families,
      });
      const receiver = new Receiver({ fourOctetAs: true, extendedMessages: false, ibgp: false });
      rib.peerUp(index, receiver.send);
      return receiver;
    });
    rib.originate(prefixList(Afi.Ipv4, ['10.244.1.0/26', '10.244.2.7/32', '10.245.0.0/26']), {
      origin: Origin.Igp,
    });
    rib.originate(prefixList(Afi.Ipv6, ['fd00:10:0:1::/64', 'fd00:99::/64']), { origin: Origin.Igp });
    // Learned from peer 1 from outside the cluster: not passed on to peer 2.
    expect(rib.announce(1, prefixList(Afi.Ipv4, ['198.51.100.0/24']), attributes)).toBeNull();
    rib.flush();

    expect(rib.best('198.51.100.0/24')?.from).toBe(1);
    const exported = ['10.244.1.0/26', '10.244.2.7/32', 'fd00:10:0:1::/64'];
    for (const [n, receiver] of receivers.entries()) {
      expect([...rib.adjRibOut(n + 1).keys()].sort()).toEqual(exported);
      expect([...receiver.routes.keys()].sort()).toEqual(exported);
    }
    expect(rib.stats().updateGroups).toBe(1);
  });
});
