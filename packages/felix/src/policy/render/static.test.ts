import { ALL_POOLS_SET, MASQ_POOLS_SET, renderStatic } from './static';
import { chainNamed, lines, ruleText } from './testing';

const config = { pools: ['10.65.0.0/16', '10.66.0.0/16', 'fd00::/64'], natOutgoingPools: ['10.65.0.0/16'] };

describe('renderStatic', () => {
  test('hooks: established workload flows accepted in the kernel chain, the rest jumps to ours', () => {
    const { filter, nat } = renderStatic(config);
    expect(
      filter.hooks.map(({ kernelChain, rules }) => ({ kernelChain, rules: rules.map(ruleText) })),
    ).toEqual([
      {
        kernelChain: 'FORWARD',
        rules: [
          '-i mg+ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
          '-o mg+ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
          '-j mg-FORWARD',
        ],
      },
      {
        kernelChain: 'INPUT',
        rules: ['-i mg+ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-i mg+ -j mg-INPUT'],
      },
      { kernelChain: 'OUTPUT', rules: ['-o mg+ -j mg-OUTPUT'] },
    ]);
    expect(nat.hooks).toEqual([
      { kernelChain: 'POSTROUTING', rules: [{ match: '', action: '-j mg-nat-outgoing' }] },
    ]);
  });

  test('hooks cost little per packet: no comment on the hook rules, no nat hook without natOutgoing', () => {
    const { filter, nat } = renderStatic({ ...config, natOutgoingPools: ['fd00::/64'] });
    // A comment is an xt match run per packet with iptables-nft; the hash comment is enough.
    expect(filter.hooks.flatMap((hook) => hook.rules).filter((rule) => rule.comment !== undefined)).toEqual(
      [],
    );
    // An IPv6 natOutgoing pool does not need this IPv4 nat hook; the chain stays, unhooked.
    expect(nat.hooks).toEqual([]);
    expect(nat.chains.map((chain) => chain.name)).toEqual(['mg-nat-outgoing']);
  });

  test('with host endpoints, INPUT and OUTPUT jump for all traffic, not only workload traffic', () => {
    const { hooks } = renderStatic({ ...config, hostEndpoints: [{ interfaceName: 'eth1' }] }).filter;
    const rulesOf = (chain: string) => hooks.find((hook) => hook.kernelChain === chain)!.rules.map(ruleText);
    expect(rulesOf('INPUT')).toEqual([
      '-i mg+ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-j mg-INPUT',
    ]);
    expect(rulesOf('OUTPUT')).toEqual(['-j mg-OUTPUT']);
  });

  test('mg-FORWARD: INVALID dropped, both dispatches, then an explicit ACCEPT of what policy accepted', () => {
    expect(lines(chainNamed(renderStatic(config).filter.chains, 'mg-FORWARD'))).toEqual([
      '-i mg+ -m conntrack --ctstate INVALID -j DROP',
      '-o mg+ -m conntrack --ctstate INVALID -j DROP',
      '-i mg+ -j mg-from-wl-dispatch',
      '-o mg+ -j mg-to-wl-dispatch',
      '-i mg+ -m mark --mark 0x10000/0x10000 -j ACCEPT',
      '-o mg+ -m mark --mark 0x10000/0x10000 -j ACCEPT',
    ]);
  });

  test('host traffic: the node reaches its workloads; workload to host goes through egress policy', () => {
    const { chains } = renderStatic(config).filter;
    expect(lines(chainNamed(chains, 'mg-OUTPUT'))).toEqual(['-o mg+ -j ACCEPT']);
    expect(lines(chainNamed(chains, 'mg-INPUT'))).toEqual([
      '-i mg+ -m conntrack --ctstate INVALID -j DROP',
      '-i mg+ -g mg-wl-to-host',
    ]);
    expect(lines(chainNamed(chains, 'mg-wl-to-host'))).toEqual(['-j mg-from-wl-dispatch', '-j DROP']);
    const accepting = renderStatic({ ...config, endpointToHostAction: 'Accept' }).filter.chains;
    expect(lines(chainNamed(accepting, 'mg-wl-to-host'))).toEqual(['-j mg-from-wl-dispatch', '-j ACCEPT']);
  });

  test("failsafe ports: Calico's defaults, and configured ones with nets", () => {
    const { chains } = renderStatic(config).filter;
    const inbound = lines(chainNamed(chains, 'mg-failsafe-in'));
    expect(inbound).toContain('-p tcp -m tcp --dport 22 -j ACCEPT');
    expect(inbound).toContain('-p tcp -m tcp --dport 179 -j ACCEPT');
    expect(inbound).toContain('-p tcp -m tcp --dport 2379 -j ACCEPT');
    expect(inbound).toContain('-p tcp -m tcp --dport 6443 -j ACCEPT');
    expect(inbound).toContain('-p udp -m udp --dport 68 -j ACCEPT');
    expect(lines(chainNamed(chains, 'mg-failsafe-out'))).toContain('-p udp -m udp --dport 53 -j ACCEPT');

    const custom = renderStatic({
      ...config,
      failsafeInbound: [
        { protocol: 'tcp', port: 22, net: '192.0.2.0/24' },
        { protocol: 'tcp', port: 23, net: '2001:db8::/32' },
      ],
      failsafeOutbound: [{ protocol: 'sctp', port: 9 }],
    }).filter.chains;
    expect(lines(chainNamed(custom, 'mg-failsafe-in'))).toEqual([
      '-p tcp -s 192.0.2.0/24 -m tcp --dport 22 -j ACCEPT',
    ]);
    expect(lines(chainNamed(custom, 'mg-failsafe-out'))).toEqual(['-p sctp -m sctp --dport 9 -j ACCEPT']);
  });

  test('host endpoints: after the workload rules, a fresh verdict, the dispatch, ACCEPT of what it accepted', () => {
    const without = renderStatic(config).filter.chains;
    expect(lines(chainNamed(without, 'mg-INPUT')).join('\n')).not.toContain('host-endpoint');
    expect(lines(chainNamed(without, 'mg-OUTPUT'))).toEqual(['-o mg+ -j ACCEPT']);

    const { chains } = renderStatic({ ...config, hostEndpoints: [{ interfaceName: 'eth1' }] }).filter;
    const input = lines(chainNamed(chains, 'mg-INPUT'));
    // Workload traffic is decided by the workload's own chains before host endpoints are looked at.
    expect(input.indexOf('-i mg+ -g mg-wl-to-host')).toBeLessThan(input.indexOf('-j mg-from-host-endpoint'));
    expect(input.slice(-3)).toEqual([
      '-j MARK --set-xmark 0x0/0x70000',
      '-j mg-from-host-endpoint',
      '-m mark --mark 0x10000/0x10000 -j ACCEPT',
    ]);
    expect(lines(chainNamed(chains, 'mg-OUTPUT'))).toEqual([
      '-o mg+ -j ACCEPT',
      '-j MARK --set-xmark 0x0/0x70000',
      '-j mg-to-host-endpoint',
      '-m mark --mark 0x10000/0x10000 -j ACCEPT',
    ]);
    // The dispatch and per-endpoint chains follow the policy model (host-endpoint.ts), not static.
    expect(chains.map((chain) => chain.name)).not.toContain('mg-from-host-endpoint');
    expect(chains.map((chain) => chain.name)).toEqual(
      expect.arrayContaining(['mg-failsafe-in', 'mg-failsafe-out']),
    );
  });

  test('nat outgoing: masquerade from natOutgoing pools to outside all pools; IPv4 pool sets', () => {
    const rendered = renderStatic(config);
    expect(lines(chainNamed(rendered.nat.chains, 'mg-nat-outgoing'))).toEqual([
      '-m set --match-set mg4-masq-pools src -m set ! --match-set mg4-all-pools dst -j MASQUERADE',
    ]);
    expect(rendered.ipSets).toEqual([
      { spec: ALL_POOLS_SET, members: ['10.65.0.0/16', '10.66.0.0/16'] },
      { spec: MASQ_POOLS_SET, members: ['10.65.0.0/16'] },
    ]);
  });

  test('bad input is rejected, naming the field', () => {
    expect(() => renderStatic({ ...config, pools: ['10.0.0.0/33'] })).toThrow(/pools\[0\]: "10.0.0.0\/33"/);
    expect(() => renderStatic({ ...config, failsafeInbound: [{ protocol: 'tcp', port: 0 }] })).toThrow(
      /mg-failsafe-in port 0: port must be from 1 to 65535/,
    );
    expect(() => renderStatic({ ...config, hostEndpoints: [{ interfaceName: 'mg0' }] })).toThrow(
      /workload interface prefix/,
    );
  });
});
