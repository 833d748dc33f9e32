// UPDATE encoding: packs as many prefixes per message as the negotiated size allows, and
// writes all the messages of one call back to back into a single buffer (one allocation, one
// socket write). IPv4 uses the classic fields; IPv6 goes in MP_REACH_NLRI / MP_UNREACH_NLRI,
// placed first among the attributes as RFC 7606 §5.1 asks.

import { Afi, AttrFlag, AttrType, type Family, HEADER_LENGTH, MessageType } from './constants';
import { writeHeader } from './header';
import { encodedPrefixSize, type PrefixList, writePrefix } from './prefixes';
import { maxUpdateLength, type SessionContext } from './session';

export interface Announcement {
  /** Attribute bytes for this session (see buildAttributes); for IPv4 they carry NEXT_HOP. */
  readonly attributes: Buffer;
  readonly prefixes: PrefixList;
  /** For IPv6: the MP_REACH_NLRI next hop, 16 octets (global) or 32 (global, then link-local). */
  readonly mpNextHop?: Buffer;
}

/** UPDATE header, Withdrawn Routes Length and Total Path Attribute Length. */
const UPDATE_OVERHEAD = HEADER_LENGTH + 4;
/** Flags, type and two-octet length: MP attributes always use the extended length form. */
const MP_ATTRIBUTE_HEADER = 4;
const MP_FLAGS = AttrFlag.Optional | AttrFlag.ExtendedLength;

/** Encodes announcements as few UPDATEs as fit; returns them concatenated (empty for no prefixes). */
export function encodeAnnouncements(announcement: Announcement, ctx: SessionContext): Buffer {
  const { attributes, prefixes, mpNextHop } = announcement;
  if (prefixes.afi === Afi.Ipv4) {
    const fixed = UPDATE_OVERHEAD + attributes.length;
    return packUpdates(prefixes, fixed, ctx, (buf, o) => {
      o = buf.writeUInt16BE(0, o);
      o = buf.writeUInt16BE(attributes.length, o);
      return o + attributes.copy(buf, o);
    });
  }
  if (!mpNextHop || (mpNextHop.length !== 16 && mpNextHop.length !== 32)) {
    throw new Error(
      `an IPv6 announcement needs a 16- or 32-octet next hop, got ${mpNextHop?.length ?? 'none'}`,
    );
  }
  const mpFixed = MP_ATTRIBUTE_HEADER + 5 + mpNextHop.length;
  const fixed = UPDATE_OVERHEAD + mpFixed + attributes.length;
  return packUpdates(prefixes, fixed, ctx, (buf, o, nlriSize) => {
    o = buf.writeUInt16BE(0, o);
    o = buf.writeUInt16BE(mpFixed + nlriSize + attributes.length, o);
    // The other attributes follow the NLRI, which sit at the end of MP_REACH_NLRI.
    attributes.copy(buf, o + mpFixed + nlriSize);
    o = writeMpHeader(buf, o, AttrType.MpReachNlri, 5 + mpNextHop.length + nlriSize, prefixes.afi);
    buf[o++] = mpNextHop.length;
    o += mpNextHop.copy(buf, o);
    buf[o++] = 0; // reserved
    return o;
  });
}

/** Encodes withdrawals as few UPDATEs as fit; returns them concatenated (empty for no prefixes). */
export function encodeWithdrawals(prefixes: PrefixList, ctx: SessionContext): Buffer {
  if (prefixes.afi === Afi.Ipv4) {
    return packUpdates(
      prefixes,
      UPDATE_OVERHEAD,
      ctx,
      (buf, o, nlriSize) => buf.writeUInt16BE(nlriSize, o),
      (buf, o) => buf.writeUInt16BE(0, o),
    );
  }
  const mpFixed = MP_ATTRIBUTE_HEADER + 3;
  return packUpdates(prefixes, UPDATE_OVERHEAD + mpFixed, ctx, (buf, o, nlriSize) => {
    o = buf.writeUInt16BE(0, o);
    o = buf.writeUInt16BE(mpFixed + nlriSize, o);
    return writeMpHeader(buf, o, AttrType.MpUnreachNlri, 3 + nlriSize, prefixes.afi);
  });
}

/** RFC 4724 §2: an empty UPDATE for IPv4 unicast, an empty MP_UNREACH_NLRI for other families. */
export function encodeEndOfRib(family: Family): Buffer {
  const ipv4Unicast = family.afi === Afi.Ipv4 && family.safi === 1;
  const attributesLength = ipv4Unicast ? 0 : 6;
  const msg = Buffer.alloc(UPDATE_OVERHEAD + attributesLength);
  writeHeader(msg, 0, msg.length, MessageType.Update);
  if (!ipv4Unicast) {
    let o = msg.writeUInt16BE(attributesLength, HEADER_LENGTH + 2);
    msg[o++] = AttrFlag.Optional;
    msg[o++] = AttrType.MpUnreachNlri;
    msg[o++] = 3;
    o = msg.writeUInt16BE(family.afi, o);
    msg[o] = family.safi;
  }
  return msg;
}

