import type { EndpointModel } from '../model';
import { renderEndpoint } from './endpoint';
import { chainNamed, lines } from './testing';

const endpoint = (overrides: Partial<EndpointModel> = {}): EndpointModel => ({
  interfaceName: 'mg0123456789a',
  tiers: [],
  profileIds: ['kns.ns1'],
  addresses: ['10.65.0.5/32'],
  ...overrides,
});

const CLEAR = '-j MARK --set-xmark 0x0/0x70000';
const RETURN_IF_ACCEPTED = '-m mark --mark 0x10000/0x10000 -j RETURN';
const EGRESS_GUARDS = ['! -s 10.65.0.5/32 -j DROP', '-p 4 -j DROP', '-p udp -m udp --dport 4789 -j DROP'];

describe('renderEndpoint', () => {
  test('no policy selects it: straight to the profiles, then drop', () => {
    const chains = renderEndpoint(endpoint());
    expect(chains.map((c) => c.name)).toEqual(['mg-tw-mg0123456789a', 'mg-fw-mg0123456789a']);
    expect(lines(chains[0])).toEqual([CLEAR, '-j mg-pri-kns.ns1', RETURN_IF_ACCEPTED, '-j DROP']);
    expect(lines(chains[1])).toEqual([
      CLEAR,
      ...EGRESS_GUARDS,
      '-j mg-pro-kns.ns1',
      RETURN_IF_ACCEPTED,
      '-j DROP',
    ]);
  });

  test('tiers: policies in order while not passed, return once accepted, drop at the end of each tier', () => {
    const chains = renderEndpoint(
      endpoint({
        tiers: [
          { name: 'security', ingressPolicies: ['gnp/a', 'gnp/b'], egressPolicies: [] },
          { name: 'default', ingressPolicies: ['ns1/knp.default.c'], egressPolicies: ['ns1/knp.default.c'] },
        ],
      }),
    );
    expect(lines(chains[0])).toEqual([
      CLEAR,
      '-j MARK --set-xmark 0x0/0x20000',
      '-m mark --mark 0x0/0x20000 -j mg-pi-gnp:a',
      RETURN_IF_ACCEPTED,
      '-m mark --mark 0x0/0x20000 -j mg-pi-gnp:b',
      RETURN_IF_ACCEPTED,
      '-m mark --mark 0x0/0x20000 -j DROP',
      '-j MARK --set-xmark 0x0/0x20000',
      '-m mark --mark 0x0/0x20000 -j mg-pi-ns1:knp.default.c',
      RETURN_IF_ACCEPTED,
      '-m mark --mark 0x0/0x20000 -j DROP',
      // Reached only when the last tier passed: the profiles decide.
      '-j mg-pri-kns.ns1',
      RETURN_IF_ACCEPTED,
      '-j DROP',
    ]);
    // The security tier has no egress policy for this endpoint: it is skipped for egress.
    expect(lines(chains[1])).toEqual([
      CLEAR,
      ...EGRESS_GUARDS,
      '-j MARK --set-xmark 0x0/0x20000',
      '-m mark --mark 0x0/0x20000 -j mg-po-ns1:knp.default.c',
      RETURN_IF_ACCEPTED,
      '-m mark --mark 0x0/0x20000 -j DROP',
      '-j mg-pro-kns.ns1',
      RETURN_IF_ACCEPTED,
      '-j DROP',
    ]);
    const comments = chainNamed(chains, 'mg-tw-mg0123456789a').rules.map((r) => r.comment);
    expect(comments).toContain('end of tier security: drop if no policy passed');
  });

  test('anti-spoofing with several addresses marks each allowed source; IPv6 addresses are left out', () => {
    const [, egress] = renderEndpoint(
      endpoint({ addresses: ['10.65.0.5/32', '10.65.0.6/32', 'fd00::5/128'] }),
    );
    expect(lines(egress).slice(0, 5)).toEqual([
      CLEAR,
      '-s 10.65.0.5/32 -j MARK --set-xmark 0x40000/0x40000',
      '-s 10.65.0.6/32 -j MARK --set-xmark 0x40000/0x40000',
      '-m mark --mark 0x0/0x40000 -j DROP',
      '-j MARK --set-xmark 0x0/0x40000',
    ]);
  });

  test('no IPv4 address: nothing IPv4 leaves the endpoint', () => {
    const [, egress] = renderEndpoint(endpoint({ addresses: [] }));
    expect(lines(egress)[1]).toBe('-j DROP');
  });

  test('no profiles: everything not accepted by policy is dropped', () => {
    const [ingress] = renderEndpoint(endpoint({ profileIds: [] }));
    expect(lines(ingress)).toEqual([CLEAR, '-j DROP']);
  });

  test('bad interface names and addresses are rejected', () => {
    expect(() => renderEndpoint(endpoint({ interfaceName: 'mg bad' }))).toThrow(/interface name "mg bad"/);
    expect(() => renderEndpoint(endpoint({ interfaceName: 'mg0123456789abcdef' }))).toThrow(/interface name/);
    expect(() => renderEndpoint(endpoint({ addresses: ['10.0.0.300/32'] }))).toThrow(
      /endpoint mg0123456789a address: "10.0.0.300\/32" is not an IP address or CIDR/,
    );
  });
});
