import { waitFor } from '@margay/testkit';
import type { KeyValue, ListResult, WatchEvent } from './types';
import { type RawWatchListener, type WatchBackend, WatchSyncer } from './watch-syncer';

function kv(key: string, value: string, modRevision: number): KeyValue {
  return { key, value, createRevision: modRevision, modRevision, version: 1 };
}

/** A backend the test scripts: listings to hand out (or errors to throw) and the watches opened. */
class ScriptedBackend implements WatchBackend {
  readonly listings: Array<ListResult | Error> = [];
  readonly watches: Array<{ revision: number; listener: RawWatchListener; cancelled: boolean }> = [];
  listCalls = 0;

  async list(): Promise<ListResult> {
    this.listCalls++;
    const next = this.listings.shift();
    if (next === undefined) throw new Error('no listing scripted');
    if (next instanceof Error) throw next;
    return next;
  }

  watchFrom(_prefix: string, revision: number, listener: RawWatchListener) {
    const watch = { revision, listener, cancelled: false };
    this.watches.push(watch);
    return {
      cancel: async () => {
        watch.cancelled = true;
      },
    };
  }
}

function syncer(backend: WatchBackend) {
  const events: WatchEvent[] = [];
  const errors: Error[] = [];
  const listErrors: Error[] = [];
  const watch = new WatchSyncer(backend, '/p/', {
    onEvent: (event) => events.push(event),
    onError: (error) => errors.push(error),
    onListError: (error) => listErrors.push(error),
  });
  return { watch, events, errors, listErrors };
}

test('after a resync only real changes are delivered: replays and stale deletes are dropped', async () => {
  const backend = new ScriptedBackend();
  backend.listings.push({ items: [kv('/p/a', '1', 2), kv('/p/gone', '1', 2)], revision: 2 });
  const { watch, events } = syncer(backend);
  try {
    await waitFor('the first watch', () => backend.watches.length === 1);
    const first = backend.watches[0]!;
    expect(first.revision).toBe(3);
    first.listener.onChange({ type: 'put', kv: kv('/p/a', '2', 3) });
    backend.listings.push({ items: [kv('/p/a', '2', 3), kv('/p/b', '1', 4)], revision: 5 });
    first.listener.onLost('compacted');
    // A lost watch is ignored from then on, even if it still reports something.
    first.listener.onChange({ type: 'put', kv: kv('/p/late', '1', 4) });
    await waitFor('the second watch', () => backend.watches.length === 2);
    const second = backend.watches[1]!;
    expect(first.cancelled).toBe(true);
    expect(second.revision).toBe(6);
    second.listener.onChange({ type: 'put', kv: kv('/p/a', '2', 3) });
    second.listener.onChange({ type: 'delete', key: '/p/gone', revision: 4 });
    second.listener.onChange({ type: 'put', kv: kv('/p/c', '1', 6) });
    expect(events).toEqual([
      { type: 'put', kv: kv('/p/a', '1', 2) },
      { type: 'put', kv: kv('/p/gone', '1', 2) },
      { type: 'in-sync', revision: 2 },
      { type: 'put', kv: kv('/p/a', '2', 3), prev: kv('/p/a', '1', 2) },
      { type: 'resync', reason: 'compacted' },
      { type: 'put', kv: kv('/p/b', '1', 4) },
      { type: 'delete', key: '/p/gone', prev: kv('/p/gone', '1', 2), revision: 5 },
      { type: 'in-sync', revision: 5 },
      { type: 'put', kv: kv('/p/c', '1', 6) },
    ]);
  } finally {
    await watch.close();
  }
});

test('an unreachable store is listed again until it answers, and every failed listing is reported', async () => {
  const backend = new ScriptedBackend();
  backend.listings.push(new Error('unreachable 1'), new Error('unreachable 2'), { items: [], revision: 7 });
  const { watch, events, errors, listErrors } = syncer(backend);
  try {
    await waitFor('in-sync', () => events.length === 1);
    expect(events).toEqual([{ type: 'in-sync', revision: 7 }]);
    expect(backend.listCalls).toBe(3);
    expect(backend.watches.map((w) => w.revision)).toEqual([8]);
    expect(listErrors.map((error) => error.message)).toEqual(['unreachable 1', 'unreachable 2']);
    // The watch retried rather than stopping.
    expect(errors).toEqual([]);
  } finally {
    await watch.close();
  }
});

test('a list error reporter that throws does not stop the retries', async () => {
  const backend = new ScriptedBackend();
  backend.listings.push(new Error('unreachable'), { items: [], revision: 3 });
  const events: WatchEvent[] = [];
  const watch = new WatchSyncer(backend, '/p/', {
    onEvent: (event) => events.push(event),
    onListError: () => {
      throw new Error('reporter broke');
    },
  });
  try {
    await waitFor('in-sync', () => events.length === 1);
    expect(events).toEqual([{ type: 'in-sync', revision: 3 }]);
  } finally {
    await watch.close();
  }
});

test('close cancels the live watch and nothing is delivered afterwards', async () => {
  const backend = new ScriptedBackend();
  backend.listings.push({ items: [], revision: 1 });
  const { watch, events, errors } = syncer(backend);
  await waitFor('the watch', () => backend.watches.length === 1);
  await watch.close();
  expect(backend.watches[0]!.cancelled).toBe(true);
  backend.watches[0]!.listener.onChange({ type: 'put', kv: kv('/p/a', '1', 2) });
  expect(events).toEqual([{ type: 'in-sync', revision: 1 }]);
  expect(errors).toEqual([]);
});

