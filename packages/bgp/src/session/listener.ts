// The passive side: one TCP listener shared by all peers. Connections are matched to configured
// peers by remote address; anyone else gets Cease / Connection Rejected (RFC 4486) and is closed.

import { type AddressInfo, createServer, isIPv4, type Server, type Socket } from 'node:net';
import { BGP_PORT, CeaseSubcode } from '../packet/constants';
import { type Logger, silentLogger } from './logger';
import type { BgpPeer } from './peer';
import { rejectConnection } from './reject';

export interface ListenerOptions {
  /** Address to listen on. */
  readonly host: string;
  /** Default 179; 0 picks a free port. */
  readonly port?: number;
  readonly logger?: Logger;
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

  constructor(private readonly options: ListenerOptions) {
    this.log = options.logger ?? silentLogger;
    this.server = createServer((socket) => this.incoming(socket));
  }

  addPeer(peer: BgpPeer): void {
    const key = plainAddress(peer.remoteAddress);
    if (this.peers.has(key)) throw new Error(`listener: a peer with address ${key} is already registered`);
    this.peers.set(key, peer);
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
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private incoming(socket: Socket): void {
    const address = plainAddress(socket.remoteAddress ?? '');
    const peer = this.peers.get(address);
    if (!peer) {
      this.log.warn('connection from unknown peer rejected', { address });
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      rejectConnection(socket, CeaseSubcode.ConnectionRejected);
      return;
    }
    peer.accept(socket);
  }
}
