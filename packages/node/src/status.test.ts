import { MemoryDatastore } from '@margay/datastore';
import { type NodeStatus, StatusReporter, statusKey } from './status';

const status = (uptime: number): NodeStatus => ({
  time: '2026-01-01T00:00:00.000Z',
  uptime,
  bgp: { peers: { Established: 1 } },
});

test('the status key is written under a lease, refreshed, and gone once stopped', async () => {
  const store = new MemoryDatastore();
  let reports = 0;
  const reporter = await StatusReporter.start({
    store,
    nodeName: 'node-1',
    status: () => status(reports++),
    intervalMs: 5,
  });
  try {
    const first = await store.get(statusKey('node-1'));
    expect(first?.lease).toBeDefined();
    expect(JSON.parse(first!.value)).toEqual(status(0));
    // Until a refresh has rewritten it.
    while (reports < 3) await new Promise((resolve) => setTimeout(resolve, 5));
  } finally {
    await reporter.stop();
  }
  expect(await store.get(statusKey('node-1'))).toBeUndefined();
  await store.close();
});

test('a lease the store refuses fails the start, writing nothing', async () => {
  const store = new MemoryDatastore();
  await expect(
    StatusReporter.start({ store, nodeName: 'node-1', status: () => status(0), ttlSeconds: 0 }),
  ).rejects.toThrow(/ttl/i);
  expect(await store.get(statusKey('node-1'))).toBeUndefined();
  await store.close();
});
