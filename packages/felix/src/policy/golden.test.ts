// The whole policy path (decode → calc → render → manager → rule hashes) over a fixed, varied set
// of documents, compared line by line with a stored expectation (golden.expected.txt). Refactors
// for speed must not change one byte of what felix programs; this says where they did.
// After an intended change of output, regenerate with UPDATE_GOLDEN=1 and review the diff.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashRules } from '@margay/dataplane';
import { POLICY_SOURCES, PolicyCalculator } from './calc/policy-calculator';
import { DEFAULT_RENDERER } from './default-renderer';
import { PolicyManager } from './policy-manager';
import {
  FakeIpSets,
  FakeTable,
  kubernetesPolicy,
  namespaceProfile,
  resource,
  type StoredDocument,
  sourceOfKey,
  stored,
  workload,
} from './testing';

const EXPECTED = join(__dirname, 'golden.expected.txt');
const NODE = 'node-a';
const NAMESPACES = ['shop', 'bank', 'lab'];
const APPS = ['web', 'api', 'db', 'cache'];
const ROLES = ['frontend', 'backend'];

function pods(): StoredDocument[] {
  return Array.from({ length: 36 }, (_, i) => {
    const namespace = NAMESPACES[i % NAMESPACES.length]!;
    return workload({
      name: `pod-${i}`,
      namespace,
      node: i % 4 === 0 ? NODE : `node-${i % 5}`,
      interfaceName: `mgp${i}`,
      ip: `10.1.${Math.floor(i / 10)}.${i + 2}`,
      labels: { app: APPS[i % APPS.length]!, role: ROLES[i % ROLES.length]! },
      ...(i % 5 === 0 && {
        ports: [
          { name: 'http', protocol: 'TCP', port: 8080 + i },
          { name: 'dns', protocol: 'UDP', port: 53 },
        ],
      }),
    });
  });
}

/** Kubernetes policies of the benchmark's shapes, and Calico rules of every kind the renderer handles. */
function policies(): StoredDocument[] {
  const k8s = Array.from({ length: 12 }, (_, i) => {
    const namespace = NAMESPACES[i % NAMESPACES.length]!;
    const app = APPS[i % APPS.length]!;
    const peer = APPS[(i + 1) % APPS.length]!;
    const shapes = [
      { ingress: [{ from: [{ podSelector: { matchLabels: { app: peer } } }], ports: [{ port: 8080 }] }] },
      {
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { team: 't1' } },
                podSelector: { matchLabels: { role: 'frontend' } },
              },
            ],
            ports: [{ port: 443 }, { port: 8443 }],
          },
        ],
      },
      {
        ingress: [
          {
            from: [
              { namespaceSelector: { matchLabels: { env: 'prod' } } },
              { ipBlock: { cidr: '10.0.0.0/8', except: [`10.1.${i}.0/24`] } },
            ],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 9000, endPort: 9100 },
            ],
          },
        ],
      },
      {
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { role: 'backend' } } }] }],
        egress: [
          {
            to: [{ podSelector: { matchLabels: { app: peer } } }, { ipBlock: { cidr: '172.16.0.0/12' } }],
            ports: [{ port: 5432 }, { port: 'http' }],
          },
        ],
      },
    ];
    return kubernetesPolicy(namespace, `np-${i}`, {
      podSelector: { matchLabels: { app } },
      ...shapes[i % shapes.length],
    });
  });
  const manyPorts = Array.from({ length: 18 }, (_, i) =>
    i % 5 === 0 ? `${1000 + i}:${1010 + i}` : 2000 + i,
  );
  const calico = [
    resource(
      'NetworkPolicy',
      'calico-mixed',
      {
        selector: 'app == "web"',
        order: 10,
        types: ['Ingress', 'Egress'],
        ingress: [
          {
            action: 'Allow',
            protocol: 'TCP',
            source: { selector: 'role == "frontend"', notSelector: 'app == "db"' },
          },
          { action: 'Deny', protocol: 'UDP', destination: { ports: [53, 'dns', '5000:5010'] } },
          { action: 'Log', protocol: 'TCP', source: { ports: ['http', 'metrics'] } },
          { action: 'Pass', notProtocol: 'UDP', source: { nets: ['10.2.0.0/16', '10.3.0.0/16'] } },
          { action: 'Allow', protocol: 'TCP', destination: { ports: manyPorts } },
          { action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 } },
          { action: 'Deny', protocol: 'ICMP', notICMP: { type: 3 } },
          { action: 'Allow', protocol: 132, destination: { notPorts: [7, 'http'] } },
          { action: 'Allow', ipVersion: 6, protocol: 'TCP' },
          { action: 'Allow', source: { nets: ['fd00::/64'] } },
          { action: 'Deny', source: { notNets: ['10.9.0.0/16', 'fd00::/64'] } },
          { action: 'Allow', source: { namespaceSelector: 'all()', selector: 'has(role)' } },
        ],
        egress: [
          {
            action: 'Allow',
            protocol: 'TCP',
            destination: { selector: 'app in {"db", "cache"}', ports: [5432] },
          },
          { action: 'Log' },
          { action: 'Deny', destination: { namespaceSelector: 'pcns-env == "dev"' } },
        ],
      },
      'shop',
    ),
    resource('GlobalNetworkPolicy', 'security-first', {
      selector: 'has(app)',
      tier: 'security',
      order: 1,
      types: ['Ingress'],
      ingress: [
        { action: 'Pass', source: { selector: 'role == "frontend"' } },
        { action: 'Deny', protocol: 'TCP', destination: { ports: [22] } },
      ],
    }),
    resource('GlobalNetworkPolicy', 'db-egress', {
      selector: 'app == "db"',
      namespaceSelector: 'env == "prod"',
      types: ['Egress'],
      egress: [{ action: 'Deny', destination: { nets: ['0.0.0.0/0'] } }],
    }),
    resource('GlobalNetworkPolicy', 'host-ssh', {
      selector: 'host == "yes"',
      types: ['Ingress'],
      ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [22] } }],
    }),
    resource('IPPool', 'pods', { cidr: '10.0.0.0/14', natOutgoing: true }),
    resource('IPPool', 'plain', { cidr: '10.8.0.0/16', natOutgoing: false }),
    resource('HostEndpoint', `${NODE}-eth0`, {
      node: NODE,
      interfaceName: 'eth0',
      expectedIPs: ['192.0.2.10'],
    }),
    resource('FelixConfiguration', 'default', {
      failsafeInboundHostPorts: [{ protocol: 'TCP', port: 22 }],
      failsafeOutboundHostPorts: [{ protocol: 'UDP', port: 53 }],
    }),
  ];
  return [...k8s, ...calico];
}

