// The speaker as a whole: one Rib, one listener and one BgpPeer per configured neighbor. It
// feeds what peers send into the Rib, exports the Rib's changes to established peers, applies
// graceful restart (stale marking, End-of-RIB sweep, restart timer), originates our prefixes and
// applies configuration reloads with as little disruption as the change allows.

import { type Logger, silentLogger } from '@margay/log';
import { canonicalPrefix } from '../config/prefix';
import type { DaemonConfig, Family, PeerSettings } from '../config/schema';
import { FsmState } from '../fsm/transitions';
import { Afi, CeaseSubcode, RouteRefreshSubtype, type Family as WireFamily } from '../packet/constants';
import { formatIpv4, parseIpv4 } from '../packet/ip';
import { prefixList } from '../packet/prefixes';
import type { RouteRefresh } from '../packet/route-refresh';
import type { DecodedUpdate } from '../packet/update-decode';
import { BgpListener } from '../session/listener';
import type { NegotiatedSession } from '../session/negotiate';
import { BgpPeer, type PeerDown, type PeerHandler, type StateChange } from '../session/peer';
import { LOCAL_PEER } from '../table/peer';
import { type BestChange, Rib } from '../table/rib';
import { type FibSink, noopFibSink } from './fib-sink';
import { familyName, peerKey, sessionConfig, wireFamily } from './peer-settings';
import { PolicyCompiler, samePolicy } from './policy';
import { matchesFilter, type RibFilter, type RouteView, routeView } from './routes';

export interface BgpServerOptions {
  readonly logger?: Logger;
  /** Receives best-path changes when `fib.enabled`. */
  readonly fib?: FibSink;
  /**
   * How long the listener holds a connection from an address that is not a peer yet, for a
   * reload that adds it (see BgpListener); default 0: rejected at once.
   */
  readonly holdUnknownConnectionsMs?: number;
  /**
   * How long paths a BoRR marked stale wait for the peer's EoRR before they are swept anyway
   * (RFC 7313 §4 allows such a timer, for a peer that never ends its refresh); default 360 s.
   */
  readonly refreshStaleTimeMs?: number;
}

const DEFAULT_REFRESH_STALE_TIME_MS = 360_000;
/** Changed prefixes that make a burst of UPDATEs export at once instead of at the end of the turn. */
const FLUSH_AT_CHANGES = 16_384;

export interface PeerView {
  readonly address: string;
  readonly asNumber: number;
  readonly type: 'eBGP' | 'iBGP' | 'iBGP RR client';
  /** The configured description, or null. */
  readonly description: string | null;
  readonly state: FsmState;
  /** When the peer entered its current state. */
  readonly since: Date;
  /** Seconds established, or null. */
  readonly uptime: number | null;
  /** The peer's BGP identifier once established. */
  readonly routerId: string | null;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly updatesIn: number;
  readonly updatesOut: number;
  readonly prefixesReceived: number;
  readonly prefixesAccepted: number;
  readonly prefixesAdvertised: number;
  readonly lastError: string | null;
}

export type ServerEvent =
  | { readonly type: 'peer'; readonly address: string; readonly from: FsmState; readonly to: FsmState }
  | {
      readonly type: 'route';
      readonly kind: BestChange['kind'];
      readonly prefix: string;
      /** The new best path; null when removed. */
      readonly best: RouteView | null;
    };

export type EventListener = (event: ServerEvent) => void;

export type EndOfRibListener = (peerAddress: string, family: Family) => void;

export interface ReloadResult {
  readonly kept: readonly string[];
  /** Kept peers whose import policy changed: asked to re-send their routes. */
  readonly refreshed: readonly string[];
  readonly reset: readonly string[];
  readonly removed: readonly string[];
  readonly added: readonly string[];
}

interface ManagedPeer {
  /** Replaced by a reload that needs no reset (an import policy change). */
  settings: PeerSettings;
  readonly key: string;
  readonly index: number;
  readonly bgp: BgpPeer;
  since: number;
  /** Known to the Rib: from the first Established until the paths are gone. */
  inRib: boolean;
  restartTimer: NodeJS.Timeout | null;
  /** Per AFI: running from a BoRR until its EoRR (RFC 7313 §4). */
  readonly refreshTimers: Map<number, NodeJS.Timeout>;
}

