// margay-node's parts wired together, in start order: address autodetection, the BGP agent (with
// the kernel FIB unless the node is only a route reflector), Node registration once the agent's
// speaker listens (listen-then-register.ts; with BIRD, registration comes first), felix, the
// status key, then the health and metrics endpoints. Nothing here touches the kernel before the
// first in-sync: the agent starts its speaker, and felix programs routes, only after their snapshots.

import type { Server } from 'node:http';
import type { Node } from '@margay/api';
import { type BestChange, type FibSink, KernelFib, type Logger, silentLogger } from '@margay/bgp';
import { type CommandRunner, ROUTE_PROTO } from '@margay/dataplane';
import type { Datastore } from '@margay/datastore';
import { Felix } from '@margay/felix';
import { TunnelAgent } from '@margay/tunnel';
import { autodetectIpv4, parseAutodetectMethod } from './autodetect';
import type { BgpAgent } from './bgp-agent';
import { BirdSupervisor } from './bird-supervisor';
import { type Readiness, serveHealth } from './health';
import { listenThenRegister } from './listen-then-register';
import { type MetricsSample, serveMetrics } from './metrics';
import { type NodeRegistration, registerNode } from './registration';
import { type NodeStatus, StatusReporter } from './status';
import { TunnelOwnedRoutesFilter } from './tunnel-fib';

/** `full` runs BGP, FIB sync and felix; `route-reflector` runs BGP only and never touches the kernel. */
export type NodeMode = 'full' | 'route-reflector';

export interface NodeSettings {
  readonly nodeName: string;
  /** An autodetection method or an address (see parseAutodetectMethod). */
  readonly addressMethod: string;
  readonly asNumber?: number;
  readonly routeReflectorClusterID?: string;
  readonly mode: NodeMode;
  /** 0 turns the endpoint off. */
  readonly healthPort: number;
  readonly metricsPort: number;
  /** "host:port" of the speaker's gRPC API (margayctl node status); off when absent. */
  readonly bgpApi?: string;
  /** Felix enforces network policy (full mode only). Default true. */
  readonly policy?: boolean;
  /** BIRD (configured by margay-confd) is the BGP daemon instead of margay's speaker. */
  readonly bird?: { readonly runDir: string };
}

export interface NodeProcessOptions {
  readonly settings: NodeSettings;
  readonly store: Datastore;
  /** Runs `ip` on the node: a ProcessRunner, or one bound to a network namespace in tests. */
  readonly runner: CommandRunner;
  readonly logger?: Logger;
  /** Default 127.0.0.1: probes come from the node itself, like Calico's healthHost. */
  readonly healthHost?: string;
  /** Default 0.0.0.0: Prometheus scrapes from elsewhere. */
  readonly metricsHost?: string;
  /** Status key lease TTL (default 90 s) and refresh period (default 30 s). */
  readonly statusTtlSeconds?: number;
  readonly statusIntervalMs?: number;
}

export class NodeProcess {
  private readonly startedAt = Date.now();
  private readonly servers: Server[] = [];
  private status: StatusReporter | undefined;
  /** IPIP/VXLAN devices and routes (full mode); it owns the blocks of encapsulated pools. */
  private tunnel: TunnelAgent | undefined;
  private stopping: Promise<void> | undefined;
  /** BIRD and margay-confd, when BIRD is the BGP daemon. */
  private bird: BirdSupervisor | undefined;

  private constructor(
    private readonly options: NodeProcessOptions,
    /** margay's speaker; absent when BIRD is the BGP daemon. */
    private readonly agent: BgpAgent | undefined,
    private readonly fib: NodeFib | undefined,
    private readonly felix: Felix | undefined,
  ) {}

  /** Starts every part; if one fails, stops those already started and throws. */
  static async start(options: NodeProcessOptions): Promise<NodeProcess> {
    const { settings, store, runner } = options;
    const log = options.logger ?? silentLogger;
    const address = await autodetectIpv4(parseAutodetectMethod(settings.addressMethod), runner);
    const registration: NodeRegistration = {
      name: settings.nodeName,
      ipv4Address: address,
      asNumber: settings.asNumber,
      routeReflectorClusterID: settings.routeReflectorClusterID,
    };

    const full = settings.mode === 'full';
    // A restart keeps the routes the last run installed until the peers have sent theirs again.
    const fib =
      full && !settings.bird
        ? new NodeFib(new KernelFib({ runner, logger: log, keepStaleUntilSwept: true }))
        : undefined;
    // Blocks of IPIP/VXLAN pools are the tunnel manager's to route: BGP learns them but does not install them.
    const routesFilter = fib && new TunnelOwnedRoutesFilter(fib);
    // With BIRD as the daemon, BIRD programs the kernel (margay-confd's kernel export).
    let agent: BgpAgent | undefined;
    let registered: Node;
    if (settings.bird) {
      registered = await registerNode(store, registration);
    } else {
      try {
        ({ agent, node: registered } = await listenThenRegister({
          store,
          registration,
          logger: log,
          agent: {
            fib: routesFilter,
            logger: log,
            apiAddress: settings.bgpApi,
            // The sweep must see the routes the filter passes on once the pools are known.
            onRoutesSettled: fib && (() => void routesFilter?.ready.then(() => fib.sweepStale())),
          },
        }));
      } catch (error) {
        await fib?.shutdown();
        throw error;
      }
    }
    log.info('node registered', { node: settings.nodeName, address, bgp: registered.spec.bgp });
    const felix = full
      ? new Felix({
          datastore: store,
          nodeName: settings.nodeName,
          runner,
          log,
          ...(settings.policy !== false && { policy: {} }),
        })
      : undefined;
    const node = new NodeProcess(options, agent, fib, felix);
    try {
      if (settings.bird) {
        node.bird = BirdSupervisor.start({
          nodeName: settings.nodeName,
          runDir: settings.bird.runDir,
          store,
          runner,
          kernelRoutes: full,
          logger: log,
        });
      }
      await felix?.start();
      if (full) {
        node.tunnel = new TunnelAgent({
          datastore: store,
          nodeName: settings.nodeName,
          runner,
          log,
          onEncapsulatedPools: (cidrs) => routesFilter?.setEncapsulatedPools(cidrs),
        });
        node.tunnel.start();
      }
      node.status = await StatusReporter.start({
        store,
        nodeName: settings.nodeName,
        status: () => node.nodeStatus(),
        ttlSeconds: options.statusTtlSeconds,
        intervalMs: options.statusIntervalMs,
        onError: (error) => log.warn('status report failed', { error: error.message }),
      });
      if (settings.healthPort !== 0) {
        const host = options.healthHost ?? '127.0.0.1';
        node.servers.push(await serveHealth(host, settings.healthPort, () => node.readiness()));
      }
      if (settings.metricsPort !== 0) {
        const host = options.metricsHost ?? '0.0.0.0';
        node.servers.push(await serveMetrics(host, settings.metricsPort, () => node.metricsSample()));
      }
    } catch (error) {
      await node.stop();
      throw error;
    }
    log.info('margay-node started', { node: settings.nodeName, mode: settings.mode });
    return node;
  }

