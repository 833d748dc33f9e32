import type { WatchEvent } from '@margay/datastore';
import type { IpSetRef } from '../model';
import { ipSetSpecFor } from '../render/ipset-names';
import { renderPolicy, renderProfile } from '../render/policy';
import {
  kubernetesPolicy,
  namespaceProfile,
  resource,
  type StoredDocument,
  stored,
  workload,
} from '../testing';
import {
  type PolicyCalculator as Calc,
  POLICY_SOURCES,
  PolicyCalculator,
  type PolicySource,
} from './policy-calculator';

const renderCalls: string[] = [];
const renderer = {
  renderPolicy: (model: Parameters<typeof renderPolicy>[0]) => {
    renderCalls.push(model.id);
    return renderPolicy(model);
  },
  renderProfile: (model: Parameters<typeof renderProfile>[0]) => {
    renderCalls.push(model.id);
    return renderProfile(model);
  },
  ipSetSpecFor,
};

function setName(ref: IpSetRef): string {
  return ipSetSpecFor(ref).name;
}

const selectorSet = (selector: string) => setName({ kind: 'selector', selector });

function source(key: string): PolicySource {
  if (key.includes('/workloadendpoints/')) return 'workloadEndpoints';
  if (key.includes('/hostendpoints/')) return 'hostEndpoints';
  if (key.includes('/globalnetworkpolicies/')) return 'globalNetworkPolicies';
  if (key.includes('/networkpolicies/')) return 'networkPolicies';
  if (key.includes('/profiles/')) return 'profiles';
  if (key.includes('/ippools/')) return 'ipPools';
  throw new Error(`no source for ${key}`);
}

function put(calc: Calc, doc: StoredDocument): void {
  calc.apply(source(doc.key), { type: 'put', kv: stored(doc) });
}

function del(calc: Calc, doc: StoredDocument): void {
  const kv = stored(doc);
  calc.apply(source(doc.key), { type: 'delete', key: doc.key, prev: kv, revision: kv.modRevision });
}

/** A calculator for node-a that has seen `docs` and is in sync, with its first changes taken. */
function syncedCalc(docs: StoredDocument[], problems: string[] = []) {
  const calc = new PolicyCalculator({ nodeName: 'node-a', renderer, onProblem: (m) => problems.push(m) });
  for (const doc of docs) put(calc, doc);
  const inSync: WatchEvent = { type: 'in-sync', revision: 1 };
  for (const s of POLICY_SOURCES) calc.apply(s, inSync);
  return { calc, first: calc.takeChanges() };
}

const web = workload({
  name: 'web',
  namespace: 'shop',
  node: 'node-a',
  interfaceName: 'mgweb',
  ip: '10.0.1.5',
  labels: { app: 'web' },
});
const api = workload({
  name: 'api',
  namespace: 'shop',
  node: 'node-b',
  interfaceName: 'mgapi',
  ip: '10.0.2.7',
  labels: { app: 'api' },
});
const otherApi = workload({
  name: 'api',
  namespace: 'blog',
  node: 'node-b',
  interfaceName: 'mgapi2',
  ip: '10.0.2.9',
  labels: { app: 'api' },
});
const allowFromApi = resource(
  'NetworkPolicy',
  'allow-api',
  {
    selector: 'app == "web"',
    ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: 'app == "api"' } }],
  },
  'shop',
);
const API_IN_SHOP = selectorSet('projectcalico.org/namespace == "shop" && app == "api"');

