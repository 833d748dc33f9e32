// One real etcd per test file and the clients the test opens on it.

import { EtcdDatastore } from '@margay/datastore';
import { EtcdServer, requireCommand } from '@margay/testkit';

export class TestEtcd {
  private readonly stores: EtcdDatastore[] = [];

  private constructor(private readonly server: EtcdServer) {}

  /** Fails loudly when etcd is not installed. */
  static async start(): Promise<TestEtcd> {
    requireCommand('etcd', 'etcd-server');
    return new TestEtcd(await EtcdServer.start());
  }

  /** A client of its own (closed by stop()), as each agent has in a real cluster. */
  newStore(): EtcdDatastore {
    const store = new EtcdDatastore({ endpoints: this.server.endpoints });
    this.stores.push(store);
    return store;
  }

  /** Closes every client, then the server: call after whatever uses the clients has stopped. */
  async stop(): Promise<void> {
    await Promise.all(this.stores.map((store) => store.close()));
    await this.server.stop();
  }
}
