import { waitFor } from '@margay/testkit';
import { POLICY_SOURCES, PolicyCalculator } from './calc/policy-calculator';
import { DEFAULT_RENDERER } from './default-renderer';
import { PolicyManager } from './policy-manager';
import { ipSetSpecFor } from './render';
import {
  FakeIpSets,
  FakeTable,
  kubernetesPolicy,
  namespaceProfile,
  resource,
  type StoredDocument,
  sourceOfKey as source,
  stored,
  workload,
} from './testing';

/** A calc graph for node-a driving fake tables and sets, with a log of the apply order. */
function setup(docs: StoredDocument[]) {
  const calc = new PolicyCalculator({ nodeName: 'node-a', renderer: DEFAULT_RENDERER });
  const order: string[] = [];
  const filter = new FakeTable('filter');
  const nat = new FakeTable('nat');
  const ipSets = new FakeIpSets();
  for (const [name, target] of [
    ['filter', filter],
    ['nat', nat],
    ['ipsets.updates', ipSets],
  ] as const) {
    const method = name.startsWith('ipsets') ? 'applyUpdates' : 'apply';
    const original = (target as unknown as Record<string, () => Promise<unknown>>)[method]?.bind(target);
    (target as unknown as Record<string, () => Promise<unknown>>)[method] = () => {
      order.push(name);
      return original?.() ?? Promise.resolve();
    };
  }
  const applyDeletions = ipSets.applyDeletions.bind(ipSets);
  ipSets.applyDeletions = () => {
    order.push('ipsets.deletions');
    return applyDeletions();
  };
  const errors: string[] = [];
  const manager = new PolicyManager({
    changes: calc,
    renderer: DEFAULT_RENDERER,
    filter,
    nat,
    ipSets,
    debounceMs: 0,
    retryMs: 0,
    onError: (message) => errors.push(message),
  });
  const put = (doc: StoredDocument) => {
    if (calc.apply(source(doc.key), { type: 'put', kv: stored(doc) })) manager.invalidate();
  };
  const del = (doc: StoredDocument) => {
    const kv = stored(doc);
    if (calc.apply(source(doc.key), { type: 'delete', key: doc.key, prev: kv, revision: kv.modRevision })) {
      manager.invalidate();
    }
  };
  for (const doc of docs) put(doc);
  for (const s of POLICY_SOURCES) calc.apply(s, { type: 'in-sync', revision: 1 });
  return { calc, manager, filter, nat, ipSets, order, errors, put, del };
}

const web = workload({
  name: 'web',
  namespace: 'shop',
  node: 'node-a',
  interfaceName: 'mgweb',
  ip: '10.0.1.5',
  labels: { app: 'web' },
});
const api = (app: string, node = 'node-b') =>
  workload({ name: 'api', namespace: 'shop', node, interfaceName: 'mgapi', ip: '10.0.2.7', labels: { app } });
const allowFromApi = kubernetesPolicy('shop', 'allow-api', {
  podSelector: { matchLabels: { app: 'web' } },
  ingress: [{ from: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 80 }] }],
});
const API_SET = ipSetSpecFor({
  kind: 'selector',
  selector: 'projectcalico.org/namespace == "shop" && app == "api"',
}).name;
const pool = resource('IPPool', 'pods', { cidr: '10.0.0.0/16', natOutgoing: true });

