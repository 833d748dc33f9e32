// One run of the BGP FSM and the TCP connection it currently drives: frames and decodes what
// arrives, turns it into FSM events, and carries out the FSM's actions on the socket. A peer
// has one such session, and a second one only while a connection collision is being resolved.

import { connect, type Socket } from 'node:net';
import type { Clock } from '../fsm/clock';
import type { ConnectionDirection } from '../fsm/collision';
import { Fsm, type FsmHandler, type SessionAction } from '../fsm/machine';
import { type FsmEvent, FsmState } from '../fsm/transitions';
import { ErrorCode, MessageType, OpenSubcode } from '../packet/constants';
import { type Frame, MessageFramer } from '../packet/framer';
import { encodeKeepalive } from '../packet/header';
import { decodeNotification, encodeNotification, type Notification } from '../packet/notification';
import { decodeOpen, type OpenMessage } from '../packet/open';
import { decodeRouteRefresh, type RouteRefresh } from '../packet/route-refresh';
import { AttributeCache, type DecodedUpdate, decodeUpdate } from '../packet/update-decode';
import type { ResolvedPeerConfig } from './config';
import { type NegotiatedSession, negotiate } from './negotiate';
import { closeSoon } from './reject';
import { MessageWriter } from './writer';

/** What a session reports to, and asks of, its peer. */
export interface SessionOwner {
  /** The OPEN to send now. */
  openMessage(): Buffer;
  /** A valid OPEN arrived in OpenSent: resolve any collision. False when this session lost. */
  openReceived(session: BgpSession, open: OpenMessage): boolean;
  stateChanged(session: BgpSession, from: FsmState, to: FsmState, event: FsmEvent): void;
  messageReceived(type: MessageType): void;
  messagesSent(messages: Buffer): void;
  updateReceived(update: DecodedUpdate): void;
  routeRefreshReceived(refresh: RouteRefresh): void;
  notificationSent(n: Notification): void;
  notificationReceived(n: Notification | null): void;
  problem(message: string): void;
}

export class BgpSession implements FsmHandler {
  readonly fsm: Fsm;
  private socket: Socket | null = null;
  private writer: MessageWriter | null = null;
  private framer = new MessageFramer();
  private negotiatedSession: NegotiatedSession | null = null;
  /** Attribute sets this session's peer sent, decoded (see AttributeCache); made per negotiation. */
  private attributeCache: AttributeCache | null = null;
  private currentDirection: ConnectionDirection = 'outgoing';
  /** An UPDATE arrived in the chunk being read: the hold timer restarts once after it. */
  private updatesInChunk = false;

  constructor(
    private readonly config: ResolvedPeerConfig,
    private readonly owner: SessionOwner,
    clock: Clock,
  ) {
    this.fsm = new Fsm(config.fsm, clock, this);
  }

  get state(): FsmState {
    return this.fsm.state;
  }

  /** Who opened the current connection. */
  get direction(): ConnectionDirection {
    return this.currentDirection;
  }

  get connected(): boolean {
    return this.socket !== null;
  }

  /** What the OPENs agreed, from the last accepted OPEN on. */
  get negotiated(): NegotiatedSession | null {
    return this.negotiatedSession;
  }

  /** Takes over a connection the peer opened. */
  accept(socket: Socket): void {
    this.currentDirection = 'incoming';
    this.attach(socket);
    this.fsm.dispatch({ type: 'TcpConnectionConfirmed' });
  }

  /** Queues messages for sending; false when the caller should wait for `drained()`. */
  send(messages: Buffer): boolean {
    if (!this.writer) return false;
    this.owner.messagesSent(messages);
    return this.writer.write(messages);
  }

  drained(): Promise<void> {
    return this.writer ? this.writer.drained() : Promise.resolve();
  }

  /** Stops for good, without a NOTIFICATION: for a session made redundant by its rival. */
  dispose(): void {
    this.fsm.dispose();
    this.socket?.destroy();
    this.socket = null;
    this.writer = null;
  }

  perform(action: SessionAction): void {
    switch (action.type) {
      case 'connect':
        this.connectOut();
        return;
      case 'drop':
        this.drop();
        return;
      case 'send-open':
        this.send(this.owner.openMessage());
        return;
      case 'send-keepalive':
        this.send(encodeKeepalive());
        return;
      case 'send-notification':
        this.owner.notificationSent(action.notification);
        this.send(encodeNotification(action.notification));
        return;
    }
  }

  stateChanged(from: FsmState, to: FsmState, event: FsmEvent): void {
    this.owner.stateChanged(this, from, to, event);
  }

  private connectOut(): void {
    const { remoteAddress, remotePort, localAddress, localPort } = this.config;
    this.currentDirection = 'outgoing';
    // Node exposes no IP_TTL for TCP sockets: multihop eBGP relies on the system default TTL (64)
    // and GTSM (RFC 5082) is not available.
    const socket = connect({ host: remoteAddress, port: remotePort, localAddress, localPort });
    this.attach(socket);
    socket.once('connect', () => {
      if (this.socket === socket) this.fsm.dispatch({ type: 'TcpConnectionConfirmed' });
    });
  }

