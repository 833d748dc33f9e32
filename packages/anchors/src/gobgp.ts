import { freePort } from '@margay/testkit';
import { Daemon, type LaunchOptions, type PeerStatus, type RouteEntry, type SessionState } from './daemon';
import { type DaemonSpec, familyOf, type OriginatedRoute, resolvePeers } from './spec';

/** gobgpd.toml. GoBGP's config file cannot originate routes: they are added over gRPC once it runs. */
export function renderGobgpConfig(spec: DaemonSpec): string {
  const afiSafi = familyOf(spec.listen.address) === 4 ? 'ipv4-unicast' : 'ipv6-unicast';
  const lines = [
    '[global.config]',
    `  as = ${spec.asNumber}`,
    `  router-id = "${spec.routerId}"`,
    `  port = ${spec.listen.port}`,
    `  local-address-list = ["${spec.listen.address}"]`,
  ];
  for (const peer of resolvePeers(spec)) {
    lines.push(
      '',
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${peer.address}"`,
      `    peer-as = ${peer.asNumber}`,
      '  [neighbors.transport.config]',
      `    local-address = "${spec.listen.address}"`,
      `    remote-port = ${peer.port}`,
      `    passive-mode = ${peer.passive}`,
      // Loopback sessions should (re)connect at once, not after GoBGP's 120 s / 30 s defaults.
      '  [neighbors.timers.config]',
      '    connect-retry = 1',
      '    idle-hold-time-after-reset = 1',
    );
    if (peer.external && peer.multihop)
      lines.push('  [neighbors.ebgp-multihop.config]', '    enabled = true', '    multihop-ttl = 255');
    if (peer.routeReflectorClient) {
      lines.push('  [neighbors.route-reflector.config]', '    route-reflector-client = true');
      const clusterId = spec.routeReflector?.clusterId ?? spec.routerId;
      lines.push(`    route-reflector-cluster-id = "${clusterId}"`);
    }
    if (peer.gracefulRestart) {
      lines.push('  [neighbors.graceful-restart.config]', '    enabled = true');
      if (spec.gracefulRestart) lines.push(`    restart-time = ${spec.gracefulRestart.restartTime}`);
    }
    lines.push(
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      `      afi-safi-name = "${afiSafi}"`,
    );
    if (peer.gracefulRestart)
      lines.push('    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
  }
  return `${lines.join('\n')}\n`;
}

// apipb.PeerState.SessionState
const gobgpStates: SessionState[] = [
  'Idle',
  'Idle',
  'Connect',
  'Active',
  'OpenSent',
  'OpenConfirm',
  'Established',
];

interface GobgpNeighbor {
  conf?: { neighbor_address?: string };
  state?: { neighbor_address?: string; session_state?: number };
}

/** `gobgp neighbor -j`. GoBGP leaves out zero values, so a missing state is Idle. */
export function parseGobgpNeighbors(json: string): PeerStatus[] {
  return (JSON.parse(json) as GobgpNeighbor[]).map((neighbor) => ({
    address: neighbor.state?.neighbor_address ?? neighbor.conf?.neighbor_address ?? '',
    state: gobgpStates[neighbor.state?.session_state ?? 0] ?? 'Idle',
  }));
}

interface GobgpAttribute {
  type: number;
  value?: number | string | string[];
  metric?: number;
  nexthop?: string;
  as_paths?: { asns?: number[] }[];
  communities?: number[];
}

interface GobgpPath {
  attrs?: GobgpAttribute[];
  'neighbor-ip'?: string;
}

/** `gobgp global rib -j`: paths learned from neighbours (they carry neighbor-ip; local ones do not). */
export function parseGobgpRib(json: string): RouteEntry[] {
  const rib = JSON.parse(json) as Record<string, GobgpPath[]>;
  const routes: RouteEntry[] = [];
  for (const [prefix, paths] of Object.entries(rib)) {
    for (const path of paths) {
      if (!path['neighbor-ip']) continue;
      const route: RouteEntry = { prefix, asPath: [] };
      for (const attribute of path.attrs ?? []) {
        if (attribute.type === 2)
          route.asPath = (attribute.as_paths ?? []).flatMap((segment) => segment.asns ?? []);
        else if (attribute.type === 3 || attribute.type === 14) route.nextHop = attribute.nexthop;
        else if (attribute.type === 4) route.med = attribute.metric ?? 0;
        else if (attribute.type === 5) route.localPref = Number(attribute.value ?? 0);
        else if (attribute.type === 9) route.originatorId = String(attribute.value);
        else if (attribute.type === 10) route.clusterList = attribute.value as string[];
        else if (attribute.type === 8)
          route.communities = (attribute.communities ?? []).map((c) => `${c >>> 16}:${c & 0xffff}`);
      }
      routes.push(route);
    }
  }
  return routes;
}

class GobgpDaemon extends Daemon {
  private apiPort = 0;

  constructor(spec: DaemonSpec, options: LaunchOptions) {
    super('gobgp', spec, options, 'gobgpd.toml', 'Debian package gobgpd');
  }

  protected override async prepare(): Promise<void> {
    this.apiPort = await freePort('127.0.0.1');
  }

  protected command(): { file: string; args: string[] } {
    return {
      file: 'gobgpd',
      args: [
        '-f',
        this.configFile,
        '-t',
        'toml',
        '-p',
        '-l',
        'info',
        '--pprof-disable',
        '--api-hosts',
        `127.0.0.1:${this.apiPort}`,
      ],
    };
  }

  private gobgp(...args: string[]): Promise<string> {
    return this.run('gobgp', ['-u', '127.0.0.1', '-p', String(this.apiPort), ...args]);
  }

  protected renderConfig(): string {
    return renderGobgpConfig(this.spec);
  }

  protected async isReady(): Promise<boolean> {
    // gobgpd answers before it has read its config; wait until the neighbours are there too.
    const neighbors = parseGobgpNeighbors(await this.gobgp('neighbor', '-j'));
    return neighbors.length === this.spec.peers.length;
  }

  protected override async afterReady(): Promise<void> {
    for (const route of this.originated.values()) await this.applyAnnounce(route);
  }

  protected async applyAnnounce(route: OriginatedRoute): Promise<void> {
    const nextHop = route.nextHop ?? (this.family === 4 ? '0.0.0.0' : '::');
    await this.gobgp('global', 'rib', 'add', '-a', this.afi, route.prefix, 'nexthop', nextHop);
  }

  protected async applyWithdraw(prefix: string): Promise<void> {
    await this.gobgp('global', 'rib', 'del', '-a', this.afi, prefix);
  }

  async peers(): Promise<PeerStatus[]> {
    return parseGobgpNeighbors(await this.gobgp('neighbor', '-j'));
  }

  async routes(): Promise<RouteEntry[]> {
    return parseGobgpRib(await this.gobgp('global', 'rib', '-a', this.afi, '-j'));
  }
}

/** gobgpd (Debian gobgpd) with its gRPC API on a free 127.0.0.1 port, driven by the `gobgp` CLI. */
export async function startGobgp(spec: DaemonSpec, options: LaunchOptions = {}): Promise<GobgpDaemon> {
  return new GobgpDaemon(spec, options).start();
}

export type { GobgpDaemon };
