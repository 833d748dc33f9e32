// The rendered text against the real iptables-restore: a large, varied sample (every rule feature,
// Kubernetes policy shapes, hundreds of endpoints, dispatch bins, static chains and hooks) is
// loaded into a fresh network namespace, after creating the IP sets it refers to there.

import type { Chain, IpSetSpec } from '@margay/dataplane';
import { NetworkNamespace, Table } from '@margay/dataplane';
import { requireCommand, requireRoot } from '@margay/testkit';
import type { EndpointModel, PolicyModel, ProfileModel } from '../model';
import { renderDispatch } from './dispatch';
import { renderEndpoint } from './endpoint';
import { renderHostEndpoint, renderHostEndpointDispatch } from './host-endpoint';
import { ipSetSpecFor } from './ipset-names';
import { renderPolicy, renderProfile } from './policy';
import { renderStatic } from './static';
import { calicoRules, k8sPolicyModel, restoreScript } from './testing';

const K8S_SPECS: unknown[] = [
  { podSelector: {} },
  { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}] },
  { ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }] }] },
  { ingress: [{ from: [{ namespaceSelector: {} }] }] },
  {
    ingress: [
      {
        from: [
          { podSelector: { matchLabels: { app: 'a' } }, namespaceSelector: { matchLabels: { t: 'x' } } },
        ],
      },
      {
        from: [
          { podSelector: { matchLabels: { app: 'b' } } },
          { namespaceSelector: { matchLabels: { t: 'y' } } },
        ],
      },
    ],
  },
  {
    policyTypes: ['Egress'],
    egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.2.0.0/16'] } }] }],
  },
  {
    ingress: [
      {
        ports: [
          { protocol: 'TCP', port: 80 },
          { protocol: 'UDP', port: 53 },
          { protocol: 'SCTP', port: 9000 },
          { protocol: 'TCP', port: 8000, endPort: 8080 },
          { protocol: 'TCP', port: 'http' },
          { protocol: 'UDP', port: 'dns' },
          { protocol: 'SCTP', port: 'sig' },
        ],
      },
    ],
  },
  {
    policyTypes: ['Egress'],
    egress: [
      {
        to: [{ podSelector: { matchExpressions: [{ key: 'x', operator: 'Exists' }] } }],
        ports: [{ port: 'pg' }],
      },
    ],
  },
];

const CALICO_RULES: unknown[] = [
  { action: 'Log' },
  { action: 'Pass', protocol: 'UDP' },
  { action: 'Deny', notProtocol: 'TCP' },
  { action: 'Allow', protocol: 47 },
  { action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 } },
  { action: 'Deny', protocol: 'ICMP', icmp: { type: 3 }, notICMP: { type: 3, code: 4 } },
  {
    action: 'Allow',
    protocol: 'TCP',
    source: {
      nets: ['10.0.0.0/8'],
      notNets: ['10.9.0.0/16'],
      selector: 'a == "1"',
      notSelector: 'b == "2"',
      ports: ['1000:2000'],
    },
    destination: {
      namespaceSelector: 'env in {"prod"}',
      ports: [80, 443, 'http'],
      notPorts: [8443, 'admin'],
    },
  },
  {
    action: 'Deny',
    protocol: 'UDP',
    destination: { ports: [...Array.from({ length: 20 }, (_, i) => 2000 + i), '3000:3100'] },
  },
  { action: 'Log', protocol: 'TCP', destination: { ports: [22, 'ssh'] } },
  { action: 'Allow', protocol: 'UDPLite', destination: { ports: [5000] } },
];

function sample(): { policies: PolicyModel[]; profiles: ProfileModel[]; endpoints: EndpointModel[] } {
  const policies: PolicyModel[] = [];
  for (let n = 0; n < 30; n++) {
    policies.push(...K8S_SPECS.map((spec, i) => k8sPolicyModel(spec, `ns${n}`, `policy-${i}`)));
    const rules = calicoRules(CALICO_RULES, CALICO_RULES);
    policies.push({ id: `ns${n}/calico-${n}`, namespace: `ns${n}`, ...rules });
    policies.push({ id: `gnp/global-with-a-rather-long-name-${n}`, ...rules });
  }
  const profiles: ProfileModel[] = Array.from({ length: 30 }, (_, n) => ({
    id: `kns.ns${n}`,
    ...calicoRules([{ action: 'Allow' }], [{ action: 'Allow' }]),
  }));
  const endpoints: EndpointModel[] = Array.from({ length: 250 }, (_, i) => {
    const n = i % 30;
    const local = policies.filter((p) => p.namespace === `ns${n}`).map((p) => p.id);
    return {
      interfaceName: `mg${(i * 2654435761).toString(16).slice(-11).padStart(11, '0')}`,
      tiers: [
        {
          name: 'security',
          ingressPolicies: [`gnp/global-with-a-rather-long-name-${n}`],
          egressPolicies: [],
        },
        { name: 'default', ingressPolicies: local, egressPolicies: local.slice(0, 3) },
      ],
      profileIds: [`kns.ns${n}`],
      addresses:
        i % 10 === 0
          ? [`10.65.${i >> 8}.${i & 255}/32`, `10.66.0.${i & 255}/32`]
          : [`10.65.${i >> 8}.${i & 255}/32`],
    };
  });
  return { policies, profiles, endpoints };
}

function ipSetScript(sets: readonly IpSetSpec[], members: ReadonlyMap<string, readonly string[]>): string {
  const lines = sets.map((set) => `create ${set.name} ${set.type}`);
  for (const [name, list] of members) for (const member of list) lines.push(`add ${name} ${member}`);
  return `${lines.join('\n')}\n`;
}

