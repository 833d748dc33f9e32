// Addresses as bigints, so that IPv4 and IPv6 share one code path for block arithmetic.

import { isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

export interface Ip {
  family: Family;
  value: bigint;
}

export interface Cidr {
  family: Family;
  /** The network address (host bits clear). */
  base: bigint;
  prefixLength: number;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

export function parseIp(text: string): Ip | undefined {
  if (isIPv4(text)) {
    const value = text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(octet), 0n);
    return { family: 4, value };
  }
  if (!isIPv6(text) || text.includes('%')) return undefined;
  let groups: string[];
  const embeddedV4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let body = text;
  if (embeddedV4) {
    const v4 = parseIp(embeddedV4[1]!)!.value;
    body = `${text.slice(0, embeddedV4.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = body.split('::');
  if (tail === undefined) {
    groups = head.split(':');
  } else {
    const left = head === '' ? [] : head.split(':');
    const right = tail === '' ? [] : tail.split(':');
    groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  }
  return { family: 6, value: groups.reduce((acc, group) => (acc << 16n) | BigInt(`0x${group}`), 0n) };
}

export function formatIp(family: Family, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => (value >> BigInt(112 - 16 * i)) & 0xffffn);
  // RFC 5952: compress the longest run of two or more zero groups (the first one on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0n) length++;
    if (length > bestLength) [bestStart, bestLength] = [start, length];
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Parses `address/prefix`; throws a message naming the text if it is not a CIDR. */
export function parseCidr(text: string): Cidr {
  const [address = '', prefix, extra] = text.split('/');
  const ip = parseIp(address);
  if (!ip || prefix === undefined || extra !== undefined || !/^\d{1,3}$/.test(prefix)) {
    throw new Error(`"${text}" is not a CIDR (expected address/prefix-length)`);
  }
  const prefixLength = Number(prefix);
  if (prefixLength > BITS[ip.family]) {
    throw new Error(`"${text}": the prefix length must be 0-${BITS[ip.family]} for IPv${ip.family}`);
  }
  const hostBits = BigInt(BITS[ip.family] - prefixLength);
  return { family: ip.family, base: (ip.value >> hostBits) << hostBits, prefixLength };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.family, cidr.base)}/${cidr.prefixLength}`;
}

/** Number of addresses in the CIDR. */
export function cidrSize(cidr: Cidr): bigint {
  return 1n << BigInt(BITS[cidr.family] - cidr.prefixLength);
}

export function cidrContainsIp(cidr: Cidr, ip: Ip): boolean {
  return ip.family === cidr.family && ip.value >= cidr.base && ip.value < cidr.base + cidrSize(cidr);
}

export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return (
    inner.prefixLength >= outer.prefixLength &&
    cidrContainsIp(outer, { family: inner.family, value: inner.base })
  );
}
