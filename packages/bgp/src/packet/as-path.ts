// AS paths in one flat Uint32Array: [segment type, AS count, AS..., segment type, AS count,
// AS...]. One allocation per path, cheap to compare and to scan for loops; helpers below do
// what best-path selection, loop detection and export need.

import { AS_TRANS, AsPathSegmentType } from './constants';
import { attributeWords } from './word-slab';

export type AsPath = Uint32Array;

export interface AsPathSegment {
  readonly type: AsPathSegmentType;
  readonly asns: readonly number[];
}

export const EMPTY_AS_PATH: AsPath = new Uint32Array(0);

const MAX_SEGMENT_LENGTH = 255;
const MAX_ASN = 0xffffffff;

function isSegmentType(type: number): type is AsPathSegmentType {
  return type >= AsPathSegmentType.AsSet && type <= AsPathSegmentType.AsConfedSet;
}

function isConfed(type: number): boolean {
  return type === AsPathSegmentType.AsConfedSequence || type === AsPathSegmentType.AsConfedSet;
}

/** Builds a path; throws on an empty or over-long segment, a bad segment type or AS number. */
export function asPathFromSegments(segments: readonly AsPathSegment[]): AsPath {
  const out: number[] = [];
  segments.forEach((segment, i) => {
    if (!isSegmentType(segment.type)) throw new Error(`AS path segment ${i}: unknown type ${segment.type}`);
    if (segment.asns.length === 0 || segment.asns.length > MAX_SEGMENT_LENGTH) {
      throw new Error(`AS path segment ${i}: holds ${segment.asns.length} AS numbers, must be 1..255`);
    }
    for (const asn of segment.asns) {
      if (!Number.isInteger(asn) || asn < 1 || asn > MAX_ASN) {
        throw new Error(`AS path segment ${i}: ${asn} is not an AS number (1..4294967295)`);
      }
    }
    out.push(segment.type, segment.asns.length, ...segment.asns);
  });
  return Uint32Array.from(out);
}

/** A path of one AS_SEQUENCE (or the empty path): the common case when originating routes. */
export function asSequence(asns: readonly number[]): AsPath {
  const segments: AsPathSegment[] = [];
  for (let i = 0; i < asns.length; i += MAX_SEGMENT_LENGTH) {
    segments.push({ type: AsPathSegmentType.AsSequence, asns: asns.slice(i, i + MAX_SEGMENT_LENGTH) });
  }
  return asPathFromSegments(segments);
}

export function asPathSegments(path: AsPath): AsPathSegment[] {
  const out: AsPathSegment[] = [];
  for (let i = 0; i < path.length; i += 2 + path[i + 1]!) {
    out.push({
      type: path[i] as AsPathSegmentType,
      asns: Array.from(path.subarray(i + 2, i + 2 + path[i + 1]!)),
    });
  }
  return out;
}

/** Path length for best-path selection (RFC 4271 §9.1.2.2, RFC 5065 §5.3): a set counts 1, confederation segments 0. */
export function asPathLength(path: AsPath): number {
  let length = 0;
  for (let i = 0; i < path.length; i += 2 + path[i + 1]!) {
    const type = path[i];
    if (type === AsPathSegmentType.AsSequence) length += path[i + 1]!;
    else if (type === AsPathSegmentType.AsSet) length += 1;
  }
  return length;
}

/** Loop detection: does `asn` appear anywhere in the path? */
export function asPathContains(path: AsPath, asn: number): boolean {
  for (let i = 0; i < path.length; i += 2 + path[i + 1]!) {
    const end = i + 2 + path[i + 1]!;
    for (let j = i + 2; j < end; j++) if (path[j] === asn) return true;
  }
  return false;
}

/** The path with `asn` prepended `times` times, as export to an eBGP peer (and prepend policy) needs. */
export function prependAs(path: AsPath, asn: number, times = 1): AsPath {
  if (!Number.isInteger(times) || times < 1) throw new Error(`cannot prepend an AS ${times} times`);
  // The new AS numbers join the leading AS_SEQUENCE, if there is one; asSequence re-splits at 255.
  const leadingEnd = path[0] === AsPathSegmentType.AsSequence ? 2 + path[1]! : 0;
  const head = asSequence([
    ...new Array<number>(times).fill(asn),
    ...path.subarray(2, Math.max(2, leadingEnd)),
  ]);
  const result = new Uint32Array(head.length + path.length - leadingEnd);
  result.set(head);
  result.set(path.subarray(leadingEnd), head.length);
  return result;
}

/** "65001 65002 {65003,65004} (65010 65011) [65012]", like BIRD and most router CLIs. */
export function asPathToString(path: AsPath): string {
  const parts: string[] = [];
  for (const { type, asns } of asPathSegments(path)) {
    if (type === AsPathSegmentType.AsSequence) parts.push(asns.join(' '));
    else if (type === AsPathSegmentType.AsSet) parts.push(`{${asns.join(',')}}`);
    else if (type === AsPathSegmentType.AsConfedSequence) parts.push(`(${asns.join(' ')})`);
    else parts.push(`[${asns.join(',')}]`);
  }
  return parts.join(' ');
}

/**
 * Validates an AS_PATH (or AS4_PATH) value in buf[start, end) with `asSize`-octet AS numbers
 * and returns how many words its AsPath needs, or -1 if it is malformed: an unknown segment
 * type, a zero-length segment, a segment overrunning the value or a lone trailing octet
 * (RFC 7606 §7.2), or AS 0 (RFC 7607).
 */
