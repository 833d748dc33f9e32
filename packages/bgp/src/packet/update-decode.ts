// UPDATE decoding, the receive hot path, with the error handling of RFC 7606.
//
// Every problem found is classified as RFC 7606 §2 prescribes: attribute discard,
// treat-as-withdraw, AFI/SAFI disable or session reset, each with the NOTIFICATION RFC 4271
// §6.3 names for it. The strongest one decides (§3 h). Nothing here throws on input bytes,
// and when the decision is treat-as-withdraw or stronger no prefix is returned as announced:
// everything the message carried comes back as a withdrawal.

import { type AsPath, asPathValueSize, mergeAs4Path, readAsPath, scanAsPath, writeAsPath } from './as-path';
import {
  Afi,
  AS_TRANS,
  AttrFlag,
  AttrType,
  attrTypeName,
  ErrorCode,
  type Family,
  familyName,
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  type Origin,
  Safi,
  UpdateSubcode,
} from './constants';
import { type Notification, notification } from './notification';
import {
  type Aggregator,
  attributeSize,
  canonicalFlags,
  DEFINED_FLAGS,
  type PathAttributes,
  writeAttributeHeader,
} from './path-attributes';
import { countPrefixes, maxPrefixLength, type PrefixList, readPrefixes } from './prefixes';
import type { SessionContext } from './session';
import { attributeWords } from './word-slab';

export type UpdateAction =
  | 'none'
  | 'attribute-discard'
  | 'treat-as-withdraw'
  | 'afi-safi-disable'
  | 'session-reset';

const SEVERITY: Record<UpdateAction, number> = {
  none: 0,
  'attribute-discard': 1,
  'treat-as-withdraw': 2,
  'afi-safi-disable': 3,
  'session-reset': 4,
};

export interface UpdateProblem {
  readonly action: Exclude<UpdateAction, 'none'>;
  /**
   * What RFC 4271 §6.3 would send for it: the NOTIFICATION to send on session reset, and
   * the code to log otherwise. Null for discards RFC 4271 knows no error for.
   */
  readonly notification: Notification | null;
  /** What is wrong and where, for logs. */
  readonly reason: string;
  /** The address family to disable, for 'afi-safi-disable'. */
  readonly family: Family | null;
}

export interface DecodedUpdate {
  /** The strongest action any problem calls for; 'none' for a clean message. */
  readonly action: UpdateAction;
  /** Every problem found, in message order; empty for a clean message. */
  readonly problems: readonly UpdateProblem[];
  /**
   * The NOTIFICATION of the deciding problem when action is 'session-reset' (send it and
   * close) or 'afi-safi-disable' (send it if you reset instead of disabling); otherwise null.
   */
  readonly notification: Notification | null;
  /** For 'afi-safi-disable': the family whose routes from this peer must all be dropped. */
  readonly disabledFamily: Family | null;
  /**
   * Prefixes to withdraw: the Withdrawn Routes field, MP_UNREACH_NLRI and, under
   * treat-as-withdraw or stronger, the message's announcements too. Empty lists are left out.
   */
  readonly withdrawn: readonly PrefixList[];
  /** IPv4 NLRI field; next hop `attributes.nextHop`. Null when empty or not accepted. */
  readonly announced: PrefixList | null;
  /** MP_REACH_NLRI prefixes; next hop `attributes.mpNextHop`. Null when absent or not accepted. */
  readonly mpAnnounced: PrefixList | null;
  /** Attributes of the announcements; null when nothing is announced. */
  readonly attributes: PathAttributes | null;
  /** Set when the message is an End-of-RIB marker (RFC 4724 §2). */
  readonly endOfRib: Family | null;
}

const IPV4_UNICAST: Family = { afi: Afi.Ipv4, safi: Safi.Unicast };
const NO_PROBLEMS: readonly UpdateProblem[] = [];
/** A NOTIFICATION must still fit a standard message: keep quoted attributes to what fits. */
const MAX_NOTIFICATION_DATA = MAX_MESSAGE_LENGTH - HEADER_LENGTH - 2;

/** How a checked attribute goes into the canonical encoding. */
const KEEP_NONE = 0;
const KEEP = 1;
const KEEP_OTHER_TRANSITIVE = 2;
type Keep = typeof KEEP_NONE | typeof KEEP | typeof KEEP_OTHER_TRANSITIVE;