describe('PolicyManager', () => {
  test('first apply: sets, then tables (nat, filter), then deletions; chains for the policy, endpoint, dispatch and static rules', async () => {
    const { manager, filter, nat, ipSets, order } = setup([
      namespaceProfile('shop'),
      web,
      api('api'),
      allowFromApi,
      pool,
    ]);
    await manager.flush();
    expect(order).toEqual(['ipsets.updates', 'nat', 'filter', 'ipsets.deletions']);
    expect(ipSets.members(API_SET)).toEqual(['10.0.2.7']);
    const chains = [...filter.chains.keys()];
    expect(chains).toEqual(
      expect.arrayContaining([
        'mg-FORWARD',
        'mg-to-wl-dispatch',
        'mg-from-wl-dispatch',
        'mg-tw-mgweb',
        'mg-fw-mgweb',
        expect.stringMatching(/^mg-pi-np\.shop\./),
        expect.stringMatching(/^mg-pri-kns.shop/),
      ]),
    );
    expect([...filter.hooks.keys()]).toEqual(expect.arrayContaining(['FORWARD', 'INPUT', 'OUTPUT']));
    expect([...nat.hooks.keys()]).toEqual(['POSTROUTING']);
    expect(ipSets.members('mg4-masq-pools')).toEqual(['10.0.0.0/16']);
    // The policy's ingress chain matches the api set; the endpoint's ingress chain jumps to it.
    const [ingressChain] = [...filter.chains.keys()].filter((name) => name.startsWith('mg-pi-'));
    expect(filter.ruleTexts(ingressChain as string).join('\n')).toContain(API_SET);
    expect(filter.ruleTexts('mg-tw-mgweb').join('\n')).toContain(ingressChain as string);
    expect(manager.stats()).toMatchObject({ applies: 1, failures: 0 });
    expect(manager.stats().lastChainsChanged).toBe(
      (filter.updated[0]?.length ?? 0) + (nat.updated[0]?.length ?? 0),
    );
  });

  test('a node without endpoints still gets the dispatch chains the static rules jump to', async () => {
    const { manager, filter, errors } = setup([pool]);
    await manager.flush();
    expect(errors).toEqual([]);
    const chains = [...filter.chains.keys()];
    expect(chains).toEqual(expect.arrayContaining(['mg-to-wl-dispatch', 'mg-from-wl-dispatch']));
    // Every jump target of every rule is a chain we program (iptables-restore would refuse the rest).
    const targets = chains
      .flatMap((chain) => filter.ruleTexts(chain))
      .flatMap((text) => [...text.matchAll(/-[jg] (mg-\S+)/g)].map((match) => match[1]));
    for (const target of targets) expect(chains).toContain(target);
  });

  test('default deny once a policy selects a direction: ingress ends in a drop, egress goes to the profile', async () => {
    const { manager, filter } = setup([namespaceProfile('shop'), web, api('api'), allowFromApi]);
    await manager.flush();
    const ingress = filter.ruleTexts('mg-tw-mgweb');
    const egress = filter.ruleTexts('mg-fw-mgweb');
    const policyJump = ingress.findIndex((text) => text.includes('-j mg-pi-'));
    const endOfTier = ingress.findIndex((text) => /-m mark .*-j DROP$/.test(text));
    const profileJump = ingress.findIndex((text) => text.includes('-j mg-pri-kns.shop'));
    // The tier ends in a drop unless a policy passed, so the profile is only reached by Pass.
    expect(policyJump).toBeGreaterThan(0);
    expect(endOfTier).toBeGreaterThan(policyJump);
    expect(profileJump).toBeGreaterThan(endOfTier);
    // No policy selects the endpoint's egress: straight to the profile.
    expect(egress.some((text) => text.includes('-j mg-po-'))).toBe(false);
    expect(egress.some((text) => /-m mark .*-j DROP$/.test(text))).toBe(false);
    expect(egress.some((text) => text.includes('-j mg-pro-kns.shop'))).toBe(true);
  });

  test('a remote label change writes only that set member: no chain is handed to the tables', async () => {
    const { manager, filter, ipSets, put } = setup([
      namespaceProfile('shop'),
      web,
      api('batch'),
      allowFromApi,
    ]);
    await manager.flush();
    expect(ipSets.members(API_SET)).toEqual([]);
    const callsBefore = ipSets.calls.length;
    put(api('api'));
    await manager.flush();
    expect(ipSets.calls.slice(callsBefore)).toEqual([
      { op: 'add', name: API_SET, members: ['10.0.2.7'] },
      { op: 'applyUpdates' },
      { op: 'applyDeletions' },
    ]);
    expect(filter.updated.at(-2)).toEqual([]);
    expect(filter.removed.at(-2)).toEqual([]);
    expect(manager.stats().lastChainsChanged).toBe(0);
  });

  test('deleting the policy removes its chains, rewrites the endpoint chain, and deletes the set after the tables', async () => {
    const { manager, filter, ipSets, order, del } = setup([
      namespaceProfile('shop'),
      web,
      api('api'),
      allowFromApi,
    ]);
    await manager.flush();
    const policyChains = [...filter.chains.keys()].filter((name) => /^mg-p[io]-np/.test(name));
    expect(policyChains).toHaveLength(2);
    order.length = 0;
    del(allowFromApi);
    await manager.flush();
    expect(filter.removed.at(-2)?.sort()).toEqual(policyChains.sort());
    expect(filter.updated.at(-2)).toEqual(['mg-tw-mgweb']);
    expect(ipSets.calls).toContainEqual({ op: 'removeSet', name: API_SET });
    expect(order).toEqual(['ipsets.updates', 'nat', 'filter', 'ipsets.deletions']);
    expect(ipSets.sets.has(API_SET)).toBe(false);
  });

  test('a local endpoint going away removes its chains and its dispatch entry', async () => {
    const { manager, filter, del } = setup([namespaceProfile('shop'), web]);
    await manager.flush();
    expect(filter.ruleTexts('mg-to-wl-dispatch').join('\n')).toContain('mgweb');
    del(web);
    await manager.flush();
    expect(filter.chains.has('mg-tw-mgweb')).toBe(false);
    expect(filter.chains.has('mg-fw-mgweb')).toBe(false);
    expect(filter.ruleTexts('mg-to-wl-dispatch').join('\n')).not.toContain('mgweb');
    // The namespace profile is no longer used here.
    expect([...filter.chains.keys()].some((name) => name.startsWith('mg-pri-'))).toBe(false);
  });

  test('a burst of changes is one apply', async () => {
    const { manager, filter, put } = setup([namespaceProfile('shop'), web]);
    await manager.flush();
    put(api('api'));
    put(allowFromApi);
    put(api('batch'));
    await manager.flush();
    expect(manager.stats().applies).toBe(2);
    expect(filter.applies).toBe(2);
  });

  test('a failed apply is reported and retried; the desired state is not lost', async () => {
    const { manager, filter, errors } = setup([namespaceProfile('shop'), web]);
    filter.failNext = new Error('iptables-restore: line 3 failed');
    await manager.flush();
    expect(errors).toEqual([expect.stringContaining('iptables-restore: line 3 failed')]);
    expect(manager.stats().failures).toBe(1);
    await waitFor('the retry', () => manager.stats().applies === 1, 5_000);
    expect(filter.chains.has('mg-tw-mgweb')).toBe(true);
    await manager.stop();
  });

  test('an endpoint the renderer rejects is left out of the dispatch (fail closed) and reported', async () => {
    const bad = workload({
      name: 'bad',
      namespace: 'shop',
      node: 'node-a',
      interfaceName: 'eth0.bad!',
      ip: '10.0.1.9',
    });
    const { manager, filter, errors } = setup([namespaceProfile('shop'), web, bad]);
    await manager.flush();
    expect(errors.join('\n')).toContain(bad.key);
    expect(filter.ruleTexts('mg-to-wl-dispatch').join('\n')).toContain('mgweb');
    expect(filter.ruleTexts('mg-to-wl-dispatch').join('\n')).not.toContain('eth0.bad');
    expect(manager.stats().applies).toBe(1);
  });

  test('every chain name handed to the tables is one iptables accepts, however long the policy names', async () => {
    const long = 'a'.repeat(60);
    const { manager, filter, nat } = setup([
      namespaceProfile(long),
      workload({
        name: long,
        namespace: long,
        node: 'node-a',
        interfaceName: 'mg0123456789abc',
        ip: '10.0.1.7',
      }),
      kubernetesPolicy(long, long, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
      resource('GlobalNetworkPolicy', long, { selector: 'all()', tier: 'security' }),
    ]);
    await manager.flush();
    const names = [...filter.chains.keys(), ...nat.chains.keys()];
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_.:+-]{1,28}$/);
  });
});