/** Settings a reload cannot change: the Rib, listener and API are built from them. */
const FIXED_SETTINGS = ['asNumber', 'routerId', 'listen', 'api', 'nextHop', 'routeReflector', 'fib'] as const;

export class BgpServer {
  private readonly rib: Rib;
  private readonly peers = new Map<string, ManagedPeer>();
  private readonly listeners = new Set<EventListener>();
  private readonly endOfRibListeners = new Set<EndOfRibListener>();
  /** Prefixes we announce: from the configuration and added through the API. */
  private readonly originated = new Set<string>();
  private nextIndex = 1;
  private readonly policies = new PolicyCompiler();
  private flushScheduled = false;
  private stopWatchingRib: (() => void) | null = null;
  private closed = false;
  private readonly log: Logger;
  private readonly fib: FibSink;
  private readonly refreshStaleTimeMs: number;

  private constructor(
    private config: DaemonConfig,
    private readonly listener: BgpListener | null,
    options: BgpServerOptions,
  ) {
    this.log = options.logger ?? silentLogger;
    this.refreshStaleTimeMs = options.refreshStaleTimeMs ?? DEFAULT_REFRESH_STALE_TIME_MS;
    this.fib = config.fib.enabled ? (options.fib ?? noopFibSink) : noopFibSink;
    const clusterId = config.routeReflector?.clusterId;
    this.rib = new Rib({
      asn: config.asNumber,
      routerId: parseIpv4(config.routerId),
      clusterId: clusterId === undefined ? undefined : parseIpv4(clusterId),
      nextHopIpv4: config.nextHop.ipv4,
      nextHopIpv6: config.nextHop.ipv6,
    });
    this.watchRib();
  }

  /** Builds the speaker, binds its listener (when configured) and starts every peer. */
  static async start(config: DaemonConfig, options: BgpServerOptions = {}): Promise<BgpServer> {
    const listen = config.listen && config.listen.port !== 0 ? config.listen : null;
    const listener = listen
      ? new BgpListener({
          host: listen.address,
          port: listen.port,
          logger: options.logger,
          holdUnknownMs: options.holdUnknownConnectionsMs,
        })
      : null;
    const server = new BgpServer(config, listener, options);
    await listener?.listen();
    for (const prefix of config.originate) server.addPath(prefix);
    for (const peer of config.peers) server.addPeer(peer);
    server.log.info('started', { asNumber: config.asNumber, routerId: config.routerId, listen });
    return server;
  }

  /**
   * Called with each End-of-RIB (or EoRR) a peer sends: the point where a restarting speaker has
   * the peer's whole table again (RFC 4724 §4.1) and may drop routes the peer no longer sends.
   */
  onEndOfRib(listener: EndOfRibListener): () => void {
    this.endOfRibListeners.add(listener);
    return () => this.endOfRibListeners.delete(listener);
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    this.watchRib();
    return () => {
      this.listeners.delete(listener);
      this.watchRib();
    };
  }

  peerViews(): PeerView[] {
    return [...this.peers.values()].map((p) => this.peerView(p));
  }

  /** Every path of every prefix (best first), filtered. */
  *routes(filter: RibFilter = {}): IterableIterator<RouteView> {
    const fromPeer = new Map<number, string>([[LOCAL_PEER, 'local']]);
    for (const p of this.peers.values()) fromPeer.set(p.index, p.settings.address);
    for (const best of this.rib.bestRoutes()) {
      if (!matchesFilter(best.prefix, filter)) continue;
      let first = true;
      for (const path of this.rib.paths(best.prefix)) {
        yield routeView(path, first, fromPeer.get(path.from) ?? `peer ${path.from}`);
        first = false;
      }
    }
  }

  /** Originates a prefix (IPv4 or IPv6); returns false if it already was. Throws on a bad prefix. */
  addPath(prefix: string): boolean {
    const canonical = canonicalPrefix(prefix);
    if (this.originated.has(canonical)) return false;
    this.rib.originate(prefixList(afiOf(canonical), [canonical]), { origin: 0 });
    this.originated.add(canonical);
    this.scheduleFlush();
    return true;
  }

  /** Withdraws a prefix we originate; returns false if we did not. Throws on a bad prefix. */
  deletePath(prefix: string): boolean {
    const canonical = canonicalPrefix(prefix);
    if (!this.originated.delete(canonical)) return false;
    this.rib.stopOriginating(prefixList(afiOf(canonical), [canonical]));
    this.scheduleFlush();
    return true;
  }

