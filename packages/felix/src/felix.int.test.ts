// Felix on a real etcd and a real kernel: a network namespace stands in for the node, veths in it
// for workload interfaces.

import { type CommandRunner, NetworkNamespace } from '@margay/dataplane';
import { EtcdDatastore } from '@margay/datastore';
import { EtcdServer, requireCommand, requireRoot, waitFor } from '@margay/testkit';
import { Felix } from './felix';
import { affinityKey, CONFIRMED, endpointDocument, type TestEndpoint } from './testing';

const NODE = 'node-a';
const web: TestEndpoint = { name: 'web', node: NODE, interfaceName: 'mgweb', ipNetworks: ['10.65.0.5/32'] };
const db: TestEndpoint = { name: 'db', node: NODE, interfaceName: 'mgdb', ipNetworks: ['10.65.0.6/32'] };

/** Routes of another writer (proto static), as `ip route show` lists them: felix never touches them. */
const FOREIGN_ROUTES = ['10.65.0.7 dev mgweb scope link', 'blackhole 10.77.0.0/24'];

let etcd: EtcdServer | undefined;
let netns: NetworkNamespace | undefined;
const stores: EtcdDatastore[] = [];
let felix: Felix | undefined;
/** For every route read or write felix ran: was it in sync at that moment? */
const inSyncAtRouteCommands: boolean[] = [];

/** The routes of the namespace matching `selector`, one `ip route show` line each. */
async function routes(...selector: string[]): Promise<string[]> {
  const text = await ns().ip('route', 'show', ...selector);
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

const felixRoutes = () => routes('proto', '78');

function ns(): NetworkNamespace {
  if (netns === undefined) throw new Error('the test namespace was not created');
  return netns;
}

async function addWorkloadInterface(name: string): Promise<void> {
  await ns().ip('link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`);
  await ns().ip('link', 'set', name, 'up');
  await ns().ip('link', 'set', `${name}p`, 'up');
}

function newStore(): EtcdDatastore {
  if (etcd === undefined) throw new Error('etcd was not started');
  const store = new EtcdDatastore({ endpoints: etcd.endpoints });
  stores.push(store);
  return store;
}

beforeAll(async () => {
  requireRoot('felix integration tests');
  requireCommand('ip', 'iproute2');
  requireCommand('etcd', 'etcd-server');
  etcd = await EtcdServer.start();
  netns = await NetworkNamespace.create('mg-felix');
  await addWorkloadInterface('mgweb');
}, 60_000);

afterAll(async () => {
  await felix?.stop();
  await Promise.all(stores.map((store) => store.close()));
  await netns?.delete();
  await etcd?.stop();
});

describe('Felix with etcd and a network namespace as the node', () => {
  const admin = () => stores[0] ?? newStore();

  test('programs nothing before in-sync, then adopts the CNI route and removes stale ones of its proto only', async () => {
    // What a node holds when felix (re)starts: the CNI plugin's route for a stored endpoint, a
    // stale route of felix's proto, and routes of other writers.
    const stored = endpointDocument(web);
    await admin().put(stored.key, stored.value);
    await ns().ip('route', 'add', '10.65.0.5/32', 'dev', 'mgweb', 'scope', 'link', 'proto', '78');
    await ns().ip('route', 'add', '10.65.0.99/32', 'dev', 'mgweb', 'scope', 'link', 'proto', '78');
    await ns().ip('route', 'add', '10.65.0.7/32', 'dev', 'mgweb', 'scope', 'link', 'proto', 'static');
    await ns().ip('route', 'add', 'blackhole', '10.77.0.0/24', 'proto', 'static');

    const runner: CommandRunner = {
      run: (argv, input) => {
        if (argv.includes('route') || argv.includes('-batch'))
          inSyncAtRouteCommands.push(felix?.inSync ?? false);
        return ns().runner.run(argv, input);
      },
    };
    felix = new Felix({
      datastore: newStore(),
      nodeName: NODE,
      runner,
      routeDebounceMs: 10,
      routeReconcileIntervalMs: 300,
      interfacePollIntervalMs: 100,
    });
    // etcd is down while felix starts: it cannot get a snapshot, so it must not program.
    await etcd?.pause();
    await felix.start();
    expect(felix.inSync).toBe(false);
    await etcd?.resume();

    await waitFor(
      'the stale route to go',
      async () => !(await felixRoutes()).includes('10.65.0.99 dev mgweb scope link'),
    );
    expect(inSyncAtRouteCommands.length).toBeGreaterThan(0);
    expect(inSyncAtRouteCommands.every((inSync) => inSync)).toBe(true);
    expect(await felixRoutes()).toEqual(['10.65.0.5 dev mgweb scope link']);
    expect(await routes('proto', 'static')).toEqual(FOREIGN_ROUTES);
  }, 60_000);

  test('a workload gets its route once its interface exists; an affinity gets a blackhole', async () => {
    const stored = endpointDocument(db);
    await admin().put(stored.key, stored.value);
    await admin().put(affinityKey(NODE, '10.65.0.0/26'), CONFIRMED);
    await admin().put(affinityKey('node-b', '10.65.0.64/26'), CONFIRMED);
    await waitFor('the blackhole', async () => (await felixRoutes()).includes('blackhole 10.65.0.0/26'));
    // mgdb does not exist yet: no route for db.
    expect(await felixRoutes()).toEqual(['blackhole 10.65.0.0/26', '10.65.0.5 dev mgweb scope link']);

    await addWorkloadInterface('mgdb');
    await waitFor('the route to db', async () =>
      (await felixRoutes()).includes('10.65.0.6 dev mgdb scope link'),
    );
    expect(await felixRoutes()).toEqual([
      'blackhole 10.65.0.0/26',
      '10.65.0.5 dev mgweb scope link',
      '10.65.0.6 dev mgdb scope link',
    ]);
  }, 60_000);

  test('the reconcile restores a route deleted by hand, even while etcd is down', async () => {
    await ns().ip('route', 'del', '10.65.0.5/32', 'proto', '78');
    await waitFor('the route to come back', async () =>
      (await felixRoutes()).includes('10.65.0.5 dev mgweb scope link'),
    );

    await etcd?.pause();
    try {
      await ns().ip('route', 'del', 'blackhole', '10.65.0.0/26', 'proto', '78');
      await waitFor('the blackhole to come back', async () =>
        (await felixRoutes()).includes('blackhole 10.65.0.0/26'),
      );
    } finally {
      await etcd?.resume();
    }
    expect(await felixRoutes()).toHaveLength(3);
  }, 60_000);

  test('deleting the endpoints and the affinity removes their routes, and nothing else', async () => {
    await admin().delete(endpointDocument(web).key);
    await admin().delete(endpointDocument(db).key);
    await admin().delete(affinityKey(NODE, '10.65.0.0/26'));
    await waitFor('felix routes to go', async () => (await felixRoutes()).length === 0);
    expect(await routes('proto', 'static')).toEqual(FOREIGN_ROUTES);
  }, 60_000);
});
