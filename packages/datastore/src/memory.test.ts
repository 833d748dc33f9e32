import { waitFor } from '@margay/testkit';
import { MemoryDatastore } from './memory';
import { describeDatastoreContract } from './testing/contract';
import { WatchRecorder } from './testing/recorder';

describeDatastoreContract('MemoryDatastore', async () => {
  const store = new MemoryDatastore();
  return {
    store,
    writer: store,
    interruptWatches: async () => {
      store.pauseWatches();
      return async () => store.resumeWatches();
    },
    dropWatchConnections: async () => store.dropWatchConnections(),
    close: () => store.close(),
  };
});

describe('MemoryDatastore specifics', () => {
  let store: MemoryDatastore;
  beforeEach(() => {
    store = new MemoryDatastore();
  });
  afterEach(() => store.close());

  test('a compaction cancels only watches that lag behind it, and those resync', async () => {
    const lagging = new WatchRecorder(store, '/lag/');
    const live = new WatchRecorder(store, '/live/');
    await waitFor('both in-sync', () => lagging.count('in-sync') === 1 && live.count('in-sync') === 1);
    await store.put('/lag/a', '1');
    await waitFor('the lagging watch to see /lag/a', () => lagging.state().has('/lag/a'));
    store.pauseWatches();
    await store.put('/lag/a', '2');
    await store.put('/elsewhere', '1');
    await store.compact(await store.revision());
    store.resumeWatches();
    await store.put('/live/x', '1');
    await waitFor('the lagging watch to resync', () => lagging.count('in-sync') === 2);
    await waitFor('the live watch to see /live/x', () => live.state().has('/live/x'));
    const resync = lagging.events.find((event) => event.type === 'resync');
    expect(resync).toMatchObject({ reason: expect.stringMatching(/compacted/) });
    expect(lagging.state().get('/lag/a')?.value).toBe('2');
    expect(live.count('resync')).toBe(0);
  });

  test('an unknown lease is refused, in a txn too, and nothing is written', async () => {
    await expect(store.put('/k', 'v', { lease: '42' })).rejects.toThrow('put /k: lease 42 not found');
    await expect(store.txn([], [{ op: 'put', key: '/k', value: 'v', lease: '42' }])).rejects.toThrow(
      'txn put /k: lease 42 not found',
    );
    expect(await store.revision()).toBe(1);
  });

  test('lease revocation deletes all its keys at one revision', async () => {
    const lease = await store.grantLease(60);
    await store.put('/a', '1', { lease: lease.id });
    await store.put('/b', '1', { lease: lease.id });
    await store.put('/b', '2');
    const before = await store.revision();
    await lease.revoke();
    expect(await store.revision()).toBe(before + 1);
    expect((await store.list('/')).items.map((kv) => kv.key)).toEqual(['/b']);
  });
});