// Per-message scratch, indexed by attribute type code. decodeUpdate runs to completion
// synchronously, so one set serves every session.
const seen = new Uint8Array(256);
const keep = new Uint8Array(256);
const receivedFlags = new Uint8Array(256);
const valueStart = new Int32Array(256);
const valueEnd = new Int32Array(256);

/**
 * Attribute sections one session decoded, by their octets: UPDATEs mostly repeat a recent
 * attribute set, and a hit skips parsing and checking it again and shares the decoded object.
 * Only sections that decoded without any problem in an UPDATE with IPv4 NLRI and no
 * MP_REACH/MP_UNREACH_NLRI are kept: their outcome depends on nothing but their octets, the
 * session context (one cache per session) and the NLRI field being non-empty.
 */
export class AttributeCache {
  /**
   * By a hash of the octets, chained: looking a section up hashes and compares its octets in
   * place, where a string key cost an allocation and a copy per UPDATE.
   */
  private readonly entries = new Map<number, CachedSection>();
  private count = 0;

  /** @param capacity entries kept; a full cache starts over (a cheap bound on its memory). */
  constructor(private readonly capacity = 16_384) {}

  /** The attributes decoded from octets buf[start, end) of hash `hash` (see sectionHash). */
  get(hash: number, buf: Buffer, start: number, end: number): PathAttributes | undefined {
    for (let entry: CachedSection | null | undefined = this.entries.get(hash); entry; entry = entry.next) {
      if (sameOctets(entry.octets, buf, start, end)) return entry.attributes;
    }
    return undefined;
  }

  set(hash: number, buf: Buffer, start: number, end: number, attributes: PathAttributes): void {
    if (this.count >= this.capacity) {
      this.entries.clear();
      this.count = 0;
    }
    // A copy: a view would keep the whole socket chunk alive. From Node's pool (small sections
    // share 8 KB slabs), not an ArrayBuffer of its own, which cost about 300 bytes per entry.
    const octets = Buffer.allocUnsafe(end - start);
    buf.copy(octets, 0, start, end);
    this.entries.set(hash, { octets, attributes, next: this.entries.get(hash) ?? null });
    this.count++;
  }

  get size(): number {
    return this.count;
  }
}

interface CachedSection {
  readonly octets: Uint8Array;
  readonly attributes: PathAttributes;
  readonly next: CachedSection | null;
}

/** FNV-1a over buf[start, end): the AttributeCache's hash. */
export function sectionHash(buf: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h;
}

function sameOctets(octets: Uint8Array, buf: Buffer, start: number, end: number): boolean {
  if (octets.length !== end - start) return false;
  for (let i = 0; i < octets.length; i++) if (octets[i] !== buf[start + i]) return false;
  return true;
}

/**
 * Decodes an UPDATE body (the message after its 19-octet header). With a cache (one per
 * session: it assumes `ctx` never changes), attribute sections seen before are not decoded again.
 */
export function decodeUpdate(body: Buffer, ctx: SessionContext, cache?: AttributeCache): DecodedUpdate {
  return decoding.start(body, ctx, cache ?? null).run();
}

/**
 * The state of decoding one message. decodeUpdate runs to completion synchronously, so one
 * instance, reset for each message, serves every session: an object per UPDATE was a large
 * share of the garbage of the receive path.
 */
class UpdateDecoding {
  private problems: UpdateProblem[] | null = null;
  private deciding: UpdateProblem | null = null;
  private severity = 0;

  private withdrawnField: PrefixList | null = null;
  private nlriField: PrefixList | null = null;
  private mpWithdrawn: PrefixList | null = null;
  private mpAnnounced: PrefixList | null = null;
  private attributeCount = 0;

  // The attribute being checked: its type, where it starts (flags octet) and its value.
  private type = 0;
  private at = 0;
  private vStart = 0;
  private vEnd = 0;

  private origin: Origin | null = null;
  private asPath: AsPath | null = null;
  private as4Path: AsPath | null = null;
  private nextHop: number | null = null;
  private mpNextHop: Buffer | null = null;
  private med: number | null = null;
  private localPref: number | null = null;
  private atomicAggregate = false;
  private aggregator: Aggregator | null = null;
  private as4Aggregator: Aggregator | null = null;
  private communities: Uint32Array | null = null;
  private originatorId: number | null = null;
  private clusterList: Uint32Array | null = null;

  private body: Buffer = Buffer.alloc(0);
  private ctx: SessionContext = { fourOctetAs: true, extendedMessages: false, ibgp: false };
  private cache: AttributeCache | null = null;

