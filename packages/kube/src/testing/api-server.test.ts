// The in-process API server's protocol, checked with plain HTTP (the informers' side is covered by
// kube-sync.int.test.ts).

import { waitFor } from '@margay/testkit';
import { FakeKubeApiServer } from './api-server';
import { kubeNamespace, kubePod } from './fixtures';

let api: FakeKubeApiServer;

beforeEach(async () => {
  api = await FakeKubeApiServer.start();
});

afterEach(async () => {
  await api.close();
});

interface Item {
  kind?: string;
  metadata: { name?: string; resourceVersion?: string };
}
interface WatchLine {
  type: string;
  object: Item;
}
interface ListBody {
  kind: string;
  metadata: { resourceVersion: string };
  items: Item[];
}

async function getJson<T>(path: string): Promise<T> {
  return (await (await fetch(`${api.url}${path}`)).json()) as T;
}

/** Reads JSON lines of a watch until `count` have arrived, then aborts it. */
async function watchLines(path: string, count: number): Promise<{ status: number; lines: WatchLine[] }> {
  const controller = new AbortController();
  const response = await fetch(`${api.url}${path}`, { signal: controller.signal });
  const lines: WatchLine[] = [];
  if (response.status !== 200 || !response.body)
    return { status: response.status, lines: [(await response.json()) as WatchLine] };
  let buffered = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        lines.push(JSON.parse(buffered.slice(0, newline)) as WatchLine);
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
      }
      if (lines.length >= count) break;
    }
  } finally {
    controller.abort();
  }
  return { status: response.status, lines };
}

test('LIST returns the items and the current resourceVersion; namespaced paths filter', async () => {
  api.create('namespaces', kubeNamespace('a'));
  api.create('pods', kubePod('a', 'p1', {}));
  api.create('pods', kubePod('b', 'p2', {}));
  const list = await getJson<ListBody>('/api/v1/pods');
  expect(list.kind).toBe('PodList');
  expect(list.metadata.resourceVersion).toBe(api.currentResourceVersion());
  expect(list.items.map((item) => item.metadata.name)).toEqual(['p1', 'p2']);
  expect(list.items[0]?.kind).toBeUndefined();
  const inA = await getJson<ListBody>('/api/v1/namespaces/a/pods');
  expect(inA.items.map((item) => item.metadata.name)).toEqual(['p1']);
  const one = await getJson<Item>('/api/v1/namespaces/a');
  expect(one.metadata.name).toBe('a');
  expect((await fetch(`${api.url}/api/v1/services`)).status).toBe(404);
});

test('WATCH from a resourceVersion replays later events only, then streams new ones', async () => {
  api.create('namespaces', kubeNamespace('a'));
  const from = api.currentResourceVersion();
  api.update('namespaces', kubeNamespace('a', { x: '1' }));
  const watching = watchLines(`/api/v1/namespaces?watch=true&resourceVersion=${from}`, 3);
  await waitForWatch();
  api.create('namespaces', kubeNamespace('b'));
  api.remove('namespaces', 'a');
  const { lines } = await watching;
  expect(lines.map((line) => `${line.type} ${line.object.metadata.name}`)).toEqual([
    'MODIFIED a',
    'ADDED b',
    'DELETED a',
  ]);
  expect(Number(lines[2]?.object.metadata.resourceVersion)).toBeGreaterThan(
    Number(lines[1]?.object.metadata.resourceVersion),
  );
});

test('WATCH without a resourceVersion starts with ADDED for every object; bookmarks only when allowed', async () => {
  api.create('namespaces', kubeNamespace('a'));
  // A watch that did not allow bookmarks gets none: its first line is the next real event.
  const plain = watchLines(`/api/v1/namespaces?watch=1&resourceVersion=${api.currentResourceVersion()}`, 1);
  await waitForWatch();
  expect(api.bookmark()).toBe(0);
  api.create('namespaces', kubeNamespace('b'));
  expect((await plain).lines.map((line) => line.type)).toEqual(['ADDED']);
  await waitFor('the plain watch to close', () => api.openWatches('namespaces') === 0);
  const watching = watchLines('/api/v1/namespaces?watch=1&allowWatchBookmarks=true', 3);
  await waitForWatch();
  expect(api.bookmark()).toBe(1);
  const { lines } = await watching;
  expect(lines.slice(0, 2).map((line) => `${line.type} ${line.object.metadata.name}`)).toEqual([
    'ADDED a',
    'ADDED b',
  ]);
  expect(lines[2]).toMatchObject({
    type: 'BOOKMARK',
    object: { kind: 'Namespace', metadata: { resourceVersion: api.currentResourceVersion() } },
  });
});

test('a too-old resourceVersion gets a 410 Expired ERROR event, or HTTP 410', async () => {
  api.create('namespaces', kubeNamespace('a'));
  const old = api.currentResourceVersion();
  api.create('namespaces', kubeNamespace('b'));
  api.compact();
  const { status, lines } = await watchLines(
    `/api/v1/namespaces?watch=true&resourceVersion=${Number(old) - 1}`,
    1,
  );
  expect(status).toBe(200);
  expect(lines[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });

  const httpGone = await FakeKubeApiServer.start({ goneAs: 'http' });
  try {
    httpGone.create('namespaces', kubeNamespace('a'));
    httpGone.compact();
    const response = await fetch(`${httpGone.url}/api/v1/namespaces?watch=true&resourceVersion=1`);
    expect(response.status).toBe(410);
    expect(await response.json()).toMatchObject({ code: 410, reason: 'Expired' });
  } finally {
    await httpGone.close();
  }
});

test('helpers refuse what the real server would: duplicates, missing objects, wrong scope', () => {
  api.create('namespaces', kubeNamespace('a'));
  expect(() => api.create('namespaces', kubeNamespace('a'))).toThrow(/already exists/);
  expect(() => api.update('namespaces', kubeNamespace('zz'))).toThrow(/does not exist/);
  expect(() => api.remove('pods', 'p', 'a')).toThrow(/does not exist/);
  expect(() => api.create('pods', { metadata: { name: 'p' } })).toThrow(/needs metadata\.namespace/);
});

function waitForWatch(): Promise<void> {
  return waitFor('the watch to open', () => api.openWatches('namespaces') === 1);
}
