import type { NetworkPolicySpec } from './resources/policy';
import { problemsOf } from './testing';
import { validateResource } from './validate';

const knp = (spec: unknown, metadata: Record<string, unknown> = { name: 'web', namespace: 'prod' }) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata,
  spec,
});
const convert = (spec: unknown) => validateResource(knp(spec)).spec as NetworkPolicySpec;

const tcp80 = { protocol: 'TCP', port: 80 };

describe('Kubernetes NetworkPolicy conversion', () => {
  test('becomes a namespaced NetworkPolicy named knp.default.<name>, order 1000', () => {
    const resource = validateResource(
      knp({ podSelector: {} }, { name: 'web', namespace: 'prod', labels: { a: 'b' } }),
    );
    expect(resource).toEqual({
      apiVersion: 'margay.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'knp.default.web', namespace: 'prod', labels: { a: 'b' } },
      spec: { tier: 'default', order: 1000, selector: 'all()', types: ['Ingress'], ingress: [], egress: [] },
    });
    expect(validateResource(knp({}, { name: 'web' })).metadata.namespace).toBe('default');
  });

  test.each<[string, unknown, Partial<NetworkPolicySpec>]>([
    [
      'default deny ingress: empty podSelector, no rules',
      { podSelector: {} },
      { selector: 'all()', types: ['Ingress'], ingress: [] },
    ],
    [
      'ingress: [] with Ingress allows nothing',
      { podSelector: {}, ingress: [] },
      { types: ['Ingress'], ingress: [] },
    ],
    [
      'default deny all',
      { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      { types: ['Ingress', 'Egress'], ingress: [], egress: [] },
    ],
    [
      'Egress is inferred only from egress rules',
      { podSelector: {}, egress: [{}] },
      { types: ['Ingress', 'Egress'], ingress: [], egress: [{ action: 'Allow' }] },
    ],
    [
      'an empty egress list infers no Egress',
      { podSelector: {}, egress: [] },
      { types: ['Ingress'], egress: [] },
    ],
    [
      'rules of a type not in policyTypes are dropped',
      { policyTypes: ['Egress'], ingress: [{}], egress: [{}] },
      { types: ['Egress'], ingress: [], egress: [{ action: 'Allow' }] },
    ],
    ['an empty rule allows everything', { ingress: [{}] }, { ingress: [{ action: 'Allow' }] }],
    [
      'podSelector: matchLabels and every matchExpressions operator, ANDed',
      {
        podSelector: {
          matchLabels: { app: 'web', 'app.kubernetes.io/part-of': 'shop' },
          matchExpressions: [
            { key: 'tier', operator: 'In', values: ['a', 'b'] },
            { key: 'env', operator: 'NotIn', values: ['dev'] },
            { key: 'canary', operator: 'Exists' },
            { key: 'legacy', operator: 'DoesNotExist' },
          ],
        },
      },
      {
        selector:
          'app == "web" && app.kubernetes.io/part-of == "shop" && tier in {"a", "b"} && env not in {"dev"} && has(canary) && !has(legacy)',
      },
    ],
    [
      'podSelector alone: pods of the same namespace',
      { ingress: [{ from: [{ podSelector: { matchLabels: { role: 'api' } } }] }] },
      { ingress: [{ action: 'Allow', source: { selector: 'role == "api"' } }] },
    ],
    [
      'empty podSelector peer: every pod of the same namespace',
      { ingress: [{ from: [{ podSelector: {} }] }] },
      { ingress: [{ action: 'Allow', source: { selector: 'all()' } }] },
    ],
    [
      'namespaceSelector alone: all pods of the selected namespaces',
      { ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }] }] },
      { ingress: [{ action: 'Allow', source: { namespaceSelector: 'team == "ops"' } }] },
    ],
    [
      'namespaceSelector {}: all namespaces',
      { ingress: [{ from: [{ namespaceSelector: {} }] }] },
      { ingress: [{ action: 'Allow', source: { namespaceSelector: 'all()' } }] },
    ],
    [
      'AND: podSelector and namespaceSelector in one peer make one rule with both',
      {
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { team: 'ops' } },
                podSelector: { matchLabels: { role: 'mon' } },
              },
            ],
          },
        ],
      },
      {
        ingress: [
          { action: 'Allow', source: { selector: 'role == "mon"', namespaceSelector: 'team == "ops"' } },
        ],
      },
    ],
    [
      'OR: the same selectors as two peers make two rules',
      {
        ingress: [
          {
            from: [
              { namespaceSelector: { matchLabels: { team: 'ops' } } },
              { podSelector: { matchLabels: { role: 'mon' } } },
            ],
          },
        ],
      },
      {
        ingress: [
          { action: 'Allow', source: { namespaceSelector: 'team == "ops"' } },
          { action: 'Allow', source: { selector: 'role == "mon"' } },
        ],
      },
    ],
    [
      'ipBlock with except: nets and notNets',
      { ingress: [{ from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }] }] },
      { ingress: [{ action: 'Allow', source: { nets: ['172.17.0.0/16'], notNets: ['172.17.1.0/24'] } }] },
    ],
    [
      'egress to an ipBlock on a port: both on the destination',
      { egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5978 }] }] },
      {
        types: ['Ingress', 'Egress'],
        egress: [{ action: 'Allow', protocol: 'TCP', destination: { nets: ['10.0.0.0/24'], ports: [5978] } }],
      },
    ],
    [
      'egress to pods on a port: selector and ports on the destination',
      { egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [tcp80] }] },
      {
        egress: [{ action: 'Allow', protocol: 'TCP', destination: { selector: 'app == "db"', ports: [80] } }],
      },
    ],
    [
      'ports: protocol defaults to TCP; one rule per protocol, ports of a protocol together',
      {
        ingress: [
          { ports: [{ port: 80 }, { protocol: 'UDP', port: 53 }, { port: 'https' }, { protocol: 'SCTP' }] },
        ],
      },
      {
        ingress: [
          { action: 'Allow', protocol: 'TCP', destination: { ports: [80, 'https'] } },
          { action: 'Allow', protocol: 'UDP', destination: { ports: [53] } },
          { action: 'Allow', protocol: 'SCTP' },
        ],
      },
    ],
    [
      'a port-less entry opens every port of its protocol',
      { ingress: [{ ports: [{ port: 80 }, { protocol: 'TCP' }, { port: 443 }] }] },
      { ingress: [{ action: 'Allow', protocol: 'TCP' }] },
    ],
    [
      'endPort makes a range',
      { ingress: [{ ports: [{ protocol: 'TCP', port: 32000, endPort: 32768 }] }] },
      { ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['32000:32768'] } }] },
    ],
    [
      'peers × protocols: every peer with every protocol',
      {
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { a: '1' } } }, { ipBlock: { cidr: '10.0.0.0/8' } }],
            ports: [tcp80, { protocol: 'UDP', port: 80 }],
          },
        ],
      },
      {
        ingress: [
          {
            action: 'Allow',
            protocol: 'TCP',
            source: { selector: 'a == "1"' },
            destination: { ports: [80] },
          },
          {
            action: 'Allow',
            protocol: 'UDP',
            source: { selector: 'a == "1"' },
            destination: { ports: [80] },
          },
          {
            action: 'Allow',
            protocol: 'TCP',
            source: { nets: ['10.0.0.0/8'] },
            destination: { ports: [80] },
          },
          {
            action: 'Allow',
            protocol: 'UDP',
            source: { nets: ['10.0.0.0/8'] },
            destination: { ports: [80] },
          },
        ],
      },
    ],
    [
      'separate K8s rules stay separate',
      { ingress: [{ ports: [tcp80] }, { from: [{ podSelector: {} }] }] },
      {
        ingress: [
          { action: 'Allow', protocol: 'TCP', destination: { ports: [80] } },
          { action: 'Allow', source: { selector: 'all()' } },
        ],
      },
    ],
  ])('%s', (_, spec, expected) => {
    // Exact comparison of the fields the case is about (toMatchObject would allow extra rule fields).
    const converted = convert(spec);
    const fields = Object.keys(expected) as (keyof NetworkPolicySpec)[];
    expect(Object.fromEntries(fields.map((field) => [field, converted[field]]))).toEqual(expected);
  });

  test.each([
    [
      { ingress: [{ ports: [{ port: 'http', endPort: 90 }] }] },
      'spec.ingress[0].ports[0].endPort: is only allowed with a numeric port',
    ],
    [
      { ingress: [{ ports: [{ endPort: 90 }] }] },
      'spec.ingress[0].ports[0].endPort: is only allowed with a numeric port',
    ],
    [
      { ingress: [{ ports: [{ port: 90, endPort: 80 }] }] },
      'spec.ingress[0].ports[0].endPort: must be >= port 90 (got 80)',
    ],
    [
      { ingress: [{ ports: [{ port: '80:90' }] }] },
      'spec.ingress[0].ports[0].port: must be a number or a port name; use endPort for a range',
    ],
    [
      { ingress: [{ ports: [{ protocol: 'ICMP' }] }] },
      'spec.ingress[0].ports[0].protocol: must be one of TCP, UDP, SCTP (got "ICMP")',
    ],
    [
      { ingress: [{ ports: [{ protocol: 'tcp', port: 80 }] }] },
      'spec.ingress[0].ports[0].protocol: must be one of TCP, UDP, SCTP (got "tcp")',
    ],
    [
      { ingress: [{ ports: [{ port: 0 }] }] },
      'spec.ingress[0].ports[0].port: port must be from 1 to 65535 (got 0)',
    ],
    [
      { podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } },
      'spec.podSelector.matchExpressions[0].values: In needs at least one value',
    ],
    [
      { podSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } },
      'spec.podSelector.matchExpressions[0].values: Exists takes no values',
    ],
    [
      { podSelector: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] } },
      'spec.podSelector.matchExpressions[0].operator: must be one of In, NotIn, Exists, DoesNotExist (got "Equals")',
    ],
    [
      { podSelector: { matchLabels: { app: 'a b' } } },
      'spec.podSelector.matchLabels.app: value "a b" must be at most 63 characters of letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
    ],
    [{ ingress: [{ from: [{}] }] }, 'spec.ingress[0].from[0]: set podSelector, namespaceSelector or ipBlock'],
    [
      { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] },
      'spec.ingress[0].from[0].ipBlock: ipBlock cannot be combined with selectors',
    ],
    [
      { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/16'] } }] }] },
      'spec.ingress[0].from[0].ipBlock.except[0]: must be a strict subset of 10.0.0.0/8',
    ],
    [
      { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/8'] } }] }] },
      'spec.ingress[0].from[0].ipBlock.except[0]: must be a strict subset of 10.0.0.0/8',
    ],
    [
      { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.1/8' } }] }] },
      'spec.ingress[0].from[0].ipBlock.cidr: "10.0.0.1/8" is not masked (host bits are set): did you mean 10.0.0.0/8?',
    ],
    [
      { policyTypes: ['Ingress', 'egress'] },
      'spec.policyTypes[1]: must be one of Ingress, Egress (got "egress")',
    ],
    [{ podselector: {} }, 'spec: unknown field "podselector" (did you mean "podSelector"?)'],
    [{ ingress: [{ to: [] }] }, 'spec.ingress[0]: unknown field "to" (allowed: from, ports)'],
  ])('%j → %s', (spec, problem) => {
    expect(problemsOf(knp(spec))).toEqual([problem]);
  });

  test('issues name the Kubernetes document', () => {
    expect(() => validateResource(knp({ ingress: [{ ports: [{ port: 0 }] }] }), 'netpol.yaml', 2)).toThrow(
      'netpol.yaml: document 2 (NetworkPolicy web): spec.ingress[0].ports[0].port: port must be from 1 to 65535 (got 0)',
    );
  });
});