  /** Forgets the last message and takes this one. */
  start(body: Buffer, ctx: SessionContext, cache: AttributeCache | null): this {
    this.body = body;
    this.ctx = ctx;
    this.cache = cache;
    this.problems = null;
    this.deciding = null;
    this.severity = 0;
    this.withdrawnField = null;
    this.nlriField = null;
    this.mpWithdrawn = null;
    this.mpAnnounced = null;
    this.attributeCount = 0;
    this.type = 0;
    this.at = 0;
    this.vStart = 0;
    this.vEnd = 0;
    this.origin = null;
    this.asPath = null;
    this.as4Path = null;
    this.nextHop = null;
    this.mpNextHop = null;
    this.med = null;
    this.localPref = null;
    this.atomicAggregate = false;
    this.aggregator = null;
    this.as4Aggregator = null;
    this.communities = null;
    this.originatorId = null;
    this.clusterList = null;
    return this;
  }

  run(): DecodedUpdate {
    const { body } = this;
    if (body.length < 4) {
      return this.reset(
        UpdateSubcode.MalformedAttributeList,
        `UPDATE body of ${body.length} octets is too short`,
      );
    }
    const withdrawnLength = body.readUInt16BE(0);
    if (2 + withdrawnLength + 2 > body.length) {
      return this.reset(
        UpdateSubcode.MalformedAttributeList,
        `Withdrawn Routes Length ${withdrawnLength} runs past the end of the message`,
      );
    }
    const attrsStart = 2 + withdrawnLength + 2;
    const attrsEnd = attrsStart + body.readUInt16BE(2 + withdrawnLength);
    if (attrsEnd > body.length) {
      return this.reset(
        UpdateSubcode.MalformedAttributeList,
        `Total Path Attribute Length ${attrsEnd - attrsStart} runs past the end of the message`,
      );
    }
    // RFC 7606 §5.3: a prefix field that does not parse cannot be trusted for anything.
    this.withdrawnField = this.prefixField(2, attrsStart - 2, 'Withdrawn Routes');
    if (!this.withdrawnField) return this.finish();
    this.nlriField = this.prefixField(attrsEnd, body.length, 'NLRI');
    if (!this.nlriField) return this.finish();

    const cacheHash =
      this.cache && this.nlriField.lengths.length > 0 ? sectionHash(body, attrsStart, attrsEnd) : null;
    const cached = cacheHash === null ? undefined : this.cache!.get(cacheHash, body, attrsStart, attrsEnd);
    if (cached) return this.finishCached(cached);
    seen.fill(0);
    keep.fill(KEEP_NONE);
    this.parseAttributes(attrsStart, attrsEnd);
    // Once the message is treated as withdraw (or worse) its attributes no longer matter.
    if (this.severity < SEVERITY['treat-as-withdraw']) {
      this.applyAs4Attributes();
      this.checkMandatoryAttributes();
    }
    const decoded = this.finish();
    const cacheable =
      cacheHash !== null &&
      this.problems === null &&
      !seen[AttrType.MpReachNlri] &&
      !seen[AttrType.MpUnreachNlri];
    if (cacheable && decoded.attributes)
      this.cache!.set(cacheHash, body, attrsStart, attrsEnd, decoded.attributes);
    return decoded;
  }

  /** What finish() returns for this message when its attribute section decoded cleanly before. */
  private finishCached(attributes: PathAttributes): DecodedUpdate {
    return {
      action: 'none',
      problems: NO_PROBLEMS,
      notification: null,
      disabledFamily: null,
      withdrawn: this.withdrawnField!.lengths.length > 0 ? [this.withdrawnField!] : [],
      announced: this.nlriField,
      mpAnnounced: null,
      attributes,
      endOfRib: null,
    };
  }

  private prefixField(start: number, end: number, name: string): PrefixList | null {
    const count = countPrefixes(this.body, start, end, 32);
    if (count >= 0) return readPrefixes(this.body, start, count, Afi.Ipv4);
    this.report(
      'session-reset',
      notification(ErrorCode.UpdateMessage, UpdateSubcode.InvalidNetworkField),
      `${name} field (octets ${HEADER_LENGTH + start}..${HEADER_LENGTH + end - 1}) is syntactically incorrect`,
    );
    return null;
  }