  /**
   * Soft reset in: asks the peer to send its routes again (ROUTE-REFRESH, RFC 2918), of `family`
   * or of every family of the session; returns the families asked for. With enhanced route
   * refresh (RFC 7313) the peer brackets them with BoRR and EoRR, and what it no longer sends is
   * removed at EoRR. Throws when the peer is not configured, not established or cannot refresh.
   */
  refresh(peerAddress: string, family?: Family): Family[] {
    const managed = this.peers.get(peerAddress);
    if (!managed) throw new Error(`no peer ${peerAddress} is configured`);
    const negotiated = managed.bgp.status().negotiated;
    if (!negotiated) throw new Error(`peer ${peerAddress} is not established (${managed.bgp.state})`);
    const sessionFamilies = negotiated.families.map(familyName).filter((f) => f !== null);
    if (family && !sessionFamilies.includes(family)) {
      throw new Error(
        `peer ${peerAddress} has no ${family} session (negotiated: ${sessionFamilies.join(', ')})`,
      );
    }
    const families = family ? [family] : sessionFamilies;
    for (const name of families) managed.bgp.sendRouteRefresh(wireFamily(name));
    this.log.info('route refresh requested', { peer: peerAddress, families });
    return families;
  }

  /**
   * Applies a new configuration. Throws (changing nothing) when it changes a setting that needs
   * a restart; otherwise unchanged peers keep their sessions, changed ones are reset, and those
   * whose import policy alone changed are asked for their routes again (refresh).
   */
  reload(next: DaemonConfig): ReloadResult {
    const fixed = FIXED_SETTINGS.filter((k) => JSON.stringify(this.config[k]) !== JSON.stringify(next[k]));
    if (fixed.length > 0) {
      throw new Error(`reload cannot change ${fixed.join(', ')}: restart margay-bgpd for that`);
    }
    const previous = this.config;
    this.config = next;
    const kept: string[] = [];
    const refreshed: string[] = [];
    const reset: string[] = [];
    const removed: string[] = [];
    const added: string[] = [];
    const wanted = new Map(next.peers.map((p) => [p.address, p]));
    for (const [address, managed] of [...this.peers]) {
      const settings = wanted.get(address);
      if (!settings) {
        this.removePeer(managed, CeaseSubcode.PeerDeconfigured);
        removed.push(address);
      } else if (peerKey(settings, next) !== managed.key || !this.canChangeImportInPlace(managed, settings)) {
        this.removePeer(managed, CeaseSubcode.OtherConfigurationChange);
        this.addPeer(settings);
        reset.push(address);
      } else {
        kept.push(address);
        if (!samePolicy(settings.import, managed.settings.import)) {
          this.changeImportPolicy(managed, settings);
          refreshed.push(address);
        } else {
          managed.settings = settings; // what may differ (the description) needs no action
        }
      }
    }
    for (const settings of next.peers) {
      if (this.peers.has(settings.address)) continue;
      this.addPeer(settings);
      added.push(settings.address);
    }
    const before = new Set(previous.originate.map(canonicalPrefix));
    const after = new Set(next.originate.map(canonicalPrefix));
    for (const prefix of before) if (!after.has(prefix)) this.deletePath(prefix);
    for (const prefix of after) if (!before.has(prefix)) this.addPath(prefix);
    this.policies.retain(next.peers.flatMap((p) => [p.import, p.export]));
    const result = { kept, refreshed, reset, removed, added };
    this.log.info('configuration reloaded', result);
    return result;
  }

  /**
   * Cease / Administrative Shutdown to every peer, then closes the listener and the FIB sink. With
   * `restarting`, the connections end without a NOTIFICATION instead: peers that negotiated
   * graceful restart keep our routes until we are back (RFC 4724 §4.2).
   */
  async close(options: { restarting?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const managed of [...this.peers.values()]) {
      if (options.restarting) this.abandonPeer(managed);
      else this.removePeer(managed);
    }
    await this.listener?.close();
    await this.fib.close(this.config.gracefulRestart?.preserveForwarding ?? false);
    this.log.info('stopped');
  }

