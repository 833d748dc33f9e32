// Keeps this node's BGP speaker in step with the datastore: list-then-watch of everything the
// configuration depends on, nothing started before every watch has its first complete snapshot,
// then a recomputation shortly after each burst of changes, applied by reloading the running
// speaker so that unchanged sessions stay up.

import {
  type BGPConfiguration,
  type BGPPeer,
  decodeResource,
  type IPPool,
  type Kind,
  type Node,
  type Resource,
  resourcePrefix,
} from '@margay/api';
import { BgpServer, type DaemonConfig, type FibSink, type Logger, silentLogger } from '@margay/bgp';
import type { Datastore, Watch, WatchEvent } from '@margay/datastore';
import { cidrOfKey, ipamKeys } from '@margay/ipam';
import { type BgpSnapshot, bgpServerConfig } from './bgp-peers';

export interface BgpAgentOptions {
  readonly store: Datastore;
  readonly nodeName: string;
  /** Installs learned routes into the kernel through this sink; without it nothing is installed. */
  readonly fib?: FibSink;
  /** How long to wait for more changes before recomputing. Default 10 ms. */
  readonly debounceMs?: number;
  readonly logger?: Logger;
}

/** The keys one watch has seen, and whether it has delivered its snapshot. */
interface WatchedPrefix {
  readonly values: Map<string, string>;
  inSync: boolean;
  watch?: Watch;
}

const RESOURCE_KINDS = ['Node', 'BGPPeer', 'BGPConfiguration', 'IPPool'] as const satisfies readonly Kind[];

export class BgpAgent {
  private readonly resources = new Map<Kind, WatchedPrefix>();
  private readonly affinities: WatchedPrefix = { values: new Map(), inSync: false };
  private readonly log: Logger;
  private speaker: BgpServer | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Applications run one at a time, in order. */
  private applying: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(private readonly options: BgpAgentOptions) {
    this.log = options.logger ?? silentLogger;
  }

  /** Starts watching; the speaker starts once every watch is in sync. */
  static start(options: BgpAgentOptions): BgpAgent {
    const agent = new BgpAgent(options);
    for (const kind of RESOURCE_KINDS) {
      const watched: WatchedPrefix = { values: new Map(), inSync: false };
      agent.resources.set(kind, watched);
      agent.watch(resourcePrefix(kind), watched);
    }
    agent.watch(ipamKeys.affinities(options.nodeName), agent.affinities);
    return agent;
  }

  /** The running speaker, or null before the first complete snapshot. */
  get server(): BgpServer | null {
    return this.speaker;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const watches = [...this.resources.values(), this.affinities].map((w) => w.watch?.close());
    await Promise.all(watches);
    await this.applying;
    await this.speaker?.close();
    this.speaker = null;
  }

  private watch(prefix: string, watched: WatchedPrefix): void {
    watched.watch = this.options.store.watch(prefix, {
      onEvent: (event) => this.onEvent(watched, event),
      onError: (error) => this.log.error('datastore watch stopped', { prefix, error: error.message }),
    });
  }

  private onEvent(watched: WatchedPrefix, event: WatchEvent): void {
    switch (event.type) {
      case 'put':
        watched.values.set(event.kv.key, event.kv.value);
        break;
      case 'delete':
        watched.values.delete(event.key);
        break;
      case 'in-sync':
        watched.inSync = true;
        break;
      case 'resync':
        return; // the re-listing that follows arrives as puts and deletes
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || !this.allInSync()) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.applying = this.applying
        .then(() => this.apply())
        .catch((error) => this.log.error('applying the BGP configuration failed', { error: error.message }));
    }, this.options.debounceMs ?? 10);
  }

  private allInSync(): boolean {
    return this.affinities.inSync && [...this.resources.values()].every((w) => w.inSync);
  }

  private async apply(): Promise<void> {
    if (this.closed) return;
    let config: DaemonConfig;
    try {
      config = bgpServerConfig(this.snapshot(), { installRoutes: this.options.fib !== undefined });
    } catch (error) {
      this.log.warn('BGP configuration not applied', { error: (error as Error).message });
      return;
    }
    if (this.speaker) {
      try {
        this.speaker.reload(config);
        return;
      } catch (error) {
        // AS number, router id or listen address changed: only a new speaker can take those.
        this.log.warn('restarting the BGP speaker', { reason: (error as Error).message });
        await this.speaker.close();
        this.speaker = null;
      }
    }
    this.speaker = await BgpServer.start(config, { logger: this.log, fib: this.options.fib });
  }

  private snapshot(): BgpSnapshot {
    return {
      nodeName: this.options.nodeName,
      nodes: this.decoded<Node>('Node'),
      configurations: this.decoded<BGPConfiguration>('BGPConfiguration'),
      peers: this.decoded<BGPPeer>('BGPPeer'),
      pools: this.decoded<IPPool>('IPPool'),
      affineBlocks: [...this.affinities.values].flatMap(([key, value]) =>
        confirmed(value) ? [cidrOfKey(key)] : [],
      ),
    };
  }

  /** The stored resources of a kind; a corrupt one is logged and left out. */
  private decoded<R extends Resource>(kind: Kind): R[] {
    return [...(this.resources.get(kind)?.values ?? [])].flatMap(([key, value]) => {
      try {
        return [decodeResource(value) as R];
      } catch (error) {
        this.log.warn('ignoring a corrupt resource', { key, error: (error as Error).message });
        return [];
      }
    });
  }
}

/** Pending or deleted affinities are not ours to announce yet (or any more). */
function confirmed(affinityValue: string): boolean {
  try {
    const affinity = JSON.parse(affinityValue) as { state?: unknown; deleted?: unknown };
    return affinity.state === 'confirmed' && affinity.deleted !== true;
  } catch {
    return false;
  }
}
