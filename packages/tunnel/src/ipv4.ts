// The IPv4 arithmetic the tunnel calculator needs: tunnels here are IPv4 only (IPIP is IPv4 by
// definition; VXLAN over IPv6 is not built yet).

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit number (host bits cleared). */
  readonly base: number;
  readonly prefixLength: number;
}

const OCTETS = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address as a number, or undefined if it is not a dotted-quad IPv4 address. */
export function parseIpv4(text: string): number | undefined {
  const match = OCTETS.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

/** `a.b.c.d/n` (host bits allowed: an interface address names its subnet); undefined if not IPv4. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const [address, length, ...rest] = text.split('/');
  if (address === undefined || length === undefined || rest.length > 0 || !/^\d{1,2}$/.test(length))
    return undefined;
  const ip = parseIpv4(address);
  const prefixLength = Number(length);
  if (ip === undefined || prefixLength > 32) return undefined;
  return { base: maskOf(ip, prefixLength), prefixLength };
}

export function ipv4InCidr(ip: number, cidr: Ipv4Cidr): boolean {
  return maskOf(ip, cidr.prefixLength) === cidr.base;
}

export function cidrInCidr(inner: Ipv4Cidr, outer: Ipv4Cidr): boolean {
  return inner.prefixLength >= outer.prefixLength && ipv4InCidr(inner.base, outer);
}

function maskOf(ip: number, prefixLength: number): number {
  if (prefixLength === 0) return 0;
  const mask = (0xffffffff << (32 - prefixLength)) >>> 0;
  return (ip & mask) >>> 0;
}

/** Is the prefix (IPv4 `a.b.c.d/n`) inside one of the CIDRs? IPv6 prefixes never are. */
export function prefixInCidrs(prefix: string, cidrs: readonly string[]): boolean {
  const inner = parseIpv4Cidr(prefix);
  if (inner === undefined) return false;
  return cidrs.some((text) => {
    const outer = parseIpv4Cidr(text);
    return outer !== undefined && cidrInCidr(inner, outer);
  });
}