describe('PolicyCalculator', () => {
  beforeEach(() => {
    renderCalls.length = 0;
  });

  test('is in sync only once every source delivered its snapshot', () => {
    const calc = new PolicyCalculator({ nodeName: 'node-a', renderer });
    for (const s of POLICY_SOURCES.slice(1)) calc.apply(s, { type: 'in-sync', revision: 1 });
    expect(calc.inSync).toBe(false);
    calc.apply(POLICY_SOURCES[0], { type: 'in-sync', revision: 1 });
    expect(calc.inSync).toBe(true);
  });

  test('a policy selecting a local endpoint: its model, the policy chains and a namespace-scoped set of remote members', () => {
    const { first } = syncedCalc([namespaceProfile('shop'), web, api, otherApi, allowFromApi]);
    expect([...first.endpoints]).toEqual([
      [
        web.key,
        {
          interfaceName: 'mgweb',
          tiers: [{ name: 'default', ingressPolicies: ['np.shop.allow-api'], egressPolicies: [] }],
          profileIds: ['kns.shop'],
          addresses: ['10.0.1.5/32'],
        },
      ],
    ]);
    expect([...first.rules.keys()].sort()).toEqual(['policy:np.shop.allow-api', 'profile:kns.shop']);
    expect(first.rules.get('policy:np.shop.allow-api')?.map((c) => c.name)).toEqual([
      'mg-pi-np.shop.allow-api',
      'mg-po-np.shop.allow-api',
    ]);
    // api in namespace blog has the label too, but the policy's selector stays in its namespace.
    expect(first.createdSets).toEqual([
      { spec: { name: API_IN_SHOP, type: 'hash:ip' }, members: ['10.0.2.7'] },
    ]);
    expect(first.deletedSets).toEqual([]);
    expect(first.staticConfig).toEqual({ pools: [], natOutgoingPools: [] });
  });

  test('a label change moves an endpoint into and out of a selector: only that set changes', () => {
    const { calc } = syncedCalc([namespaceProfile('shop'), web, api, allowFromApi]);
    const worker = (app: string) =>
      workload({
        name: 'worker',
        namespace: 'shop',
        node: 'node-c',
        interfaceName: 'mgworker',
        ip: '10.0.3.3',
        labels: { app },
      });
    put(calc, worker('batch'));
    expect(calc.hasChanges).toBe(false);
    put(calc, worker('api'));
    let changes = calc.takeChanges();
    expect(changes.updatedSets).toEqual([{ name: API_IN_SHOP, added: ['10.0.3.3'], removed: [] }]);
    expect(changes.endpoints.size).toBe(0);
    expect(changes.rules.size).toBe(0);
    expect(changes.createdSets).toEqual([]);
    expect(renderCalls).toEqual(['kns.shop', 'np.shop.allow-api']);

    put(calc, worker('batch'));
    changes = calc.takeChanges();
    expect(changes.updatedSets).toEqual([{ name: API_IN_SHOP, added: [], removed: ['10.0.3.3'] }]);

    // In and out within one burst: nothing to write.
    put(calc, worker('api'));
    put(calc, worker('batch'));
    expect(calc.hasChanges).toBe(false);
    expect(calc.takeChanges().updatedSets).toEqual([]);
  });

  test('a local label change moves the endpoint out of the policy: the policy and its set go', () => {
    const { calc } = syncedCalc([namespaceProfile('shop'), web, api, allowFromApi]);
    put(
      calc,
      workload({
        name: 'web',
        namespace: 'shop',
        node: 'node-a',
        interfaceName: 'mgweb',
        ip: '10.0.1.5',
        labels: { app: 'other' },
      }),
    );
    const changes = calc.takeChanges();
    expect(changes.endpoints.get(web.key)?.tiers).toEqual([]);
    expect([...changes.rules]).toEqual([['policy:np.shop.allow-api', undefined]]);
    expect(changes.deletedSets).toEqual([API_IN_SHOP]);
  });

  test('deleting the policy removes its chains and sets and leaves the endpoint to its profiles', () => {
    const { calc } = syncedCalc([namespaceProfile('shop'), web, api, allowFromApi]);
    del(calc, allowFromApi);
    const changes = calc.takeChanges();
    expect([...changes.rules]).toEqual([['policy:np.shop.allow-api', undefined]]);
    expect(changes.deletedSets).toEqual([API_IN_SHOP]);
    expect(changes.endpoints.get(web.key)).toMatchObject({ tiers: [], profileIds: ['kns.shop'] });
    expect(calc.stats()).toEqual({
      localEndpoints: 1,
      localHostEndpoints: 0,
      activePolicies: 0,
      activeProfiles: 1,
      ipSets: 0,
    });
  });

  test('two policies sharing a selector share one set, which outlives the first of them', () => {
    const second = resource(
      'NetworkPolicy',
      'also-api',
      {
        selector: 'all()',
        order: 5,
        types: ['Ingress', 'Egress'],
        egress: [{ action: 'Allow', destination: { selector: 'app == "api"' } }],
      },
      'shop',
    );
    const { calc, first } = syncedCalc([web, api, allowFromApi, second]);
    expect(first.createdSets.map((s) => s.spec.name)).toEqual([API_IN_SHOP]);
    // Ordered by order (5 before unset), split by type.
    expect(first.endpoints.get(web.key)?.tiers).toEqual([
      {
        name: 'default',
        ingressPolicies: ['np.shop.also-api', 'np.shop.allow-api'],
        egressPolicies: ['np.shop.also-api'],
      },
    ]);
    del(calc, allowFromApi);
    const changes = calc.takeChanges();
    expect(changes.deletedSets).toEqual([]);
    expect(changes.endpoints.get(web.key)?.tiers).toEqual([
      { name: 'default', ingressPolicies: ['np.shop.also-api'], egressPolicies: ['np.shop.also-api'] },
    ]);
  });

  test('tiers: named tiers before default, policies by order then id; a policy only elsewhere is not rendered', () => {
    const gnp = (name: string, spec: object) => resource('GlobalNetworkPolicy', name, spec);
    const { first } = syncedCalc([
      web,
      api,
      gnp('z-late', { selector: 'app == "web"' }),
      gnp('b-first', { selector: 'all()', order: 1, types: ['Egress'] }),
      gnp('a-tiered', { selector: 'all()', tier: 'security', order: 100 }),
      gnp('api-only', { selector: 'app == "api"', order: 1 }),
    ]);
    expect(first.endpoints.get(web.key)?.tiers).toEqual([
      { name: 'security', ingressPolicies: ['gnp.a-tiered'], egressPolicies: [] },
      { name: 'default', ingressPolicies: ['gnp.z-late'], egressPolicies: ['gnp.b-first'] },
    ]);
    expect([...first.rules.keys()].sort()).toEqual([
      'policy:gnp.a-tiered',
      'policy:gnp.b-first',
      'policy:gnp.z-late',
    ]);
    // No profile kns.shop stored: the endpoint lists none.
    expect(first.endpoints.get(web.key)?.profileIds).toEqual([]);
  });

  test('a Kubernetes policy with a namespace selector: namespace labels come from the kns profile', () => {
    const policy = kubernetesPolicy('shop', 'from-prod', {
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { env: 'prod' } },
              podSelector: { matchLabels: { app: 'api' } },
            },
          ],
          ports: [{ protocol: 'TCP', port: 'http' }],
        },
      ],
    });
    const namedApi = workload({
      name: 'api',
      namespace: 'blog',
      node: 'node-b',
      interfaceName: 'mgapi2',
      ip: '10.0.2.9',
      labels: { app: 'api' },
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    });
    const { calc, first } = syncedCalc([
      namespaceProfile('shop'),
      namespaceProfile('blog', { env: 'dev' }),
      web,
      namedApi,
      policy,
    ]);
    const inProd = selectorSet('pcns.env == "prod" && app == "api"');
    expect(first.endpoints.get(web.key)?.tiers).toEqual([
      { name: 'default', ingressPolicies: ['np.shop.knp.default.from-prod'], egressPolicies: [] },
    ]);
    expect(first.createdSets.map((s) => s.spec.name)).toContain(inProd);
    expect(first.createdSets.find((s) => s.spec.name === inProd)?.members).toEqual([]);

    // The namespace is relabelled: its pods move into the set.
    put(calc, namespaceProfile('blog', { env: 'prod' }));
    const changes = calc.takeChanges();
    expect(changes.updatedSets).toEqual([{ name: inProd, added: ['10.0.2.9'], removed: [] }]);
    expect(changes.endpoints.size).toBe(0);
  });

  test('named ports: members are address,protocol:port of matching endpoints that expose the name', () => {
    const policy = resource(
      'NetworkPolicy',
      'to-metrics',
      {
        selector: 'all()',
        types: ['Egress'],
        egress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['metrics'] } }],
      },
      'shop',
    );
    const exporter = workload({
      name: 'exporter',
      namespace: 'shop',
      node: 'node-b',
      interfaceName: 'mgexp',
      ip: '10.0.2.20',
      ports: [
        { name: 'metrics', protocol: 'TCP', port: 9100 },
        { name: 'metrics', protocol: 'UDP', port: 9101 },
      ],
    });
    const { first } = syncedCalc([web, exporter, policy]);
    const named = first.createdSets.find((s) => s.spec.type === 'hash:ip,port');
    expect(named?.members).toEqual(['10.0.2.20,tcp:9100']);
  });

  test('a stored value that cannot be decoded is reported and ignored', () => {
    const problems: string[] = [];
    const { calc } = syncedCalc([web], problems);
    calc.apply('networkPolicies', {
      type: 'put',
      kv: {
        key: '/margay/resources/v1/networkpolicies/shop/bad',
        value: '{"kind":',
        createRevision: 9,
        modRevision: 9,
        version: 1,
      },
    });
    expect(problems).toEqual([
      expect.stringMatching(/^ignoring \/margay\/resources\/v1\/networkpolicies\/shop\/bad: .*invalid JSON/),
    ]);
    expect(calc.hasChanges).toBe(false);
  });

  test('a policy the renderer rejects is enforced with no rules (deny) and reported', () => {
    const problems: string[] = [];
    const rejecting = resource(
      'NetworkPolicy',
      'by-account',
      { selector: 'all()', ingress: [{ action: 'Allow', protocol: 'TCP' }] },
      'shop',
    );
    const picky = {
      ...renderer,
      renderPolicy: (model: Parameters<typeof renderPolicy>[0]) => {
        if (model.ingress.length > 0) throw new Error('rule 0: protocol TCP is not supported here');
        return renderPolicy(model);
      },
    };
    const calc = new PolicyCalculator({
      nodeName: 'node-a',
      renderer: picky,
      onProblem: (m) => problems.push(m),
    });
    put(calc, web);
    put(calc, rejecting);
    const first = calc.takeChanges();
    expect(problems).toEqual([expect.stringContaining('policy np.shop.by-account cannot be rendered')]);
    const chains = first.rules.get('policy:np.shop.by-account');
    expect(chains?.map((c) => c.rules.length)).toEqual([0, 0]);
    expect(first.endpoints.get(web.key)?.tiers[0]?.ingressPolicies).toEqual(['np.shop.by-account']);
  });

  test('pools feed the static configuration', () => {
    const { calc } = syncedCalc([]);
    put(calc, resource('IPPool', 'pods', { cidr: '10.0.0.0/16', natOutgoing: true }));
    put(calc, resource('IPPool', 'lb', { cidr: '10.9.0.0/24' }));
    expect(calc.takeChanges().staticConfig).toEqual({
      pools: ['10.0.0.0/16', '10.9.0.0/24'],
      natOutgoingPools: ['10.0.0.0/16'],
    });
    expect(calc.takeChanges().staticConfig).toBeUndefined();
  });
});
