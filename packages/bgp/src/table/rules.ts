// The fixed import and export rules of RFC 4271, RFC 4456 (route reflection) and RFC 1997
// (well-known communities). Configured policy (Peer.importPolicy / exportPolicy) applies on
// top of these, route by route, in the RIB.

import { asPathContains, prependAs } from '../packet/as-path';
import type { AttributeSetSpec } from '../packet/attribute-builder';
import type { PathAttributes } from '../packet/path-attributes';
import { DEFAULT_LOCAL_PREF } from './decision';
import { LOCAL_PEER, type Peer } from './peer';

export const NO_EXPORT = 0xffffff01;
export const NO_ADVERTISE = 0xffffff02;
export const NO_EXPORT_SUBCONFED = 0xffffff03;

/** The local facts the rules need. */
export interface Speaker {
  readonly asn: number;
  readonly routerId: number;
  readonly clusterId: number;
  readonly nextHopIpv4: number;
  /** 16 octets, or null when no IPv6 address is configured. */
  readonly nextHopIpv6: Buffer | null;
}

/** Why a received path must be rejected, or null to accept it. */
export function importRejection(attributes: PathAttributes, speaker: Speaker): string | null {
  if (asPathContains(attributes.asPath, speaker.asn)) return `AS path contains our AS ${speaker.asn}`;
  if (attributes.originatorId === speaker.routerId) return 'ORIGINATOR_ID is our router id';
  if (attributes.clusterList?.includes(speaker.clusterId)) return 'CLUSTER_LIST contains our cluster id';
  return null;
}

/**
 * Whether the best path, learned from `source`, may be advertised to peers like `target`,
 * before export policy: well-known communities, iBGP split horizon and route reflection.
 * (Never sending a path back to the peer it came from is the update group's job.)
 */
export function mayExport(attributes: PathAttributes, source: Peer, target: Peer): boolean {
  const communities = attributes.communities;
  if (communities) {
    if (communities.includes(NO_ADVERTISE)) return false;
    if (!target.ibgp && (communities.includes(NO_EXPORT) || communities.includes(NO_EXPORT_SUBCONFED))) {
      return false;
    }
  }
  if (source.index === LOCAL_PEER || !source.ibgp || !target.ibgp) return true;
  // iBGP to iBGP: only by reflection. A client's routes go to everyone, a non-client's to clients.
  return source.routeReflectorClient || target.routeReflectorClient;
}

export interface ExportedAttributes {
  /** Path attribute bytes for the target's sessions. */
  readonly attributes: Buffer;
  /** MP_REACH_NLRI next hop, for IPv6 paths. */
  readonly mpNextHop: Buffer | undefined;
}

/**
 * The attributes a path from `source` is advertised with to peers like `target`, or null
 * when it cannot be (an IPv6 path needing our next hop while no IPv6 address is configured).
 */
export function exportSpec(
  attributes: PathAttributes,
  source: Peer,
  target: Peer,
  speaker: Speaker,
): { spec: AttributeSetSpec; mpNextHop: Buffer | undefined } | null {
  const local = source.index === LOCAL_PEER;
  const ebgp = !target.ibgp;
  const nextHopSelf = ebgp || local || target.nextHopSelf;
  const reflected = !local && source.ibgp && target.ibgp;
  let mpNextHop: Buffer | undefined;
  if (attributes.mpNextHop) {
    // A link-local next hop (after the global one) means something only on the link it came from:
    // passed on unchanged, only the global address goes (RFC 2545 §3).
    mpNextHop = nextHopSelf ? (speaker.nextHopIpv6 ?? undefined) : attributes.mpNextHop.subarray(0, 16);
    if (!mpNextHop) return null;
  }
  const spec: AttributeSetSpec = {
    origin: attributes.origin,
    asPath: ebgp ? prependAs(attributes.asPath, speaker.asn) : attributes.asPath,
    nextHop: attributes.nextHop === null ? null : nextHopSelf ? speaker.nextHopIpv4 : attributes.nextHop,
    // MED is for the neighbouring AS only: ours goes out, one learned from elsewhere does not go on to another AS.
    med: ebgp && !local ? null : attributes.med,
    localPref: ebgp ? null : (attributes.localPref ?? DEFAULT_LOCAL_PREF),
    atomicAggregate: attributes.atomicAggregate,
    aggregator: attributes.aggregator,
    communities: attributes.communities,
    originatorId: reflected ? (attributes.originatorId ?? source.routerId) : null,
    clusterList: reflected ? [speaker.clusterId, ...(attributes.clusterList ?? [])] : null,
    otherTransitive: attributes.otherTransitive,
  };
  return { spec, mpNextHop };
}
