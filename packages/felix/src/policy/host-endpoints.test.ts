// Host endpoints through the calc graph and the manager: which host interfaces of this node get
// chains, which policies apply to them (GlobalNetworkPolicies only), and the failsafe ports from
// FelixConfiguration `default` overlaid by `node.<name>`.

import type { WatchEvent } from '@margay/datastore';
import { POLICY_SOURCES, PolicyCalculator } from './calc/policy-calculator';
import { DEFAULT_RENDERER } from './default-renderer';
import { PolicyManager } from './policy-manager';
import {
  FakeIpSets,
  FakeTable,
  resource,
  type StoredDocument,
  sourceOfKey as source,
  stored,
} from './testing';

function setup(docs: StoredDocument[]) {
  const calc = new PolicyCalculator({ nodeName: 'node-a', renderer: DEFAULT_RENDERER });
  const filter = new FakeTable('filter');
  const errors: string[] = [];
  const manager = new PolicyManager({
    changes: calc,
    renderer: DEFAULT_RENDERER,
    filter,
    nat: new FakeTable('nat'),
    ipSets: new FakeIpSets(),
    debounceMs: 0,
    retryMs: 0,
    onError: (message) => errors.push(message),
  });
  const put = (doc: StoredDocument) => calc.apply(source(doc.key), { type: 'put', kv: stored(doc) });
  const del = (doc: StoredDocument) => {
    const kv = stored(doc);
    return calc.apply(source(doc.key), { type: 'delete', key: doc.key, prev: kv, revision: kv.modRevision });
  };
  for (const doc of docs) put(doc);
  const inSync: WatchEvent = { type: 'in-sync', revision: 1 };
  for (const s of POLICY_SOURCES) calc.apply(s, inSync);
  return { calc, manager, filter, errors, put, del };
}

const hostEndpoint = (name: string, spec: Record<string, unknown>) =>
  resource('HostEndpoint', name, { node: 'node-a', ...spec });