  private parseAttributes(start: number, end: number): void {
    const { body } = this;
    for (let i = start; i < end; ) {
      // RFC 7606 §4: an inconsistent attribute list is treated as withdraw, not reset, as the
      // Total Path Attribute Length still locates the NLRI.
      const headerSize = body[i]! & AttrFlag.ExtendedLength ? 4 : 3;
      if (end - i < headerSize) {
        this.report(
          'treat-as-withdraw',
          notification(ErrorCode.UpdateMessage, UpdateSubcode.MalformedAttributeList),
          `${end - i} octet(s) left at octet ${HEADER_LENGTH + i}, too few for an attribute header`,
        );
        return;
      }
      const flags = body[i]!;
      this.type = body[i + 1]!;
      this.at = i;
      this.vStart = i + headerSize;
      this.vEnd = this.vStart + (headerSize === 4 ? body.readUInt16BE(i + 2) : body[i + 2]!);
      if (this.vEnd > end) {
        this.report(
          'treat-as-withdraw',
          notification(ErrorCode.UpdateMessage, UpdateSubcode.AttributeLengthError, this.quote(i, end)),
          `${this.where()}: length ${this.vEnd - this.vStart} runs past the attribute list`,
        );
        return;
      }
      this.attributeCount++;
      const type = this.type;
      if (!seen[type]) {
        seen[type] = 1;
        receivedFlags[type] = flags;
        valueStart[type] = this.vStart;
        valueEnd[type] = this.vEnd;
        keep[type] = this.checkAttribute(flags);
        if (this.severity === SEVERITY['session-reset']) return;
      } else if (type === AttrType.MpReachNlri || type === AttrType.MpUnreachNlri) {
        // RFC 7606 §3 g: a repeated MP attribute leaves it unclear which routes were meant.
        this.report(
          'session-reset',
          notification(ErrorCode.UpdateMessage, UpdateSubcode.MalformedAttributeList),
          `${this.where()}: appears more than once`,
        );
        return;
      } else {
        this.report('attribute-discard', null, `${this.where()}: repeated; only the first is used`);
      }
      i = this.vEnd;
    }
  }

  /** Validates and decodes the first occurrence of an attribute (RFC 7606 §7); says whether it is kept. */
  private checkAttribute(flags: number): Keep {
    const { body, ctx, vStart } = this;
    const length = this.vEnd - vStart;
    switch (this.type) {
      case AttrType.Origin: {
        if (!this.flagsMatch(flags)) return KEEP_NONE;
        if (length !== 1) return this.lengthError('treat-as-withdraw', 'expected 1');
        const origin = body[vStart]!;
        if (origin > 2) {
          return this.attributeError(
            'treat-as-withdraw',
            UpdateSubcode.InvalidOrigin,
            `undefined value ${origin}`,
          );
        }
        this.origin = origin as Origin;
        return KEEP;
      }
      case AttrType.AsPath: {
        if (!this.flagsMatch(flags)) return KEEP_NONE;
        const asSize = ctx.fourOctetAs ? 4 : 2;
        const words = scanAsPath(body, vStart, this.vEnd, asSize);
        if (words < 0) {
          this.report(
            'treat-as-withdraw',
            notification(ErrorCode.UpdateMessage, UpdateSubcode.MalformedAsPath),
            `${this.where()}: malformed segment, or AS 0, with ${asSize}-octet AS numbers`,
          );
          return KEEP_NONE;
        }
        this.asPath = readAsPath(body, vStart, this.vEnd, asSize, words);
        return KEEP;
      }
      case AttrType.NextHop: {
        // RFC 4760 §3: with the NLRI field empty, NEXT_HOP means nothing and is ignored.
        if (this.nlriField!.lengths.length === 0) return KEEP_NONE;
        if (!this.flagsMatch(flags)) return KEEP_NONE;
        if (length !== 4) return this.lengthError('treat-as-withdraw', 'expected 4');
        const nextHop = body.readUInt32BE(vStart);
        if (!usableIpv4NextHop(nextHop)) {
          return this.attributeError(
            'treat-as-withdraw',
            UpdateSubcode.InvalidNextHop,
            'not a unicast address',
          );
        }
        this.nextHop = nextHop;
        return KEEP;
      }
      case AttrType.MultiExitDisc:
        if (!this.flagsMatch(flags)) return KEEP_NONE;
        if (length !== 4) return this.lengthError('treat-as-withdraw', 'expected 4');
        this.med = body.readUInt32BE(vStart);
        return KEEP;
      case AttrType.LocalPref:
        if (!ctx.ibgp) return this.discardFromExternalPeer();
        if (!this.flagsMatch(flags)) return KEEP_NONE;
        if (length !== 4) return this.lengthError('treat-as-withdraw', 'expected 4');
        this.localPref = body.readUInt32BE(vStart);
        return KEEP;
      case AttrType.AtomicAggregate:
        if (!this.flagsMatch(flags)) return KEEP_NONE;
        if (length !== 0) return this.lengthError('attribute-discard', 'expected 0');
        this.atomicAggregate = true;
        return KEEP;
      case AttrType.Aggregator: {
        if (!this.flagsMatch(flags)) return KEEP_NONE;
        const expected = ctx.fourOctetAs ? 8 : 6;
        if (length !== expected) return this.lengthError('attribute-discard', `expected ${expected}`);
        this.aggregator = readAggregator(body, vStart, ctx.fourOctetAs ? 4 : 2);
        return KEEP;
      }
      case AttrType.Communities:
        if (!this.flagsMatch(flags)) return KEEP_NONE;
        if (length === 0 || length % 4 !== 0) {
          return this.lengthError('treat-as-withdraw', 'expected a non-zero multiple of 4');
        }
        this.communities = readWords(body, vStart, this.vEnd);
        return KEEP;
      case AttrType.OriginatorId:
        if (!ctx.ibgp) return this.discardFromExternalPeer();
        if (!this.flagsMatch(flags)) return KEEP_NONE;
        if (length !== 4) return this.lengthError('treat-as-withdraw', 'expected 4');
        this.originatorId = body.readUInt32BE(vStart);
        return KEEP;
      case AttrType.ClusterList:
        if (!ctx.ibgp) return this.discardFromExternalPeer();
        if (!this.flagsMatch(flags)) return KEEP_NONE;
        if (length === 0 || length % 4 !== 0) {
          return this.lengthError('treat-as-withdraw', 'expected a non-zero multiple of 4');
        }
        this.clusterList = readWords(body, vStart, this.vEnd);
        return KEEP;
      case AttrType.MpReachNlri:
        return this.mpReach(flags);
      case AttrType.MpUnreachNlri:
        return this.mpUnreach(flags);
      case AttrType.ExtendedCommunities:
        return this.opaqueList(flags, 8);
      case AttrType.LargeCommunities:
        return this.opaqueList(flags, 12);
      case AttrType.As4Path:
      case AttrType.As4Aggregator:
        return this.as4Attribute(flags);
      default:
        if (!(flags & AttrFlag.Optional)) {
          return this.attributeError(
            'session-reset',
            UpdateSubcode.UnrecognizedWellKnownAttribute,
            'unrecognized well-known attribute',
          );
        }
        // RFC 4271 §5: unrecognized optional transitive attributes travel on with Partial set;
        // non-transitive ones are quietly dropped.
        return flags & AttrFlag.Transitive ? KEEP_OTHER_TRANSITIVE : KEEP_NONE;
    }
  }

