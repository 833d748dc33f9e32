import type { WatchEvent } from '@margay/datastore';
import { affinityKey, CONFIRMED, endpointDocument, keyValue, type TestEndpoint } from '../testing';
import { RouteCalculator } from './route-calculator';

const NODE = 'node-a';
let revision = 0;

function putEndpoint(endpoint: TestEndpoint): WatchEvent {
  const { key, value } = endpointDocument(endpoint);
  return { type: 'put', kv: keyValue(key, value, ++revision) };
}

function deleteKey(key: string): WatchEvent {
  return { type: 'delete', key, prev: keyValue(key, '{}', revision), revision: ++revision };
}

function putAffinity(node: string, cidr: string, value = CONFIRMED): WatchEvent {
  return { type: 'put', kv: keyValue(affinityKey(node, cidr), value, ++revision) };
}

const inSync: WatchEvent = { type: 'in-sync', revision: 0 };
const web: TestEndpoint = { name: 'web', node: NODE, interfaceName: 'mgweb', ipNetworks: ['10.0.1.5/32'] };
const db: TestEndpoint = { name: 'db', node: NODE, interfaceName: 'mgdb', ipNetworks: ['10.0.1.6/32'] };

function syncedCalculator(problems: string[] = []): RouteCalculator {
  const calc = new RouteCalculator({ nodeName: NODE, onProblem: (message) => problems.push(message) });
  calc.setInterfaces(new Set(['mgweb', 'mgdb']));
  calc.apply('endpoints', inSync);
  calc.apply('affinities', inSync);
  return calc;
}

describe('RouteCalculator', () => {
  test('is in sync only once both watches have delivered their snapshot', () => {
    const calc = new RouteCalculator({ nodeName: NODE });
    expect(calc.inSync).toBe(false);
    expect(calc.apply('endpoints', putEndpoint(web))).toBe(true);
    expect(calc.apply('endpoints', inSync)).toBe(true);
    expect(calc.inSync).toBe(false);
    expect(calc.apply('affinities', inSync)).toBe(true);
    expect(calc.inSync).toBe(true);
    // A later in-sync (after a resync) changes nothing by itself.
    expect(calc.apply('endpoints', inSync)).toBe(false);
  });

  test('routes each address of a local workload to its interface, link-scoped', () => {
    const calc = syncedCalculator();
    calc.apply('endpoints', putEndpoint({ ...web, ipNetworks: ['10.0.1.5/32', '2001:DB8:0:0::5/128'] }));
    expect([...calc.routes().values()]).toEqual([
      { dst: '10.0.1.5/32', type: 'link', dev: 'mgweb' },
      { dst: '2001:db8::5/128', type: 'link', dev: 'mgweb' },
    ]);
  });

  test('ignores other nodes’ workloads and drops one that moves away', () => {
    const calc = syncedCalculator();
    expect(calc.apply('endpoints', putEndpoint({ ...db, node: 'node-b' }))).toBe(false);
    calc.apply('endpoints', putEndpoint(web));
    expect([...calc.routes().keys()]).toEqual(['10.0.1.5/32']);
    expect(calc.apply('endpoints', putEndpoint({ ...web, node: 'node-b' }))).toBe(true);
    expect(calc.routes().size).toBe(0);
  });

  test('skips a workload until its interface exists and is up', () => {
    const calc = syncedCalculator();
    calc.setInterfaces(new Set(['mgdb']));
    calc.apply('endpoints', putEndpoint(web));
    calc.apply('endpoints', putEndpoint(db));
    expect([...calc.routes().keys()]).toEqual(['10.0.1.6/32']);
    // Interfaces no workload uses do not count as a change.
    expect(calc.setInterfaces(new Set(['mgdb', 'eth0']))).toBe(false);
    expect(calc.setInterfaces(new Set(['mgdb', 'mgweb']))).toBe(true);
    expect([...calc.routes().keys()]).toEqual(['10.0.1.6/32', '10.0.1.5/32']);
    // The interface goes away: so does the route.
    expect(calc.setInterfaces(new Set(['mgweb']))).toBe(true);
    expect([...calc.routes().keys()]).toEqual(['10.0.1.5/32']);
  });

  test('blackholes the blocks confirmed as affine to this node only', () => {
    const calc = syncedCalculator();
    calc.apply('affinities', putAffinity(NODE, '10.0.1.0/26'));
    calc.apply('affinities', putAffinity(NODE, 'fd00:1::/122'));
    calc.apply('affinities', putAffinity(NODE, '10.0.2.0/26', JSON.stringify({ state: 'pending' })));
    expect([...calc.routes().values()]).toEqual([
      { dst: '10.0.1.0/26', type: 'blackhole' },
      { dst: 'fd00:1::/122', type: 'blackhole' },
    ]);
    // Marked deleted, then gone: the blackholes go with them.
    calc.apply(
      'affinities',
      putAffinity(NODE, '10.0.1.0/26', JSON.stringify({ state: 'confirmed', deleted: true })),
    );
    calc.apply('affinities', deleteKey(affinityKey(NODE, 'fd00:1::/122')));
    expect(calc.routes().size).toBe(0);
  });

  test('a resync that no longer lists an endpoint removes its route; the resync alone changes nothing', () => {
    const calc = syncedCalculator();
    calc.apply('endpoints', putEndpoint(web));
    calc.apply('endpoints', putEndpoint(db));
    expect(calc.apply('endpoints', { type: 'resync', reason: 'compacted' })).toBe(false);
    expect(calc.routes().size).toBe(2);
    // The syncer's re-listing: `db` vanished while the watch was down.
    expect(calc.apply('endpoints', deleteKey(endpointDocument(db).key))).toBe(true);
    calc.apply('endpoints', inSync);
    expect([...calc.routes().keys()]).toEqual(['10.0.1.5/32']);
  });

  test('a corrupt value is reported and ignored, keeping the last good one', () => {
    const problems: string[] = [];
    const calc = syncedCalculator(problems);
    const { key } = endpointDocument(web);
    calc.apply('endpoints', putEndpoint(web));
    expect(calc.apply('endpoints', { type: 'put', kv: keyValue(key, '{"kind":', ++revision) })).toBe(false);
    expect(calc.apply('endpoints', putEndpoint({ ...web, ipNetworks: ['10.0.1.5/24'] }))).toBe(false);
    expect(calc.apply('affinities', putAffinity(NODE, '10.0.3.0/26', '"confirmed"'))).toBe(false);
    expect([...calc.routes().keys()]).toEqual(['10.0.1.5/32']);
    expect(problems).toEqual([
      expect.stringMatching(new RegExp(`^ignoring ${key}: .*invalid JSON`)),
      expect.stringMatching(/spec\.ipNetworks\[0\]: "10\.0\.1\.5\/24" is not masked/),
      expect.stringMatching(/10\.0\.3\.0-26: an affinity must be an object/),
    ]);
  });

  test('two workloads claiming one address: the first by key keeps it, the other is reported', () => {
    const problems: string[] = [];
    const calc = syncedCalculator(problems);
    calc.apply('endpoints', putEndpoint(web));
    calc.apply('endpoints', putEndpoint({ ...db, ipNetworks: web.ipNetworks }));
    // "db" sorts before "web".
    expect([...calc.routes().values()]).toEqual([{ dst: '10.0.1.5/32', type: 'link', dev: 'mgdb' }]);
    expect(problems).toEqual([expect.stringContaining('10.0.1.5/32 is already routed to mgdb')]);
  });
});
