// Test fixtures: a scripted BGP speaker on a bare socket (to send exactly the bytes a test wants)
// and a recorder of what a BgpPeer reports. Loopback only.

import { connect, createServer, type Server, type Socket } from 'node:net';
import { FsmState } from '../fsm/transitions';
import type { Family } from '../packet/constants';
import { MessageType } from '../packet/constants';
import { type Frame, MessageFramer } from '../packet/framer';
import { decodeNotification, type Notification } from '../packet/notification';
import type { RouteRefresh } from '../packet/route-refresh';
import type { DecodedUpdate } from '../packet/update-decode';
import type { NegotiatedSession } from './negotiate';
import type { BgpPeer, PeerDown, PeerHandler, StateChange } from './peer';

/** A random 127.0.x.y with x, y in 1..254: fresh addresses per run. */
export function loopbackAddresses(count: number): string[] {
  const x = 1 + Math.floor(Math.random() * 254);
  const start = 1 + Math.floor(Math.random() * (254 - count));
  return Array.from({ length: count }, (_, i) => `127.0.${x}.${start + i}`);
}

/** One end of a TCP connection that reads whole BGP messages. */
export class RawPeer {
  private readonly framer = new MessageFramer();
  private readonly frames: Frame[] = [];
  private waiting: (() => void) | null = null;
  private ended = false;
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.framer.push(chunk);
      for (let f = this.framer.next(); f && f.kind === 'message'; f = this.framer.next()) this.frames.push(f);
      this.wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      }),
    );
  }

  static connect(host: string, port: number, localAddress: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, localAddress });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
    });
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next message; rejects when the connection closes first. */
  async next(): Promise<Frame & { kind: 'message' }> {
    for (;;) {
      const frame = this.frames.shift();
      if (frame && frame.kind === 'message') return frame;
      if (this.ended) throw new Error('connection closed while a message was expected');
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
    }
  }

  /** Skips KEEPALIVEs and returns the next other message of `type`; fails on anything else. */
  async expect(type: MessageType): Promise<Buffer> {
    for (;;) {
      const frame = await this.next();
      if (frame.type === type) return frame.body;
      if (frame.type !== MessageType.Keepalive) {
        const detail =
          frame.type === MessageType.Notification
            ? ` (${JSON.stringify(decodeNotification(frame.body))})`
            : '';
        throw new Error(`expected message type ${type}, got ${frame.type}${detail}`);
      }
    }
  }

  async expectNotification(): Promise<Notification> {
    const n = decodeNotification(await this.expect(MessageType.Notification));
    if (!n) throw new Error('NOTIFICATION too short');
    return n;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.();
  }
}

/** A listener that hands out accepted connections as RawPeers. */
export class RawServer {
  private readonly accepted: RawPeer[] = [];
  private waiting: (() => void) | null = null;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {
    server.on('connection', (socket) => {
      this.accepted.push(new RawPeer(socket));
      this.waiting?.();
    });
  }

  static listen(host: string): Promise<RawServer> {
    const server = createServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: 0 }, () => {
        const address = server.address();
        if (!address || typeof address === 'string') throw new Error('listener has no port');
        resolve(new RawServer(server, address.port));
      });
    });
  }

  async accept(): Promise<RawPeer> {
    for (;;) {
      const peer = this.accepted.shift();
      if (peer) return peer;
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
    }
  }

  close(): Promise<void> {
    for (const peer of this.accepted) peer.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Records what a peer reports and lets a test wait for a condition on it. */
export class PeerRecorder implements PeerHandler {
  readonly changes: StateChange[] = [];
  readonly updates: DecodedUpdate[] = [];
  readonly endOfRib: Family[] = [];
  readonly refreshes: RouteRefresh[] = [];
  readonly downs: PeerDown[] = [];
  readonly established: NegotiatedSession[] = [];
  private waiters: (() => void)[] = [];

  onStateChange(_peer: BgpPeer, change: StateChange): void {
    this.record(() => this.changes.push(change));
  }
  onEstablished(_peer: BgpPeer, negotiated: NegotiatedSession): void {
    this.record(() => this.established.push(negotiated));
  }
  onUpdate(_peer: BgpPeer, update: DecodedUpdate): void {
    this.record(() => this.updates.push(update));
  }
  onEndOfRib(_peer: BgpPeer, family: Family): void {
    this.record(() => this.endOfRib.push(family));
  }
  onRouteRefresh(_peer: BgpPeer, refresh: RouteRefresh): void {
    this.record(() => this.refreshes.push(refresh));
  }
  onPeerDown(_peer: BgpPeer, down: PeerDown): void {
    this.record(() => this.downs.push(down));
  }

  /** Resolves once `condition` holds (checked now and after every report). */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  untilState(peer: BgpPeer, state: FsmState): Promise<void> {
    return this.until(() => peer.state === state);
  }

  untilEstablished(peer: BgpPeer): Promise<void> {
    return this.untilState(peer, FsmState.Established);
  }

  private record(push: () => void): void {
    push();
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Polls `condition` until it holds: for values no event announces (counters). Bounded by the test timeout. */
export async function eventually(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}
