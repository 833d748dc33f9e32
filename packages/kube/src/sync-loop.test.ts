// The loop's own behaviour (retries, skipping bad objects, restarting a failed informer), with a
// recording KindSync in place of the datastore and the in-process API server behind the informer.

import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { DatastoreUnavailableError } from '@margay/datastore';
import { silentLogger } from '@margay/log';
import { waitFor } from '@margay/testkit';
import type { KubeNamespace } from './kube-objects';
import { type KindSync, SyncLoop } from './sync-loop';
import { FakeKubeApiServer } from './testing/api-server';
import { kubeNamespace } from './testing/fixtures';

let api: FakeKubeApiServer;
let loop: SyncLoop<KubeNamespace> | undefined;

beforeEach(async () => {
  api = await FakeKubeApiServer.start();
});

afterEach(async () => {
  await loop?.stop();
  loop = undefined;
  await api.close();
});

interface Recorder extends KindSync<KubeNamespace> {
  calls: string[];
  /** Per object name: errors to throw from upsert, in turn. */
  failures: Map<string, Error[]>;
  listFailures: Error[];
  /** Per object name: run before the upsert's failure is thrown. */
  beforeFailing: Map<string, () => Promise<void>>;
}

function recorder(): Recorder {
  const calls: string[] = [];
  const failures = new Map<string, Error[]>();
  const listFailures: Error[] = [];
  const beforeFailing = new Map<string, () => Promise<void>>();
  return {
    beforeFailing,
    kind: 'Namespace',
    path: '/api/v1/namespaces',
    calls,
    failures,
    listFailures,
    async list() {
      const failure = listFailures.shift();
      if (failure) throw failure;
      const response = await fetch(`${api.url}/api/v1/namespaces`);
      return (await response.json()) as KubernetesListObject<KubeNamespace & KubernetesObject>;
    },
    async upsert(obj) {
      const name = obj.metadata?.name ?? '?';
      calls.push(`upsert ${name} ${JSON.stringify(obj.metadata?.labels ?? {})}`);
      const failure = failures.get(name)?.shift();
      if (failure) {
        await beforeFailing.get(name)?.();
        throw failure;
      }
    },
    async remove(obj) {
      calls.push(`remove ${obj.metadata?.name}`);
    },
    async resync(listed) {
      calls.push(`resync ${listed.map((obj) => obj.metadata?.name).join(',')}`);
    },
  };
}

async function startLoop(sync: Recorder): Promise<SyncLoop<KubeNamespace>> {
  loop = new SyncLoop(sync, api.kubeConfig(), { logger: silentLogger, restartDelayMs: 10 });
  await loop.start();
  return loop;
}

test('the resync of a listing comes before the listed objects, then events follow in order', async () => {
  api.create('namespaces', kubeNamespace('a'));
  const sync = recorder();
  await startLoop(sync);
  api.create('namespaces', kubeNamespace('b'));
  api.remove('namespaces', 'a');
  await waitFor('the events', () => sync.calls.length === 4);
  expect(sync.calls).toEqual(['resync a', 'upsert a {}', 'upsert b {}', 'remove a']);
});

test('a datastore failure is retried; a bad object is skipped and the loop goes on', async () => {
  const sync = recorder();
  sync.failures.set('flaky', [new DatastoreUnavailableError('etcd is down')]);
  sync.failures.set('bad', [new Error('spec.x is wrong')]);
  await startLoop(sync);
  api.create('namespaces', kubeNamespace('flaky'));
  api.create('namespaces', kubeNamespace('bad'));
  api.create('namespaces', kubeNamespace('after'));
  await waitFor('the retry', () => sync.calls.filter((call) => call.startsWith('upsert flaky')).length === 2);
  await waitFor('the next object', () => sync.calls.includes('upsert after {}'));
  expect(sync.calls.filter((call) => call.startsWith('upsert bad'))).toHaveLength(1);
});

test('a retry applies the object as it is by then, never a stale version', async () => {
  const sync = recorder();
  sync.failures.set('moving', [new DatastoreUnavailableError('etcd is down')]);
  // While the first attempt fails, the namespace changes and the informer's cache learns it.
  sync.beforeFailing.set('moving', async () => {
    api.update('namespaces', kubeNamespace('moving', { v: '2' }));
    await waitFor('the cache to hold v2', () => loop?.cached('moving')?.metadata?.labels?.['v'] === '2');
  });
  await startLoop(sync);
  api.create('namespaces', kubeNamespace('moving', { v: '1' }));
  await waitFor('the event and the retry', () => sync.calls.length === 4);
  expect(sync.calls).toEqual([
    'resync ',
    'upsert moving {"v":"1"}',
    'upsert moving {"v":"2"}',
    'upsert moving {"v":"2"}',
  ]);
});

test('a failed listing restarts the informer, which lists again', async () => {
  api.create('namespaces', kubeNamespace('a'));
  const sync = recorder();
  sync.listFailures.push(new Error('connection refused'));
  const started = await startLoop(sync);
  await waitFor('the second listing', () => sync.calls.includes('upsert a {}'));
  expect(started.stats()).toMatchObject({ listings: 1, restarts: 1 });
});
