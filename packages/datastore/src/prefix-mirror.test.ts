import { waitFor } from '@margay/testkit';
import { MemoryDatastore } from './memory';
import { PrefixMirror } from './prefix-mirror';
import type { KeyValue } from './types';

describe('PrefixMirror', () => {
  let store: MemoryDatastore;
  let mirror: PrefixMirror | undefined;

  beforeEach(() => {
    store = new MemoryDatastore();
  });
  afterEach(async () => {
    await mirror?.close();
    mirror = undefined;
    await store.close();
  });

  it('holds every prefix once all are listed, reports once per burst, and follows deletes', async () => {
    await store.put('/a/1', 'one');
    await store.put('/b/1', 'bee');
    await store.put('/c/ignored', 'not watched');
    const changes: Array<{ a: string[]; b: string[] }> = [];
    const puts: KeyValue[] = [];
    const watching = PrefixMirror.watch({
      store,
      prefixes: ['/a/', '/b/'],
      debounceMs: 20,
      onChanged: () =>
        changes.push({ a: [...watching.values('/a/').keys()], b: [...watching.values('/b/').keys()] }),
      onPut: (kv) => puts.push(kv),
    });
    mirror = watching;
    await waitFor('the first snapshot', () => changes.length === 1, 5_000);
    expect(watching.inSync).toBe(true);
    expect(changes[0]).toEqual({ a: ['/a/1'], b: ['/b/1'] });
    expect(watching.values('/c/').size).toBe(0);

    await store.put('/a/2', 'two');
    await store.put('/a/3', 'three');
    await store.delete('/b/1');
    await waitFor('the burst', () => changes.length >= 2 && watching.values('/b/').size === 0, 5_000);
    expect(changes.at(-1)).toEqual({ a: ['/a/1', '/a/2', '/a/3'], b: [] });
    expect(puts.map((kv) => kv.key)).toEqual(expect.arrayContaining(['/a/1', '/b/1', '/a/2', '/a/3']));
    expect(watching.values('/a/').get('/a/2')).toBe('two');
  });

  it('reports nothing before every prefix is in sync, even when touched', async () => {
    let changed = 0;
    const never = { watch: () => ({ close: async () => {} }) };
    mirror = PrefixMirror.watch({
      store: never,
      prefixes: ['/a/'],
      debounceMs: 1,
      onChanged: () => changed++,
    });
    mirror.touch();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(mirror.inSync).toBe(false);
    expect(changed).toBe(0);
  });

  it('touch() reports again without a change in the store', async () => {
    let changed = 0;
    const watching = PrefixMirror.watch({
      store,
      prefixes: ['/a/'],
      debounceMs: 5,
      onChanged: () => changed++,
    });
    mirror = watching;
    await waitFor('the first snapshot', () => changed === 1, 5_000);
    watching.touch();
    await waitFor('the touch', () => changed === 2, 5_000);
  });

  it('listOnce holds one listing of each prefix', async () => {
    await store.put('/a/1', 'one');
    await store.put('/b/1', 'bee');
    const once = await PrefixMirror.listOnce(store, ['/a/', '/b/']);
    expect(once.inSync).toBe(true);
    expect([...once.values('/a/')]).toEqual([['/a/1', 'one']]);
    expect([...once.values('/b/')]).toEqual([['/b/1', 'bee']]);
  });
});
