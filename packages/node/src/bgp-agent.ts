// Keeps this node's BGP speaker in step with the datastore: list-then-watch of everything the
// configuration depends on, nothing started before every watch has its first complete snapshot,
// then a recomputation shortly after each burst of changes, applied by reloading the running
// speaker so that unchanged sessions stay up.

import {
  type BGPConfiguration,
  type BGPPeer,
  decodeResources,
  type IPPool,
  type Kind,
  type Node,
  type Resource,
  resourceKey,
  resourcePrefix,
} from '@margay/api';
import {
  type ApiServer,
  BgpServer,
  type DaemonConfig,
  type FibSink,
  type Logger,
  parseHostPort,
  silentLogger,
  startApiServer,
} from '@margay/bgp';
import { type Datastore, PrefixMirror } from '@margay/datastore';
import { cidrOfKey, ipamKeys, isConfirmedAffinity } from '@margay/ipam';
import { type BgpSnapshot, bgpServerConfig, GRACEFUL_RESTART_SECONDS } from './bgp-peers';
import { RoutesSettled } from './routes-settled';

export interface BgpAgentOptions {
  readonly store: Datastore;
  readonly nodeName: string;
  /** Installs learned routes into the kernel through this sink; without it nothing is installed. */
  readonly fib?: FibSink;
  /** How long to wait for more changes before recomputing. Default 10 ms. */
  readonly debounceMs?: number;
  readonly logger?: Logger;
  /** "host:port" to serve the speaker's gRPC API on (margayctl node status); none without it. */
  readonly apiAddress?: string;
  /**
   * Called once the first speaker's peers have all sent End-of-RIB, or `settleTimeoutMs` (default
   * the graceful restart time) after it started: the FIB may then sweep a previous run's routes.
   */
  readonly onRoutesSettled?: () => void;
  readonly settleTimeoutMs?: number;
  /**
   * The Node this node is about to register: it stands in for the stored one until
   * `selfRegistered` and the watch has delivered that write, so that the speaker can listen
   * before other nodes learn about this one (see listen-then-register.ts).
   */
  readonly pendingSelf?: Node;
  /** Called with each speaker the agent starts (the first, and any that replaces it). */
  readonly onSpeaker?: (server: BgpServer) => void;
}

/**
 * How long the speaker holds a connection from an address that is not a peer yet. A node that
 * sorts above us connects as soon as its speaker is up, which can be before we have read its
 * Node resource: held, the connection is taken when the reload adds that node, not refused.
 */
export const UNKNOWN_PEER_HOLD_MS = 3000;

const RESOURCE_KINDS = ['Node', 'BGPPeer', 'BGPConfiguration', 'IPPool'] as const satisfies readonly Kind[];

export class BgpAgent {
  private readonly mirror: PrefixMirror;
  private readonly log: Logger;
  private speaker: BgpServer | null = null;
  private settling: RoutesSettled | null = null;
  private api: ApiServer | null = null;
  /** Applications run one at a time, in order. */
  private applying: Promise<void> = Promise.resolve();
  private closed = false;
  /** Until our registration is seen in the Node watch (see BgpAgentOptions.pendingSelf). */
  private pendingSelf: Node | undefined;
  /** The revision of our registration, once written; the highest we have seen of our Node. */
  private registeredRevision: number | undefined;
  private seenSelfRevision = 0;
  private readonly selfKey: string;
  /** Resolved once the first application has run, whether or not it started a speaker. */
  private readonly firstApplied: Promise<void>;
  private markFirstApplied: () => void = () => {};

  private constructor(private readonly options: BgpAgentOptions) {
    this.log = options.logger ?? silentLogger;
    this.pendingSelf = options.pendingSelf;
    this.selfKey = resourceKey('Node', options.nodeName);
    this.firstApplied = new Promise((resolve) => {
      this.markFirstApplied = resolve;
    });
    this.mirror = PrefixMirror.watch({
      store: options.store,
      prefixes: [
        ...RESOURCE_KINDS.map((kind) => resourcePrefix(kind)),
        ipamKeys.affinities(options.nodeName),
      ],
      debounceMs: options.debounceMs ?? 10,
      onChanged: () => this.queueApply(),
      onPut: (kv) => this.onPut(kv.key, kv.modRevision),
      onError: (prefix, error) => this.log.error('datastore watch stopped', { prefix, error: error.message }),
    });
  }

  /** Starts watching; the speaker starts once every watch is in sync. */
  static start(options: BgpAgentOptions): BgpAgent {
    return new BgpAgent(options);
  }

  /** The running speaker, or null before the first complete snapshot. */
  get server(): BgpServer | null {
    return this.speaker;
  }