  /** MP attributes never enter the canonical form: their NLRI and next hop are returned apart. */
  private mpReach(flags: number): typeof KEEP_NONE {
    const { body, vStart, vEnd } = this;
    const family = this.mpFamily();
    if (!family) return KEEP_NONE;
    const afi = family.afi as Afi;
    // RFC 7606 §7.11: a next hop of the wrong length hides where the NLRI start.
    const nextHopLength = vEnd - vStart >= 4 ? body[vStart + 3]! : -1;
    const nlriStart = vStart + 5 + nextHopLength;
    const lengthOk = afi === Afi.Ipv4 ? nextHopLength === 4 : nextHopLength === 16 || nextHopLength === 32;
    if (!lengthOk || nlriStart > vEnd)
      return this.disable(family, `next hop length ${nextHopLength} is invalid`);
    const count = countPrefixes(body, nlriStart, vEnd, maxPrefixLength(afi));
    if (count < 0) return this.disable(family, 'NLRI are syntactically incorrect');
    this.mpAnnounced = readPrefixes(body, nlriStart, count, afi);
    this.mpNextHop = Buffer.from(body.subarray(vStart + 4, vStart + 4 + nextHopLength));
    // Flags are judged only now: treat-as-withdraw needs the NLRI parsed (RFC 7606 §3 c).
    if (!this.flagsMatch(flags)) return KEEP_NONE;
    const usable =
      afi === Afi.Ipv4
        ? usableIpv4NextHop(this.mpNextHop.readUInt32BE(0))
        : usableIpv6NextHop(this.mpNextHop);
    if (usable) return KEEP_NONE;
    return this.attributeError(
      'treat-as-withdraw',
      UpdateSubcode.OptionalAttributeError,
      'next hop is not a unicast address',
    );
  }