test('fail() stops the watch and reports the error once', async () => {
  const backend = new ScriptedBackend();
  backend.listings.push({ items: [], revision: 1 });
  const { watch, errors } = syncer(backend);
  await waitFor('the watch', () => backend.watches.length === 1);
  const closed = new Error('the datastore was closed');
  await watch.fail(closed);
  await watch.fail(new Error('again'));
  expect(errors).toEqual([closed]);
  expect(backend.watches[0]!.cancelled).toBe(true);
});

/** A backend whose first listings come in pages the test releases one at a time. */
class PagedBackend extends ScriptedBackend {
  /** Per paged listing: its pages (or an error after some), and its revision. */
  readonly pagedListings: Array<{ pages: Array<KeyValue[] | Error>; revision: number }> = [];
  private releaseNext: (() => void) | undefined;
  pagedCalls = 0;

  /** Lets the listing in progress hand over its next page (once it is waiting to). */
  async release(): Promise<void> {
    await waitFor('a listing waiting to hand over a page', () => this.releaseNext !== undefined);
    const release = this.releaseNext!;
    this.releaseNext = undefined;
    release();
  }

  async listPaged(_prefix: string, onPage: (items: readonly KeyValue[]) => void): Promise<number> {
    this.pagedCalls++;
    const listing = this.pagedListings.shift();
    if (listing === undefined) throw new Error('no paged listing scripted');
    for (const page of listing.pages) {
      await new Promise<void>((resolve) => {
        this.releaseNext = resolve;
      });
      if (page instanceof Error) throw page;
      onPage(page);
    }
    return listing.revision;
  }
}

test('the first listing is delivered page by page; in-sync only after the last page', async () => {
  const backend = new PagedBackend();
  backend.pagedListings.push({ pages: [[kv('/p/a', '1', 2)], [kv('/p/b', '1', 3)]], revision: 4 });
  const { watch, events } = syncer(backend);
  try {
    await waitFor('the first page requested', () => backend.pagedCalls === 1);
    await backend.release();
    await waitFor('the first page', () => events.length === 1);
    expect(events).toEqual([{ type: 'put', kv: kv('/p/a', '1', 2) }]);
    await backend.release();
    await waitFor('in-sync', () => events.length === 3);
    expect(events.slice(1)).toEqual([
      { type: 'put', kv: kv('/p/b', '1', 3) },
      { type: 'in-sync', revision: 4 },
    ]);
    expect(backend.watches.map((w) => w.revision)).toEqual([5]);
  } finally {
    await watch.close();
  }
});

test('a paged listing that fails half-way is retried without duplicates, and gone keys are deleted', async () => {
  const backend = new PagedBackend();
  backend.pagedListings.push(
    { pages: [[kv('/p/a', '1', 2), kv('/p/gone', '1', 2)], new Error('connection reset')], revision: 3 },
    { pages: [[kv('/p/a', '1', 2)], [kv('/p/b', '1', 5)]], revision: 6 },
  );
  const { watch, events, listErrors } = syncer(backend);
  try {
    await waitFor('the first listing', () => backend.pagedCalls === 1);
    await backend.release();
    await waitFor('its first page', () => events.length === 2);
    await backend.release(); // the failure
    await waitFor('the retry', () => backend.pagedCalls === 2);
    expect(listErrors.map((error) => error.message)).toEqual(['connection reset']);
    await backend.release();
    await backend.release();
    await waitFor('in-sync', () => events.some((event) => event.type === 'in-sync'));
    expect(events).toEqual([
      { type: 'put', kv: kv('/p/a', '1', 2) },
      { type: 'put', kv: kv('/p/gone', '1', 2) },
      { type: 'put', kv: kv('/p/b', '1', 5) },
      { type: 'delete', key: '/p/gone', prev: kv('/p/gone', '1', 2), revision: 6 },
      { type: 'in-sync', revision: 6 },
    ]);
  } finally {
    await watch.close();
  }
});

test('after the first in-sync a re-listing is delivered whole, never page by page', async () => {
  const backend = new PagedBackend();
  backend.pagedListings.push({ pages: [[kv('/p/a', '1', 2)]], revision: 2 });
  backend.listings.push({ items: [kv('/p/a', '2', 3), kv('/p/b', '1', 4)], revision: 5 });
  const { watch, events } = syncer(backend);
  try {
    await waitFor('the paged listing', () => backend.pagedCalls === 1);
    await backend.release();
    await waitFor('the watch', () => backend.watches.length === 1);
    backend.watches[0]!.listener.onLost('compacted');
    await waitFor('the second in-sync', () => events.filter((e) => e.type === 'in-sync').length === 2);
    expect(backend.pagedCalls).toBe(1);
    expect(backend.listCalls).toBe(1);
    expect(events.slice(2)).toEqual([
      { type: 'resync', reason: 'compacted' },
      { type: 'put', kv: kv('/p/a', '2', 3), prev: kv('/p/a', '1', 2) },
      { type: 'put', kv: kv('/p/b', '1', 4) },
      { type: 'in-sync', revision: 5 },
    ]);
  } finally {
    await watch.close();
  }
});
