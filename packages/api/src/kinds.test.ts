import { KINDS, kindInfo, lookupKind } from './kinds';

describe('kinds', () => {
  test('every kind is listed once, with its plural and scope', () => {
    expect(KINDS.map((k) => k.kind)).toHaveLength(new Set(KINDS.map((k) => k.kind)).size);
    expect(kindInfo('IPPool')).toEqual({
      kind: 'IPPool',
      plural: 'ippools',
      namespaced: false,
      aliases: ['ippool', 'ippools', 'pool', 'pools'],
    });
    expect(KINDS.filter((k) => k.namespaced).map((k) => k.kind)).toEqual([
      'NetworkPolicy',
      'WorkloadEndpoint',
    ]);
  });

  test('no alias names two kinds', () => {
    const aliases = KINDS.flatMap((k) => k.aliases);
    expect(aliases).toHaveLength(new Set(aliases).size);
    expect(aliases.every((a) => a === a.toLowerCase())).toBe(true);
  });

  test.each([
    ['IPPool', 'IPPool'],
    ['ippools', 'IPPool'],
    ['Pools', 'IPPool'],
    ['gnp', 'GlobalNetworkPolicy'],
    ['GlobalNetworkPolicies', 'GlobalNetworkPolicy'],
    ['netpol', 'NetworkPolicy'],
    ['policy', 'NetworkPolicy'],
    ['np', 'NetworkPolicy'],
    ['bgpconfig', 'BGPConfiguration'],
    ['bgppeer', 'BGPPeer'],
    ['wep', 'WorkloadEndpoint'],
    ['hep', 'HostEndpoint'],
    ['ipamconfig', 'IPAMConfiguration'],
    ['felixconfig', 'FelixConfiguration'],
    ['nodes', 'Node'],
    ['profile', 'Profile'],
  ])('%s → %s', (name, kind) => {
    expect(lookupKind(name)?.kind).toBe(kind);
  });

  test('unknown names', () => {
    expect(lookupKind('tier')).toBeUndefined();
    expect(lookupKind('')).toBeUndefined();
    expect(lookupKind('constructor')).toBeUndefined();
  });
});