  private mpUnreach(flags: number): typeof KEEP_NONE {
    const family = this.mpFamily();
    if (!family) return KEEP_NONE;
    const afi = family.afi as Afi;
    const count = countPrefixes(this.body, this.vStart + 3, this.vEnd, maxPrefixLength(afi));
    if (count < 0) return this.disable(family, 'NLRI are syntactically incorrect');
    this.mpWithdrawn = readPrefixes(this.body, this.vStart + 3, count, afi);
    this.flagsMatch(flags);
    return KEEP_NONE;
  }

  /** The family of an MP attribute, or null (reported) if it is unreadable or not supported. */
  private mpFamily(): Family | null {
    if (this.vEnd - this.vStart < 3) {
      // Not even the family is known, so nothing short of a reset is safe (RFC 7606 §7.11).
      this.attributeError(
        'session-reset',
        UpdateSubcode.OptionalAttributeError,
        'too short to name its family',
      );
      return null;
    }
    const family = { afi: this.body.readUInt16BE(this.vStart), safi: this.body[this.vStart + 2]! };
    if ((family.afi === Afi.Ipv4 || family.afi === Afi.Ipv6) && family.safi === Safi.Unicast) return family;
    this.report(
      'attribute-discard',
      null,
      `${this.where()}: ${familyName(family)} is not supported; ignored`,
    );
    return null;
  }

  /** Extended (RFC 4360, RFC 7606 §7.14) and large (RFC 8092 §6) communities: validated, carried opaque. */
  private opaqueList(flags: number, itemSize: number): Keep {
    if (!this.flagsMatch(flags)) return KEEP_NONE;
    const length = this.vEnd - this.vStart;
    if (length === 0 || length % itemSize !== 0) {
      return this.lengthError('treat-as-withdraw', `expected a non-zero multiple of ${itemSize}`);
    }
    return KEEP_OTHER_TRANSITIVE;
  }

  /** AS4_PATH / AS4_AGGREGATOR (RFC 6793): any problem with them discards the attribute (§6). */
  private as4Attribute(flags: number): typeof KEEP_NONE {
    const { body, vStart, vEnd } = this;
    const length = vEnd - vStart;
    let problem: string | null = null;
    if (this.ctx.fourOctetAs) problem = 'sent on a four-octet AS session (RFC 6793 §4.1)';
    else if ((flags & OPTIONAL_TRANSITIVE_MASK) !== DEFINED_FLAGS[this.type])
      problem = 'Attribute Flags conflict';
    else if (this.type === AttrType.As4Aggregator) {
      if (length === 8) this.as4Aggregator = readAggregator(body, vStart, 4);
      else problem = `length ${length}, expected 8`;
    } else {
      const words = length < 6 ? -1 : scanAsPath(body, vStart, vEnd, 4);
      if (words >= 0) this.as4Path = readAsPath(body, vStart, vEnd, 4, words);
      else problem = 'malformed segment, or AS 0';
    }
    return problem
      ? this.attributeError('attribute-discard', UpdateSubcode.OptionalAttributeError, problem)
      : KEEP_NONE;
  }

  /** RFC 6793 §4.2.3: rebuild the four-octet AS path and aggregator of a two-octet session. */
  private applyAs4Attributes(): void {
    if (this.ctx.fourOctetAs) return;
    if (this.aggregator && this.as4Aggregator) {
      // An OLD speaker aggregated after the AS4 attributes were made: they are stale.
      if (this.aggregator.asn !== AS_TRANS) return;
      this.aggregator = this.as4Aggregator;
    }
    if (this.asPath && this.as4Path) this.asPath = mergeAs4Path(this.asPath, this.as4Path);
  }

  /** RFC 7606 §3 d: a message announcing routes without ORIGIN, AS_PATH (or NEXT_HOP for the NLRI field) is treated as withdraw. */
  private checkMandatoryAttributes(): void {
    const nlriFieldUsed = this.nlriField!.lengths.length > 0;
    if (!nlriFieldUsed && !this.mpAnnounced?.lengths.length) return;
    const required = nlriFieldUsed ? MANDATORY_WITH_NEXT_HOP : MANDATORY;
    for (const type of required) {
      if (!seen[type]) {
        this.report(
          'treat-as-withdraw',
          notification(ErrorCode.UpdateMessage, UpdateSubcode.MissingWellKnownAttribute, Buffer.of(type)),
          `${attrTypeName(type)} is missing from an UPDATE that announces routes`,
        );
      }
    }
  }