  private addPeer(settings: PeerSettings): void {
    const handler = this.peerHandler();
    const bgp = new BgpPeer(sessionConfig(settings, this.config), handler, { logger: this.log });
    const managed: ManagedPeer = {
      settings,
      key: peerKey(settings, this.config),
      index: this.nextIndex++,
      bgp,
      since: Date.now(),
      inRib: false,
      restartTimer: null,
      refreshTimers: new Map(),
    };
    this.peers.set(settings.address, managed);
    this.listener?.addPeer(bgp);
    bgp.start();
  }

  /** Stops the peer's session (Cease with `ceaseSubcode`, default Administrative Shutdown) and forgets it. */
  private removePeer(managed: ManagedPeer, ceaseSubcode?: number): void {
    this.peers.delete(managed.settings.address);
    this.listener?.removePeer(managed.bgp);
    managed.bgp.stop(ceaseSubcode);
    this.forget(managed);
  }

  /** Drops the peer's connection without a NOTIFICATION and forgets it. */
  private abandonPeer(managed: ManagedPeer): void {
    this.peers.delete(managed.settings.address);
    this.listener?.removePeer(managed.bgp);
    managed.bgp.abandon();
    this.forget(managed);
  }

  /** An import policy change needs a reset only from an established peer that cannot refresh. */
  private canChangeImportInPlace(managed: ManagedPeer, settings: PeerSettings): boolean {
    const negotiated = managed.bgp.status().negotiated;
    return samePolicy(settings.import, managed.settings.import) || !negotiated || negotiated.routeRefresh;
  }

  /**
   * The table kept only what passed the old policy: a refresh lets the new one see every route.
   * A peer not established gets the policy when its session comes up.
   */
  private changeImportPolicy(managed: ManagedPeer, settings: PeerSettings): void {
    managed.settings = settings;
    if (!managed.inRib) return;
    this.rib.setImportPolicy(managed.index, this.policies.compile(settings.import));
    if (managed.bgp.state === FsmState.Established) this.refresh(settings.address);
  }

  /** Drops the peer's paths from the Rib (its session is over, gracefully or not). */
  private forget(managed: ManagedPeer): void {
    if (managed.restartTimer) clearTimeout(managed.restartTimer);
    managed.restartTimer = null;
    this.stopRefreshTimers(managed);
    if (!managed.inRib) return;
    managed.inRib = false;
    this.rib.removePeer(managed.index);
  }

  private peerHandler(): PeerHandler {
    return {
      onStateChange: (peer, change) =>
        this.guarded(peer, 'state change', () => this.stateChanged(peer, change)),
      onEstablished: (peer, negotiated) =>
        this.guarded(peer, 'session start', () => this.established(peer, negotiated)),
      onUpdate: (peer, update) => {
        // guarded() without its closure: this runs for every UPDATE.
        try {
          this.updated(peer, update);
        } catch (error) {
          this.failed(peer, 'UPDATE', error);
        }
      },
      onEndOfRib: (peer, family) => this.guarded(peer, 'End-of-RIB', () => this.sweepStale(peer, family)),
      onRouteRefresh: (peer, refresh) =>
        this.guarded(peer, 'ROUTE-REFRESH', () => this.routeRefreshReceived(peer, refresh)),
      onPeerDown: (peer, down) => this.guarded(peer, 'session end', () => this.peerDown(peer, down)),
    };
  }