function writeMpHeader(buf: Buffer, o: number, type: number, valueLength: number, afi: Afi): number {
  buf[o++] = MP_FLAGS;
  buf[o++] = type;
  o = buf.writeUInt16BE(valueLength, o);
  o = buf.writeUInt16BE(afi, o);
  buf[o++] = 1; // SAFI unicast
  return o;
}

type WriteFields = (buf: Buffer, offset: number, nlriSize: number) => number;

/**
 * Splits `prefixes` into messages of at most the session's size (each `fixed` octets plus its
 * prefixes), then writes every message: header, `before` (returns where the prefixes go), the
 * prefixes, then `after`.
 */
function packUpdates(
  prefixes: PrefixList,
  fixed: number,
  ctx: SessionContext,
  before: WriteFields,
  after?: (buf: Buffer, offset: number) => number,
): Buffer {
  const count = prefixes.lengths.length;
  const room = maxUpdateLength(ctx) - fixed;
  const ends: number[] = [];
  const sizes: number[] = [];
  let size = 0;
  for (let n = 0; n < count; n++) {
    const prefixSize = encodedPrefixSize(prefixes.lengths[n]!);
    if (prefixSize > room) {
      throw new Error(
        `${fixed} octets of UPDATE fields leave no room for a prefix in a ${maxUpdateLength(ctx)}-octet message`,
      );
    }
    if (size + prefixSize > room) {
      ends.push(n);
      sizes.push(size);
      size = 0;
    }
    size += prefixSize;
  }
  if (size > 0) {
    ends.push(count);
    sizes.push(size);
  }
  const out = Buffer.allocUnsafe(ends.length * fixed + sizes.reduce((a, b) => a + b, 0));
  let o = 0;
  let n = 0;
  ends.forEach((end, m) => {
    const start = o;
    const nlriSize = sizes[m]!;
    writeHeader(out, start, fixed + nlriSize, MessageType.Update);
    o = before(out, start + HEADER_LENGTH, nlriSize);
    for (; n < end; n++) o = writePrefix(out, o, prefixes, n);
    if (after) o = after(out, o);
    o = start + fixed + nlriSize;
  });
  return out;
}

/**
 * IPv4 announcements of several attribute sets, packed as encodeAnnouncements packs one, all
 * written into one buffer: `attributes[i]` goes with the prefixes from `ends[i - 1]` (0 for
 * the first) up to `ends[i]` of `words` and `lengths` (a PrefixList's arrays). A batch with
 * thousands of attribute sets then makes one allocation, not a list and a buffer per set and
 * a copy to join them.
 */
export function encodeIpv4Announcements(
  attributes: readonly Buffer[],
  words: Uint32Array,
  lengths: Uint8Array,
  ends: readonly number[],
  ctx: SessionContext,
): Buffer {
  const max = maxUpdateLength(ctx);
  const list: PrefixList = { afi: Afi.Ipv4, words, lengths };
  let total = 0;
  let first = 0;
  for (let a = 0; a < attributes.length; a++) {
    const fixed = UPDATE_OVERHEAD + attributes[a]!.length;
    const room = max - fixed;
    const end = ends[a]!;
    let size = 0;
    for (let n = first; n < end; n++) {
      const prefixSize = encodedPrefixSize(lengths[n]!);
      if (prefixSize > room) {
        throw new Error(
          `${fixed} octets of UPDATE fields leave no room for a prefix in a ${max}-octet message`,
        );
      }
      if (size + prefixSize > room) {
        total += fixed + size;
        size = 0;
      }
      size += prefixSize;
    }
    if (size > 0) total += fixed + size;
    first = end;
  }
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  first = 0;
  for (let a = 0; a < attributes.length; a++) {
    const attrs = attributes[a]!;
    const fixed = UPDATE_OVERHEAD + attrs.length;
    const room = max - fixed;
    const end = ends[a]!;
    // Prefixes go after the fixed part; the header and fields are written once a message is full.
    let start = o;
    let p = start + fixed;
    for (let n = first; n < end; n++) {
      if (p - start - fixed + encodedPrefixSize(lengths[n]!) > room) {
        writeIpv4Fields(out, start, attrs, p - start);
        start = p;
        p = start + fixed;
      }
      p = writePrefix(out, p, list, n);
    }
    if (p > start + fixed) {
      writeIpv4Fields(out, start, attrs, p - start);
      o = p;
    }
    first = end;
  }
  return out;
}

/** The header and fields before the NLRI of an IPv4 announcement `length` octets long at `start`. */
function writeIpv4Fields(out: Buffer, start: number, attributes: Buffer, length: number): void {
  writeHeader(out, start, length, MessageType.Update);
  let o = out.writeUInt16BE(0, start + HEADER_LENGTH);
  o = out.writeUInt16BE(attributes.length, o);
  attributes.copy(out, o);
}