  private finish(): DecodedUpdate {
    const accepted = this.severity < SEVERITY['treat-as-withdraw'];
    const withdrawn: PrefixList[] = [];
    const lists = accepted
      ? [this.withdrawnField, this.mpWithdrawn]
      : [this.withdrawnField, this.mpWithdrawn, this.nlriField, this.mpAnnounced];
    for (const list of lists) if (list && list.lengths.length > 0) withdrawn.push(list);
    const announced = accepted && this.nlriField?.lengths.length ? this.nlriField : null;
    const mpAnnounced = accepted && this.mpAnnounced?.lengths.length ? this.mpAnnounced : null;
    const severe = this.severity >= SEVERITY['afi-safi-disable'];
    return {
      action: this.deciding?.action ?? 'none',
      problems: this.problems ?? NO_PROBLEMS,
      notification: severe ? this.deciding!.notification : null,
      disabledFamily: this.deciding?.action === 'afi-safi-disable' ? this.deciding.family : null,
      withdrawn,
      announced,
      mpAnnounced,
      attributes: announced || mpAnnounced ? this.attributes() : null,
      endOfRib: this.endOfRib(),
    };
  }

  private endOfRib(): Family | null {
    if (this.severity >= SEVERITY['treat-as-withdraw'] || this.withdrawnField?.lengths.length) return null;
    if (this.body.length === 4) return IPV4_UNICAST;
    const onlyEmptyMpUnreach =
      this.attributeCount === 1 &&
      this.mpWithdrawn?.lengths.length === 0 &&
      this.nlriField?.lengths.length === 0;
    if (!onlyEmptyMpUnreach) return null;
    const at = valueStart[AttrType.MpUnreachNlri]!;
    return { afi: this.body.readUInt16BE(at), safi: this.body[at + 2]! };
  }

  private attributes(): PathAttributes {
    const { body } = this;
    const asSize = this.ctx.fourOctetAs ? 4 : 2;
    // Values that a two-octet session carries differently from the canonical form are re-encoded.
    const asPathValue = asSize === 2 ? encodeAsPathValue(this.asPath!) : null;
    const aggregatorValue = asSize === 2 && this.aggregator ? encodeAggregatorValue(this.aggregator) : null;
    // Values are copied straight from the message: no Buffer view per attribute (this runs for
    // every UPDATE).
    const reencoded = (type: number): Buffer | null => {
      if (type === AttrType.AsPath) return asPathValue;
      if (type === AttrType.Aggregator) return aggregatorValue;
      return null;
    };
    let canonicalSize = 0;
    let otherSize = 0;
    for (let type = 0; type < 256; type++) {
      if (keep[type] === KEEP_NONE) continue;
      const size = attributeSize(reencoded(type)?.length ?? valueEnd[type]! - valueStart[type]!);
      canonicalSize += size;
      if (keep[type] === KEEP_OTHER_TRANSITIVE) otherSize += size;
    }
    const canonical = Buffer.allocUnsafe(canonicalSize);
    const other = otherSize > 0 ? Buffer.allocUnsafe(otherSize) : null;
    let c = 0;
    let o = 0;
    for (let type = 0; type < 256; type++) {
      if (keep[type] === KEEP_NONE) continue;
      const value = reencoded(type);
      const length = value?.length ?? valueEnd[type]! - valueStart[type]!;
      const flags = canonicalFlags(type, receivedFlags[type]!, length);
      const start = c;
      c = writeAttributeHeader(canonical, c, flags, type, length);
      c += value ? value.copy(canonical, c) : body.copy(canonical, c, valueStart[type]!, valueEnd[type]!);
      if (other && keep[type] === KEEP_OTHER_TRANSITIVE) o += canonical.copy(other, o, start, c);
    }
    return {
      canonical,
      origin: this.origin!,
      asPath: this.asPath!,
      nextHop: this.nextHop,
      mpNextHop: this.mpAnnounced?.lengths.length ? this.mpNextHop : null,
      med: this.med,
      localPref: this.localPref,
      atomicAggregate: this.atomicAggregate,
      aggregator: this.aggregator,
      communities: this.communities,
      originatorId: this.originatorId,
      clusterList: this.clusterList,
      otherTransitive: other,
    };
  }

  // --- problem reporting ---

  private report(
    action: UpdateProblem['action'],
    n: Notification | null,
    reason: string,
    family?: Family,
  ): void {
    const problem: UpdateProblem = { action, notification: n, reason, family: family ?? null };
    if (this.problems) this.problems.push(problem);
    else this.problems = [problem];
    if (SEVERITY[action] > this.severity) {
      this.severity = SEVERITY[action];
      this.deciding = problem;
    }
  }

