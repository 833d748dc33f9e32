// EtcdDatastore lists through its own Range codec; this checks it against what the etcd3 client
// decodes from the same real etcd: every field of every key, across pages, with leases, rewritten
// keys (versions above 1), deleted keys and text that is not ASCII.
import { randomUUID } from 'node:crypto';
import { EtcdServer, requireCommand } from '@margay/testkit';
import { Etcd3, Range } from 'etcd3';
import { EtcdDatastore, toKeyValue } from './etcd';
import type { KeyValue } from './types';

let server: EtcdServer;
let store: EtcdDatastore;
let client: Etcd3;

beforeAll(async () => {
  requireCommand('etcd', 'etcd-server');
  server = await EtcdServer.start();
  store = new EtcdDatastore({ endpoints: server.endpoints });
  client = new Etcd3({ hosts: server.endpoints });
}, 60_000);

afterAll(async () => {
  client?.close();
  await store?.close();
  await server?.stop();
});

/** The listing as the etcd3 client decodes it, converted as the store converts gets and watch events. */
async function listByEtcd3(prefix: string, revision: number): Promise<KeyValue[]> {
  const range = Range.prefix(prefix);
  const response = await client.kv.range({ key: range.start, range_end: range.end, revision });
  return response.kvs.map(toKeyValue);
}

test('a listing over several pages equals what etcd3 decodes, field for field', async () => {
  const prefix = `/test-${randomUUID()}/`;
  const lease = await store.grantLease(60);
  try {
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 1_234; i++) {
      const key = `${prefix}${i % 7 === 0 ? `ü-日本-${i}` : `key-${String(i).padStart(5, '0')}`}`;
      const value = i % 11 === 0 ? '' : JSON.stringify({ n: i, text: 'naïve ☃'.repeat(i % 5) });
      writes.push(store.put(key, value, i % 3 === 0 ? { lease: lease.id } : {}));
    }
    await Promise.all(writes);
    for (let i = 0; i < 100; i++)
      await store.put(`${prefix}key-${String(i * 5 + 1).padStart(5, '0')}`, `again ${i}`);
    for (let i = 0; i < 50; i++) await store.delete(`${prefix}key-${String(i * 9 + 2).padStart(5, '0')}`);

    const listed = await store.list(prefix);
    const byEtcd3 = await listByEtcd3(prefix, listed.revision);
    expect(byEtcd3.length).toBeGreaterThan(1_000); // more than one page of 500
    expect(listed.items).toStrictEqual(byEtcd3);
    expect(listed.items.some((kv) => kv.lease === lease.id)).toBe(true);
    expect(listed.items.some((kv) => kv.version > 1)).toBe(true);
    expect(listed.revision).toBe(await store.revision());
  } finally {
    await lease.revoke();
  }
}, 60_000);

test('an empty prefix lists nothing at the current revision', async () => {
  const listed = await store.list(`/test-${randomUUID()}/`);
  expect(listed.items).toEqual([]);
  expect(listed.revision).toBe(await store.revision());
});
