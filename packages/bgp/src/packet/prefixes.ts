// NLRI prefix encoding (RFC 4271 §4.3, RFC 4760 §5): a length octet in bits, then the fewest
// octets holding that many bits. Decoded prefixes are packed into typed arrays, never into
// one object per prefix: the table reads them as integers. (Measured on 1M /32s: a plain
// number[] of addr * 64 + len parses faster in isolation, but costs 8 octets per prefix on the
// GC heap against 5 off-heap here, does not stretch to IPv6, and framing plus attribute
// checks already dominate a 60M prefixes/s decode.)

import { Afi } from './constants';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './ip';

/** Prefixes of one unicast address family. */
export interface PrefixList {
  readonly afi: Afi;
  /** Prefix lengths in bits. The number of prefixes is `lengths.length`. */
  readonly lengths: Uint8Array;
  /**
   * Network addresses with host bits cleared: one uint32 per IPv4 prefix, four per IPv6 prefix
   * (most significant word first).
   */
  readonly words: Uint32Array;
}

export function wordsPerAddress(afi: Afi): 1 | 4 {
  return afi === Afi.Ipv4 ? 1 : 4;
}

export function maxPrefixLength(afi: Afi): 32 | 128 {
  return afi === Afi.Ipv4 ? 32 : 128;
}

export function emptyPrefixList(afi: Afi): PrefixList {
  return { afi, lengths: new Uint8Array(0), words: new Uint32Array(0) };
}

const EMPTY_IPV4 = emptyPrefixList(Afi.Ipv4);
const EMPTY_IPV6 = emptyPrefixList(Afi.Ipv6);

/** Octets of one encoded prefix of `bits` length, the length octet included. */
export function encodedPrefixSize(bits: number): number {
  return 1 + ((bits + 7) >> 3);
}

/**
 * Counts the prefixes in buf[start, end), or returns -1 if the field is syntactically
 * incorrect (RFC 7606 §5.3): a length above the family's maximum, or a prefix running past
 * the end of the field.
 */
export function countPrefixes(buf: Buffer, start: number, end: number, maxBits: number): number {
  let count = 0;
  let i = start;
  while (i < end) {
    const bits = buf[i]!;
    if (bits > maxBits) return -1;
    i += 1 + ((bits + 7) >> 3);
    count++;
  }
  return i === end ? count : -1;
}

/**
 * Decoded lists are views into shared slabs of zeroed memory, never reused: two arrays of
 * their own per UPDATE cost twice the memory of two views (a list that outlives its message
 * keeps at most one slab alive). Large lists get arrays of their own.
 */
const SLAB_BYTES = 1 << 16;
const LARGEST_IN_SLAB = 1 << 12;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

function slabWords(count: number): Uint32Array {
  if (count * 4 > LARGEST_IN_SLAB) return new Uint32Array(count);
  if (slabUsed + count * 4 > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const words = new Uint32Array(slab, slabUsed, count);
  slabUsed += count * 4;
  return words;
}

function slabLengths(count: number): Uint8Array {
  if (count > LARGEST_IN_SLAB) return new Uint8Array(count);
  if (slabUsed + count > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const lengths = new Uint8Array(slab, slabUsed, count);
  // Word views must start 4-aligned.
  slabUsed = (slabUsed + count + 3) & ~3;
  return lengths;
}

/** Reads `count` prefixes from buf[start...] (already validated by countPrefixes). */
export function readPrefixes(buf: Buffer, start: number, count: number, afi: Afi): PrefixList {
  // Most UPDATEs have an empty Withdrawn Routes or NLRI field: one shared list, no allocation.
  if (count === 0) return afi === Afi.Ipv4 ? EMPTY_IPV4 : EMPTY_IPV6;
  const lengths = slabLengths(count);
  if (afi === Afi.Ipv4) {
    const words = slabWords(count);
    let i = start;
    for (let n = 0; n < count; n++) {
      const bits = buf[i++]!;
      let addr = 0;
      switch ((bits + 7) >> 3) {
        case 4:
          addr = (buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!;
          i += 4;
          break;
        case 3:
          addr = (buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8);
          i += 3;
          break;
        case 2:
          addr = (buf[i]! << 24) | (buf[i + 1]! << 16);
          i += 2;
          break;
        case 1:
          addr = buf[i]! << 24;
          i += 1;
          break;
      }
      lengths[n] = bits;
      // Trailing bits are irrelevant on the wire (RFC 4271 §4.3); clear them so equal prefixes compare equal.
      words[n] = bits === 0 ? 0 : addr & (-1 << (32 - bits));
    }
    return { afi, lengths, words };
  }
  const words = slabWords(count * 4);
  let i = start;
  for (let n = 0; n < count; n++) {
    const bits = buf[i++]!;
    const octets = (bits + 7) >> 3;
    const base = n * 4;
    for (let b = 0; b < octets; b++) {
      words[base + (b >> 2)] = (words[base + (b >> 2)]! | (buf[i + b]! << (24 - 8 * (b & 3)))) >>> 0;
    }
    i += octets;
    lengths[n] = bits;
    const partialWord = bits >> 5;
    const rest = bits & 31;
    if (rest !== 0) words[base + partialWord] = (words[base + partialWord]! & (-1 << (32 - rest))) >>> 0;
  }
  return { afi, lengths, words };
}

/** Writes prefix `index` of `list` at buf[offset]; returns the offset after it. */
export function writePrefix(buf: Buffer, offset: number, list: PrefixList, index: number): number {
  const bits = list.lengths[index]!;
  buf[offset++] = bits;
  const octets = (bits + 7) >> 3;
  const base = index * wordsPerAddress(list.afi);
  for (let b = 0; b < octets; b++) {
    buf[offset++] = list.words[base + (b >> 2)]! >>> (24 - 8 * (b & 3));
  }
  return offset;
}

/** Builds a list from text prefixes ("10.0.0.0/24", "2001:db8::/32"); host bits are cleared. */
export function prefixList(afi: Afi, prefixes: readonly string[]): PrefixList {
  const perAddress = wordsPerAddress(afi);
  const lengths = new Uint8Array(prefixes.length);
  const words = new Uint32Array(prefixes.length * perAddress);
  prefixes.forEach((text, n) => {
    const slash = text.lastIndexOf('/');
    const bits = Number(text.slice(slash + 1));
    if (slash < 0 || !Number.isInteger(bits) || bits < 0 || bits > maxPrefixLength(afi)) {
      throw new Error(`"${text}" is not an ${afi === Afi.Ipv4 ? 'IPv4' : 'IPv6'} prefix`);
    }
    const address = text.slice(0, slash);
    const addrWords = afi === Afi.Ipv4 ? [parseIpv4(address)] : parseIpv6(address);
    lengths[n] = bits;
    for (let w = 0; w < perAddress; w++) {
      const keep = Math.min(32, Math.max(0, bits - 32 * w));
      words[n * perAddress + w] = keep === 0 ? 0 : addrWords[w]! & (-1 << (32 - keep));
    }
  });
  return { afi, lengths, words };
}

/** Text form of every prefix, for tests and logs. */
export function prefixStrings(list: PrefixList): string[] {
  const out: string[] = [];
  for (let n = 0; n < list.lengths.length; n++) {
    const address = list.afi === Afi.Ipv4 ? formatIpv4(list.words[n]!) : formatIpv6(list.words, n * 4);
    out.push(`${address}/${list.lengths[n]}`);
  }
  return out;
}
