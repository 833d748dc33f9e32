// Decoded path attributes and the canonical attribute encoding shared by the UPDATE decoder
// and the attribute builder.
//
// Canonical form, the key the table interns attribute sets by: every attribute except
// MP_REACH_NLRI / MP_UNREACH_NLRI, in ascending type order, AS numbers in four octets (the
// RFC 6793 merge already applied, so no AS4_PATH / AS4_AGGREGATOR), the Attribute Flags of
// the attribute's definition (plus Partial where it may be set; always set on unrecognised
// transitive attributes, as they will be re-advertised), and the Extended Length bit exactly
// when the value exceeds 255 octets. Two UPDATEs carrying the same attributes yield the same
// bytes whatever order or length encoding the peer used.

import type { AsPath } from './as-path';
import { AttrFlag, AttrType, type Origin } from './constants';

export interface Aggregator {
  readonly asn: number;
  /** IPv4 address as uint32. */
  readonly address: number;
}

export interface PathAttributes {
  /** Canonical encoding (see above). A fresh buffer: safe to keep as an intern key. */
  readonly canonical: Buffer;
  readonly origin: Origin;
  readonly asPath: AsPath;
  /** NEXT_HOP (uint32) for the IPv4 NLRI field; null when that field is empty. */
  readonly nextHop: number | null;
  /** Next hop of MP_REACH_NLRI: 4 octets (IPv4), 16 or 32 (IPv6 global, then link-local). Not part of `canonical`. */
  readonly mpNextHop: Buffer | null;
  readonly med: number | null;
  readonly localPref: number | null;
  readonly atomicAggregate: boolean;
  readonly aggregator: Aggregator | null;
  /** RFC 1997 communities, each (AS << 16 | value) as uint32. */
  readonly communities: Uint32Array | null;
  readonly originatorId: number | null;
  readonly clusterList: Uint32Array | null;
  /**
   * Optional transitive attributes the codec carries without decoding (extended and large
   * communities, unrecognised ones with Partial set), canonically encoded, to pass on.
   */
  readonly otherTransitive: Buffer | null;
}

const WELL_KNOWN = AttrFlag.Transitive;
const OPTIONAL_NON_TRANSITIVE = AttrFlag.Optional;
const OPTIONAL_TRANSITIVE = AttrFlag.Optional | AttrFlag.Transitive;

/** Optional and Transitive bits each attribute is defined with (RFC 4271 §5 and the attribute's RFC). */
export const DEFINED_FLAGS: Readonly<Record<number, number>> = {
  [AttrType.Origin]: WELL_KNOWN,
  [AttrType.AsPath]: WELL_KNOWN,
  [AttrType.NextHop]: WELL_KNOWN,
  [AttrType.MultiExitDisc]: OPTIONAL_NON_TRANSITIVE,
  [AttrType.LocalPref]: WELL_KNOWN,
  [AttrType.AtomicAggregate]: WELL_KNOWN,
  [AttrType.Aggregator]: OPTIONAL_TRANSITIVE,
  [AttrType.Communities]: OPTIONAL_TRANSITIVE,
  [AttrType.OriginatorId]: OPTIONAL_NON_TRANSITIVE,
  [AttrType.ClusterList]: OPTIONAL_NON_TRANSITIVE,
  [AttrType.MpReachNlri]: OPTIONAL_NON_TRANSITIVE,
  [AttrType.MpUnreachNlri]: OPTIONAL_NON_TRANSITIVE,
  [AttrType.ExtendedCommunities]: OPTIONAL_TRANSITIVE,
  [AttrType.As4Path]: OPTIONAL_TRANSITIVE,
  [AttrType.As4Aggregator]: OPTIONAL_TRANSITIVE,
  [AttrType.LargeCommunities]: OPTIONAL_TRANSITIVE,
};

/** Flags of an attribute in canonical form; `receivedFlags` only contributes its Partial bit. */
export function canonicalFlags(type: number, receivedFlags: number, valueLength: number): number {
  const defined = DEFINED_FLAGS[type];
  let flags: number;
  if (defined === undefined) flags = OPTIONAL_TRANSITIVE | AttrFlag.Partial;
  else if (defined === OPTIONAL_TRANSITIVE) flags = defined | (receivedFlags & AttrFlag.Partial);
  else flags = defined;
  return valueLength > 255 ? flags | AttrFlag.ExtendedLength : flags;
}

export function attributeSize(valueLength: number): number {
  return (valueLength > 255 ? 4 : 3) + valueLength;
}

/** Writes an attribute header (length field sized by the flags' Extended Length bit); returns the value offset. */
export function writeAttributeHeader(
  buf: Buffer,
  offset: number,
  flags: number,
  type: number,
  valueLength: number,
): number {
  buf[offset] = flags;
  buf[offset + 1] = type;
  if (flags & AttrFlag.ExtendedLength) return buf.writeUInt16BE(valueLength, offset + 2);
  buf[offset + 2] = valueLength;
  return offset + 3;
}