  /**
   * Resolves with the speaker once the first complete snapshot has been applied, or with null if
   * that application failed, or did not happen within `timeoutMs`.
   */
  async speakerStarted(timeoutMs: number): Promise<BgpServer | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.firstApplied, timeout]);
    clearTimeout(timer);
    return this.speaker;
  }

  /**
   * Our Node has been written at `revision`: the stored Node takes over from `pendingSelf` once
   * the watch has delivered that write (until then the stored one may be a previous run's).
   */
  selfRegistered(revision: number): void {
    this.registeredRevision = revision;
    this.dropPendingSelfIfSeen();
  }

  /**
   * Stops watching and stops the speaker. `restarting` drops the sessions without a NOTIFICATION,
   * so that peers keep our routes until we are back (graceful restart).
   */
  async close(options: { restarting?: boolean } = {}): Promise<void> {
    this.closed = true;
    this.settling?.cancel();
    await this.mirror.close();
    await this.applying;
    await this.stopSpeaker(options.restarting);
  }

  private async stopSpeaker(restarting = false): Promise<void> {
    await this.api?.close();
    this.api = null;
    await this.speaker?.close({ restarting });
    this.speaker = null;
  }

  private onPut(key: string, modRevision: number): void {
    if (key !== this.selfKey) return;
    this.seenSelfRevision = Math.max(this.seenSelfRevision, modRevision);
    this.dropPendingSelfIfSeen();
  }

  private dropPendingSelfIfSeen(): void {
    const revision = this.registeredRevision;
    if (!this.pendingSelf || revision === undefined || this.seenSelfRevision < revision) return;
    this.pendingSelf = undefined;
    this.mirror.touch();
  }

  private queueApply(): void {
    if (this.closed) return;
    this.applying = this.applying
      .then(() => this.apply())
      .catch((error) => this.log.error('applying the BGP configuration failed', { error: error.message }))
      .finally(() => this.markFirstApplied());
  }

  private async apply(): Promise<void> {
    if (this.closed) return;
    let config: DaemonConfig;
    try {
      config = bgpServerConfig(this.snapshot(), {
        installRoutes: this.options.fib !== undefined,
        api: this.options.apiAddress ?? false,
      });
    } catch (error) {
      this.log.warn('BGP configuration not applied', { error: (error as Error).message });
      return;
    }
    if (this.speaker) {
      try {
        this.speaker.reload(config);
        this.settling?.retain(config.peers.map((p) => p.address));
        return;
      } catch (error) {
        // AS number, router id or listen address changed: only a new speaker can take those.
        this.log.warn('restarting the BGP speaker', { reason: (error as Error).message });
        await this.stopSpeaker();
      }
    }
    this.speaker = await BgpServer.start(config, {
      logger: this.log,
      fib: this.options.fib,
      holdUnknownConnectionsMs: UNKNOWN_PEER_HOLD_MS,
    });
    this.watchFirstRoutes(this.speaker, config);
    this.options.onSpeaker?.(this.speaker);
    if (config.api) {
      try {
        this.api = await startApiServer(this.speaker, apiTarget(config.api), this.log);
      } catch (error) {
        // Routing matters more than the status API: keep the speaker, say why status is missing.
        this.log.error('BGP API not started', { address: config.api, error: (error as Error).message });
      }
    }
  }

  /** Only the first speaker's peers: a replaced speaker's sessions are not a (re)start of the node. */
  private watchFirstRoutes(server: BgpServer, config: DaemonConfig): void {
    const onSettled = this.options.onRoutesSettled;
    if (this.settling || !onSettled) return;
    this.settling = new RoutesSettled({
      server,
      peers: config.peers.map((p) => p.address),
      timeoutMs: this.options.settleTimeoutMs ?? GRACEFUL_RESTART_SECONDS * 1000,
      onSettled: (reason) => {
        this.log.info('peers sent their routes; sweeping stale ones', { reason });
        onSettled();
      },
    });
  }

  private snapshot(): BgpSnapshot {
    return {
      nodeName: this.options.nodeName,
      nodes: this.nodes(),
      configurations: this.decoded<BGPConfiguration>('BGPConfiguration'),
      peers: this.decoded<BGPPeer>('BGPPeer'),
      pools: this.decoded<IPPool>('IPPool'),
      affineBlocks: [...this.mirror.values(ipamKeys.affinities(this.options.nodeName))].flatMap(
        ([key, value]) => (isConfirmedAffinity(value) ? [cidrOfKey(key)] : []),
      ),
    };
  }

  /** The stored Nodes, with ours replaced by the one about to be registered while there is one. */
  private nodes(): Node[] {
    const stored = this.decoded<Node>('Node');
    const pending = this.pendingSelf;
    if (!pending) return stored;
    return [...stored.filter((n) => n.metadata.name !== this.options.nodeName), pending];
  }

  /** The stored resources of a kind; a corrupt one is logged and left out. */
  private decoded<R extends Resource>(kind: Kind): R[] {
    return decodeResources<R>(this.mirror.values(resourcePrefix(kind)), (key, error) =>
      this.log.warn('ignoring a corrupt resource', { key, error: error.message }),
    );
  }
}

/** gRPC wants IPv6 hosts in brackets; the configuration's HOST:PORT is already checked. */
function apiTarget(hostPort: string): string {
  const { host, port } = parseHostPort(hostPort)!;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
