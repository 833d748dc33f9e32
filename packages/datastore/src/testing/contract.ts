// The Datastore contract as one Jest suite, run against every implementation.
import { randomUUID } from 'node:crypto';
import { waitFor } from '@margay/testkit';
import {
  ConflictError,
  type Datastore,
  DatastoreUnavailableError,
  type KeyValue,
  type WatchEvent,
} from '../types';
import { byKey, WatchRecorder } from './recorder';
import { retrying } from './wait';

export interface ContractSubject {
  /** The store under test. */
  store: Datastore;
  /** Writes the same data as `store` along a path that `interruptWatches` leaves alone. */
  writer: Datastore;
  /**
   * Cut `store`'s watches off from the changes (possibly all of `store`'s calls: write through
   * `writer` meanwhile) until the returned function restores them.
   */
  interruptWatches(): Promise<() => Promise<void>>;
  /** Make every watch of `store` lose its connection once, as a network blip would. */
  dropWatchConnections(): Promise<void>;
  /** Restart the server under the store, keeping its data (stores that have a server). */
  restartServer?(): Promise<void>;
  /** Release everything; `store` may already be closed. */
  close(): Promise<void>;
}

export interface ContractOptions {
  /** TTL for the lease-expiry test (etcd rounds very short TTLs up to its minimum). */
  leaseTtlSeconds?: number;
  /** Run the server-restart test (the subject must have `restartServer`). */
  serverRestart?: boolean;
}

async function conflictOf(operation: Promise<unknown>): Promise<ConflictError> {
  const error = await operation.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(ConflictError);
  return error as ConflictError;
}

/** A put or delete as "put key=value (prev)" / "delete key (prev)", to compare event lists. */
function describeChange(event: WatchEvent): string | undefined {
  if (event.type === 'put') return `put ${event.kv.key}=${event.kv.value} (${event.prev?.value ?? 'new'})`;
  if (event.type === 'delete') return `delete ${event.key} (${event.prev.value})`;
  return undefined;
}

function changesAfterFirstInSync(events: WatchEvent[]): string[] {
  const start = events.findIndex((event) => event.type === 'in-sync') + 1;
  return events
    .slice(start)
    .map(describeChange)
    .filter((change) => change !== undefined)
    .sort();
}

