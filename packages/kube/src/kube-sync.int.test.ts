// The sync against real etcd and the in-process API server, through client-node's informers.

import { randomBytes } from 'node:crypto';
import { API_VERSION, decodeResource, K8S_POLICY_NAME_PREFIX, type Resource, resourceKey } from '@margay/api';
import { EtcdDatastore } from '@margay/datastore';
import { Ipam } from '@margay/ipam';
import type { Logger } from '@margay/log';
import { EtcdServer, requireCommand, waitFor } from '@margay/testkit';
import { KubeSync } from './kube-sync';
import { MANAGED_BY, MANAGED_BY_ANNOTATION } from './mapping';
import { type FakeApiServerOptions, FakeKubeApiServer } from './testing/api-server';
import {
  cniEndpoint,
  kubeNamespace,
  kubeNode,
  kubePod,
  kubePolicy,
  margayNode,
  putResource,
} from './testing/fixtures';

let etcd: EtcdServer;
let store: EtcdDatastore;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  requireCommand('etcd', 'etcd-server');
  etcd = await EtcdServer.start();
  store = new EtcdDatastore({ endpoints: etcd.endpoints });
}, 60_000);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await store?.close();
  await etcd?.stop();
});

/** Log lines kept for assertions. */
function recordingLogger(): Logger & { lines: { level: string; message: string; fields?: unknown }[] } {
  const lines: { level: string; message: string; fields?: unknown }[] = [];
  const at = (level: string) => (message: string, fields?: unknown) => lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function startAll(options: FakeApiServerOptions = {}) {
  const api = await FakeKubeApiServer.start(options);
  cleanups.push(() => api.close());
  const logger = recordingLogger();
  const sync = await KubeSync.start({ kubeConfig: api.kubeConfig(), store, logger, restartDelayMs: 50 });
  cleanups.push(() => sync.stop());
  return { api, sync, logger };
}

const unique = () => randomBytes(3).toString('hex');

async function stored(key: string): Promise<Resource | undefined> {
  const kv = await store.get(key);
  return kv && decodeResource(kv.value);
}

const policyKey = (namespace: string, name: string) =>
  resourceKey('NetworkPolicy', `${K8S_POLICY_NAME_PREFIX}${name}`, namespace);
const profileKey = (namespace: string) => resourceKey('Profile', `kns.${namespace}`);

test('NetworkPolicies: created, updated and deleted in etcd; a bad one is logged and skipped', async () => {
  const { api, logger } = await startAll();
  const ns = `ns-${unique()}`;
  api.create('networkpolicies', kubePolicy(ns, 'web', { podSelector: { matchLabels: { app: 'web' } } }));
  await waitFor('the converted policy', async () => (await stored(policyKey(ns, 'web'))) !== undefined);
  const created = await stored(policyKey(ns, 'web'));
  expect(created?.metadata.annotations).toEqual({ [MANAGED_BY_ANNOTATION]: MANAGED_BY });
  expect(created?.spec).toMatchObject({ selector: 'app == "web"', order: 1000, types: ['Ingress'] });

  api.update('networkpolicies', kubePolicy(ns, 'web', { podSelector: { matchLabels: { app: 'api' } } }));
  const selectorOf = async () =>
    ((await stored(policyKey(ns, 'web')))?.spec as { selector?: string } | undefined)?.selector;
  await waitFor('the updated policy', async () => (await selectorOf()) === 'app == "api"');

  api.create(
    'networkpolicies',
    kubePolicy(ns, 'bad', { ingress: [{ from: [{ ipBlock: { cidr: 'nope' } }] }] }),
  );
  api.create('networkpolicies', kubePolicy(ns, 'after-bad', {}));
  await waitFor(
    'the policy after the bad one',
    async () => (await stored(policyKey(ns, 'after-bad'))) !== undefined,
  );
  expect(await stored(policyKey(ns, 'bad'))).toBeUndefined();
  const failure = logger.lines.find((line) => line.level === 'error');
  expect(JSON.stringify(failure)).toMatch(new RegExp(`${ns}/bad.*ipBlock\\.cidr`));

  api.remove('networkpolicies', 'web', ns);
  await waitFor('the policy deletion', async () => (await stored(policyKey(ns, 'web'))) === undefined);
  expect(await stored(policyKey(ns, 'after-bad'))).toBeDefined();
});

test('Namespaces: Profile kns.<name> follows the labels and goes with the namespace', async () => {
  const { api } = await startAll();
  const ns = `ns-${unique()}`;
  api.create('namespaces', kubeNamespace(ns, { env: 'dev' }));
  const labelsOf = async () =>
    ((await stored(profileKey(ns)))?.spec as { labelsToApply?: object } | undefined)?.labelsToApply;
  await waitFor('the profile', async () => (await labelsOf()) !== undefined);
  expect(await labelsOf()).toEqual({ 'pcns.projectcalico.org/name': ns, 'pcns.env': 'dev' });

  api.update('namespaces', kubeNamespace(ns, { env: 'prod' }));
  await waitFor('the new labels', async () => JSON.stringify(await labelsOf()).includes('"pcns.env":"prod"'));

  api.remove('namespaces', ns);
  await waitFor('the profile deletion', async () => (await stored(profileKey(ns))) === undefined);
});

test('Pods: labels reach the endpoint the CNI plugin wrote, before or after the pod event', async () => {
  const { api, sync } = await startAll();
  const ns = `ns-${unique()}`;
  const early = await putResource(store, cniEndpoint('node-a', ns, 'early', '10.9.0.1'));
  api.create('pods', kubePod(ns, 'early', { app: 'web' }, { nodeName: 'node-a', serviceAccountName: 'sa' }));
  const labelsAt = async (key: string) => (await stored(key))?.metadata.labels ?? {};
  await waitFor('the early pod’s labels', async () => (await labelsAt(early))['app'] === 'web');
  expect(await labelsAt(early)).toEqual({
    app: 'web',
    'projectcalico.org/namespace': ns,
    'projectcalico.org/orchestrator': 'k8s',
    'projectcalico.org/serviceaccount': 'sa',
  });

  // The pod is reported before the CNI plugin writes its endpoint (the usual order).
  api.create('pods', kubePod(ns, 'late', { app: 'db' }, { nodeName: 'node-a' }));
  await waitFor('the pod in the informer cache', () => sync.pods.cached('late', ns) !== undefined);
  const late = await putResource(store, cniEndpoint('node-a', ns, 'late', '10.9.0.2'));
  await waitFor('the late endpoint’s labels', async () => (await labelsAt(late))['app'] === 'db');

  api.update('pods', kubePod(ns, 'early', { app: 'web', version: 'v2' }, { nodeName: 'node-a' }));
  await waitFor('the relabelled endpoint', async () => (await labelsAt(early))['version'] === 'v2');

  // hostNetwork pods have no endpoint; no endpoint is ever created by the sync.
  api.create('pods', kubePod(ns, 'host', { app: 'host' }, { hostNetwork: true }));
  api.create('pods', kubePod(ns, 'marker', { app: 'marker' }));
  const markerKey = await putResource(store, cniEndpoint('node-a', ns, 'marker', '10.9.0.3'));
  await waitFor('the marker pod', async () => (await labelsAt(markerKey))['app'] === 'marker');
  const endpoints = await store.list(`/margay/resources/v1/workloadendpoints/${ns}/`);
  expect(
    endpoints.items
      .map((kv) => decodeResource(kv.value).spec)
      .map((s) => (s as { pod: string }).pod)
      .sort(),
  ).toEqual(['early', 'late', 'marker']);
});

test('Nodes: labels are copied; a deleted node takes its Node, endpoints, addresses and blocks', async () => {
  const name = `node-${unique()}`;
  const nodeKey = await putResource(store, margayNode(name, '10.0.0.7'));
  await putResource(store, {
    apiVersion: API_VERSION,
    kind: 'IPPool',
    metadata: { name: `pool-${name}` },
    spec: { cidr: '10.77.0.0/16', blockSize: 26 },
  });
  const ipam = new Ipam(store);
  const { ip } = await ipam.assign({ handle: `h-${name}`, node: name, attributes: { node: name, pod: 'p' } });
  const endpointKey = await putResource(store, cniEndpoint(name, 'default', 'p', ip));
  expect(await ipam.blocksOf(name)).toHaveLength(1);

  const { api } = await startAll();
  api.create('nodes', kubeNode(name, { zone: 'a' }));
  await waitFor('the node labels', async () => (await stored(nodeKey))?.metadata.labels?.['zone'] === 'a');
  expect((await stored(nodeKey))?.spec).toMatchObject({
    orchRefs: [{ nodeName: name, orchestrator: 'k8s' }],
  });

  api.update('nodes', kubeNode(name, { zone: 'b' }));
  await waitFor('the changed label', async () => (await stored(nodeKey))?.metadata.labels?.['zone'] === 'b');

  api.remove('nodes', name);
  await waitFor('the Node deletion', async () => (await stored(nodeKey)) === undefined);
  expect(await stored(endpointKey)).toBeUndefined();
  expect(await ipam.lookupHandle(`h-${name}`)).toEqual([]);
  expect(await ipam.blocksOf(name)).toEqual([]);
  await store.delete(resourceKey('IPPool', `pool-${name}`));
});

test('a dropped watch resumes from its resourceVersion without listing again', async () => {
  const { api, sync } = await startAll();
  const ns = `ns-${unique()}`;
  await waitFor('the namespace watch', () => api.openWatches('namespaces') === 1);
  const listsBefore = api.count('namespaces', 'list');

  expect(api.dropWatches('destroy')).toBeGreaterThanOrEqual(4);
  api.create('namespaces', kubeNamespace(ns));
  await waitFor(
    'the profile made while reconnecting',
    async () => (await stored(profileKey(ns))) !== undefined,
  );
  expect(api.count('namespaces', 'list')).toBe(listsBefore);
  const resumed = api.requests.filter((r) => r.plural === 'namespaces' && r.verb === 'watch').at(-1);
  expect(Number(resumed?.query['resourceVersion'])).toBeGreaterThan(0);

  api.dropWatches('end');
  api.update('namespaces', kubeNamespace(ns, { after: 'clean-close' }));
  await waitFor('the label made after a clean close', async () =>
    JSON.stringify(await stored(profileKey(ns))).includes('clean-close'),
  );
  expect(api.count('namespaces', 'list')).toBe(listsBefore);
  expect(sync.namespaces.stats().listings).toBe(1);
});

describe.each(['event', 'http'] as const)('410 Gone as %s', (goneAs) => {
  test('relists, and deletions made while disconnected are applied', async () => {
    const { api, sync } = await startAll({ goneAs });
    const ns = `ns-${unique()}`;
    api.create('namespaces', kubeNamespace(ns));
    api.create('networkpolicies', kubePolicy(ns, 'keep', {}));
    api.create('networkpolicies', kubePolicy(ns, 'drop', {}));
    await waitFor('the policies', async () => (await stored(policyKey(ns, 'drop'))) !== undefined);
    await waitFor('the profile', async () => (await stored(profileKey(ns))) !== undefined);

    api.refuseWatches(true);
    api.dropWatches('destroy');
    api.remove('networkpolicies', 'drop', ns);
    api.remove('namespaces', ns);
    api.create('networkpolicies', kubePolicy(ns, 'new', {}));
    api.compact();
    api.refuseWatches(false);

    await waitFor('the deleted policy gone', async () => (await stored(policyKey(ns, 'drop'))) === undefined);
    await waitFor(
      'the deleted namespace’s profile gone',
      async () => (await stored(profileKey(ns))) === undefined,
    );
    await waitFor('the new policy', async () => (await stored(policyKey(ns, 'new'))) !== undefined);
    expect(await stored(policyKey(ns, 'keep'))).toBeDefined();
    expect(sync.policies.stats().listings).toBe(2);
    expect(api.count('networkpolicies', 'list')).toBe(2);
  });
});

test('bookmarks advance the resourceVersion, so a reconnect after compaction needs no relist', async () => {
  const { api, sync } = await startAll();
  await waitFor('the namespace watch', () => api.openWatches('namespaces') === 1);
  const watchRequest = api.requests.find((r) => r.plural === 'namespaces' && r.verb === 'watch');
  expect(watchRequest?.query['allowWatchBookmarks']).toBe('true');
  const before = Number(sync.namespaces.stats().resourceVersion);

  // Changes to other kinds move the resourceVersion on without any namespace event.
  for (let i = 0; i < 3; i++) api.create('nodes', kubeNode(`bm-${unique()}`));
  expect(api.bookmark()).toBeGreaterThanOrEqual(4);
  const target = api.currentResourceVersion();
  await waitFor('the bookmark', () => sync.namespaces.stats().resourceVersion === target);
  expect(Number(target)).toBeGreaterThan(before);

  api.compact();
  api.dropWatches('end');
  await waitFor(
    'the namespace watch again',
    () => api.count('namespaces', 'watch') >= 2 && api.openWatches('namespaces') === 1,
  );
  expect(api.count('namespaces', 'list')).toBe(1);
  const ns = `ns-${unique()}`;
  api.create('namespaces', kubeNamespace(ns));
  await waitFor(
    'a profile after the bookmark resume',
    async () => (await stored(profileKey(ns))) !== undefined,
  );
});

test('start-up resync deletes only managed knp./kns. resources gone from Kubernetes', async () => {
  const ns = `ns-${unique()}`;
  const managed = { [MANAGED_BY_ANNOTATION]: MANAGED_BY };
  const stale = await putResource(store, {
    apiVersion: API_VERSION,
    kind: 'NetworkPolicy',
    metadata: { name: `${K8S_POLICY_NAME_PREFIX}stale`, namespace: ns, annotations: managed },
    spec: { selector: 'all()' },
  });
  const manual = await putResource(store, {
    apiVersion: API_VERSION,
    kind: 'NetworkPolicy',
    metadata: { name: `${K8S_POLICY_NAME_PREFIX}manual`, namespace: ns },
    spec: { selector: 'all()' },
  });
  const goneProfile = await putResource(store, {
    apiVersion: API_VERSION,
    kind: 'Profile',
    metadata: { name: `kns.${ns}-gone`, annotations: managed },
    spec: {},
  });
  const ownProfile = await putResource(store, {
    apiVersion: API_VERSION,
    kind: 'Profile',
    metadata: { name: `own-${ns}` },
    spec: {},
  });
  const { sync } = await startAll();
  await waitFor('the stale policy gone', async () => (await stored(stale)) === undefined);
  await waitFor('the stale profile gone', async () => (await stored(goneProfile)) === undefined);
  expect(await stored(manual)).toBeDefined();
  expect(await stored(ownProfile)).toBeDefined();
  await sync.stop();
  await store.delete(manual);
  await store.delete(ownProfile);
});

test('after stop, Kubernetes changes no longer reach etcd', async () => {
  const { api, sync } = await startAll();
  const ns = `ns-${unique()}`;
  api.create('namespaces', kubeNamespace(ns));
  await waitFor('the profile', async () => (await stored(profileKey(ns))) !== undefined);
  await sync.stop();
  const plurals = ['namespaces', 'nodes', 'pods', 'networkpolicies'] as const;
  await waitFor('the watches to close', () => plurals.every((plural) => api.openWatches(plural) === 0));
  const mark = api.requests.length;
  api.remove('namespaces', ns);
  expect(await stored(profileKey(ns))).toBeDefined();

  // A second sync applies the deletion; the first one never comes back (one watch per kind).
  const second = await KubeSync.start({ kubeConfig: api.kubeConfig(), store });
  await waitFor('the second sync to delete it', async () => (await stored(profileKey(ns))) === undefined);
  await waitFor('the second sync’s watches', () => api.openWatches('nodes') === 1);
  for (const plural of plurals) {
    expect(api.openWatches(plural)).toBe(1);
    expect(api.requests.slice(mark).filter((r) => r.plural === plural && r.verb === 'list')).toHaveLength(1);
  }
  await second.stop();
});
