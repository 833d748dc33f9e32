// The resource kinds margay stores, with the names the command line accepts for them.

export type Kind =
  | 'IPPool'
  | 'BGPConfiguration'
  | 'BGPPeer'
  | 'Node'
  | 'FelixConfiguration'
  | 'NetworkPolicy'
  | 'GlobalNetworkPolicy'
  | 'HostEndpoint'
  | 'WorkloadEndpoint'
  | 'Profile'
  | 'IPAMConfiguration';

export interface KindInfo {
  kind: Kind;
  /** Lower-case plural, used in etcd keys. */
  plural: string;
  namespaced: boolean;
  /** Lower-case names accepted on the command line (kind, plural and short forms). */
  aliases: string[];
}

function info(kind: Kind, plural: string, namespaced: boolean, shortNames: string[]): KindInfo {
  return { kind, plural, namespaced, aliases: [kind.toLowerCase(), plural, ...shortNames] };
}

export const KINDS: readonly KindInfo[] = [
  info('IPPool', 'ippools', false, ['pool', 'pools']),
  info('BGPConfiguration', 'bgpconfigurations', false, ['bgpconfig', 'bgpconfigs']),
  info('BGPPeer', 'bgppeers', false, ['peer', 'peers']),
  info('Node', 'nodes', false, ['no']),
  info('FelixConfiguration', 'felixconfigurations', false, ['felixconfig', 'felixconfigs']),
  info('NetworkPolicy', 'networkpolicies', true, ['netpol', 'netpols', 'policy', 'policies', 'pol', 'np']),
  info('GlobalNetworkPolicy', 'globalnetworkpolicies', false, [
    'gnp',
    'gnps',
    'globalpolicy',
    'globalpolicies',
  ]),
  info('HostEndpoint', 'hostendpoints', false, ['hep', 'heps']),
  info('WorkloadEndpoint', 'workloadendpoints', true, ['wep', 'weps']),
  info('Profile', 'profiles', false, ['pro', 'pros']),
  info('IPAMConfiguration', 'ipamconfigurations', false, ['ipamconfig', 'ipamconfigs']),
];

const BY_KIND = new Map(KINDS.map((k) => [k.kind, k]));
const BY_NAME = new Map(KINDS.flatMap((k) => k.aliases.map((alias) => [alias, k] as const)));

export function kindInfo(kind: Kind): KindInfo {
  const found = BY_KIND.get(kind);
  if (!found) throw new Error(`unknown kind ${JSON.stringify(kind)}`);
  return found;
}

/** Finds a kind by its name, plural or alias, ignoring case. */
export function lookupKind(name: string): KindInfo | undefined {
  return BY_NAME.get(name.toLowerCase());
}
