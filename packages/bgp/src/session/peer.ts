// A configured BGP neighbor: starts and stops its session, accepts the peer's connections,
// resolves connection collisions (RFC 4271 §6.8), keeps counters and hands what the peer sends
// to a consumer (the RIB). Graceful restart (RFC 4724) is reported, not enforced: on a graceful
// peer restart the consumer learns which families to keep as stale and for how long.

import type { Socket } from 'node:net';
import { type Logger, silentLogger } from '@margay/log';
import { type Clock, systemClock } from '../fsm/clock';
import { collisionSurvivor } from '../fsm/collision';
import { type FsmEvent, FsmState } from '../fsm/transitions';
import {
  CeaseSubcode,
  type Family,
  HEADER_LENGTH,
  MessageType,
  RouteRefreshSubtype,
} from '../packet/constants';
import { describeNotification, type Notification } from '../packet/notification';
import { encodeOpen, type OpenMessage } from '../packet/open';
import { encodeRouteRefresh, type RouteRefresh } from '../packet/route-refresh';
import type { DecodedUpdate } from '../packet/update-decode';
import { encodeEndOfRib } from '../packet/update-encode';
import { type BgpPeerConfig, type ResolvedPeerConfig, resolvePeerConfig } from './config';
import type { NegotiatedSession } from './negotiate';
import { rejectConnection } from './reject';
import { BgpSession, type SessionOwner } from './session';

export interface PeerCounters {
  messagesIn: number;
  messagesOut: number;
  updatesIn: number;
  updatesOut: number;
  notificationsIn: number;
  notificationsOut: number;
  /** Prefixes announced to us (a prefix announced twice counts twice). */
  prefixesReceived: number;
  /** Times the session reached Established. */
  establishedTransitions: number;
}

export interface PeerStatus {
  readonly state: FsmState;
  readonly counters: Readonly<PeerCounters>;
  /** Seconds in Established, or null when not established. */
  readonly uptime: number | null;
  readonly lastError: string | null;
  readonly negotiated: NegotiatedSession | null;
}

export interface StateChange {
  readonly from: FsmState;
  readonly to: FsmState;
  readonly event: FsmEvent['type'];
}

export interface PeerDown {
  readonly reason: string;
  /**
   * Set when the peer is restarting gracefully (RFC 4724 §4.2): keep its routes of these
   * families as stale for `restartTime` seconds, until it sends End-of-RIB again.
   */
  readonly gracefulRestart: {
    readonly restartTime: number;
    readonly families: readonly (Family & { readonly forwardingState: boolean })[];
  } | null;
}

/** The consumer of a peer's session; every callback is optional. */
export interface PeerHandler {
  onStateChange?(peer: BgpPeer, change: StateChange): void;
  onEstablished?(peer: BgpPeer, negotiated: NegotiatedSession): void;
  onUpdate?(peer: BgpPeer, update: DecodedUpdate): void;
  onEndOfRib?(peer: BgpPeer, family: Family): void;
  onRouteRefresh?(peer: BgpPeer, refresh: RouteRefresh): void;
  onPeerDown?(peer: BgpPeer, down: PeerDown): void;
}

export interface PeerOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** Header, Withdrawn Routes Length and Total Path Attribute Length. */
const MIN_UPDATE_LENGTH = HEADER_LENGTH + 4;
const OPEN_STATES: ReadonlySet<FsmState> = new Set([FsmState.OpenSent, FsmState.OpenConfirm]);

/** Throws unless `buf` is whole UPDATE messages back to back: anything else would desynchronise the stream. */
function checkUpdates(buf: Buffer, peer: string): void {
  for (let at = 0; at < buf.length; ) {
    const length = at + HEADER_LENGTH <= buf.length ? buf.readUInt16BE(at + 16) : 0;
    if (length < MIN_UPDATE_LENGTH || at + length > buf.length || buf[at + 18] !== MessageType.Update) {
      throw new Error(
        `peer ${peer}: octet ${at} of the buffer to send does not start a whole UPDATE message`,
      );
    }
    at += length;
  }
}

export class BgpPeer implements SessionOwner {
  readonly config: ResolvedPeerConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private primary: BgpSession;
  /** The second connection of a collision, until one of the two is dropped. */
  private rival: BgpSession | null = null;
  private reportedState: FsmState = FsmState.Idle;
  private readonly counters: PeerCounters = {
    messagesIn: 0,
    messagesOut: 0,
    updatesIn: 0,
    updatesOut: 0,
    notificationsIn: 0,
    notificationsOut: 0,
    prefixesReceived: 0,
    establishedTransitions: 0,
  };
  private establishedAt: number | null = null;
  private lastError: string | null = null;
  /** RFC 4724: our OPENs carry the Restart State bit until a session is established after our restart. */
  private restarting: boolean;

  constructor(
    config: BgpPeerConfig,
    private readonly handler: PeerHandler = {},
    options: PeerOptions = {},
  ) {
    this.config = resolvePeerConfig(config);
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
    this.restarting = config.gracefulRestart?.restarting ?? false;
    this.primary = this.newSession();
  }