  private attach(socket: Socket): void {
    this.socket?.destroy();
    this.socket = socket;
    this.writer = new MessageWriter(socket);
    this.framer = new MessageFramer();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      this.framer.push(chunk);
      this.receive(socket);
    });
    socket.on('error', (err) =>
      this.owner.problem(`connection to ${this.config.remoteAddress}: ${err.message}`),
    );
    socket.once('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.writer = null;
      this.fsm.dispatch({ type: 'TcpConnectionFails' });
    });
  }

  /** Closes the connection after what is queued (e.g. a NOTIFICATION) has been handed to it. */
  private drop(): void {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    if (socket.connecting) {
      socket.destroy();
    } else {
      this.writer?.end();
      closeSoon(socket);
    }
    this.writer = null;
  }

  private receive(socket: Socket): void {
    this.updatesInChunk = false;
    for (let frame = this.framer.next(); frame; frame = this.framer.next()) {
      this.handle(frame);
      // The frame may have closed the connection; whatever follows it is not ours to read.
      if (this.socket !== socket) return;
    }
    // One UpdateMsg event (it restarts the hold timer) for all the UPDATEs of a chunk, read in
    // the same instant: a timer restart per UPDATE was a tenth of the receive path.
    if (this.updatesInChunk && this.fsm.state === FsmState.Established) {
      this.updatesInChunk = false;
      this.fsm.dispatch({ type: 'UpdateMsg' });
    }
  }

  private handle(frame: Frame): void {
    if (frame.kind === 'error') {
      this.owner.problem(frame.reason);
      this.fsm.dispatch({ type: 'BGPHeaderErr', notification: frame.notification });
      return;
    }
    this.owner.messageReceived(frame.type);
    switch (frame.type) {
      case MessageType.Open:
        this.handleOpen(frame.body);
        return;
      case MessageType.Keepalive:
        this.fsm.dispatch({ type: 'KeepAliveMsg' });
        return;
      case MessageType.Update:
        this.handleUpdate(frame.body);
        return;
      case MessageType.Notification: {
        const n = decodeNotification(frame.body);
        this.owner.notificationReceived(n);
        const versionError =
          n?.code === ErrorCode.OpenMessage && n.subcode === OpenSubcode.UnsupportedVersionNumber;
        this.fsm.dispatch({ type: versionError ? 'NotifMsgVerErr' : 'NotifMsg' });
        return;
      }
      case MessageType.RouteRefresh:
        this.handleRouteRefresh(frame.body);
        return;
    }
  }

  private handleOpen(body: Buffer): void {
    const { peerAs, localAs, bgpId } = this.config;
    const decoded = decodeOpen(body, { peerAs, localAs, localBgpId: bgpId });
    if (!decoded.ok) {
      this.owner.problem(`bad OPEN: ${decoded.reason}`);
      this.fsm.dispatch({ type: 'BGPOpenMsgErr', notification: decoded.notification });
      return;
    }
    if (this.fsm.state !== FsmState.OpenSent) {
      this.fsm.dispatch({ type: 'BGPOpen', holdTime: 0 });
      return;
    }
    const negotiation = negotiate(this.config, decoded.open);
    if (!negotiation.ok) {
      this.owner.problem(`refused OPEN: ${negotiation.reason}`);
      this.fsm.dispatch({ type: 'BGPOpenMsgErr', notification: negotiation.notification });
      return;
    }
    if (!this.owner.openReceived(this, decoded.open)) return;
    this.negotiatedSession = negotiation.session;
    this.attributeCache = new AttributeCache();
    this.framer.setExtendedMessages(negotiation.session.context.extendedMessages);
    this.fsm.dispatch({ type: 'BGPOpen', holdTime: negotiation.session.holdTime });
  }

  private handleUpdate(body: Buffer): void {
    const session = this.negotiatedSession;
    if (this.fsm.state !== FsmState.Established || !session) {
      this.fsm.dispatch({ type: 'UpdateMsg' });
      return;
    }
    const update = decodeUpdate(body, session.context, this.attributeCache ?? undefined);
    if (update.action === 'session-reset') {
      this.owner.problem(`UPDATE resets the session: ${update.problems.map((p) => p.reason).join('; ')}`);
      this.fsm.dispatch({ type: 'UpdateMsgErr', notification: update.notification! });
      return;
    }
    this.updatesInChunk = true;
    for (const p of update.problems) this.owner.problem(`UPDATE ${p.action}: ${p.reason}`);
    this.owner.updateReceived(update);
  }

  private handleRouteRefresh(body: Buffer): void {
    const session = this.negotiatedSession;
    if (this.fsm.state !== FsmState.Established || !session) {
      this.fsm.dispatch({ type: 'RouteRefreshMsg' });
      return;
    }
    const decoded = decodeRouteRefresh(body);
    if (decoded.kind === 'error') {
      this.owner.problem(decoded.reason);
      this.fsm.dispatch({ type: 'RouteRefreshMsgErr', notification: decoded.notification });
      return;
    }
    this.fsm.dispatch({ type: 'RouteRefreshMsg' });
    if (decoded.kind === 'ignore') {
      this.owner.problem(decoded.reason);
      return;
    }
    const { family } = decoded.refresh;
    // RFC 2918 §4: a refresh for a family we did not negotiate is ignored.
    if (!session.families.some((f) => f.afi === family.afi && f.safi === family.safi)) {
      this.owner.problem(`ROUTE-REFRESH for AFI ${family.afi} SAFI ${family.safi}, not negotiated: ignored`);
      return;
    }
    this.owner.routeRefreshReceived(decoded.refresh);
  }
}
