// IP address and CIDR parsing for validation. Addresses are held as bigints so that IPv4 and
// IPv6 share one code path for masking and containment.

import { isIPv4, isIPv6 } from 'node:net';

export type IpVersion = 4 | 6;

export interface IpAddress {
  version: IpVersion;
  value: bigint;
}

export interface Cidr {
  version: IpVersion;
  /** The address as written (host bits may be set). */
  address: bigint;
  prefixLength: number;
}

const BITS: Record<IpVersion, number> = { 4: 32, 6: 128 };

export function addressBits(version: IpVersion): number {
  return BITS[version];
}

/** Parses a plain IPv4 or IPv6 address (no prefix, no zone). */
export function parseIp(text: string): IpAddress | undefined {
  if (isIPv4(text)) return { version: 4, value: ipv4ToBigint(text) };
  if (isIPv6(text) && !text.includes('%')) return { version: 6, value: ipv6ToBigint(text) };
  return undefined;
}

/** Parses `address/prefix`; returns an error message instead of throwing. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  if (slash < 0) return `"${text}" is not a CIDR (expected address/prefix-length)`;
  const ip = parseIp(text.slice(0, slash));
  if (!ip) return `"${text}" is not a CIDR: "${text.slice(0, slash)}" is not an IP address`;
  const prefixText = text.slice(slash + 1);
  const bits = BITS[ip.version];
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    return `"${text}" is not a CIDR: the prefix length must be 0-${bits} for IPv${ip.version}`;
  }
  return { version: ip.version, address: ip.value, prefixLength: Number(prefixText) };
}

/** Parses a CIDR known to be valid (a constant, or text a schema has already checked). */
export function mustParseCidr(text: string): Cidr {
  const cidr = parseCidr(text);
  if (typeof cidr === 'string') throw new Error(cidr);
  return cidr;
}

/** The CIDR with its host bits cleared. */
export function networkOf(cidr: Cidr): Cidr {
  const hostBits = BigInt(BITS[cidr.version] - cidr.prefixLength);
  return { ...cidr, address: (cidr.address >> hostBits) << hostBits };
}

export function isMasked(cidr: Cidr): boolean {
  return networkOf(cidr).address === cidr.address;
}

/** True if `inner` lies entirely within `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.version === inner.version &&
    inner.prefixLength >= outer.prefixLength &&
    networkOf({ ...inner, prefixLength: outer.prefixLength }).address === networkOf(outer).address
  );
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ version: cidr.version, value: cidr.address })}/${cidr.prefixLength}`;
}

export function formatIp(ip: IpAddress): string {
  return ip.version === 4 ? formatIpv4(ip.value) : formatIpv6(ip.value);
}

function ipv4ToBigint(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(octet), 0n);
}

function ipv6ToBigint(text: string): bigint {
  let groups = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = groups.lastIndexOf(':');
  const tail = groups.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToBigint(tail);
    groups = `${groups.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = groups.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = Array<string>(8 - headGroups.length - restGroups.length).fill('0');
  return [...headGroups, ...zeros, ...restGroups].reduce((acc, g) => (acc << 16n) | BigInt(`0x${g}`), 0n);
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join('.');
}

/** RFC 5952 form: lower case, the longest run (>= 2) of zero groups compressed to `::`. */
function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
