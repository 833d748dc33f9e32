// Addresses as bigints, so that IPv4 and IPv6 share one code path for block arithmetic. Parsing and
// formatting are @margay/api's; this module adds the block arithmetic IPAM needs.

import { formatIp as formatAddress, parseIp as parseAddress } from '@margay/api';

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

/** A plain IPv4 or IPv6 address (no prefix, no zone), parsed by @margay/api. */
export function parseIp(text: string): Ip | undefined {
  const ip = parseAddress(text);
  return ip && { family: ip.version, value: ip.value };
}

/** The address in canonical form (RFC 5952 for IPv6). */
export function formatIp(family: Family, value: bigint): string {
  return formatAddress({ version: family, value });
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
