// In-process margay speakers on random loopback addresses, one of them serving the gRPC API, for
// the margayctl commands that read a node's BGP state (bgp, node status).

import { randomInt } from 'node:crypto';
import { type ApiServer, BgpServer, type DaemonConfig, silentLogger, startApiServer } from '@margay/bgp';
import { freePort } from '@margay/testkit';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** A fresh 127/8 address (so parallel runs never share one) and a free port on it. */
export async function loopbackEndpoint(): Promise<Endpoint> {
  const address = `127.${randomInt(16, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
  return { address, port: await freePort(address) };
}

/** The speakers a test starts; close() in afterAll stops them all and the API. */
export class Speakers {
  private readonly servers: BgpServer[] = [];
  private api: ApiServer | undefined;

  async start(config: DaemonConfig): Promise<BgpServer> {
    const server = await BgpServer.start(config, { logger: silentLogger });
    this.servers.push(server);
    return server;
  }

  /** Serves `server`'s API on its own address; returns the HOST:PORT for --bgp-api. */
  async serveApi(server: BgpServer, address: string): Promise<string> {
    this.api = await startApiServer(server, `${address}:0`, silentLogger);
    return `${address}:${this.api.port}`;
  }

  async close(): Promise<void> {
    await this.api?.close();
    for (const server of this.servers) await server.close();
  }
}
