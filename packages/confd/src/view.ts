// What the BIRD templates see: the node's peering as margay computes it for margay-bgpd too
// (@margay/node's bgpPeering, so BIRD nodes and margay-bgpd nodes agree on every session and on
// who is passive), turned into BIRD's words. Pure; templates/README.md documents every field.

import { isIPv4 } from 'node:net';
import type { BGPPeer, IPPool } from '@margay/api';
import { type BgpPeering, type BgpSnapshot, bgpPeering, PEER_TYPES, type PlannedPeer } from '@margay/node';

/** Calico's default graceful restart time. */
const DEFAULT_RESTART_SECONDS = 120;

/** Everything a render depends on: the datastore snapshot plus the secrets peers refer to. */
export interface ConfdSnapshot extends BgpSnapshot {
  /** Secret values by `<secret name>/<key>`. */
  readonly secrets: ReadonlyMap<string, string>;
}

export interface ViewOptions {
  /** Export learned routes to the kernel (protocol kernel); off leaves the host's tables alone. */
  readonly kernelRoutes: boolean;
}

type ExportPolicy = BgpPeering['nodeExport'];

export interface PrefixRule {
  /** A BIRD prefix pattern, e.g. `10.244.0.0/16{16,32}`. */
  readonly match: string;
  readonly action: 'accept' | 'reject';
}

export interface PeerView {
  readonly name: string;
  readonly description: string;
  readonly address: string;
  readonly port: number;
  readonly asNumber: number;
  readonly localAsNumber: number;
  /** Our address for the session, or null to let the kernel choose. */
  readonly localAddress: string | null;
  readonly internal: boolean;
  readonly passive: boolean;
  readonly routeReflectorClient: boolean;
  readonly routeReflectorClusterId: string | null;
  /** Already checked to be quotable in BIRD. */
  readonly password: string | null;
  readonly gracefulRestartTime: number;
  readonly keepaliveTime: number | null;
  readonly ttlSecurity: number | null;
  readonly nextHop: 'self' | 'keep' | null;
  readonly allowLocalAs: number | null;
  /** `margay_export_to_nodes` or `margay_export_to_external`. */
  readonly exportFilter: string;
}

export interface BirdView {
  readonly nodeName: string;
  readonly routerId: string;
  readonly asNumber: number;
  readonly listenPort: number;
  /** bindMode NodeIP: every session listens on the node address only. */
  readonly strictBind: boolean;
  readonly debug: boolean;
  readonly kernelRoutes: boolean;
  readonly ignoredInterfaces: readonly string[];
  /** Affine blocks of exported pools, originated as blackhole routes. */
  readonly blocks: readonly string[];
  /** Service ranges of the BGPConfiguration, originated as blackhole routes. */
  readonly services: readonly string[];
  /** Every pool, as a BIRD prefix pattern covering the pool and everything inside it. */
  readonly pools: readonly { readonly cidr: string; readonly match: string; readonly exported: boolean }[];
  readonly nodeExport: readonly PrefixRule[];
  readonly externalExport: readonly PrefixRule[];
  readonly communities: readonly {
    readonly match: string;
    readonly standard: readonly string[];
    readonly large: readonly string[];
  }[];
  readonly peers: readonly PeerView[];
}

export class ViewError extends Error {
  override name = 'ViewError';
}