const eth0 = resource('HostEndpoint', 'node-a-eth0', {
  node: 'node-a',
  interfaceName: 'eth0',
  expectedIPs: ['192.0.2.10'],
  profiles: ['host-defaults'],
});
const labelledEth0 = (labels: Record<string, string>) => ({
  ...eth0,
  value: JSON.stringify({
    ...JSON.parse(eth0.value),
    metadata: { ...JSON.parse(eth0.value).metadata, labels },
  }),
});
const hostProfile = resource('Profile', 'host-defaults', {
  ingress: [{ action: 'Allow' }],
  egress: [{ action: 'Allow' }],
});
const denyHostIngress = resource('GlobalNetworkPolicy', 'deny-host-ingress', {
  selector: 'role == "host"',
  types: ['Ingress'],
  ingress: [{ action: 'Deny' }],
});
// A namespaced policy selecting everything in its namespace never applies to host endpoints.
const namespacedAll = resource(
  'NetworkPolicy',
  'all-in-shop',
  { selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Deny' }] },
  'shop',
);
const felixConfig = (name: string, inbound: string[]) =>
  resource('FelixConfiguration', name, {
    failsafeInboundHostPorts: inbound.map((entry) => {
      const [protocol, port] = entry.split(':');
      return { protocol, port: Number(port) };
    }),
  });

describe('host endpoints in the calc graph', () => {
  test('a host endpoint of this node gets a model with the GlobalNetworkPolicies selecting it', () => {
    const { calc, put } = setup([hostProfile, namespacedAll]);
    put(labelledEth0({ role: 'host' }));
    put(denyHostIngress);
    const changes = calc.takeChanges();
    expect(changes.endpoints.has(eth0.key)).toBe(false);
    expect(changes.hostEndpoints.get(eth0.key)).toEqual({
      interfaceName: 'eth0',
      tiers: [{ name: 'default', ingressPolicies: ['gnp.deny-host-ingress'], egressPolicies: [] }],
      profileIds: ['host-defaults'],
    });
    // The policy and profile chains it uses are rendered; the namespaced policy is not in its model.
    expect([...changes.rules.keys()].sort()).toEqual([
      'policy:gnp.deny-host-ingress',
      'profile:host-defaults',
    ]);
    expect(changes.staticConfig?.hostEndpoints).toEqual([{ interfaceName: 'eth0' }]);
    expect(calc.stats()).toMatchObject({ localEndpoints: 0, localHostEndpoints: 1, activePolicies: 1 });

    // A relabel moves it out of the policy's selector: back to the profile alone.
    put(labelledEth0({ role: 'other' }));
    expect(calc.takeChanges().hostEndpoints.get(eth0.key)).toMatchObject({
      tiers: [],
      profileIds: ['host-defaults'],
    });
  });

  test('other nodes, all-interfaces (*) and expectedIPs-only host endpoints get no chains', () => {
    const { calc, put } = setup([]);
    calc.takeChanges();
    put(resource('HostEndpoint', 'b-eth0', { node: 'node-b', interfaceName: 'eth0' }));
    put(hostEndpoint('a-all', { interfaceName: '*' }));
    put(hostEndpoint('a-ips', { expectedIPs: ['192.0.2.10'] }));
    const changes = calc.takeChanges();
    expect(changes.hostEndpoints.size).toBe(0);
    expect(changes.endpoints.size).toBe(0);
    expect(changes.staticConfig).toBeUndefined();
  });

  test('deleting the host endpoint reports it gone and unhooks the host endpoint dispatch', () => {
    const { calc, put, del } = setup([eth0]);
    del(eth0);
    const changes = calc.takeChanges();
    expect([...changes.hostEndpoints]).toEqual([[eth0.key, undefined]]);
    expect(changes.staticConfig?.hostEndpoints).toBeUndefined();
    put(eth0);
    expect(calc.takeChanges().hostEndpoints.get(eth0.key)).toMatchObject({ interfaceName: 'eth0' });
  });

  test('failsafe ports: default, overridden by node.<this node>; other nodes’ configurations change nothing', () => {
    const { calc, put, del } = setup([]);
    const global = felixConfig('default', ['tcp:22', 'tcp:179']);
    put(global);
    expect(calc.takeChanges().staticConfig?.failsafeInbound).toEqual([
      { protocol: 'tcp', port: 22 },
      { protocol: 'tcp', port: 179 },
    ]);
    expect(put(felixConfig('node.node-b', ['tcp:1']))).toBe(false);
    const own = felixConfig('node.node-a', ['udp:68']);
    put(own);
    const overridden = calc.takeChanges().staticConfig;
    expect(overridden?.failsafeInbound).toEqual([{ protocol: 'udp', port: 68 }]);
    expect(overridden?.failsafeOutbound).toBeUndefined(); // neither sets it: FELIX_DEFAULTS
    del(own);
    del(global);
    expect(calc.takeChanges().staticConfig).not.toHaveProperty('failsafeInbound');
  });
});

describe('host endpoints through the manager', () => {
  test('chains, dispatch and hooks: every jump has a target; deleting the endpoint removes its chains', async () => {
    const { manager, filter, errors, put, del } = setup([
      hostProfile,
      labelledEth0({ role: 'host' }),
      denyHostIngress,
    ]);
    await manager.flush();
    expect(errors).toEqual([]);
    expect(filter.ruleTexts('mg-from-host-endpoint')).toEqual(['-i eth0 -g mg-fh-eth0']);
    expect(filter.ruleTexts('mg-to-host-endpoint')).toEqual(['-o eth0 -g mg-th-eth0']);
    const ingress = filter.ruleTexts('mg-fh-eth0');
    expect(ingress.indexOf('-j mg-failsafe-in')).toBeLessThan(
      ingress.indexOf('-m mark --mark 0x0/0x20000 -j mg-pi-gnp.deny-host-ingress'),
    );
    expect(filter.ruleTexts('mg-th-eth0')).toContain('-j mg-pro-host-defaults');
    expect(filter.ruleTexts('mg-INPUT')).toContain('-j mg-from-host-endpoint');
    expect(filter.ruleTexts('mg-failsafe-in')).toContain('-p tcp -m tcp --dport 22 -j ACCEPT');
    const chains = [...filter.chains.keys()];
    const targets = chains
      .flatMap((chain) => filter.ruleTexts(chain))
      .flatMap((text) => [...text.matchAll(/-[jg] (mg-\S+)/g)].map((match) => match[1]));
    for (const target of targets) expect(chains).toContain(target);

    del(eth0);
    manager.invalidate();
    await manager.flush();
    expect(filter.chains.has('mg-fh-eth0')).toBe(false);
    expect(filter.chains.has('mg-pi-gnp.deny-host-ingress')).toBe(false);
    expect(filter.ruleTexts('mg-from-host-endpoint')).toEqual([]);
    expect(filter.ruleTexts('mg-INPUT').join('\n')).not.toContain('host-endpoint');
    put(felixConfig('default', ['tcp:2222']));
    await manager.flush();
    expect(filter.ruleTexts('mg-failsafe-in')).toEqual(['-p tcp -m tcp --dport 2222 -j ACCEPT']);
  });

  test('two host endpoints on one interface: the first by key wins, the clash is reported', async () => {
    const first = hostEndpoint('a-first', { interfaceName: 'eth1', profiles: ['host-defaults'] });
    const second = hostEndpoint('b-second', { interfaceName: 'eth1' });
    const { manager, filter, errors, del } = setup([hostProfile, second, first]);
    await manager.flush();
    expect(errors).toEqual([expect.stringMatching(/a-first and .*b-second both claim interface eth1/)]);
    expect(filter.ruleTexts('mg-fh-eth1')).toContain('-j mg-pri-host-defaults');
    expect(filter.ruleTexts('mg-from-host-endpoint')).toEqual(['-i eth1 -g mg-fh-eth1']);
    // The winner goes: the other one takes the interface over.
    del(first);
    await manager.flush();
    expect(filter.ruleTexts('mg-fh-eth1')).not.toContain('-j mg-pri-host-defaults');
    expect(filter.ruleTexts('mg-from-host-endpoint')).toEqual(['-i eth1 -g mg-fh-eth1']);
  });

  test('a host endpoint on a workload-prefixed interface is reported and left out', async () => {
    const { manager, filter, errors } = setup([hostEndpoint('bad', { interfaceName: 'mgbad' })]);
    await manager.flush();
    expect(errors.join('\n')).toMatch(/mgbad has the workload interface prefix/);
    expect(filter.ruleTexts('mg-from-host-endpoint')).toEqual([]);
  });
});