  /**
   * Session callbacks run inside socket handlers: an exception there would take the daemon down.
   * A failure is logged and costs only that peer its session.
   */
  private guarded(peer: BgpPeer, what: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.failed(peer, what, error);
    }
  }

  /** A session callback threw: logs it and resets that peer's session. */
  private failed(peer: BgpPeer, what: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.log.error(`handling ${what} failed; resetting the session`, {
      peer: peer.remoteAddress,
      error: message,
    });
    // Not from inside the FSM callback that is still running.
    setImmediate(() => {
      const managed = this.managed(peer);
      if (!managed) return;
      peer.stop();
      this.forget(managed);
      peer.start();
    });
  }

  /** The peer if it is still configured (callbacks may arrive from a peer being replaced). */
  private managed(peer: BgpPeer): ManagedPeer | undefined {
    const managed = this.peers.get(peer.remoteAddress);
    return managed?.bgp === peer ? managed : undefined;
  }

  private stateChanged(peer: BgpPeer, change: StateChange): void {
    const managed = this.managed(peer);
    if (managed) managed.since = Date.now();
    this.emit({ type: 'peer', address: peer.remoteAddress, from: change.from, to: change.to });
  }

  private established(peer: BgpPeer, negotiated: NegotiatedSession): void {
    const managed = this.managed(peer);
    if (!managed) return;
    const { settings } = managed;
    if (!managed.inRib) {
      this.rib.addPeer({
        index: managed.index,
        address: settings.address,
        asn: settings.asNumber,
        routerId: negotiated.peerBgpId,
        routeReflectorClient: settings.routeReflectorClient,
        importPolicy: this.policies.compile(settings.import),
        exportPolicy: this.policies.compile(settings.export),
        nextHopSelf: settings.nextHopSelf,
        families: negotiated.families,
        fourOctetAs: negotiated.context.fourOctetAs,
        extendedMessages: negotiated.context.extendedMessages,
      });
      managed.inRib = true;
    }
    // The Rib sends the table and End-of-RIB now; later changes go out batched by flush().
    this.rib.peerUp(managed.index, (messages) => {
      peer.send(messages);
    });
  }

  private updated(peer: BgpPeer, update: DecodedUpdate): void {
    const managed = this.managed(peer);
    if (!managed?.inRib) return;
    this.rib.applyUpdate(managed.index, update);
    // A burst is exported in batches of a bounded size: the first routes go out while the
    // rest are still being read, and a batch's arrays and encoded UPDATEs stay small.
    if (this.rib.pendingChanges >= FLUSH_AT_CHANGES) this.flushNow();
    else this.scheduleFlush();
  }

  /** End-of-RIB or EoRR: the peer's paths of `family` still stale were not sent again. */
  private sweepStale(peer: BgpPeer, family: WireFamily): void {
    const managed = this.managed(peer);
    if (!managed?.inRib) return;
    this.rib.endOfRib(managed.index, family.afi);
    if (this.rib.staleCount(managed.index) === 0 && managed.restartTimer) {
      clearTimeout(managed.restartTimer);
      managed.restartTimer = null;
    }
    this.scheduleFlush();
    const name = familyName(family);
    if (name === null || this.endOfRibListeners.size === 0) return;
    // Listeners (the FIB's stale sweep) must see everything the peer sent before its End-of-RIB.
    this.rib.flush();
    for (const listener of this.endOfRibListeners) {
      try {
        listener(peer.remoteAddress, name);
      } catch (error) {
        this.log.warn('End-of-RIB listener failed', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  private routeRefreshReceived(peer: BgpPeer, refresh: RouteRefresh): void {
    const managed = this.managed(peer);
    if (!managed?.inRib) return;
    switch (refresh.subtype) {
      case RouteRefreshSubtype.Normal: {
        const negotiated = peer.status().negotiated;
        const { afi, safi } = refresh.family;
        // RFC 2918 §4: a request for a family the session does not carry is ignored.
        if (!negotiated?.families.some((f) => f.afi === afi && f.safi === safi)) return;
        // RFC 7313 §4: with enhanced route refresh the re-advertisement goes between BoRR and EoRR.
        const enhanced = negotiated.enhancedRouteRefresh;
        if (enhanced) peer.sendRouteRefresh(refresh.family, RouteRefreshSubtype.BeginningOfRouteRefresh);
        this.rib.routeRefresh(managed.index);
        if (enhanced) peer.sendRouteRefresh(refresh.family, RouteRefreshSubtype.EndOfRouteRefresh);
        break;
      }
      case RouteRefreshSubtype.BeginningOfRouteRefresh:
        this.rib.markStale(managed.index, refresh.family.afi);
        this.startRefreshTimer(managed, peer, refresh.family);
        break;
      case RouteRefreshSubtype.EndOfRouteRefresh:
        clearTimeout(managed.refreshTimers.get(refresh.family.afi));
        managed.refreshTimers.delete(refresh.family.afi);
        this.sweepStale(peer, refresh.family);
        break;
    }
  }

  /** A peer that never sends its EoRR must not keep stale paths forever (RFC 7313 §4). */
  private startRefreshTimer(managed: ManagedPeer, peer: BgpPeer, family: WireFamily): void {
    clearTimeout(managed.refreshTimers.get(family.afi));
    const timer = setTimeout(() => {
      managed.refreshTimers.delete(family.afi);
      this.log.warn('no EoRR after BoRR in time; sweeping the stale paths', {
        peer: peer.remoteAddress,
        afi: family.afi,
        afterMs: this.refreshStaleTimeMs,
      });
      this.guarded(peer, 'EoRR timeout', () => this.sweepStale(peer, family));
    }, this.refreshStaleTimeMs);
    timer.unref();
    managed.refreshTimers.set(family.afi, timer);
  }

  private stopRefreshTimers(managed: ManagedPeer): void {
    for (const timer of managed.refreshTimers.values()) clearTimeout(timer);
    managed.refreshTimers.clear();
  }

  private peerDown(peer: BgpPeer, down: PeerDown): void {
    const managed = this.managed(peer);
    if (!managed?.inRib) return;
    // A refresh in progress ends with its session; graceful restart's own timer takes over.
    this.stopRefreshTimers(managed);
    const gr = down.gracefulRestart;
    this.log.info('session down', { peer: peer.remoteAddress, reason: down.reason, graceful: gr !== null });
    if (!gr) {
      this.forget(managed);
    } else {
      // RFC 4724 §4.2: keep the peer's routes, marked stale, until it is back and says
      // End-of-RIB, or until the restart time it announced runs out.
      this.rib.peerDown(managed.index, true);
      if (managed.restartTimer) clearTimeout(managed.restartTimer);
      managed.restartTimer = setTimeout(() => {
        managed.restartTimer = null;
        if (peer.state === FsmState.Established) {
          this.rib.sweepStale(managed.index);
        } else {
          this.forget(managed);
        }
        this.scheduleFlush();
      }, gr.restartTime * 1000);
      managed.restartTimer.unref();
    }
    this.scheduleFlush();
  }

  /** Runs the Rib's export once per event-loop turn, so a burst of UPDATEs goes out in big batches. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushNow();
    });
  }

  private flushNow(): void {
    try {
      this.rib.flush();
    } catch (error) {
      this.log.error('exporting routes failed', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** Best-path changes cost an object per prefix: the Rib makes them only while someone reads them. */
  private watchRib(): void {
    const wanted = this.config.fib.enabled || this.listeners.size > 0;
    if (wanted && !this.stopWatchingRib) {
      this.stopWatchingRib = this.rib.onChange((changes) => this.bestChanged(changes));
    } else if (!wanted && this.stopWatchingRib) {
      this.stopWatchingRib();
      this.stopWatchingRib = null;
    }
  }

  private bestChanged(changes: readonly BestChange[]): void {
    this.fib.apply(changes);
    if (this.listeners.size === 0) return;
    const fromPeer = (index: number) =>
      index === LOCAL_PEER
        ? 'local'
        : ([...this.peers.values()].find((p) => p.index === index)?.settings.address ?? `peer ${index}`);
    for (const change of changes) {
      const best = change.best && routeView(change.best, true, fromPeer(change.best.from));
      this.emit({ type: 'route', kind: change.kind, prefix: change.prefix, best });
    }
  }

  private emit(event: ServerEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log.warn('event listener failed', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  private peerView(managed: ManagedPeer): PeerView {
    const { settings, bgp, index } = managed;
    const status = bgp.status();
    const ibgp = settings.asNumber === this.config.asNumber;
    return {
      address: settings.address,
      asNumber: settings.asNumber,
      type: !ibgp ? 'eBGP' : settings.routeReflectorClient ? 'iBGP RR client' : 'iBGP',
      description: settings.description ?? null,
      state: status.state,
      since: new Date(managed.since),
      uptime: status.uptime,
      routerId: status.negotiated ? formatIpv4(status.negotiated.peerBgpId) : null,
      messagesIn: status.counters.messagesIn,
      messagesOut: status.counters.messagesOut,
      updatesIn: status.counters.updatesIn,
      updatesOut: status.counters.updatesOut,
      prefixesReceived: status.counters.prefixesReceived,
      prefixesAccepted: managed.inRib ? this.rib.adjRibIn(index).size : 0,
      prefixesAdvertised: managed.inRib ? this.rib.adjRibOut(index).size : 0,
      lastError: status.lastError,
    };
  }
}

function afiOf(prefix: string): Afi {
  return prefix.includes(':') ? Afi.Ipv6 : Afi.Ipv4;
}