  /** The agent starts its speaker only once its own watches are in sync, so a speaker implies that. */
  readiness(): Readiness {
    const bird = this.bird?.status();
    const bgpSpeakerUp = bird ? bird.birdUp : !!this.agent?.server;
    return {
      datastoreInSync:
        bgpSpeakerUp &&
        (bird?.confdOk ?? true) &&
        (this.felix?.inSync ?? true) &&
        (this.tunnel?.inSync ?? true) &&
        this.policyReady(),
      bgpSpeakerUp,
    };
  }

  /** Without policy, nothing to wait for; with it, the snapshot is in and has been programmed once. */
  private policyReady(): boolean {
    const stats = this.felix?.policyStats();
    if (stats === undefined) return true;
    return this.felix?.policyInSync === true && stats.applies > 0;
  }

  /**
   * Stops everything and keeps forwarding: routes felix and the FIB installed stay in the kernel
   * so that pod traffic flows while the node restarts. The status lease is revoked last.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const server of this.servers) server.closeAllConnections();
      await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
      await this.felix?.stop();
      await this.tunnel?.stop();
      await this.fib?.shutdown();
      await this.agent?.close({ restarting: true }); // peers keep our routes while we are gone
      await this.bird?.stop(); // a graceful restart too
      await this.status?.stop();
    })();
    return this.stopping;
  }

  private nodeStatus(): NodeStatus {
    return {
      time: new Date().toISOString(),
      uptime: this.uptimeSeconds(),
      bgp: { peers: this.peersByState() },
    };
  }

  private async metricsSample(): Promise<MetricsSample> {
    const routes = this.agent?.server ? [...this.agent.server.routes()].filter((r) => r.best).length : 0;
    return {
      bgpPeers: this.peersByState(),
      bgpRoutes: routes,
      felixRoutes: this.felix ? await this.felixRoutes() : undefined,
      felixPolicy: this.felix?.policyStats(),
      datastoreInSync: this.readiness().datastoreInSync,
      uptimeSeconds: this.uptimeSeconds(),
      residentMemoryBytes: process.memoryUsage.rss(),
    };
  }

  private peersByState(): Record<string, number> {
    const counts: Record<string, number> = {};
    // BIRD's BGP protocols count by BIRD's state (up, start, ...).
    for (const protocol of this.bird?.status().protocols ?? [])
      counts[protocol.state] = (counts[protocol.state] ?? 0) + 1;
    for (const peer of this.agent?.server?.peerViews() ?? [])
      counts[peer.state] = (counts[peer.state] ?? 0) + 1;
    return counts;
  }

  /** Counted in the kernel: what felix has really programmed, not what it wants. */
  private async felixRoutes(): Promise<number> {
    const argv = ['ip', '-j', 'route', 'show', 'proto', String(ROUTE_PROTO.felix)];
    const result = await this.options.runner.run(argv);
    if (result.code !== 0) throw new Error(`${argv.join(' ')} failed: ${result.stderr.trim()}`);
    return (JSON.parse(result.stdout) as unknown[]).length;
  }

  private uptimeSeconds(): number {
    return Math.floor((Date.now() - this.startedAt) / 1000);
  }
}

/**
 * The node's hold on the kernel FIB. Speakers come and go (the agent replaces one when the AS
 * number or router id changes) without closing it; shutdown stops taking changes first, so the
 * withdrawals of a closing speaker never reach the kernel, then keeps the installed routes.
 */
class NodeFib implements FibSink {
  private stopped = false;

  constructor(private readonly kernel: KernelFib) {}

  apply(changes: readonly BestChange[]): void {
    if (!this.stopped) this.kernel.apply(changes);
  }

  /** A speaker closing is not the node stopping: the FIB stays for the next speaker. */
  async close(): Promise<void> {
    // shutdown() closes the kernel FIB, keeping its routes.
  }

  /** The peers have sent their routes: those of a previous run that nobody sent again go. */
  sweepStale(): Promise<void> {
    return this.stopped ? Promise.resolve() : this.kernel.sweepStale();
  }

  shutdown(): Promise<void> {
    this.stopped = true;
    return this.kernel.close(true);
  }
}