  get remoteAddress(): string {
    return this.config.remoteAddress;
  }

  get state(): FsmState {
    return this.primary.state;
  }

  status(): PeerStatus {
    const established = this.state === FsmState.Established && this.establishedAt !== null;
    return {
      state: this.state,
      counters: { ...this.counters },
      uptime: established ? (this.clock.now() - this.establishedAt!) / 1000 : null,
      lastError: this.lastError,
      negotiated: established ? this.primary.negotiated : null,
    };
  }

  /** ManualStart (passive when configured so). */
  start(): void {
    this.primary.fsm.dispatch({ type: this.config.fsm.passive ? 'ManualStartPassive' : 'ManualStart' });
  }

  /**
   * ManualStop: Cease to a connected peer (Administrative Shutdown unless `ceaseSubcode` says
   * otherwise, e.g. Peer De-configured), then Idle until started again.
   */
  stop(ceaseSubcode?: number): void {
    this.rival?.fsm.dispatch({ type: 'ManualStop', ceaseSubcode });
    this.primary.fsm.dispatch({ type: 'ManualStop', ceaseSubcode });
  }

  /**
   * Ends the connection without a NOTIFICATION and stays stopped, reporting nothing more: to the
   * peer this is our restart, so one that negotiated graceful restart keeps our routes as stale
   * until we are back and send End-of-RIB (RFC 4724 §4.2). For a speaker about to exit.
   */
  abandon(): void {
    this.rival?.dispose();
    this.rival = null;
    this.primary.dispose();
  }

  /** Takes a connection the peer opened to us (the listener matched its address). */
  accept(socket: Socket): void {
    const state = this.primary.state;
    if (state === FsmState.Idle && this.primary.fsm.pendingRestartDelay !== null && !this.rival) {
      // Idle only until an automatic restart: take the connection as that start. Two active peers
      // that failed together would otherwise keep refusing each other, each Idle in turn.
      this.primary.fsm.dispatch({ type: 'AutomaticStartPassive' });
      this.primary.accept(socket);
    } else if (state === FsmState.Idle || this.rival) {
      this.log.info('connection rejected', { peer: this.remoteAddress, state });
      rejectConnection(socket, CeaseSubcode.ConnectionRejected);
    } else if (state === FsmState.Established) {
      // RFC 4271 §6.8: a collision with an established session closes the new connection.
      rejectConnection(socket, CeaseSubcode.ConnectionCollisionResolution);
    } else if (!this.primary.connected) {
      this.primary.accept(socket);
    } else {
      // Our own connection is under way: run both until an OPEN decides which one stays.
      const rival = this.newSession();
      this.rival = rival;
      rival.fsm.dispatch({ type: 'AutomaticStartPassive' });
      rival.accept(socket);
    }
  }

  /**
   * Sends encoded UPDATE messages (one or many back to back, as the encoders return them).
   * Returns false when the caller should await `drained()` before sending more.
   */
  send(updates: Buffer): boolean {
    this.requireEstablished('send UPDATEs');
    checkUpdates(updates, this.remoteAddress);
    return this.primary.send(updates);
  }

  /** Resolves once the send queue has room again. */
  drained(): Promise<void> {
    return this.primary.drained();
  }

  /** Marks the end of our initial routing update for a family (RFC 4724 §2). */
  sendEndOfRib(family: Family): boolean {
    return this.send(encodeEndOfRib(family));
  }

  /** Asks the peer to resend its routes of a family (RFC 2918); BoRR/EoRR need enhanced route refresh (RFC 7313). */
  sendRouteRefresh(family: Family, subtype: RouteRefreshSubtype = RouteRefreshSubtype.Normal): boolean {
    const negotiated = this.requireEstablished('send ROUTE-REFRESH');
    if (!negotiated.routeRefresh)
      throw new Error(`peer ${this.remoteAddress}: route refresh was not negotiated`);
    if (subtype !== RouteRefreshSubtype.Normal && !negotiated.enhancedRouteRefresh) {
      throw new Error(`peer ${this.remoteAddress}: enhanced route refresh was not negotiated`);
    }
    if (!negotiated.families.some((f) => f.afi === family.afi && f.safi === family.safi)) {
      throw new Error(`peer ${this.remoteAddress}: AFI ${family.afi} SAFI ${family.safi} was not negotiated`);
    }
    return this.primary.send(encodeRouteRefresh(family, subtype));
  }

  // SessionOwner: called by the sessions.

  openMessage(): Buffer {
    const { localAs, holdTime, bgpId, capabilities } = this.config;
    const gr = capabilities.gracefulRestart;
    return encodeOpen({
      asn: localAs,
      holdTime,
      bgpId,
      capabilities: { ...capabilities, gracefulRestart: gr && { ...gr, restarting: this.restarting } },
    });
  }

