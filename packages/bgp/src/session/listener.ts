// The passive side: one TCP listener shared by all peers. Connections are matched to configured
// peers by remote address; anyone else gets Cease / Connection Rejected (RFC 4486) and is closed,
// at once or, with `holdUnknownMs`, once that long has passed without a peer of that address
// being added (a node that connects to us before we have read its Node resource).

import { type AddressInfo, createServer, isIPv4, type Server, type Socket } from 'node:net';
import { type Logger, silentLogger } from '@margay/log';
import { BGP_PORT, CeaseSubcode } from '../packet/constants';
import type { BgpPeer } from './peer';
import { rejectConnection } from './reject';

export interface ListenerOptions {
  /** Address to listen on. */
  readonly host: string;
  /** Default 179; 0 picks a free port. */
  readonly port?: number;
  readonly logger?: Logger;
  /**
   * How long a connection from an address that is not a peer (yet) is held, unread, in case a
   * peer with that address is added meanwhile; default 0: rejected at once.
   */
  readonly holdUnknownMs?: number;
}

/** Held connections beyond this many are rejected at once, so unknown callers cannot pile up sockets. */
const MAX_HELD = 256;

interface HeldConnection {
  readonly socket: Socket;
  readonly timer: NodeJS.Timeout;
  readonly onError: () => void;
}

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) → "10.0.0.1". */
function plainAddress(address: string): string {
  const mapped = address.startsWith('::ffff:') ? address.slice(7) : address;
  return isIPv4(mapped) ? mapped : address.toLowerCase();
}

export class BgpListener {
  private readonly peers = new Map<string, BgpPeer>();
  private readonly server: Server;
  private readonly log: Logger;
  private readonly sockets = new Set<Socket>();
  /** Connections from addresses that are not peers yet, by address. */
  private readonly held = new Map<string, HeldConnection>();

  constructor(private readonly options: ListenerOptions) {
    this.log = options.logger ?? silentLogger;
    this.server = createServer((socket) => this.incoming(socket));
  }

  addPeer(peer: BgpPeer): void {
    const key = plainAddress(peer.remoteAddress);
    if (this.peers.has(key)) throw new Error(`listener: a peer with address ${key} is already registered`);
    this.peers.set(key, peer);
    // After the caller has started the peer: an Idle peer refuses connections.
    if (this.held.has(key)) queueMicrotask(() => this.handOver(key));
  }

  removePeer(peer: BgpPeer): void {
    const key = plainAddress(peer.remoteAddress);
    if (this.peers.get(key) === peer) this.peers.delete(key);
  }

  /** Starts listening; resolves with the bound address (useful with port 0). */
  listen(): Promise<AddressInfo> {
    const { host, port = BGP_PORT } = this.options;
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops listening and closes connections still waiting for a peer to take them. */
  close(): Promise<void> {
    for (const held of this.held.values()) clearTimeout(held.timer);
    this.held.clear();
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private incoming(socket: Socket): void {
    const address = plainAddress(socket.remoteAddress ?? '');
    const peer = this.peers.get(address);
    if (peer) {
      peer.accept(socket);
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const holdMs = this.options.holdUnknownMs ?? 0;
    if (holdMs > 0 && !this.held.has(address) && this.held.size < MAX_HELD) {
      this.hold(address, socket, holdMs);
      return;
    }
    this.log.warn('connection from unknown peer rejected', { address });
    rejectConnection(socket, CeaseSubcode.ConnectionRejected);
  }

  /** Keeps the socket unread (its OPEN waits in the buffer) until a peer of `address` is added. */
  private hold(address: string, socket: Socket, holdMs: number): void {
    const onError = () => {}; // a reset while held ends in 'close'
    const timer = setTimeout(() => {
      this.held.delete(address);
      socket.off('error', onError);
      this.log.warn('connection from unknown peer rejected', { address, heldMs: holdMs });
      rejectConnection(socket, CeaseSubcode.ConnectionRejected);
    }, holdMs);
    timer.unref();
    socket.on('error', onError);
    socket.once('close', () => {
      if (this.held.get(address)?.socket !== socket) return;
      clearTimeout(timer);
      this.held.delete(address);
    });
    this.held.set(address, { socket, timer, onError });
    this.log.info('holding connection from unknown peer', { address, holdMs });
  }

  private handOver(address: string): void {
    const held = this.held.get(address);
    const peer = this.peers.get(address);
    if (!held || !peer) return;
    clearTimeout(held.timer);
    this.held.delete(address);
    this.sockets.delete(held.socket);
    held.socket.off('error', held.onError);
    if (held.socket.destroyed) return;
    this.log.info('held connection handed to its peer', { address });
    peer.accept(held.socket);
  }
}
