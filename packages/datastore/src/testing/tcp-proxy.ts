import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '@margay/testkit';

/**
 * A loopback TCP proxy in front of a server, so a test can cut a client's connections (and
 * refuse new ones) while other clients still reach the server directly.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly port: number,
    private readonly target: URL,
  ) {}

  /** Proxy to `targetUrl` (scheme://host:port); the proxy's URL has the same scheme. */
  static async start(targetUrl: string): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), new URL(targetUrl));
    await proxy.restore();
    return proxy;
  }

  get url(): string {
    return `${this.target.protocol}//127.0.0.1:${this.port}`;
  }

  /** Drop every connection and refuse new ones until `restore()`. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  async restore(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  private relay(client: Socket): void {
    const upstream = connect(Number(this.target.port), this.target.hostname);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', drop).on('close', drop);
    }
    client.pipe(upstream).pipe(client);
  }
}
