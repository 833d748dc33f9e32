import { waitFor } from '@margay/testkit';
import { MemoryDatastore } from './memory';
import { SharedWatches } from './shared-watches';
import { describeDatastoreContract } from './testing/contract';
import { WatchRecorder } from './testing/recorder';
import type { Datastore, Watch, WatchOptions } from './types';

// Every watch of the contract goes through the sharing layer; the writer writes underneath it.
describeDatastoreContract('SharedWatches over MemoryDatastore', async () => {
  const store = new MemoryDatastore();
  return {
    store: new SharedWatches(store),
    writer: store,
    interruptWatches: async () => {
      store.pauseWatches();
      return async () => store.resumeWatches();
    },
    dropWatchConnections: async () => store.dropWatchConnections(),
    close: () => store.close(),
  };
});

/** Counts the watches the underlying store is asked for. */
function countingStore(): { store: MemoryDatastore; opened: string[] } {
  const store = new MemoryDatastore();
  const opened: string[] = [];
  const watch = store.watch.bind(store);
  store.watch = (prefix: string, options: WatchOptions): Watch => {
    opened.push(prefix);
    return watch(prefix, options);
  };
  return { store, opened };
}

describe('SharedWatches', () => {
  let shared: Datastore | undefined;
  afterEach(() => shared?.close());

  test('consumers of one prefix share one watch and see the same snapshot and changes', async () => {
    const { store, opened } = countingStore();
    shared = new SharedWatches(store);
    await store.put('/n/a', '1');
    const first = new WatchRecorder(shared, '/n/');
    await waitFor('the first snapshot', () => first.count('in-sync') > 0, 5000);
    // A consumer that comes later gets the snapshot replayed, then what changes.
    const second = new WatchRecorder(shared, '/n/');
    await waitFor('the replayed snapshot', () => second.count('in-sync') > 0, 5000);
    await store.put('/n/b', '2');
    await store.delete('/n/a');
    const holdsOnlyB = (recorder: WatchRecorder) => [...recorder.state().keys()].join() === '/n/b';
    await waitFor('both consumers to see the change', () => holdsOnlyB(first) && holdsOnlyB(second), 5000);
    expect([...second.state().values()].map((kv) => [kv.key, kv.value])).toEqual([['/n/b', '2']]);
    expect(opened).toEqual(['/n/']);
    await Promise.all([first.watch.close(), second.watch.close()]);
  });

  test('the underlying watch ends with its last consumer; the next one opens a fresh watch', async () => {
    const { store, opened } = countingStore();
    const sharing = new SharedWatches(store);
    shared = sharing;
    const a = new WatchRecorder(sharing, '/p/');
    const b = new WatchRecorder(sharing, '/p/');
    await waitFor('both in sync', () => a.count('in-sync') > 0 && b.count('in-sync') > 0, 5000);
    await a.watch.close();
    expect(sharing.watchCount).toBe(1);
    await b.watch.close();
    expect(sharing.watchCount).toBe(0);
    const c = new WatchRecorder(sharing, '/p/');
    await waitFor('a fresh watch', () => c.count('in-sync') > 0, 5000);
    expect(opened).toEqual(['/p/', '/p/']);
    await c.watch.close();
  });

  test('a consumer whose handler throws is stopped; the others keep receiving', async () => {
    const store = new MemoryDatastore();
    shared = new SharedWatches(store);
    const errors: Error[] = [];
    shared.watch('/t/', {
      onEvent: (event) => {
        if (event.type === 'put') throw new Error('bad handler');
      },
      onError: (error) => errors.push(error),
    });
    const healthy = new WatchRecorder(shared, '/t/');
    await waitFor('in sync', () => healthy.count('in-sync') > 0, 5000);
    await store.put('/t/x', '1');
    await store.put('/t/y', '2');
    await waitFor('both puts', () => healthy.state().size === 2, 5000);
    expect(errors.map((error) => error.message)).toEqual(['bad handler']);
    await healthy.watch.close();
  });
});