function profiles(): StoredDocument[] {
  return NAMESPACES.map((name, i) =>
    namespaceProfile(name, { team: `t${i % 2}`, env: i === 0 ? 'prod' : 'dev' }),
  );
}

/** Everything programmed, in a stable order: chains with their hashed rules, hooks, set members. */
function dump(filter: FakeTable, nat: FakeTable, ipSets: FakeIpSets): string[] {
  const out: string[] = [];
  for (const table of [filter, nat]) {
    for (const name of [...table.chains.keys()].sort()) {
      out.push(`${table.name} ${name}`);
      for (const rule of hashRules(name, table.chains.get(name) ?? [])) out.push(`  ${rule.text}`);
    }
    for (const name of [...table.hooks.keys()].sort()) {
      out.push(`${table.name} hook ${name}`);
      for (const rule of table.hooks.get(name) ?? []) out.push(`  ${JSON.stringify(rule)}`);
    }
  }
  for (const name of [...ipSets.sets.keys()].sort()) {
    const set = ipSets.sets.get(name)!;
    out.push(`set ${name} ${set.spec.type} ${ipSets.members(name).join(' ')}`);
  }
  return out;
}

test('the policy path programs exactly the stored expectation (start, then changes)', async () => {
  const calc = new PolicyCalculator({ nodeName: NODE, renderer: DEFAULT_RENDERER });
  const filter = new FakeTable('filter');
  const nat = new FakeTable('nat');
  const ipSets = new FakeIpSets();
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
  const put = (doc: StoredDocument) => calc.apply(sourceOfKey(doc.key), { type: 'put', kv: stored(doc) });
  const del = (doc: StoredDocument) => {
    const kv = stored(doc);
    calc.apply(sourceOfKey(doc.key), { type: 'delete', key: doc.key, prev: kv, revision: kv.modRevision });
  };
  // Endpoints before and after the profiles and policies, as pages of several watches interleave.
  const podDocs = pods();
  const policyDocs = policies();
  for (const doc of podDocs.slice(0, 12)) put(doc);
  for (const doc of profiles()) put(doc);
  for (const doc of policyDocs.slice(0, 8)) put(doc);
  for (const doc of podDocs.slice(12)) put(doc);
  for (const doc of policyDocs.slice(8)) put(doc);
  for (const source of POLICY_SOURCES) calc.apply(source, { type: 'in-sync', revision: 1 });
  await manager.flush();
  const lines = ['# start', ...dump(filter, nat, ipSets)];

  // A label change, a policy update, a deleted pod and a deleted policy.
  put(
    workload({
      name: 'pod-1',
      namespace: 'bank',
      node: 'node-1',
      interfaceName: 'mgp1',
      ip: '10.1.0.3',
      labels: { app: 'web', role: 'frontend' },
    }),
  );
  put(
    kubernetesPolicy('shop', 'np-0', {
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 9999 }] }],
    }),
  );
  del(podDocs[3]!);
  del(policyDocs[5]!);
  await manager.flush();
  lines.push('# after changes', ...dump(filter, nat, ipSets), '# problems', ...errors);

  const actual = `${lines.join('\n')}\n`;
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(EXPECTED, actual);
  const expected = readFileSync(EXPECTED, 'utf8');
  // Line by line, so a difference is shown where it is.
  expect(actual.split('\n')).toEqual(expected.split('\n'));
  expect(lines.length).toBeGreaterThan(500);
});