/** The view of `snapshot.nodeName`; throws a ViewError naming the resource and field at fault. */
export function birdView(snapshot: ConfdSnapshot, options: ViewOptions): BirdView {
  let peering: BgpPeering;
  try {
    peering = bgpPeering(snapshot);
  } catch (error) {
    throw new ViewError((error as Error).message);
  }
  const { self, settings } = peering;
  const where = (field: string) => `BGPConfiguration spec.${field}`;
  const meshPassword = settings.nodeMeshPassword
    ? secret(snapshot.secrets, settings.nodeMeshPassword, where('nodeMeshPassword'))
    : null;
  const meshRestart = settings.nodeMeshMaxRestartTime
    ? seconds(settings.nodeMeshMaxRestartTime, where('nodeMeshMaxRestartTime'))
    : DEFAULT_RESTART_SECONDS;
  return {
    nodeName: snapshot.nodeName,
    routerId: self.address,
    asNumber: self.asNumber,
    listenPort: peering.listen.port,
    strictBind: settings.bindMode === 'NodeIP',
    debug: settings.logSeverityScreen === 'Debug',
    kernelRoutes: options.kernelRoutes,
    ignoredInterfaces: (settings.ignoredInterfaces ?? []).map((name, i) =>
      birdString(name, where(`ignoredInterfaces[${i}]`)),
    ),
    blocks: peering.blocks.filter(ipv4),
    services: peering.services.filter(ipv4),
    pools: snapshot.pools
      .filter((pool) => ipv4(pool.spec.cidr))
      .sort(byCidr)
      .map((pool: IPPool) => ({
        cidr: pool.spec.cidr,
        match: `${pool.spec.cidr}+`,
        exported: !pool.spec.disabled && !pool.spec.disableBGPExport,
      })),
    nodeExport: prefixRules(peering.nodeExport),
    externalExport: prefixRules(peering.externalExport),
    communities: communityRules(settings.communities ?? [], settings.prefixAdvertisements ?? []),
    peers: peering.peers.map((peer) =>
      peerView(peer, peering, { password: meshPassword, restart: meshRestart }, snapshot.secrets),
    ),
  };
}

function peerView(
  peer: PlannedPeer,
  { self, settings }: BgpPeering,
  mesh: { password: string | null; restart: number },
  secrets: ReadonlyMap<string, string>,
): PeerView {
  const spec: Partial<BGPPeer['spec']> = peer.resource?.spec ?? {};
  const where = (field: string) => `BGPPeer ${peer.resource?.metadata.name} spec.${field}`;
  const localAsNumber = spec.localASNumber ?? self.asNumber;
  const nextHopMode = spec.nextHopMode ?? (spec.keepOriginalNextHop ? 'Keep' : 'Auto');
  return {
    name: protocolName(peer),
    description: birdString(peer.description, 'peer description'),
    address: peer.address,
    port: peer.port,
    asNumber: peer.asNumber,
    localAsNumber,
    // bindMode NodeIP listens on the node address, so sessions must use it too.
    localAddress: settings.bindMode === 'NodeIP' ? self.address : (peer.localAddress ?? null),
    internal: peer.asNumber === localAsNumber,
    passive: peer.passive,
    routeReflectorClient: peer.routeReflectorClient,
    routeReflectorClusterId: peer.routeReflectorClient ? (self.clusterId ?? null) : null,
    password: peer.resource
      ? spec.password
        ? secret(secrets, spec.password, where('password'))
        : null
      : mesh.password,
    gracefulRestartTime: spec.maxRestartTime
      ? seconds(spec.maxRestartTime, where('maxRestartTime'))
      : peer.resource
        ? DEFAULT_RESTART_SECONDS
        : mesh.restart,
    keepaliveTime: spec.keepaliveTime ? seconds(spec.keepaliveTime, where('keepaliveTime')) : null,
    ttlSecurity: spec.ttlSecurity ?? null,
    nextHop: nextHopMode === 'Self' ? 'self' : nextHopMode === 'Keep' ? 'keep' : null,
    allowLocalAs: spec.numAllowedLocalASNumbers ?? null,
    exportFilter: peer.nodeName === undefined ? 'margay_export_to_external' : 'margay_export_to_nodes',
  };
}

/**
 * Calico's names: Mesh_10_0_0_2, Node_10_0_0_2, Global_10_0_0_2, with `_port_N` for a router
 * outside the cluster on a port other than 179 (nodes all listen on the cluster's port).
 */
function protocolName(peer: PlannedPeer): string {
  const prefix = peer.kind === PEER_TYPES.mesh ? 'Mesh' : peer.kind === PEER_TYPES.global ? 'Global' : 'Node';
  const name = `${prefix}_${peer.address.replace(/[.:]/g, '_')}`;
  return peer.nodeName === undefined && peer.port !== 179 ? `${name}_port_${peer.port}` : name;
}

