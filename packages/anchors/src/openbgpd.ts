import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon, type LaunchOptions, type PeerStatus, type RouteEntry, type SessionState } from './daemon';
import { type DaemonSpec, type OriginatedRoute, resolvePeers } from './spec';

/** OpenBGPD's session and route engines chroot into the home of user _openbgpd (systemd would create it). */
const CHROOT_DIR = '/run/openbgpd';

const openbgpdStates: Record<string, SessionState> = {
  Idle: 'Idle',
  Connect: 'Connect',
  Active: 'Active',
  OpenSent: 'OpenSent',
  OpenConfirm: 'OpenConfirm',
  Established: 'Established',
};

/**
 * bgpd.conf: no FIB updates; next hops may resolve over the default route; eBGP multihop sessions
 * keep the originated NEXT_HOP (`set nexthop no-modify`) instead of rewriting it to our address.
 */
export function renderOpenbgpdConfig(
  spec: DaemonSpec,
  routes: OriginatedRoute[],
  socketPath: string,
): string {
  const lines = [
    `AS ${spec.asNumber}`,
    `router-id ${spec.routerId}`,
    `listen on ${spec.listen.address} port ${spec.listen.port}`,
    `socket "${socketPath}"`,
    'fib-update no',
    'nexthop qualify via default',
  ];
  for (const route of routes)
    lines.push(
      route.nextHop ? `network ${route.prefix} set nexthop ${route.nextHop}` : `network ${route.prefix}`,
    );
  for (const peer of resolvePeers(spec)) {
    lines.push(
      `neighbor ${peer.address} {`,
      `  remote-as ${peer.asNumber}`,
      `  port ${peer.port}`,
      `  local-address ${spec.listen.address}`,
      `  announce restart ${peer.gracefulRestart ? 'yes' : 'no'}`,
    );
    if (peer.external && peer.multihop) lines.push('  multihop 255', '  set nexthop no-modify');
    if (peer.passive) lines.push('  passive');
    if (peer.routeReflectorClient) {
      const clusterId = spec.routeReflector?.clusterId;
      lines.push(clusterId ? `  route-reflector ${clusterId}` : '  route-reflector');
    }
    lines.push('}');
  }
  lines.push('allow from any', 'allow to any');
  return `${lines.join('\n')}\n`;
}

/** `bgpctl -j show neighbor`. */
export function parseOpenbgpdNeighbors(json: string): PeerStatus[] {
  const { neighbors = [] } = JSON.parse(json) as { neighbors?: { remote_addr: string; state: string }[] };
  return neighbors.map((n) => ({ address: n.remote_addr, state: openbgpdStates[n.state] ?? 'Idle' }));
}

interface OpenbgpdRibEntry {
  prefix: string;
  aspath: string;
  exit_nexthop?: string;
  localpref?: number;
  metric?: number;
  communities?: string[];
  neighbor?: { description?: string };
}

/** `bgpctl -j show rib detail`: our own networks come from the neighbour described as LOCAL. */
export function parseOpenbgpdRib(json: string): RouteEntry[] {
  const { rib = [] } = JSON.parse(json) as { rib?: OpenbgpdRibEntry[] };
  return rib
    .filter((entry) => entry.neighbor?.description !== 'LOCAL')
    .map((entry) => {
      const route: RouteEntry = {
        prefix: entry.prefix,
        asPath: entry.aspath.match(/\d+/g)?.map(Number) ?? [],
      };
      if (entry.exit_nexthop) route.nextHop = entry.exit_nexthop;
      if (entry.localpref !== undefined) route.localPref = entry.localpref;
      if (entry.metric !== undefined) route.med = entry.metric;
      if (entry.communities) route.communities = entry.communities;
      return route;
    });
}

class OpenbgpdDaemon extends Daemon {
  private readonly socketPath: string;

  constructor(spec: DaemonSpec, options: LaunchOptions) {
    super('openbgpd', spec, options, 'bgpd.conf', 'Debian package openbgpd');
    this.socketPath = join(this.dir, 'bgpd.sock');
  }

  protected override async prepare(): Promise<void> {
    mkdirSync(CHROOT_DIR, { recursive: true });
  }

  protected command(): { file: string; args: string[] } {
    return { file: 'bgpd', args: ['-d', '-v', '-f', this.configFile] };
  }

  private bgpctl(...args: string[]): Promise<string> {
    return this.run('bgpctl', ['-s', this.socketPath, ...args]);
  }

  protected renderConfig(): string {
    return renderOpenbgpdConfig(this.spec, [...this.originated.values()], this.socketPath);
  }

  protected async isReady(): Promise<boolean> {
    await this.bgpctl('show');
    return true;
  }

  /** Networks live in the config file: rewrite it and reload, as an operator would. */
  private async reload(): Promise<void> {
    writeFileSync(this.configFile, this.renderConfig());
    await this.bgpctl('reload');
  }

  protected applyAnnounce(): Promise<void> {
    return this.reload();
  }

  protected applyWithdraw(): Promise<void> {
    return this.reload();
  }

  async peers(): Promise<PeerStatus[]> {
    return parseOpenbgpdNeighbors(await this.bgpctl('-j', 'show', 'neighbor'));
  }

  async routes(): Promise<RouteEntry[]> {
    return parseOpenbgpdRib(await this.bgpctl('-j', 'show', 'rib', 'detail'));
  }
}

/** OpenBGPD's bgpd (Debian openbgpd) in the foreground with its own control socket (`bgpctl -s`). */
export async function startOpenbgpd(spec: DaemonSpec, options: LaunchOptions = {}): Promise<OpenbgpdDaemon> {
  return new OpenbgpdDaemon(spec, options).start();
}

export type { OpenbgpdDaemon };