  openReceived(session: BgpSession, open: OpenMessage): boolean {
    const other = session === this.primary ? this.rival : this.primary;
    if (!other) return true;
    if (other.state === FsmState.Established) {
      session.fsm.dispatch({ type: 'OpenCollisionDump' });
      return false;
    }
    if (!OPEN_STATES.has(other.state)) {
      // The other connection never got as far as an OPEN: this one simply replaces it.
      this.retire(other);
      return true;
    }
    const survivor = collisionSurvivor({
      localBgpId: this.config.bgpId,
      remoteBgpId: open.bgpId,
      localAs: this.config.localAs,
      remoteAs: open.asn,
    });
    this.log.info('connection collision', { peer: this.remoteAddress, keep: survivor });
    if (session.direction !== survivor) {
      session.fsm.dispatch({ type: 'OpenCollisionDump' });
      return false;
    }
    other.fsm.dispatch({ type: 'OpenCollisionDump' });
    return true;
  }

  stateChanged(session: BgpSession, from: FsmState, to: FsmState, event: FsmEvent): void {
    if (to === FsmState.Established) this.established(session);
    if (from === FsmState.Established) this.down(session, event);
    if (to === FsmState.Idle && this.rival) {
      // One of two connections failed or lost the collision: the other carries on alone.
      this.retire(session);
    }
    this.reportState(event);
  }

  messageReceived(type: MessageType): void {
    this.counters.messagesIn++;
    if (type === MessageType.Update) this.counters.updatesIn++;
    else if (type === MessageType.Notification) this.counters.notificationsIn++;
  }

  messagesSent(messages: Buffer): void {
    // Callers may pass many messages in one buffer: walk their headers to count them.
    for (let at = 0; at + HEADER_LENGTH <= messages.length; at += messages.readUInt16BE(at + 16)) {
      this.counters.messagesOut++;
      const type = messages[at + 18];
      if (type === MessageType.Update) this.counters.updatesOut++;
      else if (type === MessageType.Notification) this.counters.notificationsOut++;
    }
  }

  updateReceived(update: DecodedUpdate): void {
    if (update.endOfRib) {
      this.handler.onEndOfRib?.(this, update.endOfRib);
      return;
    }
    this.counters.prefixesReceived +=
      (update.announced?.lengths.length ?? 0) + (update.mpAnnounced?.lengths.length ?? 0);
    this.handler.onUpdate?.(this, update);
  }

  routeRefreshReceived(refresh: RouteRefresh): void {
    this.handler.onRouteRefresh?.(this, refresh);
  }

  notificationSent(n: Notification): void {
    this.recordError(`sent ${describeNotification(n)}`);
  }

  notificationReceived(n: Notification | null): void {
    this.recordError(n ? `received ${describeNotification(n)}` : 'received a NOTIFICATION too short to read');
  }

  problem(message: string): void {
    this.log.warn(message, { peer: this.remoteAddress });
    this.lastError = message;
  }

  private recordError(message: string): void {
    this.log.info(message, { peer: this.remoteAddress });
    this.lastError = message;
  }

  private newSession(): BgpSession {
    return new BgpSession(this.config, this, this.clock);
  }

  /** Drops one of two sessions; the other becomes (or stays) the peer's session. */
  private retire(session: BgpSession): void {
    session.dispose();
    if (session === this.primary && this.rival) this.primary = this.rival;
    this.rival = null;
  }

  private established(session: BgpSession): void {
    this.counters.establishedTransitions++;
    this.establishedAt = this.clock.now();
    this.restarting = false;
    this.log.info('established', { peer: this.remoteAddress });
    if (session.negotiated) this.handler.onEstablished?.(this, session.negotiated);
  }

  private down(session: BgpSession, event: FsmEvent): void {
    this.establishedAt = null;
    const negotiated = session.negotiated;
    const peerGr = negotiated?.peerGracefulRestart;
    // RFC 4724 §4.2: only a connection that ends without a NOTIFICATION is a graceful restart.
    const graceful = negotiated?.gracefulRestart === true && peerGr && event.type === 'TcpConnectionFails';
    this.handler.onPeerDown?.(this, {
      reason: this.lastError ?? event.type,
      gracefulRestart: graceful
        ? {
            restartTime: peerGr.restartTime,
            families: peerGr.families.filter((f) =>
              negotiated.families.some((n) => n.afi === f.afi && n.safi === f.safi),
            ),
          }
        : null,
    });
  }

  private reportState(event: FsmEvent): void {
    const to = this.primary.state;
    if (to === this.reportedState) return;
    const from = this.reportedState;
    this.reportedState = to;
    this.log.info('state change', { peer: this.remoteAddress, from, to, event: event.type });
    this.handler.onStateChange?.(this, { from, to, event: event.type });
  }

  private requireEstablished(what: string): NegotiatedSession {
    const negotiated = this.primary.negotiated;
    if (this.state !== FsmState.Established || !negotiated) {
      throw new Error(`peer ${this.remoteAddress}: cannot ${what} in state ${this.state}`);
    }
    return negotiated;
  }
}