  private reset(subcode: number, reason: string): DecodedUpdate {
    this.report('session-reset', notification(ErrorCode.UpdateMessage, subcode), reason);
    return this.finish();
  }

  /** RFC 7606 §3 c: Optional/Transitive bits contradicting the definition make the attribute malformed. */
  private flagsMatch(flags: number): boolean {
    if ((flags & OPTIONAL_TRANSITIVE_MASK) === DEFINED_FLAGS[this.type]) return true;
    this.attributeError(
      'treat-as-withdraw',
      UpdateSubcode.AttributeFlagsError,
      `flags 0x${flags.toString(16)} conflict with its definition`,
    );
    return false;
  }

  private lengthError(action: UpdateProblem['action'], expectation: string): typeof KEEP_NONE {
    const length = this.vEnd - this.vStart;
    return this.attributeError(
      action,
      UpdateSubcode.AttributeLengthError,
      `length ${length}, ${expectation}`,
    );
  }

  /** A problem with the current attribute, whose NOTIFICATION quotes it (flags, type, length and value). */
  private attributeError(action: UpdateProblem['action'], subcode: number, why: string): typeof KEEP_NONE {
    this.report(
      action,
      notification(ErrorCode.UpdateMessage, subcode, this.quote(this.at, this.vEnd)),
      `${this.where()}: ${why}`,
    );
    return KEEP_NONE;
  }

  /** RFC 7606 §7.5, §7.9, §7.10: these attributes mean nothing from an external peer. */
  private discardFromExternalPeer(): typeof KEEP_NONE {
    this.report('attribute-discard', null, `${this.where()}: received from an external peer`);
    return KEEP_NONE;
  }

  /** RFC 7606 §5.3 / §7.11, with RFC 4760 §7's NOTIFICATION (Optional Attribute Error). */
  private disable(family: Family, why: string): typeof KEEP_NONE {
    this.report(
      'afi-safi-disable',
      notification(
        ErrorCode.UpdateMessage,
        UpdateSubcode.OptionalAttributeError,
        this.quote(this.at, this.vEnd),
      ),
      `${this.where()}: ${why} (${familyName(family)})`,
      family,
    );
    return KEEP_NONE;
  }

  private quote(start: number, end: number): Buffer {
    return Buffer.from(this.body.subarray(start, Math.min(end, start + MAX_NOTIFICATION_DATA)));
  }

  private where(): string {
    return `${attrTypeName(this.type)} at octet ${HEADER_LENGTH + this.at}`;
  }
}

const OPTIONAL_TRANSITIVE_MASK = AttrFlag.Optional | AttrFlag.Transitive;
const MANDATORY = [AttrType.Origin, AttrType.AsPath];
const MANDATORY_WITH_NEXT_HOP = [AttrType.Origin, AttrType.AsPath, AttrType.NextHop];

/** Not 0.0.0.0/8, multicast or reserved (224/3): such a next hop cannot forward anything. */
function usableIpv4NextHop(addr: number): boolean {
  return addr >>> 24 !== 0 && addr < 0xe0000000;
}

/** The global address (first 16 octets) is neither :: nor multicast. */
function usableIpv6NextHop(nextHop: Buffer): boolean {
  if (nextHop[0] === 0xff) return false;
  for (let i = 0; i < 16; i++) if (nextHop[i] !== 0) return true;
  return false;
}

function readAggregator(buf: Buffer, at: number, asSize: 2 | 4): Aggregator {
  const asn = asSize === 4 ? buf.readUInt32BE(at) : buf.readUInt16BE(at);
  return { asn, address: buf.readUInt32BE(at + asSize) };
}

function readWords(buf: Buffer, start: number, end: number): Uint32Array {
  const words = attributeWords((end - start) / 4);
  for (let w = 0, i = start; i < end; w++, i += 4) words[w] = buf.readUInt32BE(i);
  return words;
}

function encodeAsPathValue(path: AsPath): Buffer {
  const value = Buffer.allocUnsafe(asPathValueSize(path, 4));
  writeAsPath(value, 0, path, 4);
  return value;
}

function encodeAggregatorValue(aggregator: Aggregator): Buffer {
  const value = Buffer.allocUnsafe(8);
  value.writeUInt32BE(aggregator.asn, 0);
  value.writeUInt32BE(aggregator.address, 4);
  return value;
}

const decoding = new UpdateDecoding();