function prefixRules(policy: ExportPolicy): PrefixRule[] {
  if (policy === 'none') return [];
  return policy.prefixes
    .filter((entry) => ipv4(entry.prefix))
    .map((entry) => {
      const length = Number(entry.prefix.split('/')[1]);
      const ge = entry.ge ?? length;
      const le = entry.le ?? length;
      const match = ge === length && le === length ? entry.prefix : `${entry.prefix}{${ge},${le}}`;
      return { match, action: entry.action ?? 'accept' };
    });
}

/** Each prefix advertisement as BIRD community literals; names refer to spec.communities. */
function communityRules(
  named: readonly { name: string; value: string }[],
  advertisements: readonly { cidr: string; communities: string[] }[],
): BirdView['communities'] {
  // Indexes stay those of the resource, so that errors point at the right entry.
  return advertisements.flatMap((advertisement, i) => {
    if (!ipv4(advertisement.cidr)) return [];
    const standard: string[] = [];
    const large: string[] = [];
    advertisement.communities.forEach((reference, j) => {
      const value = named.find((c) => c.name === reference)?.value ?? reference;
      const parts = value.split(':');
      const numeric = parts.every((p) => /^\d+$/.test(p));
      if (numeric && parts.length === 2 && parts.every((p) => Number(p) <= 65535)) {
        standard.push(`(${parts.join(',')})`);
      } else if (numeric && parts.length === 3 && parts.every((p) => Number(p) <= 4294967295)) {
        large.push(`(${parts.join(',')})`);
      } else {
        throw new ViewError(
          `BGPConfiguration spec.prefixAdvertisements[${i}].communities[${j}]: ${JSON.stringify(reference)} ` +
            'is neither a name in spec.communities nor a community (aa:nn or aa:nn:mm)',
        );
      }
    });
    return [{ match: `${advertisement.cidr}+`, standard, large }];
  });
}

type SecretRef = NonNullable<BGPPeer['spec']['password']>;

/** A secret's value; BIRD strings have no escapes, so a value with `"` or a newline cannot be used. */
function secret(
  secrets: ReadonlyMap<string, string>,
  { secretKeyRef }: SecretRef,
  where: string,
): string | null {
  const value = secrets.get(`${secretKeyRef.name}/${secretKeyRef.key}`);
  if (value === undefined) {
    if (secretKeyRef.optional) return null;
    throw new ViewError(`${where}: secret ${secretKeyRef.name} has no key ${secretKeyRef.key}`);
  }
  return birdString(value, `${where} (secret ${secretKeyRef.name}/${secretKeyRef.key})`);
}

function birdString(value: string, where: string): string {
  if (/["\n\r\\]/.test(value)) {
    throw new ViewError(
      `${where}: ${JSON.stringify(value)} cannot be written in BIRD (no ", \\ or line breaks)`,
    );
  }
  return value;
}

const UNIT_SECONDS: Record<string, number> = {
  h: 3600,
  m: 60,
  s: 1,
  ms: 0.001,
  us: 1e-6,
  µs: 1e-6,
  ns: 1e-9,
};

/** A Go duration (already validated by the api schema) in whole seconds, rounded up. */
export function seconds(duration: string, where: string): number {
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(amount) * UNIT_SECONDS[unit!]!;
  }
  if (duration !== '0' && total === 0 && !/^0/.test(duration)) {
    throw new ViewError(`${where}: ${JSON.stringify(duration)} is not a duration`);
  }
  return Math.ceil(total);
}

/** The templates configure IPv4 only, like the peering they render (IPv6 peers are not computed yet). */
function ipv4(cidr: string): boolean {
  return isIPv4(cidr.split('/')[0]!);
}

function byCidr(a: IPPool, b: IPPool): number {
  return a.spec.cidr < b.spec.cidr ? -1 : 1;
}