export function describeDatastoreContract(
  name: string,
  makeSubject: () => Promise<ContractSubject>,
  options: ContractOptions = {},
): void {
  describe(`Datastore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: Datastore;
    let writer: Datastore;
    /** Every test works under its own prefix, so a shared server needs no cleaning. */
    let p: string;
    const recorders: WatchRecorder[] = [];

    function record(prefix: string): WatchRecorder {
      const recorder = new WatchRecorder(store, prefix);
      recorders.push(recorder);
      return recorder;
    }

    async function inSync(recorder: WatchRecorder, times = 1): Promise<void> {
      await waitFor(`in-sync #${times}`, () => recorder.count('in-sync') >= times);
    }

    /** The watcher holds exactly what the store holds under the prefix. */
    async function caughtUp(recorder: WatchRecorder, prefix: string): Promise<boolean> {
      const { items } = await writer.list(prefix);
      return sameContent(recorder.state(), byKey(items));
    }

    beforeEach(async () => {
      subject = await makeSubject();
      ({ store, writer } = subject);
      p = `/contract/${randomUUID()}/`;
    });

    afterEach(async () => {
      for (const recorder of recorders.splice(0)) await recorder.watch.close();
      await subject.close();
    });

    test('put, get and delete a key', async () => {
      expect(await store.get(`${p}a`)).toBeUndefined();
      const put = await store.put(`${p}a`, '{"x":1}');
      expect(put).toEqual({
        key: `${p}a`,
        value: '{"x":1}',
        createRevision: put.modRevision,
        modRevision: put.modRevision,
        version: 1,
      });
      expect(await store.get(`${p}a`)).toEqual(put);
      expect(await store.delete(`${p}a`)).toBe(true);
      expect(await store.get(`${p}a`)).toBeUndefined();
      expect(await store.delete(`${p}a`)).toBe(false);
    });

    test('list returns the keys under a prefix, sorted, with the revision of the listing', async () => {
      for (const key of ['b', 'a', 'c/d', 'c']) await store.put(`${p}dir/${key}`, key);
      await store.put(`${p}dir-other`, 'x');
      await store.put(`${p}dia`, 'x');
      const listing = await store.list(`${p}dir/`);
      expect(listing.items.map((kv) => kv.key)).toEqual(['a', 'b', 'c', 'c/d'].map((k) => `${p}dir/${k}`));
      expect(listing.revision).toBe(await store.revision());
      expect((await store.list(`${p}nothing/`)).items).toEqual([]);
    });

    test('every write bumps the revision; keys keep create/mod revisions and versions', async () => {
      const start = await store.revision();
      const first = await store.put(`${p}k`, '1');
      expect(first).toMatchObject({ createRevision: start + 1, modRevision: start + 1, version: 1 });
      const second = await store.put(`${p}k`, '2');
      expect(second).toMatchObject({ createRevision: start + 1, modRevision: start + 2, version: 2 });
      await store.delete(`${p}k`);
      expect(await store.revision()).toBe(start + 3);
      expect(await store.delete(`${p}k`)).toBe(false);
      expect(await store.revision()).toBe(start + 3);
      const again = await store.put(`${p}k`, '3');
      expect(again).toMatchObject({ createRevision: start + 4, modRevision: start + 4, version: 1 });
    });

    test('CAS create-only: prevRevision 0 writes only a missing key', async () => {
      const created = await store.put(`${p}k`, 'first', { prevRevision: 0 });
      const revision = await store.revision();
      const conflict = await conflictOf(store.put(`${p}k`, 'second', { prevRevision: 0 }));
      expect(conflict.key).toBe(`${p}k`);
      expect(await store.get(`${p}k`)).toEqual(created);
      expect(await store.revision()).toBe(revision);
    });

    test('CAS update and delete only if unchanged since prevRevision', async () => {
      const v1 = await store.put(`${p}k`, '1');
      const v2 = await store.put(`${p}k`, '2', { prevRevision: v1.modRevision });
      expect(v2.version).toBe(2);
      const revision = await store.revision();
      await conflictOf(store.put(`${p}k`, 'stale', { prevRevision: v1.modRevision }));
      await conflictOf(store.delete(`${p}k`, { prevRevision: v1.modRevision }));
      expect(await store.get(`${p}k`)).toEqual(v2);
      expect(await store.revision()).toBe(revision);
      expect(await store.delete(`${p}k`, { prevRevision: v2.modRevision })).toBe(true);
    });

    test('concurrent CAS increments with retries lose no update', async () => {
      const key = `${p}counter`;
      await store.put(key, '0');
      const increment = async () => {
        for (;;) {
          const current = (await store.get(key))!;
          try {
            await store.put(key, String(Number(current.value) + 1), { prevRevision: current.modRevision });
            return;
          } catch (error) {
            if (!(error instanceof ConflictError)) throw error;
          }
        }
      };
      await Promise.all(Array.from({ length: 20 }, increment));
      expect(await store.get(key)).toMatchObject({ value: '20', version: 21 });
    });

    test('txn applies every op at one revision when all conditions hold', async () => {
      const a = await store.put(`${p}a`, '1');
      const { revision } = await store.txn(
        [
          { key: `${p}a`, modRevision: a.modRevision },
          { key: `${p}b`, modRevision: 0 },
        ],
        [
          { op: 'put', key: `${p}b`, value: 'b' },
          { op: 'put', key: `${p}c`, value: 'c' },
          { op: 'delete', key: `${p}a` },
        ],
      );
      expect(revision).toBe(a.modRevision + 1);
      expect(revision).toBe(await store.revision());
      expect(await store.get(`${p}a`)).toBeUndefined();
      expect(await store.get(`${p}b`)).toMatchObject({ value: 'b', modRevision: revision });
      expect(await store.get(`${p}c`)).toMatchObject({ value: 'c', modRevision: revision });
    });

    test('txn with a failing condition writes nothing and names the key', async () => {
      const a = await store.put(`${p}a`, '1');
      const b = await store.put(`${p}b`, '1');
      const revision = await store.revision();
      const conflict = await conflictOf(
        store.txn(
          [
            { key: `${p}a`, modRevision: a.modRevision },
            { key: `${p}b`, modRevision: a.modRevision },
          ],
          [
            { op: 'put', key: `${p}new`, value: 'x' },
            { op: 'delete', key: `${p}a` },
          ],
        ),
      );
      expect(conflict.key).toBe(`${p}b`);
      expect(await store.revision()).toBe(revision);
      expect(await store.get(`${p}new`)).toBeUndefined();
      expect(await store.get(`${p}a`)).toEqual(a);
      expect(await store.get(`${p}b`)).toEqual(b);
    });

    test('bad input is refused with a clear error and writes nothing', async () => {
      const revision = await store.revision();
      await expect(store.put('', 'x')).rejects.toThrow(/put: the key must be a non-empty string/);
      await expect(store.put(`${p}k`, 'x', { prevRevision: -1 })).rejects.toThrow(
        /prevRevision.*non-negative/,
      );
      await expect(
        store.txn(
          [],
          [
            { op: 'put', key: `${p}k`, value: '1' },
            { op: 'delete', key: `${p}k` },
          ],
        ),
      ).rejects.toThrow(/txn op 1: the key .*k is written twice/);
      await expect(store.grantLease(0)).rejects.toThrow(/TTL must be a whole number of seconds >= 1/);
      await expect(store.compact(revision + 1000)).rejects.toThrow(/future revision/);
      expect(await store.revision()).toBe(revision);
    });

    test('revoking a lease deletes its keys', async () => {
      const lease = await store.grantLease(60);
      const kv = await store.put(`${p}leased`, 'x', { lease: lease.id });
      expect(kv.lease).toBe(lease.id);
      expect(await store.get(`${p}leased`)).toEqual(kv);
      expect(await lease.keepAliveOnce()).toBe(true);
      await lease.revoke();
      expect(await store.get(`${p}leased`)).toBeUndefined();
      expect(await lease.keepAliveOnce()).toBe(false);
      await expect(store.put(`${p}leased`, 'y', { lease: lease.id })).rejects.toThrow(/lease.*not found/);
      expect(await store.get(`${p}leased`)).toBeUndefined();
    });

    test('a lease that is not kept alive expires and takes its keys along', async () => {
      const lease = await store.grantLease(options.leaseTtlSeconds ?? 1);
      await store.put(`${p}leased`, 'x', { lease: lease.id });
      await store.put(`${p}kept`, 'x');
      await waitFor('the leased key to expire', async () => (await store.get(`${p}leased`)) === undefined);
      expect(await store.get(`${p}kept`)).toBeDefined();
      expect(await lease.keepAliveOnce()).toBe(false);
    });

    test('watch: snapshot, in-sync, then changes with prev values', async () => {
      const a1 = await store.put(`${p}a`, '1');
      const b1 = await store.put(`${p}b`, '1');
      const recorder = record(p);
      await inSync(recorder);
      expect(recorder.events).toEqual([
        { type: 'put', kv: a1 },
        { type: 'put', kv: b1 },
        { type: 'in-sync', revision: b1.modRevision },
      ]);
      const a2 = await store.put(`${p}a`, '2');
      await store.delete(`${p}b`);
      const deleted = await store.revision();
      const c1 = await store.put(`${p}c`, '1');
      await waitFor('three more events', () => recorder.events.length >= 6);
      expect(recorder.events.slice(3)).toEqual([
        { type: 'put', kv: a2, prev: a1 },
        { type: 'delete', key: `${p}b`, prev: b1, revision: deleted },
        { type: 'put', kv: c1 },
      ]);
      expect(recorder.errors).toEqual([]);
    });

    test('watch of a prefix ignores other prefixes', async () => {
      await store.put(`${p}out/before`, 'x');
      const recorder = record(`${p}in/`);
      await inSync(recorder);
      await store.put(`${p}out/x`, 'x');
      await store.put(`${p}in-other`, 'x');
      await store.put(`${p}in/x`, 'x');
      await store.put(`${p}in/last`, 'x');
      await waitFor('the last put', () => recorder.state().has(`${p}in/last`));
      expect([...recorder.state().keys()].sort()).toEqual([`${p}in/last`, `${p}in/x`]);
      expect(recorder.count('put')).toBe(2);
    });

    test('compaction during a watch: missed changes arrive exactly once, deletes included', async () => {
      for (const key of ['a', 'b', 'c']) await store.put(`${p}${key}`, '1');
      const recorder = record(p);
      await inSync(recorder);
      const restore = await subject.interruptWatches();
      try {
        await writer.put(`${p}a`, '2');
        await writer.put(`${p}a`, '3');
        await writer.delete(`${p}b`);
        await writer.put(`${p}d`, '1');
        await writer.put(`${p}e`, '1');
        await writer.delete(`${p}e`);
        await writer.delete(`${p}c`);
        await writer.put(`${p}c`, '2');
        await writer.compact(await writer.revision());
      } finally {
        await restore();
      }
      await inSync(recorder, 2);
      expect(recorder.count('resync')).toBeGreaterThanOrEqual(1);
      expect(changesAfterFirstInSync(recorder.events)).toEqual([
        `delete ${p}b (1)`,
        `put ${p}a=3 (1)`,
        `put ${p}c=2 (1)`,
        `put ${p}d=1 (new)`,
      ]);
      expect(await caughtUp(recorder, p)).toBe(true);
      // And the watch goes on live after the resync.
      await store.put(`${p}f`, '1');
      await waitFor('the watch to catch up', () => caughtUp(recorder, p));
    });

    test('a lost watch connection resyncs without duplicates or gaps', async () => {
      for (const key of ['a', 'b', 'c']) await store.put(`${p}${key}`, '1');
      const recorder = record(p);
      await inSync(recorder);
      await subject.dropWatchConnections();
      await writer.put(`${p}a`, '2');
      await writer.delete(`${p}b`);
      await writer.put(`${p}d`, '1');
      await writer.delete(`${p}c`);
      await waitFor('a resync', () => recorder.count('resync') >= 1);
      // `caughtUp` replays every event, so a duplicate or a missed delete fails here.
      await waitFor('the watch to catch up', () => caughtUp(recorder, p));
      const deleted = recorder.events.flatMap((event) => (event.type === 'delete' ? [event.key] : []));
      expect(deleted.sort()).toEqual([`${p}b`, `${p}c`]);
      expect(recorder.errors).toEqual([]);
    });

    test('closing a watch stops its events', async () => {
      const closed = record(p);
      await inSync(closed);
      await closed.watch.close();
      await store.put(`${p}a`, '1');
      const open = record(p);
      await store.put(`${p}b`, '1');
      await waitFor('the open watch to see both puts', () => open.state().size === 2);
      expect(closed.events).toEqual([{ type: 'in-sync', revision: expect.any(Number) }]);
      expect(closed.errors).toEqual([]);
    });

    test('a handler that throws stops the watch and reports the error', async () => {
      const failure = new Error('consumer failed');
      const errors: Error[] = [];
      const seen: WatchEvent[] = [];
      const watch = store.watch(p, {
        onEvent: (event) => {
          seen.push(event);
          if (event.type === 'put') throw failure;
        },
        onError: (error) => errors.push(error),
      });
      try {
        await store.put(`${p}a`, '1');
        await waitFor('the error', () => errors.length > 0);
        const witness = record(p);
        await store.put(`${p}b`, '1');
        await waitFor('another watch to see the next put', () => witness.state().has(`${p}b`));
        expect(errors).toEqual([failure]);
        expect(seen.filter((event) => event.type === 'put')).toHaveLength(1);
      } finally {
        await watch.close();
      }
    });

    test('closing the store stops its watches and refuses further calls', async () => {
      const recorder = record(p);
      await inSync(recorder);
      await store.close();
      expect(recorder.errors).toHaveLength(1);
      expect(recorder.errors[0]).toBeInstanceOf(DatastoreUnavailableError);
      await expect(store.get(`${p}a`)).rejects.toThrow(DatastoreUnavailableError);
    });

    if (options.serverRestart) {
      test('a server restart during a watch: the watcher ends with the store content and saw every delete', async () => {
        if (!subject.restartServer) throw new Error(`the ${name} contract subject has no restartServer()`);
        for (const key of ['a', 'b', 'c']) await store.put(`${p}${key}`, '1');
        const recorder = record(p);
        await inSync(recorder);
        await writer.put(`${p}a`, '2');
        await writer.delete(`${p}b`);
        await waitFor('the writes before the restart', () => caughtUp(recorder, p));
        await subject.restartServer();
        await retrying('put after the restart', () => writer.put(`${p}a`, '3'));
        await retrying('delete after the restart', () => writer.delete(`${p}c`));
        await retrying('put after the restart', () => writer.put(`${p}d`, '1'));
        const { items } = await retrying('list after the restart', () => writer.list(p));
        await waitFor('the watch to catch up after the restart', () =>
          sameContent(recorder.state(), byKey(items)),
        );
        expect(recorder.count('resync')).toBeGreaterThanOrEqual(1);
        const deleted = recorder.events.flatMap((event) => (event.type === 'delete' ? [event.key] : []));
        expect(deleted.sort()).toEqual([`${p}b`, `${p}c`]);
      });
    }
  });
}

function sameContent(actual: Map<string, KeyValue>, expected: Map<string, KeyValue>): boolean {
  if (actual.size !== expected.size) return false;
  for (const [key, kv] of expected) {
    const held = actual.get(key);
    if (!held || held.modRevision !== kv.modRevision || held.value !== kv.value) return false;
  }
  return true;
}
