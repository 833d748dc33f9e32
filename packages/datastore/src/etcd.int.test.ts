import { createServer, type Socket } from 'node:net';
import {
  EtcdServer,
  freePort,
  makeTempDir,
  makeTestCertificates,
  removeTempDir,
  requireCommand,
  type TestCertificates,
  waitFor,
} from '@margay/testkit';
import { EtcdDatastore } from './etcd';
import type { EtcdConfig } from './etcd-config';
import { describeDatastoreContract } from './testing/contract';
import { WatchRecorder } from './testing/recorder';
import { TcpProxy } from './testing/tcp-proxy';
import type { KeyValue } from './types';
import { DatastoreUnavailableError } from './types';

let server: EtcdServer;

beforeAll(async () => {
  requireCommand('etcd', 'etcd-server');
  server = await EtcdServer.start();
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describeDatastoreContract(
  'EtcdDatastore',
  async () => {
    // The store under test talks through a proxy that the test can cut; the writer goes direct.
    const proxy = await TcpProxy.start(server.endpoints[0]!);
    const store = new EtcdDatastore({ endpoints: [proxy.url] });
    const writer = new EtcdDatastore({ endpoints: server.endpoints });
    return {
      store,
      writer,
      interruptWatches: async () => {
        await proxy.cut();
        return () => proxy.restore();
      },
      dropWatchConnections: async () => {
        await proxy.cut();
        await proxy.restore();
      },
      restartServer: () => server.restart(),
      close: async () => {
        await store.close();
        await writer.close();
        await proxy.cut();
      },
    };
  },
  { leaseTtlSeconds: 1, serverRestart: true },
);

describe('EtcdDatastore against etcd itself', () => {
  test('a watch created from a revision etcd has compacted away resyncs instead of skipping', async () => {
    const writer = new EtcdDatastore({ endpoints: server.endpoints });
    // Between the listing and the watch, history moves on and is compacted: etcd then cancels the
    // new watcher, the race that silently lost events in Calico 3.16.
    let raced = false;
    class CompactingAfterFirstList extends EtcdDatastore {
      // Every listing (whole, or paged for a first watch listing) goes through listPages.
      protected override async listPages(prefix: string, onPage: (items: KeyValue[]) => void) {
        const revision = await super.listPages(prefix, onPage);
        if (!raced) {
          raced = true;
          await writer.put('/race/x', '1');
          await writer.put('/race/x', '2');
          await writer.compact(await writer.revision());
        }
        return revision;
      }
    }
    const store = new CompactingAfterFirstList({ endpoints: server.endpoints });
    try {
      const recorder = new WatchRecorder(store, '/race/');
      await waitFor('the resync after the cancelled watch', () => recorder.count('in-sync') === 2);
      const types = recorder.events.map((event) => event.type);
      expect(types).toEqual(['in-sync', 'resync', 'put', 'in-sync']);
      expect(recorder.events[1]).toMatchObject({ reason: expect.stringMatching(/canceled by etcd/) });
      expect(recorder.state().get('/race/x')?.value).toBe('2');
      await recorder.watch.close();
    } finally {
      await store.close();
      await writer.close();
    }
  });

  test('a prefix larger than one gRPC message (4 MiB) lists whole, in order, as one snapshot', async () => {
    const store = new EtcdDatastore({ endpoints: server.endpoints });
    try {
      // 1,200 values of 5 KiB: 6 MiB, and more keys than one page.
      const value = 'v'.repeat(5 * 1024);
      const keys = Array.from({ length: 1200 }, (_, i) => `/big/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < keys.length; i += 100) {
        await Promise.all(keys.slice(i, i + 100).map((key) => store.put(key, value)));
      }
      await store.put('/bigger', 'outside the prefix');
      const listing = await store.list('/big/');
      expect(listing.items.map((item) => item.key)).toEqual(keys);
      expect(listing.items.every((item) => item.value === value)).toBe(true);
      expect(listing.revision).toBe(await store.revision());
    } finally {
      await store.close();
    }
  }, 60_000);

  test('an unreachable etcd fails with DatastoreUnavailableError naming the endpoint', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const store = new EtcdDatastore({ endpoints: [endpoint], dialTimeoutMs: 2_000 });
    try {
      const failure = store.put('/k', 'v');
      await expect(failure).rejects.toThrow(DatastoreUnavailableError);
      await expect(failure).rejects.toThrow(endpoint.replace('http://', ''));
    } finally {
      await store.close();
    }
  });

  test('an endpoint that accepts connections but never answers fails within the dial timeout', async () => {
    const accepted = new Set<Socket>();
    const silent = createServer((socket) => accepted.add(socket));
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    const store = new EtcdDatastore({ endpoints: [`http://127.0.0.1:${port}`], dialTimeoutMs: 500 });
    try {
      await expect(store.get('/k')).rejects.toThrow(DatastoreUnavailableError);
    } finally {
      await store.close();
      for (const socket of accepted) socket.destroy();
      silent.close();
    }
  });
});

describe('EtcdDatastore over TLS with client certificates', () => {
  let dir: string;
  let certs: TestCertificates;
  let tlsServer: EtcdServer | undefined;

  beforeAll(async () => {
    requireCommand('openssl', 'openssl');
    dir = makeTempDir('datastore-tls');
    certs = makeTestCertificates(dir);
    tlsServer = await EtcdServer.start({
      tls: { caCert: certs.caCert, serverCert: certs.serverCert, serverKey: certs.serverKey },
    });
  }, 60_000);

  afterAll(async () => {
    await tlsServer?.stop();
    removeTempDir(dir);
  });

  async function withStore(
    config: Omit<EtcdConfig, 'endpoints'>,
    use: (store: EtcdDatastore) => Promise<void>,
  ) {
    const store = new EtcdDatastore({ endpoints: tlsServer!.endpoints, dialTimeoutMs: 5_000, ...config });
    try {
      await use(store);
    } finally {
      await store.close();
    }
  }

  test('a client with a certificate from the trusted CA reads, writes and watches', async () => {
    await withStore(
      { caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey },
      async (store) => {
        const kv = await store.put('/tls/k', 'v');
        expect(await store.get('/tls/k')).toEqual(kv);
        const recorder = new WatchRecorder(store, '/tls/');
        await waitFor('the watch snapshot', () => recorder.state().has('/tls/k'));
        await recorder.watch.close();
      },
    );
  });

  test('a client without a certificate is refused', async () => {
    await withStore({ caFile: certs.caCert }, async (store) => {
      const failure = store.get('/tls/k');
      await expect(failure).rejects.toThrow(DatastoreUnavailableError);
      await expect(failure).rejects.toThrow(tlsServer!.endpoints[0]!);
    });
  });

  test('a client with a certificate from another CA is refused', async () => {
    await withStore(
      { caFile: certs.caCert, certFile: certs.strangerCert, keyFile: certs.strangerKey },
      async (store) => {
        await expect(store.get('/tls/k')).rejects.toThrow(DatastoreUnavailableError);
      },
    );
  });
});
