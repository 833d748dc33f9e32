// Who the table exchanges routes with: the local speaker and its peers, and the policies that
// decide what crosses between them.

import { Afi, type Family, Safi } from '../packet/constants';
import { parseIpv4, parseIpv6 } from '../packet/ip';
import type { PathAttributes } from '../packet/path-attributes';

/** What a policy predicate sees of one route. */
export interface PolicyRoute {
  /** "10.0.0.0/24" or "2001:db8::/32". */
  readonly prefix: string;
  readonly attributes: PathAttributes;
  /** The peer the route was learned from (index 0: originated locally). */
  readonly from: number;
}

/** 'all', 'none', or a predicate deciding route by route. */
export type Policy = 'all' | 'none' | ((route: PolicyRoute) => boolean);

export interface PeerConfig {
  /** 1 and up; 0 is the local pseudo-peer that originates routes. */
  readonly index: number;
  /** The peer's IP address, the last tie-breaker of best-path selection. */
  readonly address: string;
  readonly asn: number;
  /** BGP identifier as uint32. */
  readonly routerId: number;
  readonly routeReflectorClient?: boolean;
  /** Default (RFC 8212): 'all' for iBGP peers, 'none' for eBGP peers. */
  readonly importPolicy?: Policy;
  /** Default (RFC 8212): 'all' for iBGP peers, 'none' for eBGP peers. */
  readonly exportPolicy?: Policy;
  /** Advertise our own address as next hop to this iBGP peer (always done for eBGP). */
  readonly nextHopSelf?: boolean;
  /** Default: IPv4 unicast. */
  readonly families?: readonly Family[];
  /** Negotiated four-octet AS support (RFC 6793). Default true. */
  readonly fourOctetAs?: boolean;
  /** Negotiated extended messages (RFC 8654). Default false. */
  readonly extendedMessages?: boolean;
}

export interface Peer {
  readonly index: number;
  readonly address: string;
  /** Fixed-width hex of the address, so lower addresses compare lower as strings. */
  readonly addressOrder: string;
  readonly asn: number;
  readonly routerId: number;
  readonly ibgp: boolean;
  readonly routeReflectorClient: boolean;
  readonly importPolicy: Policy;
  readonly exportPolicy: Policy;
  readonly nextHopSelf: boolean;
  readonly ipv4: boolean;
  readonly ipv6: boolean;
  readonly fourOctetAs: boolean;
  readonly extendedMessages: boolean;
}

export interface LocalConfig {
  readonly asn: number;
  /** BGP identifier as uint32. */
  readonly routerId: number;
  /** Route reflector cluster id (RFC 4456). Default: the router id. */
  readonly clusterId?: number;
  /** Our IPv4 address: the next hop of next-hop-self and of originated routes. */
  readonly nextHopIpv4: string;
  /** Our IPv6 address for MP_REACH_NLRI next hops; needed to export IPv6 with next-hop-self. */
  readonly nextHopIpv6?: string;
  /** Compare MED between paths from different neighbouring ASes too. Default false. */
  readonly alwaysCompareMed?: boolean;
  /** IGP cost to an IPv4 next hop, when known; unknown costs do not decide. */
  readonly igpCost?: (nextHop: number) => number | undefined;
}

export const LOCAL_PEER = 0;
/** Peer indexes share a safe integer with an attribute set id (see rib.ts). */
export const MAX_PEER_INDEX = 0x1fffff;

const MAX_ASN = 0xffffffff;

function checkUint32(where: string, name: string, value: number, min = 0): void {
  if (!Number.isInteger(value) || value < min || value > MAX_ASN) {
    throw new Error(`${where}: ${name} must be an integer in ${min}..${MAX_ASN}, got ${value}`);
  }
}

export function addressOrder(address: string): string {
  const words = address.includes(':') ? parseIpv6(address) : [parseIpv4(address)];
  return Array.from(words, (w) => w.toString(16).padStart(8, '0')).join('');
}

/** Validates a peer configuration and fills in defaults; throws naming the bad field. */
export function makePeer(config: PeerConfig, local: LocalConfig): Peer {
  const where = `peer ${config.index} (${config.address})`;
  if (!Number.isInteger(config.index) || config.index < 1 || config.index > MAX_PEER_INDEX) {
    throw new Error(`${where}: index must be an integer in 1..${MAX_PEER_INDEX}`);
  }
  checkUint32(where, 'asn', config.asn, 1);
  checkUint32(where, 'routerId', config.routerId, 1);
  if (!isAddress(addressOrder, config.address)) throw new Error(`${where}: address is not an IP address`);
  const ibgp = config.asn === local.asn;
  if (config.routeReflectorClient && !ibgp) {
    throw new Error(`${where}: a route reflector client must be an iBGP peer (AS ${local.asn})`);
  }
  const families = config.families ?? [{ afi: Afi.Ipv4, safi: Safi.Unicast }];
  for (const f of families) {
    if (f.safi !== Safi.Unicast || (f.afi !== Afi.Ipv4 && f.afi !== Afi.Ipv6)) {
      throw new Error(`${where}: family ${f.afi}/${f.safi} is not IPv4 or IPv6 unicast`);
    }
  }
  const defaultPolicy: Policy = ibgp ? 'all' : 'none';
  return {
    index: config.index,
    address: config.address,
    addressOrder: addressOrder(config.address),
    asn: config.asn,
    routerId: config.routerId,
    ibgp,
    routeReflectorClient: config.routeReflectorClient ?? false,
    importPolicy: config.importPolicy ?? defaultPolicy,
    exportPolicy: config.exportPolicy ?? defaultPolicy,
    nextHopSelf: config.nextHopSelf ?? false,
    ipv4: families.some((f) => f.afi === Afi.Ipv4),
    ipv6: families.some((f) => f.afi === Afi.Ipv6),
    fourOctetAs: config.fourOctetAs ?? true,
    extendedMessages: config.extendedMessages ?? false,
  };
}

/** The local speaker as the pseudo-peer its originated routes come from. */
export function localPeer(local: LocalConfig): Peer {
  const where = 'local speaker';
  checkUint32(where, 'asn', local.asn, 1);
  checkUint32(where, 'routerId', local.routerId, 1);
  if (local.clusterId !== undefined) checkUint32(where, 'clusterId', local.clusterId, 1);
  if (!isAddress(parseIpv4, local.nextHopIpv4))
    throw new Error(`${where}: nextHopIpv4 is not an IPv4 address`);
  if (local.nextHopIpv6 !== undefined && !isAddress(parseIpv6, local.nextHopIpv6)) {
    throw new Error(`${where}: nextHopIpv6 is not an IPv6 address`);
  }
  return {
    index: LOCAL_PEER,
    address: local.nextHopIpv4,
    addressOrder: addressOrder(local.nextHopIpv4),
    asn: local.asn,
    routerId: local.routerId,
    ibgp: true,
    routeReflectorClient: false,
    importPolicy: 'all',
    exportPolicy: 'all',
    nextHopSelf: true,
    ipv4: true,
    ipv6: true,
    fourOctetAs: true,
    extendedMessages: false,
  };
}

function isAddress(parse: (text: string) => unknown, text: string): boolean {
  try {
    parse(text);
    return true;
  } catch {
    return false;
  }
}
