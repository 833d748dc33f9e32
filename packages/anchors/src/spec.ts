import { isIP, isIPv4 } from 'node:net';

/** One BGP neighbour of a daemon. The session's address family is the family of `address`. */
export interface PeerSpec {
  address: string;
  /** The neighbour's BGP port (default 179). */
  port?: number;
  asNumber: number;
  /** Wait for the neighbour to connect instead of connecting to it. */
  passive?: boolean;
  /** Reflect routes to this iBGP neighbour (needs `DaemonSpec.routeReflector`). */
  routeReflectorClient?: boolean;
  /** eBGP across more than one hop (default true: loopback addresses are not a shared subnet). */
  multihop?: boolean;
  /** Announce graceful restart to this neighbour (default: whether `DaemonSpec.gracefulRestart` is set). */
  gracefulRestart?: boolean;
  /**
   * Speak 4-octet AS numbers (RFC 6793) with this neighbour (default true). BIRD only: false makes
   * it a 2-octet-only speaker, so a 4-octet neighbour must be configured as AS_TRANS (23456).
   */
  as4?: boolean;
}

/** A prefix the daemon originates itself. */
export interface OriginatedRoute {
  prefix: string;
  /**
   * NEXT_HOP to announce (default: the daemon's own address). Give routes meant for GoBGP or FRR one
   * outside 127/8: GoBGP treats a loopback NEXT_HOP as withdrawn, FRR calls it martian and resets.
   */
  nextHop?: string;
}

/** What every launcher understands. One daemon speaks one address family: that of `listen.address`. */
export interface DaemonSpec {
  routerId: string;
  asNumber: number;
  /** The address and port the daemon binds for BGP (and uses as the source of its sessions). */
  listen: { address: string; port: number };
  peers: PeerSpec[];
  originate?: (string | OriginatedRoute)[];
  routeReflector?: { clusterId?: string };
  gracefulRestart?: { restartTime: number };
}

export type AddressFamily = 4 | 6;

const MAX_AS = 4294967295;

/** Errors name the daemon and the field, e.g. `bird2 spec: peers[1].address "x" is not an IP address`. */
export class SpecError extends Error {
  constructor(daemon: string, field: string, problem: string) {
    super(`${daemon} spec: ${field} ${problem}`);
    this.name = 'SpecError';
  }
}

export function familyOf(address: string): AddressFamily {
  return isIPv4(address) ? 4 : 6;
}

/** The address part of a prefix, or undefined if `prefix` is not `address/length` with a valid length. */
export function prefixFamily(prefix: string): AddressFamily | undefined {
  const [address, length, extra] = prefix.split('/');
  if (address === undefined || length === undefined || extra !== undefined || !/^\d{1,3}$/.test(length))
    return undefined;
  const family = isIP(address);
  if (family === 0 || Number(length) > (family === 4 ? 32 : 128)) return undefined;
  return family === 4 ? 4 : 6;
}

export function normalizeRoute(route: string | OriginatedRoute): OriginatedRoute {
  return typeof route === 'string' ? { prefix: route } : route;
}

export function checkRoute(
  daemon: string,
  field: string,
  route: OriginatedRoute,
  family: AddressFamily,
): void {
  const routeFamily = prefixFamily(route.prefix);
  if (routeFamily === undefined)
    throw new SpecError(daemon, `${field}.prefix`, `"${route.prefix}" is not a prefix`);
  if (routeFamily !== family)
    throw new SpecError(
      daemon,
      `${field}.prefix`,
      `"${route.prefix}" is not IPv${family} like the listen address`,
    );
  if (route.nextHop !== undefined && (isIP(route.nextHop) === 0 || familyOf(route.nextHop) !== family))
    throw new SpecError(daemon, `${field}.nextHop`, `"${route.nextHop}" is not an IPv${family} address`);
}

function checkAs(daemon: string, field: string, value: unknown): void {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_AS)
    throw new SpecError(daemon, field, `${String(value)} is not an AS number (1..${MAX_AS})`);
}

function checkPort(daemon: string, field: string, value: unknown): void {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535)
    throw new SpecError(daemon, field, `${String(value)} is not a TCP port (1..65535)`);
}

/** Throws a SpecError for the first thing wrong with `spec`; returns the spec's address family. */
export function checkSpec(daemon: string, spec: DaemonSpec): AddressFamily {
  if (!isIPv4(spec.routerId))
    throw new SpecError(daemon, 'routerId', `"${spec.routerId}" is not a dotted-quad router ID`);
  checkAs(daemon, 'asNumber', spec.asNumber);
  if (isIP(spec.listen?.address ?? '') === 0)
    throw new SpecError(daemon, 'listen.address', `"${spec.listen?.address}" is not an IP address`);
  checkPort(daemon, 'listen.port', spec.listen.port);
  const family = familyOf(spec.listen.address);
  if (!Array.isArray(spec.peers)) throw new SpecError(daemon, 'peers', 'must be an array');
  const seen = new Set<string>();
  spec.peers.forEach((peer, i) => {
    const field = `peers[${i}]`;
    if (isIP(peer.address) === 0 || familyOf(peer.address) !== family)
      throw new SpecError(daemon, `${field}.address`, `"${peer.address}" is not an IPv${family} address`);
    if (seen.has(peer.address))
      throw new SpecError(daemon, `${field}.address`, `${peer.address} is listed twice`);
    seen.add(peer.address);
    if (peer.port !== undefined) checkPort(daemon, `${field}.port`, peer.port);
    checkAs(daemon, `${field}.asNumber`, peer.asNumber);
    if (peer.routeReflectorClient && peer.asNumber !== spec.asNumber)
      throw new SpecError(daemon, `${field}.routeReflectorClient`, 'needs an iBGP peer (same asNumber)');
    if (peer.routeReflectorClient && !spec.routeReflector)
      throw new SpecError(daemon, `${field}.routeReflectorClient`, 'needs spec.routeReflector');
  });
  if (spec.routeReflector?.clusterId !== undefined && !isIPv4(spec.routeReflector.clusterId))
    throw new SpecError(
      daemon,
      'routeReflector.clusterId',
      `"${spec.routeReflector.clusterId}" is not dotted-quad`,
    );
  const restartTime = spec.gracefulRestart?.restartTime;
  if (restartTime !== undefined && (!Number.isInteger(restartTime) || restartTime < 1 || restartTime > 4095))
    throw new SpecError(daemon, 'gracefulRestart.restartTime', `${restartTime} is not 1..4095 seconds`);
  (spec.originate ?? []).forEach((route, i) => {
    checkRoute(daemon, `originate[${i}]`, normalizeRoute(route), family);
  });
  return family;
}

/** The settings every renderer needs per peer, defaults applied. */
export interface ResolvedPeer {
  address: string;
  port: number;
  asNumber: number;
  external: boolean;
  passive: boolean;
  routeReflectorClient: boolean;
  multihop: boolean;
  gracefulRestart: boolean;
  as4: boolean;
}

export function resolvePeers(spec: DaemonSpec): ResolvedPeer[] {
  return spec.peers.map((peer) => ({
    address: peer.address,
    port: peer.port ?? 179,
    asNumber: peer.asNumber,
    external: peer.asNumber !== spec.asNumber,
    passive: peer.passive ?? false,
    routeReflectorClient: peer.routeReflectorClient ?? false,
    multihop: peer.multihop ?? true,
    gracefulRestart: peer.gracefulRestart ?? spec.gracefulRestart !== undefined,
    as4: peer.as4 ?? true,
  }));
}
