// Builds the path attribute bytes of an UPDATE from their values: for routes margay
// originates, and for re-advertising decoded attributes after export changes (prepend, next
// hop self). The output is what goes on the wire to a session of the given kind: canonical
// form (see path-attributes.ts) on four-octet AS sessions, RFC 6793 §4.2.2 form otherwise.

import { type AsPath, as4PathFor, asPathValueSize, EMPTY_AS_PATH, writeAsPath } from './as-path';
import { AS_TRANS, AttrFlag, AttrType, attrTypeName, Origin } from './constants';
import {
  type Aggregator,
  attributeSize,
  canonicalFlags,
  DEFINED_FLAGS,
  writeAttributeHeader,
} from './path-attributes';
import type { SessionContext } from './session';

export interface AttributeSetSpec {
  readonly origin: Origin;
  /** Made with asSequence / asPathFromSegments / prependAs. Default: the empty path (a route originated into iBGP). */
  readonly asPath?: AsPath;
  /** IPv4 NEXT_HOP as uint32, for routes in the IPv4 NLRI field; omit for MP_REACH_NLRI routes. */
  readonly nextHop?: number | null;
  readonly med?: number | null;
  readonly localPref?: number | null;
  readonly atomicAggregate?: boolean;
  readonly aggregator?: Aggregator | null;
  readonly communities?: ArrayLike<number> | null;
  readonly originatorId?: number | null;
  readonly clusterList?: ArrayLike<number> | null;
  /** Encoded optional transitive attributes to pass on unchanged (PathAttributes.otherTransitive). */
  readonly otherTransitive?: Buffer | null;
}

interface Part {
  readonly type: number;
  readonly flags: number;
  readonly value: Buffer;
}

/**
 * Encodes an attribute set for a session. LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST are left
 * out on eBGP sessions (RFC 4271 §5.1.5, RFC 4456 §8), so one spec serves both kinds of peer.
 * Throws when a value is out of range.
 */
export function buildAttributes(
  spec: AttributeSetSpec,
  ctx: Pick<SessionContext, 'fourOctetAs' | 'ibgp'>,
): Buffer {
  const parts: Part[] = [];
  const add = (type: number, value: Buffer, receivedFlags = 0): void => {
    parts.push({ type, flags: canonicalFlags(type, receivedFlags, value.length), value });
  };

  if (spec.origin !== Origin.Igp && spec.origin !== Origin.Egp && spec.origin !== Origin.Incomplete) {
    throw new Error(`origin ${spec.origin} is not 0, 1 or 2`);
  }
  add(AttrType.Origin, Buffer.of(spec.origin));

  const asPath = spec.asPath ?? EMPTY_AS_PATH;
  const asSize = ctx.fourOctetAs ? 4 : 2;
  const asPathValue = Buffer.allocUnsafe(asPathValueSize(asPath, asSize));
  writeAsPath(asPathValue, 0, asPath, asSize);
  add(AttrType.AsPath, asPathValue);
  const as4Path = ctx.fourOctetAs ? null : as4PathFor(asPath);
  if (as4Path) {
    const value = Buffer.allocUnsafe(asPathValueSize(as4Path, 4));
    writeAsPath(value, 0, as4Path, 4);
    add(AttrType.As4Path, value);
  }

  if (spec.nextHop != null) add(AttrType.NextHop, word('nextHop', spec.nextHop));
  if (spec.med != null) add(AttrType.MultiExitDisc, word('med', spec.med));
  if (spec.localPref != null && ctx.ibgp) add(AttrType.LocalPref, word('localPref', spec.localPref));
  if (spec.atomicAggregate) add(AttrType.AtomicAggregate, Buffer.alloc(0));
  if (spec.aggregator) {
    const asn = word('aggregator.asn', spec.aggregator.asn);
    const address = word('aggregator.address', spec.aggregator.address);
    if (ctx.fourOctetAs) {
      add(AttrType.Aggregator, Buffer.concat([asn, address]));
    } else {
      // RFC 6793 §4.2.2: a wide AS becomes AS_TRANS, and travels in AS4_AGGREGATOR.
      const wide = spec.aggregator.asn > 0xffff;
      add(AttrType.Aggregator, Buffer.concat([wide ? AS_TRANS_OCTETS : asn.subarray(2), address]));
      if (wide) add(AttrType.As4Aggregator, Buffer.concat([asn, address]));
    }
  }
  if (spec.communities && spec.communities.length > 0)
    add(AttrType.Communities, words('communities', spec.communities));
  if (spec.originatorId != null && ctx.ibgp)
    add(AttrType.OriginatorId, word('originatorId', spec.originatorId));
  if (spec.clusterList && spec.clusterList.length > 0 && ctx.ibgp) {
    add(AttrType.ClusterList, words('clusterList', spec.clusterList));
  }
  if (spec.otherTransitive) {
    for (const part of splitAttributes(spec.otherTransitive)) add(part.type, part.value, part.flags);
  }

  parts.sort((a, b) => a.type - b.type);
  const out = Buffer.allocUnsafe(parts.reduce((sum, p) => sum + attributeSize(p.value.length), 0));
  let o = 0;
  for (const { type, flags, value } of parts) {
    o = writeAttributeHeader(out, o, flags, type, value.length);
    o += value.copy(out, o);
  }
  return out;
}

const AS_TRANS_OCTETS = Buffer.of(AS_TRANS >> 8, AS_TRANS & 0xff);

function word(name: string, value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Error(`${name} must be an integer in 0..4294967295, got ${value}`);
  }
  const buf = Buffer.allocUnsafe(4);
  buf.writeUInt32BE(value, 0);
  return buf;
}

function words(name: string, values: ArrayLike<number>): Buffer {
  const buf = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new Error(`${name}[${i}] must be an integer in 0..4294967295, got ${value}`);
    }
    buf.writeUInt32BE(value, i * 4);
  }
  return buf;
}

/** Splits pass-through attribute bytes; only optional transitive attributes the codec does not decode are accepted. */
function splitAttributes(bytes: Buffer): Part[] {
  const parts: Part[] = [];
  for (let i = 0; i < bytes.length; ) {
    const flags = bytes[i]!;
    const headerSize = flags & AttrFlag.ExtendedLength ? 4 : 3;
    if (i + headerSize > bytes.length)
      throw new Error(`otherTransitive: truncated attribute header at octet ${i}`);
    const type = bytes[i + 1]!;
    const length = headerSize === 4 ? bytes.readUInt16BE(i + 2) : bytes[i + 2]!;
    if (i + headerSize + length > bytes.length) {
      throw new Error(`otherTransitive: ${attrTypeName(type)} at octet ${i} runs past the end`);
    }
    const passThrough =
      type === AttrType.ExtendedCommunities ||
      type === AttrType.LargeCommunities ||
      DEFINED_FLAGS[type] === undefined;
    const optionalTransitive = (flags & AttrFlag.Optional) !== 0 && (flags & AttrFlag.Transitive) !== 0;
    if (!passThrough || !optionalTransitive) {
      throw new Error(
        `otherTransitive: ${attrTypeName(type)} at octet ${i} is not an attribute to pass through`,
      );
    }
    if (parts.some((p) => p.type === type))
      throw new Error(`otherTransitive: ${attrTypeName(type)} appears twice`);
    parts.push({ type, flags, value: bytes.subarray(i + headerSize, i + headerSize + length) });
    i += headerSize + length;
  }
  return parts;
}