describe('rendered chains against the real iptables-restore', () => {
  let netns: NetworkNamespace | undefined;

  beforeAll(async () => {
    requireRoot('the iptables-restore syntax test');
    requireCommand('iptables-restore', 'iptables');
    requireCommand('ipset', 'ipset');
    netns = await NetworkNamespace.create('mgrender');
  });

  afterAll(async () => {
    // ipsets and iptables rules live in the namespace and go with it.
    await netns?.delete();
  });

  async function run(argv: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
    if (netns === undefined) throw new Error('no namespace');
    return netns.runner.run(argv, input);
  }

  function renderSample() {
    const { policies, profiles, endpoints } = sample();
    const filter: Chain[] = [];
    const sets = new Map<string, IpSetSpec>();
    for (const rendered of [...policies.map(renderPolicy), ...profiles.map(renderProfile)]) {
      filter.push(...rendered.chains);
      for (const ref of rendered.ipSets) sets.set(ipSetSpecFor(ref).name, ipSetSpecFor(ref));
    }
    for (const endpoint of endpoints) filter.push(...renderEndpoint(endpoint));
    filter.push(...renderDispatch(endpoints));
    const hostEndpoint = { interfaceName: 'eth9', tiers: [], profileIds: [] };
    filter.push(...renderHostEndpoint(hostEndpoint), ...renderHostEndpointDispatch([hostEndpoint]));
    const statics = renderStatic({
      pools: ['10.65.0.0/16', '10.66.0.0/16'],
      natOutgoingPools: ['10.65.0.0/16'],
      hostEndpoints: [{ interfaceName: 'eth9' }],
    });
    filter.push(...statics.filter.chains);
    for (const { spec } of statics.ipSets) sets.set(spec.name, spec);
    const members = new Map(statics.ipSets.map(({ spec, members }) => [spec.name, members]));
    return { filter, statics, sets, members };
  }

  async function countRules(table: string): Promise<Map<string, number>> {
    const saved = await run(['iptables-save', '-t', table]);
    expect(saved.code).toBe(0);
    const counts = new Map<string, number>();
    for (const line of saved.stdout.split('\n')) {
      const chain = /^-A (\S+) /.exec(line)?.[1];
      if (chain !== undefined) counts.set(chain, (counts.get(chain) ?? 0) + 1);
    }
    return counts;
  }

  test('a large sample loads: --test, then for real, and reads back rule for rule', async () => {
    const { filter, statics, sets, members } = renderSample();
    const created = await run(['ipset', 'restore'], ipSetScript([...sets.values()], members));
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);

    const filterText = restoreScript('filter', filter, statics.filter.hooks);
    const natText = restoreScript('nat', statics.nat.chains, statics.nat.hooks);
    const ruleCount = filter.reduce((sum, chain) => sum + chain.rules.length, 0);
    expect(ruleCount).toBeGreaterThan(10_000);
    expect(new Set(filter.map((c) => c.name)).size).toBe(filter.length); // no chain twice

    for (const text of [filterText, natText]) {
      const tested = await run(['iptables-restore', '--test', '--noflush'], text);
      expect(tested.stderr).toBe('');
      expect(tested.code).toBe(0);
      const applied = await run(['iptables-restore', '--noflush'], text);
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
    }

    const counts = await countRules('filter');
    for (const chain of filter)
      expect([chain.name, counts.get(chain.name) ?? 0]).toEqual([chain.name, chain.rules.length]);
    // The hook: established workload flows accepted (in and out), then the jump to mg-FORWARD.
    expect(counts.get('FORWARD')).toBe(3);
    const nat = await run(['iptables-save', '-t', 'nat']);
    expect(nat.stdout).toMatch(/-A POSTROUTING -j mg-nat-outgoing/);
    expect(nat.stdout).toMatch(
      /-A mg-nat-outgoing -m set --match-set mg4-masq-pools src -m set ! --match-set mg4-all-pools dst .*-j MASQUERADE/,
    );
  });

  test("the dataplane's Table accepts and writes the same sample", async () => {
    // The sets exist from the previous test; start from empty tables.
    for (const table of ['filter', 'nat']) expect((await run(['iptables', '-t', table, '-F'])).code).toBe(0);
    for (const table of ['filter', 'nat']) expect((await run(['iptables', '-t', table, '-X'])).code).toBe(0);
    if (netns === undefined) throw new Error('no namespace');
    const { filter, statics } = renderSample();
    const filterTable = new Table({ runner: netns.runner, name: 'filter' });
    filterTable.updateChains(filter);
    for (const hook of statics.filter.hooks) filterTable.setHooks(hook.kernelChain, hook.rules);
    const natTable = new Table({ runner: netns.runner, name: 'nat' });
    natTable.updateChains(statics.nat.chains);
    for (const hook of statics.nat.hooks) natTable.setHooks(hook.kernelChain, hook.rules);
    expect((await filterTable.apply()).chainsWritten).toBeGreaterThanOrEqual(filter.length);
    expect((await natTable.apply()).chainsWritten).toBeGreaterThanOrEqual(statics.nat.chains.length);
    const counts = await countRules('filter');
    for (const chain of filter)
      expect([chain.name, counts.get(chain.name) ?? 0]).toEqual([chain.name, chain.rules.length]);
    // The hook: established workload flows accepted (in and out), then the jump to mg-FORWARD.
    expect(counts.get('FORWARD')).toBe(3);
  });

  test('the check can fail: a rule naming a set that does not exist is rejected', async () => {
    const chain: Chain = {
      name: 'mg-pi-broken',
      rules: [{ match: '-m set --match-set mg4-s-doesnotexist src', action: '-j DROP' }],
    };
    const tested = await run(['iptables-restore', '--test', '--noflush'], restoreScript('filter', [chain]));
    expect(tested.code).not.toBe(0);
  });
});
