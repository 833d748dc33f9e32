import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { birdCommand, parseBirdProtocols, parseBirdRoutes } from './bird-control';
import { Daemon, type LaunchOptions, type PeerStatus, type RouteEntry } from './daemon';
import { type DaemonSpec, familyOf, type OriginatedRoute, resolvePeers } from './spec';

export type BirdVersion = 1 | 2;

/** Where scripts/setup-bird1 unpacks BIRD 1.6 (Debian's `bird` conflicts with `bird2`). */
export function bird1Dir(): string {
  return process.env['MARGAY_BIRD1_DIR'] ?? '/var/cache/margay/bird1';
}

/** Protocol names are ours, so a protocol's name tells which peer it is. */
function protocolName(index: number): string {
  return `peer${index}`;
}

/**
 * bird.conf for BIRD 2 or 1.6. Originated prefixes are blackhole static routes; their NEXT_HOP is set
 * in the export filter. Short connect/retry timers: sessions on loopback should come up at once.
 */
export function renderBirdConfig(
  version: BirdVersion,
  spec: DaemonSpec,
  routes: OriginatedRoute[],
  logFile: string,
): string {
  const channel = familyOf(spec.listen.address) === 4 ? 'ipv4' : 'ipv6';
  const lines = [`log "${logFile}" all;`, `router id ${spec.routerId};`];
  if (version === 1) lines.push(`listen bgp address ${spec.listen.address} port ${spec.listen.port};`);
  lines.push('protocol device {}');
  const statics = routes.map((route) => `  route ${route.prefix} blackhole;`);
  lines.push(`protocol static originated {`, ...(version === 2 ? [`  ${channel};`] : []), ...statics, '}');
  const nextHops = routes
    .filter((route) => route.nextHop !== undefined)
    .map((route) => `    if net = ${route.prefix} then bgp_next_hop = ${route.nextHop};`);
  lines.push(
    'filter export_to_peers {',
    ...(nextHops.length > 0 ? ['  if source = RTS_STATIC then {', ...nextHops, '  }'] : []),
    '  accept;',
    '}',
  );
  resolvePeers(spec).forEach((peer, i) => {
    const local =
      version === 2
        ? `local ${spec.listen.address} port ${spec.listen.port}`
        : `local ${spec.listen.address}`;
    lines.push(
      `protocol bgp ${protocolName(i)} {`,
      `  ${local} as ${spec.asNumber};`,
      `  neighbor ${peer.address} port ${peer.port} as ${peer.asNumber};`,
      version === 2 ? '  strict bind;' : `  source address ${spec.listen.address};`,
      '  connect delay time 1;',
      '  connect retry time 2;',
      '  error wait time 1, 10;',
    );
    if (peer.external && peer.multihop) lines.push('  multihop;');
    if (peer.passive) lines.push('  passive on;');
    if (!peer.as4) lines.push('  enable as4 off;');
    if (peer.routeReflectorClient) lines.push('  rr client;');
    if (peer.routeReflectorClient && spec.routeReflector?.clusterId)
      lines.push(`  rr cluster id ${spec.routeReflector.clusterId};`);
    if (peer.gracefulRestart) {
      lines.push('  graceful restart on;');
      if (spec.gracefulRestart) lines.push(`  graceful restart time ${spec.gracefulRestart.restartTime};`);
    }
    const filters = 'import all; export filter export_to_peers;';
    lines.push(version === 2 ? `  ${channel} { ${filters} };` : `  ${filters}`, '}');
  });
  return `${lines.join('\n')}\n`;
}

class BirdDaemon extends Daemon {
  private readonly socketPath: string;

  constructor(
    private readonly version: BirdVersion,
    spec: DaemonSpec,
    options: LaunchOptions,
  ) {
    super(
      version === 2 ? 'bird2' : 'bird1',
      spec,
      options,
      'bird.conf',
      version === 2 ? 'Debian package bird2' : `BIRD 1.6 in ${bird1Dir()} (scripts/setup-bird1)`,
    );
    this.socketPath = join(this.dir, 'bird.ctl');
  }

  protected command(): { file: string; args: string[] } {
    // BIRD 1.6 has a separate binary for IPv6.
    const file = this.version === 2 ? 'bird' : join(bird1Dir(), this.family === 4 ? 'bird' : 'bird6');
    return {
      file,
      args: ['-f', '-c', this.configFile, '-s', this.socketPath, '-P', join(this.dir, 'bird.pid')],
    };
  }

  protected renderConfig(): string {
    return renderBirdConfig(this.version, this.spec, [...this.originated.values()], this.logFile);
  }

  protected async isReady(): Promise<boolean> {
    await birdCommand(this.socketPath, 'show status');
    return true;
  }

  /** BIRD cannot add a static route at run time: rewrite the config and reconfigure. */
  private async reconfigure(): Promise<void> {
    writeFileSync(this.configFile, this.renderConfig());
    await birdCommand(this.socketPath, 'configure');
  }

  protected applyAnnounce(): Promise<void> {
    return this.reconfigure();
  }

  protected applyWithdraw(): Promise<void> {
    return this.reconfigure();
  }

  async peers(): Promise<PeerStatus[]> {
    const states = parseBirdProtocols(await birdCommand(this.socketPath, 'show protocols'));
    return this.spec.peers.map((peer, i) => ({
      address: peer.address,
      state: states.get(protocolName(i)) ?? 'Idle',
    }));
  }

  async routes(): Promise<RouteEntry[]> {
    const table = this.version === 2 ? (this.family === 4 ? 'table master4 ' : 'table master6 ') : '';
    return parseBirdRoutes(
      await birdCommand(this.socketPath, `show route all ${table}where source = RTS_BGP`),
    );
  }
}

/** BIRD 2 (Debian bird2), in the foreground, with its own control socket. */
export async function startBird2(spec: DaemonSpec, options: LaunchOptions = {}): Promise<BirdDaemon> {
  return new BirdDaemon(2, spec, options).start();
}

/** BIRD 1.6 (the base of Calico's fork), from the dir scripts/setup-bird1 fills. */
export async function startBird1(spec: DaemonSpec, options: LaunchOptions = {}): Promise<BirdDaemon> {
  return new BirdDaemon(1, spec, options).start();
}

export type { BirdDaemon };
