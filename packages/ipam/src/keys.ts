// etcd key layout of IPAM state, Calico's v2 model under margay's root. CIDRs in keys have their
// `/` replaced by `-`, so that a key stays one path segment per CIDR.
//
//   /margay/ipam/v2/assignment/ipv4/block/10.0.0.0-26      AllocationBlock
//   /margay/ipam/v2/host/<node>/ipv4/block/10.0.0.0-26      block affinity
//   /margay/ipam/v2/handle/<handle>                          handle → blocks it holds addresses in
//
// The configuration is the IPAMConfiguration resource `default`, the one margayctl applies.

import { IPAM_CONFIGURATION_NAME, resourceKey } from '@margay/api';
import { type Family, parseCidr } from './ip';

const ROOT = '/margay/ipam/v2/';

function familySegment(cidr: string): string {
  return cidr.includes(':') ? 'ipv6' : 'ipv4';
}

function cidrSegment(cidr: string): string {
  return cidr.replace('/', '-');
}

export const ipamKeys = {
  root: ROOT,
  /** Prefix of every block, or of the blocks of one family. */
  blocks: (family?: Family): string =>
    family === undefined ? `${ROOT}assignment/` : `${ROOT}assignment/ipv${family}/block/`,
  block: (cidr: string): string => `${ROOT}assignment/${familySegment(cidr)}/block/${cidrSegment(cidr)}`,
  /** Prefix of every node's affinities. */
  hosts: `${ROOT}host/`,
  /** Prefix of a node's affinities, or of those of one family. */
  affinities: (node: string, family?: Family): string =>
    family === undefined ? `${ROOT}host/${node}/` : `${ROOT}host/${node}/ipv${family}/block/`,
  affinity: (node: string, cidr: string): string =>
    `${ROOT}host/${node}/${familySegment(cidr)}/block/${cidrSegment(cidr)}`,
  handles: `${ROOT}handle/`,
  handle: (id: string): string => `${ROOT}handle/${id}`,
  config: resourceKey('IPAMConfiguration', IPAM_CONFIGURATION_NAME),
};

/** The CIDR a block or affinity key names, e.g. `10.0.0.0/26`. */
export function cidrOfKey(key: string): string {
  const segment = key.slice(key.lastIndexOf('/') + 1);
  const dash = segment.lastIndexOf('-');
  const cidr = `${segment.slice(0, dash)}/${segment.slice(dash + 1)}`;
  parseCidr(cidr); // a malformed key fails here, naming the CIDR
  return cidr;
}

/** The node an affinity key belongs to. */
export function nodeOfAffinityKey(key: string): string {
  return key.slice(ipamKeys.hosts.length).split('/', 1)[0]!;
}