export function scanAsPath(buf: Buffer, start: number, end: number, asSize: 2 | 4): number {
  let words = 0;
  let i = start;
  while (i < end) {
    if (end - i < 2) return -1;
    const type = buf[i]!;
    const count = buf[i + 1]!;
    if (!isSegmentType(type) || count === 0) return -1;
    const valueEnd = i + 2 + count * asSize;
    if (valueEnd > end) return -1;
    for (let j = i + 2; j < valueEnd; j += asSize) {
      if ((asSize === 4 ? buf.readUInt32BE(j) : buf.readUInt16BE(j)) === 0) return -1;
    }
    words += 2 + count;
    i = valueEnd;
  }
  return words;
}

/** Reads a value already validated by scanAsPath. */
export function readAsPath(buf: Buffer, start: number, end: number, asSize: 2 | 4, words: number): AsPath {
  const path = attributeWords(words);
  let w = 0;
  for (let i = start; i < end; ) {
    const count = buf[i + 1]!;
    path[w++] = buf[i]!;
    path[w++] = count;
    i += 2;
    for (let k = 0; k < count; k++, i += asSize)
      path[w++] = asSize === 4 ? buf.readUInt32BE(i) : buf.readUInt16BE(i);
  }
  return path;
}

/** Octets of the attribute value encoding `path` with `asSize`-octet AS numbers. */
export function asPathValueSize(path: AsPath, asSize: 2 | 4): number {
  let size = 0;
  for (let i = 0; i < path.length; i += 2 + path[i + 1]!) size += 2 + path[i + 1]! * asSize;
  return size;
}

/** Writes the attribute value at buf[offset]; AS numbers that do not fit two octets become AS_TRANS. */
export function writeAsPath(buf: Buffer, offset: number, path: AsPath, asSize: 2 | 4): number {
  for (let i = 0; i < path.length; ) {
    const count = path[i + 1]!;
    buf[offset++] = path[i]!;
    buf[offset++] = count;
    i += 2;
    for (let k = 0; k < count; k++, i++) {
      const asn = path[i]!;
      if (asSize === 4) offset = buf.writeUInt32BE(asn, offset);
      else offset = buf.writeUInt16BE(asn > 0xffff ? AS_TRANS : asn, offset);
    }
  }
  return offset;
}

/**
 * The AS4_PATH to send beside a two-octet AS_PATH (RFC 6793 §4.2.2): the path without
 * confederation segments, or null when all of its AS numbers fit two octets. (Confederation
 * members have no four-octet channel to a two-octet speaker: they travel as AS_TRANS.)
 */
export function as4PathFor(path: AsPath): AsPath | null {
  let needed = false;
  const out: number[] = [];
  for (let i = 0; i < path.length; i += 2 + path[i + 1]!) {
    const segment = path.subarray(i, i + 2 + path[i + 1]!);
    if (isConfed(segment[0]!)) continue;
    for (let j = 2; j < segment.length; j++) if (segment[j]! > 0xffff) needed = true;
    out.push(...segment);
  }
  return needed ? Uint32Array.from(out) : null;
}

/**
 * Rebuilds the four-octet path from a two-octet session's AS_PATH and AS4_PATH (RFC 6793
 * §4.2.3): AS4_PATH is ignored if AS_PATH counts fewer AS numbers; otherwise the leading part
 * of AS_PATH that AS4_PATH lacks is prepended to it. Confederation segments go along when
 * they lead or adjoin a prepended segment.
 */
export function mergeAs4Path(asPath: AsPath, as4Path: AsPath): AsPath {
  let need = asPathLength(asPath) - asPathLength(as4Path);
  if (need < 0) return asPath;
  const out: number[] = [];
  let previousTaken = false;
  for (let i = 0; i < asPath.length; i += 2 + asPath[i + 1]!) {
    const type = asPath[i]!;
    const count = asPath[i + 1]!;
    const asns = asPath.subarray(i + 2, i + 2 + count);
    if (isConfed(type)) {
      if (i !== 0 && !previousTaken) break;
      out.push(type, count, ...asns);
      previousTaken = true;
      continue;
    }
    if (need === 0) break;
    const take = type === AsPathSegmentType.AsSequence ? Math.min(count, need) : count;
    out.push(type, take, ...asns.subarray(0, take));
    need -= type === AsPathSegmentType.AsSequence ? take : 1;
    previousTaken = take === count;
    if (!previousTaken) break;
  }
  return joinSequences(out, as4Path);
}

/** head ++ tail, fusing a trailing AS_SEQUENCE of head with a leading one of tail when they fit one segment. */
function joinSequences(head: number[], tail: AsPath): AsPath {
  let lastStart = -1;
  for (let i = 0; i < head.length; i += 2 + head[i + 1]!) lastStart = i;
  if (
    lastStart >= 0 &&
    head[lastStart] === AsPathSegmentType.AsSequence &&
    tail[0] === AsPathSegmentType.AsSequence &&
    head[lastStart + 1]! + tail[1]! <= MAX_SEGMENT_LENGTH
  ) {
    head[lastStart + 1] = head[lastStart + 1]! + tail[1]!;
    head.push(...tail.subarray(2));
    return Uint32Array.from(head);
  }
  const path = new Uint32Array(head.length + tail.length);
  path.set(head);
  path.set(tail, head.length);
  return path;
}
