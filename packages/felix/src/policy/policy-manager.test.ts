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

/**
 * A calc graph for node-a driving fake tables and sets, with a log of the apply order. `early`:
 * the snapshot is still arriving (nothing in sync), changes ask for unreferenced applies, and
 * sync() completes it and flushes, as felix does on a fresh kernel.
 */
function setup(docs: StoredDocument[], { early = false } = {}) {
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
    type Method = (...args: unknown[]) => Promise<unknown>;
    const original = (target as unknown as Record<string, Method>)[method]?.bind(target);
    (target as unknown as Record<string, Method>)[method] = (...args) => {
      order.push(name);
      return original?.(...args) ?? Promise.resolve();
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
  let synced = !early;
  const changed = () => (synced ? manager.invalidate() : manager.invalidateUnreferenced());
  const put = (doc: StoredDocument) => {
    if (calc.apply(source(doc.key), { type: 'put', kv: stored(doc) })) changed();
  };
  const del = (doc: StoredDocument) => {
    const kv = stored(doc);
    if (calc.apply(source(doc.key), { type: 'delete', key: doc.key, prev: kv, revision: kv.modRevision })) {
      changed();
    }
  };
  const sync = () => {
    for (const s of POLICY_SOURCES) calc.apply(s, { type: 'in-sync', revision: 1 });
    synced = true;
    return manager.flush();
  };
  for (const doc of docs) put(doc);
  if (!early) for (const s of POLICY_SOURCES) calc.apply(s, { type: 'in-sync', revision: 1 });
  return { calc, manager, filter, nat, ipSets, order, errors, put, del, sync };
}

/** Policy, profile and workload endpoint chains: what nothing jumps to until the dispatch chains exist. */
const UNREFERENCED_CHAIN = /^mg-(pi|po|pri|pro|tw|fw)-/;
/** The ways into our chains, which only a full apply may write. */
const REFERENCING_CHAINS = [
  'mg-to-wl-dispatch',
  'mg-from-wl-dispatch',
  'mg-FORWARD',
  'mg-INPUT',
  'mg-OUTPUT',
];

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

  test('early applies write only sets, policy/profile and endpoint chains, additively; the first flush writes the rest', async () => {
    const { manager, filter, nat, ipSets, order, put, sync } = setup(
      [namespaceProfile('shop'), web, api('api'), allowFromApi, pool],
      { early: true },
    );
    await waitFor('the early apply', () => manager.stats().earlyApplies === 1, 5_000);
    expect(order).toEqual(['ipsets.updates', 'filter']);
    expect(filter.additive).toEqual([true]);
    const early = filter.updated[0] ?? [];
    expect(early.length).toBeGreaterThan(0);
    for (const name of early) expect(name).toMatch(UNREFERENCED_CHAIN);
    expect(early).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mg-pi-np\.shop\./),
        'mg-pri-kns.shop',
        'mg-tw-mgweb',
        'mg-fw-mgweb',
      ]),
    );
    expect(filter.ruleTexts('mg-tw-mgweb').join('\n')).toMatch(/-j mg-pi-np\.shop\./);
    // No way in yet: no hooks, no dispatch or static chains, nothing in nat, nothing removed.
    for (const name of REFERENCING_CHAINS) expect(filter.chains.has(name)).toBe(false);
    expect(filter.removed[0]).toEqual([]);
    expect(filter.hooksAtApply).toEqual([[]]);
    expect(nat.applies).toBe(0);
    expect(nat.chains.size + nat.hooks.size).toBe(0);
    // The set the policy matches is written, with the members known so far; none is destroyed.
    expect(ipSets.members(API_SET)).toEqual(['10.0.2.7']);
    expect(ipSets.calls.some((call) => call.op === 'applyDeletions')).toBe(false);
    expect(manager.stats()).toMatchObject({ applies: 0, earlyApplies: 1 });

    // More of the snapshot: a second early apply takes it, still only unreferenced state.
    const api2 = { name: 'api2', namespace: 'shop', node: 'node-b', interfaceName: 'mgapi2' };
    put(workload({ ...api2, ip: '10.0.2.9', labels: { app: 'api' } }));
    await waitFor('the second early apply', () => manager.stats().earlyApplies === 2, 5_000);
    expect(filter.updated[1]).toEqual([]);
    expect(ipSets.members(API_SET)).toEqual(['10.0.2.7', '10.0.2.9']);
    expect(filter.additive).toEqual([true, true]);

    await sync();
    expect(order.slice(4)).toEqual(['ipsets.updates', 'nat', 'filter', 'ipsets.deletions']);
    expect(filter.additive.at(-1)).toBe(false);
    const full = filter.updated.at(-2) ?? [];
    expect(full).toEqual(expect.arrayContaining(REFERENCING_CHAINS));
    // The policy and endpoint chains were written early and did not change: not handed over again.
    expect(full.filter((name) => UNREFERENCED_CHAIN.test(name))).toEqual([]);
    expect(filter.ruleTexts('mg-to-wl-dispatch').join('\n')).toContain('-g mg-tw-mgweb');
    expect([...filter.hooks.keys()]).toEqual(expect.arrayContaining(['FORWARD', 'INPUT', 'OUTPUT']));
    expect([...nat.hooks.keys()]).toEqual(['POSTROUTING']);
    expect(manager.stats()).toMatchObject({ applies: 1, earlyApplies: 2, failures: 0 });

    // Once programming is full, an unreferenced apply is no longer asked for.
    manager.invalidateUnreferenced();
    await manager.flush();
    expect(filter.additive.at(-1)).toBe(false);
    expect(manager.stats().earlyApplies).toBe(2);
  });

  test('what goes before in-sync is deleted only by the first full apply, which uses the latest endpoint models', async () => {
    const { manager, filter, ipSets, order, put, sync } = setup(
      [namespaceProfile('shop'), web, api('api'), allowFromApi],
      { early: true },
    );
    await waitFor('the early apply', () => manager.stats().earlyApplies === 1, 5_000);
    const policyChains = (filter.updated[0] ?? []).filter((name) => /^mg-p[io]-np/.test(name));
    expect(policyChains).toHaveLength(2);
    expect(ipSets.members(API_SET)).toEqual(['10.0.2.7']);
    // web is relabelled during the listing: the policy no longer selects anything here.
    const relabelled = workload({
      name: 'web',
      namespace: 'shop',
      node: 'node-a',
      interfaceName: 'mgweb',
      ip: '10.0.1.5',
      labels: { app: 'shop-web' },
    });
    put(relabelled);
    await waitFor('the second early apply', () => manager.stats().earlyApplies === 2, 5_000);
    // Its chains and set leave the desired state, but the early apply deletes nothing; web's
    // endpoint chain is rewritten without the policy.
    expect(filter.additive).toEqual([true, true]);
    expect(filter.removed[1]?.sort()).toEqual(policyChains.sort());
    expect(filter.updated[1]).toContain('mg-tw-mgweb');
    expect(filter.ruleTexts('mg-tw-mgweb').join('\n')).not.toContain('mg-pi-');
    expect(ipSets.doomed.has(API_SET)).toBe(true);
    expect(ipSets.calls.some((call) => call.op === 'applyDeletions')).toBe(false);
    // Selected again (held), then relabelled once more right before the snapshot completes.
    put(web);
    await waitFor('the third early apply', () => manager.stats().earlyApplies === 3, 5_000);
    put(relabelled);

    await sync();
    expect(filter.additive.at(-1)).toBe(false);
    expect(order.at(-1)).toBe('ipsets.deletions');
    expect(ipSets.sets.has(API_SET)).toBe(false);
    // The endpoint chain is the latest web's (not selected), not the held one (selected).
    expect(filter.chains.has('mg-tw-mgweb')).toBe(true);
    expect(filter.ruleTexts('mg-tw-mgweb').join('\n')).not.toContain('mg-pi-');
  });

  test('an endpoint removed or unrenderable before in-sync: its early chains leave the desired state (no early delete) and no dispatch names it', async () => {
    const db = (interfaceName: string) =>
      workload({ name: 'db', namespace: 'shop', node: 'node-a', interfaceName, ip: '10.0.1.8' });
    const cache = workload({
      name: 'cache',
      namespace: 'shop',
      node: 'node-a',
      interfaceName: 'mgcache',
      ip: '10.0.1.9',
    });
    const { manager, filter, errors, put, del, sync } = setup(
      [namespaceProfile('shop'), web, db('mgdb'), cache],
      { early: true },
    );
    await waitFor('the early apply', () => manager.stats().earlyApplies === 1, 5_000);
    expect(filter.updated[0]).toEqual(
      expect.arrayContaining(['mg-tw-mgweb', 'mg-tw-mgdb', 'mg-fw-mgdb', 'mg-tw-mgcache']),
    );

    // db turns unrenderable and cache goes away while the listing still runs.
    const badDb = db('eth0.bad!');
    put(badDb);
    del(cache);
    await waitFor('the second early apply', () => manager.stats().earlyApplies === 2, 5_000);
    expect(errors.filter((message) => message.includes(badDb.key))).toHaveLength(1);
    // Handed to the table for removal in an additive apply, which deletes nothing: the first full
    // apply deletes them from the kernel.
    expect(filter.additive).toEqual([true, true]);
    expect(filter.removed[1]?.sort()).toEqual(['mg-fw-mgcache', 'mg-fw-mgdb', 'mg-tw-mgcache', 'mg-tw-mgdb']);
    for (const name of REFERENCING_CHAINS) expect(filter.chains.has(name)).toBe(false);
    expect(filter.hooks.size).toBe(0);

    await sync();
    expect(filter.additive.at(-1)).toBe(false);
    const dispatch = [...filter.chains.keys()]
      .filter((name) => /^mg-(to|from)-wl-dispatch/.test(name))
      .flatMap((name) => filter.ruleTexts(name))
      .join('\n');
    expect(dispatch).toContain('mg-tw-mgweb');
    for (const gone of ['mgdb', 'mgcache', 'eth0.bad']) expect(dispatch).not.toContain(gone);
    expect([...filter.chains.keys()].filter((name) => /mgdb|mgcache/.test(name))).toEqual([]);
    // Rendered once, early: the full apply does not render (nor report) it again.
    expect(errors.filter((message) => message.includes(badDb.key))).toHaveLength(1);
    expect(manager.stats()).toMatchObject({ applies: 1, earlyApplies: 2, failures: 0 });
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
