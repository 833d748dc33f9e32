import type { HostEndpointModel } from '../model';
import { renderHostEndpoint, renderHostEndpointDispatch } from './host-endpoint';
import { chainNamed, lines } from './testing';

const eth1: HostEndpointModel = {
  interfaceName: 'eth1',
  tiers: [{ name: 'default', ingressPolicies: ['gnp.deny-ssh', 'gnp.allow-web'], egressPolicies: [] }],
  profileIds: ['host-defaults'],
};

describe('renderHostEndpoint', () => {
  test('mg-fh-<iface>: replies, failsafe ports, then the tier with default deny, then profiles', () => {
    const chains = renderHostEndpoint(eth1);
    expect(chains.map((chain) => chain.name)).toEqual(['mg-fh-eth1', 'mg-th-eth1']);
    expect(lines(chainNamed(chains, 'mg-fh-eth1'))).toEqual([
      '-m conntrack --ctstate INVALID -j DROP',
      '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-j mg-failsafe-in',
      '-j MARK --set-xmark 0x0/0x70000',
      '-j MARK --set-xmark 0x0/0x20000',
      '-m mark --mark 0x0/0x20000 -j mg-pi-gnp.deny-ssh',
      '-m mark --mark 0x10000/0x10000 -j RETURN',
      '-m mark --mark 0x0/0x20000 -j mg-pi-gnp.allow-web',
      '-m mark --mark 0x10000/0x10000 -j RETURN',
      '-m mark --mark 0x0/0x20000 -j DROP',
      '-j mg-pri-host-defaults',
      '-m mark --mark 0x10000/0x10000 -j RETURN',
      '-j DROP',
    ]);
  });

  test('mg-th-<iface>: no policy for egress goes to the profiles, after the outbound failsafe ports', () => {
    expect(lines(chainNamed(renderHostEndpoint(eth1), 'mg-th-eth1'))).toEqual([
      '-m conntrack --ctstate INVALID -j DROP',
      '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-j mg-failsafe-out',
      '-j MARK --set-xmark 0x0/0x70000',
      '-j mg-pro-host-defaults',
      '-m mark --mark 0x10000/0x10000 -j RETURN',
      '-j DROP',
    ]);
  });

  test('no policy and no profile: failsafe ports and replies only (default deny)', () => {
    const rules = lines(
      chainNamed(renderHostEndpoint({ interfaceName: 'eth0', tiers: [], profileIds: [] }), 'mg-fh-eth0'),
    );
    expect(rules.slice(2)).toEqual(['-j mg-failsafe-in', '-j MARK --set-xmark 0x0/0x70000', '-j DROP']);
  });

  test('a workload interface or a malformed name is refused, naming it', () => {
    expect(() => renderHostEndpoint({ ...eth1, interfaceName: 'mg0' })).toThrow(
      /host endpoint interface mg0 has the workload interface prefix mg/,
    );
    expect(() => renderHostEndpoint({ ...eth1, interfaceName: 'eth 1' })).toThrow(
      /"eth 1" is not a Linux interface name/,
    );
    expect(() =>
      renderHostEndpoint({ ...eth1, interfaceName: 'cali0' }, { interfacePrefix: 'cali' }),
    ).toThrow(/workload interface prefix cali/);
  });
});

describe('renderHostEndpointDispatch', () => {
  test('by interface, sorted, no final DROP: other host interfaces are left alone', () => {
    const chains = renderHostEndpointDispatch([eth1, { ...eth1, interfaceName: 'bond0' }]);
    expect(lines(chainNamed(chains, 'mg-from-host-endpoint'))).toEqual([
      '-i bond0 -g mg-fh-bond0',
      '-i eth1 -g mg-fh-eth1',
    ]);
    expect(lines(chainNamed(chains, 'mg-to-host-endpoint'))).toEqual([
      '-o bond0 -g mg-th-bond0',
      '-o eth1 -g mg-th-eth1',
    ]);
  });

  test('empty chains without host endpoints (the static rules may still jump to them)', () => {
    expect(renderHostEndpointDispatch([])).toEqual([
      { name: 'mg-from-host-endpoint', rules: [] },
      { name: 'mg-to-host-endpoint', rules: [] },
    ]);
  });

  test('two host endpoints on one interface are refused', () => {
    expect(() => renderHostEndpointDispatch([eth1, eth1])).toThrow(/two host endpoints use interface eth1/);
  });
});
