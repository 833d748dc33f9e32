import { Daemon, type LaunchOptions, type PeerStatus, type RouteEntry, type SessionState } from './daemon';
import { type AddressFamily, type DaemonSpec, familyOf, type OriginatedRoute, resolvePeers } from './spec';

const frrStates: Record<string, SessionState> = {
  Idle: 'Idle',
  Connect: 'Connect',
  Active: 'Active',
  OpenSent: 'OpenSent',
  OpenConfirm: 'OpenConfirm',
  Established: 'Established',
};

function routeMapName(prefix: string): string {
  return `originate-${prefix.replace(/[^0-9a-fA-F]/g, '-')}`;
}

/** The route-map that puts a route's NEXT_HOP on it (none if it has no explicit next hop). */
function routeMapLines(route: OriginatedRoute, family: AddressFamily): string[] {
  if (route.nextHop === undefined) return [];
  const set = family === 4 ? `set ip next-hop ${route.nextHop}` : `set ipv6 next-hop global ${route.nextHop}`;
  return [`route-map ${routeMapName(route.prefix)} permit 10`, ` ${set}`, 'exit'];
}

function networkLine(route: OriginatedRoute): string {
  return route.nextHop === undefined
    ? `network ${route.prefix}`
    : `network ${route.prefix} route-map ${routeMapName(route.prefix)}`;
}

/**
 * bgpd.conf for an FRR bgpd running without zebra: `network` statements need no RIB route
 * (no import-check) and eBGP sessions pass the originated NEXT_HOP on unchanged.
 */
export function renderFrrConfig(spec: DaemonSpec, routes: OriginatedRoute[], logFile: string): string {
  const family = familyOf(spec.listen.address);
  const peers = resolvePeers(spec);
  const lines = ['frr defaults traditional', `log file ${logFile}`];
  for (const route of routes) lines.push(...routeMapLines(route, family));
  lines.push(
    `router bgp ${spec.asNumber}`,
    ` bgp router-id ${spec.routerId}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp network import-check',
    ' no bgp default ipv4-unicast',
  );
  if (spec.routeReflector?.clusterId) lines.push(` bgp cluster-id ${spec.routeReflector.clusterId}`);
  if (spec.gracefulRestart)
    lines.push(` bgp graceful-restart restart-time ${spec.gracefulRestart.restartTime}`);
  for (const peer of peers) {
    const n = ` neighbor ${peer.address}`;
    lines.push(
      `${n} remote-as ${peer.asNumber}`,
      `${n} port ${peer.port}`,
      `${n} update-source ${spec.listen.address}`,
    );
    lines.push(`${n} timers connect 1`);
    if (peer.external && peer.multihop) lines.push(`${n} ebgp-multihop 255`);
    if (peer.passive) lines.push(`${n} passive`);
    if (peer.gracefulRestart) lines.push(`${n} graceful-restart`);
  }
  lines.push(` address-family ${family === 4 ? 'ipv4' : 'ipv6'} unicast`);
  for (const route of routes) lines.push(`  ${networkLine(route)}`);
  for (const peer of peers) {
    const n = `  neighbor ${peer.address}`;
    lines.push(`${n} activate`);
    if (peer.routeReflectorClient) lines.push(`${n} route-reflector-client`);
    if (peer.external) lines.push(`${n} attribute-unchanged next-hop`);
  }
  lines.push(' exit-address-family', 'exit');
  return `${lines.join('\n')}\n`;
}

/** `show bgp neighbors json`: neighbours keyed by address. */
export function parseFrrNeighbors(json: string): PeerStatus[] {
  const neighbors = JSON.parse(json) as Record<string, { bgpState?: string }>;
  return Object.entries(neighbors)
    .filter(([, neighbor]) => typeof neighbor?.bgpState === 'string')
    .map(([address, neighbor]) => ({ address, state: frrStates[neighbor.bgpState!] ?? 'Idle' }));
}

interface FrrPath {
  aspath?: { segments?: { list?: number[] }[] };
  nexthops?: { ip?: string }[];
  community?: { list?: string[] };
  locPrf?: number;
  metric?: number;
  local?: boolean;
  peer?: { peerId?: string };
}

/** `show bgp <afi> unicast json detail`: per prefix a header object, then its paths. */
export function parseFrrRoutes(json: string): RouteEntry[] {
  const table = JSON.parse(json) as { routes?: Record<string, FrrPath[]> };
  const routes: RouteEntry[] = [];
  for (const [prefix, entries] of Object.entries(table.routes ?? {})) {
    for (const path of entries) {
      if (!path.aspath || path.local) continue;
      const route: RouteEntry = { prefix, asPath: (path.aspath.segments ?? []).flatMap((s) => s.list ?? []) };
      if (path.nexthops?.[0]?.ip) route.nextHop = path.nexthops[0].ip;
      if (path.community?.list) route.communities = path.community.list;
      if (path.locPrf !== undefined) route.localPref = path.locPrf;
      if (path.metric !== undefined) route.med = path.metric;
      routes.push(route);
    }
  }
  return routes;
}

class FrrDaemon extends Daemon {
  constructor(spec: DaemonSpec, options: LaunchOptions) {
    super('frr', spec, options, 'bgpd.conf', 'Debian package frr');
  }

  protected command(): { file: string; args: string[] } {
    const { address, port } = this.spec.listen;
    return {
      file: '/usr/lib/frr/bgpd',
      // -Z: no zebra (and so no kernel routes); -S: stay root, the vty socket lives in our dir.
      args: [
        '-f',
        this.configFile,
        '-i',
        `${this.dir}/bgpd.pid`,
        '--vty_socket',
        this.dir,
        '-Z',
        '-S',
        '-P',
        '0',
        '-l',
        address,
        '-p',
        String(port),
      ],
    };
  }

  private vtysh(...commands: string[]): Promise<string> {
    return this.run('vtysh', ['--vty_socket', this.dir, ...commands.flatMap((command) => ['-c', command])]);
  }

  protected renderConfig(): string {
    return renderFrrConfig(this.spec, [...this.originated.values()], this.logFile);
  }

  protected async isReady(): Promise<boolean> {
    await this.vtysh('show bgp summary json');
    return true;
  }

  private addressFamily(): string[] {
    return ['configure terminal', `router bgp ${this.spec.asNumber}`, `address-family ${this.afi} unicast`];
  }

  protected async applyAnnounce(route: OriginatedRoute): Promise<void> {
    const routeMap = routeMapLines(route, this.family);
    await this.vtysh(
      ...(routeMap.length ? ['configure terminal', ...routeMap, 'end'] : []),
      ...this.addressFamily(),
      networkLine(route),
    );
  }

  protected async applyWithdraw(prefix: string): Promise<void> {
    await this.vtysh(...this.addressFamily(), `no network ${prefix}`);
  }

  async peers(): Promise<PeerStatus[]> {
    return parseFrrNeighbors(await this.vtysh('show bgp neighbors json'));
  }

  async routes(): Promise<RouteEntry[]> {
    return parseFrrRoutes(await this.vtysh(`show bgp ${this.afi} unicast json detail`));
  }
}

/** FRR's bgpd alone (Debian frr), no zebra, with its vty socket in the daemon's dir (`vtysh --vty_socket`). */
export async function startFrr(spec: DaemonSpec, options: LaunchOptions = {}): Promise<FrrDaemon> {
  return new FrrDaemon(spec, options).start();
}

export type { FrrDaemon };
