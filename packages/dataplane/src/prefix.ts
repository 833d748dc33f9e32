// Prefixes and addresses in the canonical text the kernel prints (`ip -j route show`), so
// desired routes and routes read back compare as plain strings.

import { isIPv4, isIPv6 } from 'node:net';

export type IpFamily = 4 | 6;

export interface Prefix {
  readonly family: IpFamily;
  /** "10.0.0.0/24", "2001:db8::/64": lower case, IPv6 compressed as RFC 5952. */
  readonly text: string;
}

/** Parses "address/length" (a bare address is a host route); throws naming `what` if invalid or host bits are set. */
export function parsePrefix(input: string, what: string): Prefix {
  const [address = '', length, extra] = input.split('/');
  const family = addressFamily(address);
  if (family === null || extra !== undefined) throw new Error(`${what}: '${input}' is not an IP prefix`);
  const maxLength = family === 4 ? 32 : 128;
  const bits = length === undefined ? maxLength : Number(length);
  if (!/^\d{1,3}$/.test(length ?? '0') || bits > maxLength) {
    throw new Error(`${what}: '${input}' has an invalid prefix length (0-${maxLength})`);
  }
  const value = addressValue(address, family);
  const hostMask = (1n << BigInt(maxLength - bits)) - 1n;
  if ((value & hostMask) !== 0n) throw new Error(`${what}: '${input}' has host bits set beyond /${bits}`);
  return { family, text: `${formatAddress(value, family)}/${bits}` };
}

/** Canonical text of an IP address; throws naming `what` if invalid. */
export function canonicalAddress(input: string, what: string): { family: IpFamily; text: string } {
  const family = addressFamily(input);
  if (family === null) throw new Error(`${what}: '${input}' is not an IP address`);
  return { family, text: formatAddress(addressValue(input, family), family) };
}

function addressFamily(text: string): IpFamily | null {
  if (isIPv4(text)) return 4;
  return isIPv6(text) ? 6 : null;
}

function addressValue(text: string, family: IpFamily): bigint {
  if (family === 4) return text.split('.').reduce((value, octet) => (value << 8n) | BigInt(octet), 0n);
  const [head = '', tail] = text.split('::');
  const groups = (part: string | undefined): bigint[] =>
    part
      ? part
          .split(':')
          .flatMap((group) => (group.includes('.') ? dottedGroups(group) : [BigInt(`0x${group}`)]))
      : [];
  const left = groups(head);
  const right = groups(tail);
  const all =
    tail === undefined
      ? left
      : [...left, ...Array<bigint>(8 - left.length - right.length).fill(0n), ...right];
  return all.reduce((value, group) => (value << 16n) | group, 0n);
}

/** An embedded IPv4 tail ("::ffff:192.0.2.1") is two 16-bit groups. */
function dottedGroups(dotted: string): bigint[] {
  const value = addressValue(dotted, 4);
  return [value >> 16n, value & 0xffffn];
}

function formatAddress(value: bigint, family: IpFamily): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => (value >> shift) & 0xffn).join('.');
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => Number((value >> shift) & 0xffffn));
  // RFC 5952: compress the longest run (first on ties) of two or more zero groups.
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start++) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) [bestStart, bestLength] = [start, end - start];
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
