import type { Rule as PolicyRule } from '@margay/api';
import type { PolicyModel } from '../model';
import { PolicyRenderError } from './errors';
import { ipSetSpecFor } from './ipset-names';
import { renderPolicy, renderProfile } from './policy';
import { calicoRules, chainNamed, k8sPolicyModel, lines } from './testing';

const ACCEPT = ['-j MARK --set-xmark 0x10000/0x10000', '-m mark --mark 0x10000/0x10000 -j RETURN'];
const allow = (match: string) => [`${match} -j MARK --set-xmark 0x10000/0x10000`, ACCEPT[1]];
const sel = (selector: string) => ipSetSpecFor({ kind: 'selector', selector }).name;
const nets = (...list: string[]) => ipSetSpecFor({ kind: 'nets', nets: list }).name;
const namedPort = (selector: string, protocol: 'tcp' | 'udp' | 'sctp', port: string) =>
  ipSetSpecFor({ kind: 'named-port', selector, protocol, port }).name;

function ingressOf(model: PolicyModel): string[] {
  return lines(renderPolicy(model).chains[0]);
}
function egressOf(model: PolicyModel): string[] {
  return lines(renderPolicy(model).chains[1]);
}
const gnp = (ingress: unknown[], egress: unknown[] = [], id = 'gnp/p'): PolicyModel => ({
  id,
  ...calicoRules(ingress, egress),
});
const np = (ingress: unknown[], egress: unknown[] = []): PolicyModel => ({
  id: 'ns1/p',
  namespace: 'ns1',
  ...calicoRules(ingress, egress),
});

describe('Kubernetes NetworkPolicy shapes (converted by @margay/api, then rendered)', () => {
  test('chains are mg-pi-<id> and mg-po-<id>', () => {
    const { chains } = renderPolicy(k8sPolicyModel({ podSelector: {} }));
    expect(chains.map((c) => c.name)).toEqual(['mg-pi-ns1:knp.default.np', 'mg-po-ns1:knp.default.np']);
  });

  test('default deny ingress: empty chains (the endpoint chain drops at the end of the tier)', () => {
    const model = k8sPolicyModel({ podSelector: {} });
    expect(ingressOf(model)).toEqual([]);
    expect(egressOf(model)).toEqual([]);
  });

  test('default deny egress: policyTypes Egress and no rules', () => {
    const model = k8sPolicyModel({ podSelector: {}, policyTypes: ['Egress'] });
    expect(egressOf(model)).toEqual([]);
  });

  test('allow all ingress: one rule with no match', () => {
    expect(ingressOf(k8sPolicyModel({ podSelector: {}, ingress: [{}] }))).toEqual(ACCEPT);
  });

  test('podSelector alone: pods of the policy namespace', () => {
    const model = k8sPolicyModel({ ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }] }] });
    const set = sel('projectcalico.org/namespace == "ns1" && app == "a"');
    expect(ingressOf(model)).toEqual(allow(`-m set --match-set ${set} src`));
    expect(renderPolicy(model).ipSets).toEqual([
      { kind: 'selector', selector: 'projectcalico.org/namespace == "ns1" && app == "a"' },
    ]);
  });

  test('namespaceSelector alone: every pod of the matching namespaces ({} = any namespace)', () => {
    const some = k8sPolicyModel({
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'x' } } }] }],
    });
    expect(ingressOf(some)).toEqual(allow(`-m set --match-set ${sel('pcns.team == "x"')} src`));
    const any = k8sPolicyModel({ ingress: [{ from: [{ namespaceSelector: {} }] }] });
    expect(ingressOf(any)).toEqual(
      allow(`-m set --match-set ${sel('has(projectcalico.org/namespace)')} src`),
    );
  });

  test('podSelector AND namespaceSelector in one peer; separate peers are an OR (two rules)', () => {
    const and = k8sPolicyModel({
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: { app: 'a' } }, namespaceSelector: { matchLabels: { team: 'x' } } },
          ],
        },
      ],
    });
    expect(ingressOf(and)).toEqual(allow(`-m set --match-set ${sel('pcns.team == "x" && app == "a"')} src`));

    const or = k8sPolicyModel({
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: { app: 'a' } } },
            { namespaceSelector: { matchLabels: { team: 'x' } } },
          ],
        },
      ],
    });
    expect(ingressOf(or)).toEqual([
      ...allow(`-m set --match-set ${sel('projectcalico.org/namespace == "ns1" && app == "a"')} src`),
      ...allow(`-m set --match-set ${sel('pcns.team == "x"')} src`),
    ]);
  });

  test('matchExpressions', () => {
    const model = k8sPolicyModel({
      ingress: [
        {
          from: [
            {
              podSelector: {
                matchExpressions: [
                  { key: 'tier', operator: 'In', values: ['web', 'api'] },
                  { key: 'debug', operator: 'DoesNotExist' },
                ],
              },
            },
          ],
        },
      ],
    });
    const set = sel('projectcalico.org/namespace == "ns1" && (tier in {"web", "api"} && !has(debug))');
    expect(ingressOf(model)).toEqual(allow(`-m set --match-set ${set} src`));
  });

  test('ipBlock with except: nets set and negated notNets set', () => {
    const model = k8sPolicyModel({
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.2.0.0/16'] } }] }],
    });
    expect(egressOf(model)).toEqual(
      allow(
        `-m set --match-set ${nets('10.0.0.0/8')} dst -m set ! --match-set ${nets('10.1.0.0/16', '10.2.0.0/16')} dst`,
      ),
    );
  });

  test('ports by protocol: TCP, UDP and SCTP rules; an SCTP rule never matches TCP', () => {
    const model = k8sPolicyModel({
      ingress: [
        {
          ports: [
            { protocol: 'TCP', port: 80 },
            { protocol: 'UDP', port: 53 },
            { protocol: 'SCTP', port: 9000 },
            { protocol: 'TCP', port: 443 },
          ],
        },
      ],
    });
    expect(ingressOf(model)).toEqual([
      ...allow('-p tcp -m multiport --dports 80,443'),
      ...allow('-p udp -m multiport --dports 53'),
      ...allow('-p sctp -m multiport --dports 9000'),
    ]);
    const sctpOnly = ingressOf(k8sPolicyModel({ ingress: [{ ports: [{ protocol: 'SCTP', port: 80 }] }] }));
    expect(sctpOnly.join('\n')).not.toMatch(/tcp/);
    expect(sctpOnly[0]).toMatch(/^-p sctp /);
  });

  test('a protocol without ports: every port of that protocol', () => {
    expect(ingressOf(k8sPolicyModel({ ingress: [{ ports: [{ protocol: 'UDP' }] }] }))).toEqual(
      allow('-p udp'),
    );
  });

  test('endPort becomes a multiport range', () => {
    const model = k8sPolicyModel({ ingress: [{ ports: [{ protocol: 'TCP', port: 8000, endPort: 8080 }] }] });
    expect(ingressOf(model)).toEqual(allow('-p tcp -m multiport --dports 8000:8080'));
  });

  test('named port: an ip,port set of the endpoints exposing it', () => {
    const model = k8sPolicyModel({ ingress: [{ ports: [{ protocol: 'TCP', port: 'http' }] }] });
    expect(ingressOf(model)).toEqual(
      allow(`-p tcp -m set --match-set ${namedPort('all()', 'tcp', 'http')} dst,dst`),
    );
    expect(renderPolicy(model).ipSets).toEqual([
      { kind: 'named-port', selector: 'all()', protocol: 'tcp', port: 'http' },
    ]);
    expect(ipSetSpecFor({ kind: 'named-port', selector: 'all()', protocol: 'tcp', port: 'http' }).type).toBe(
      'hash:ip,port',
    );
  });

  test('egress to pods on a named port: the set holds the selected pods exposing it', () => {
    const model = k8sPolicyModel({
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 'pg' }] }],
    });
    const scoped = 'projectcalico.org/namespace == "ns1" && app == "db"';
    expect(egressOf(model)).toEqual(
      allow(
        `-p tcp -m set --match-set ${sel(scoped)} dst -m set --match-set ${namedPort(scoped, 'tcp', 'pg')} dst,dst`,
      ),
    );
  });

  test('peers × protocols: one rule per peer per protocol', () => {
    const model = k8sPolicyModel({
      ingress: [
        {
          from: [{ podSelector: {} }, { ipBlock: { cidr: '192.0.2.0/24' } }],
          ports: [
            { protocol: 'TCP', port: 80 },
            { protocol: 'UDP', port: 80 },
          ],
        },
      ],
    });
    const pods = sel('projectcalico.org/namespace == "ns1"'); // podSelector {}: the whole namespace
    expect(ingressOf(model)).toEqual([
      ...allow(`-p tcp -m set --match-set ${pods} src -m multiport --dports 80`),
      ...allow(`-p udp -m set --match-set ${pods} src -m multiport --dports 80`),
      ...allow(`-p tcp -m set --match-set ${nets('192.0.2.0/24')} src -m multiport --dports 80`),
      ...allow(`-p udp -m set --match-set ${nets('192.0.2.0/24')} src -m multiport --dports 80`),
    ]);
  });
});

describe('Calico rules', () => {
  test('actions: Deny drops, Pass sets the pass mark and returns, Log logs and goes on', () => {
    const model = gnp([
      { action: 'Log' },
      { action: 'Pass', protocol: 'UDP' },
      { action: 'Deny', protocol: 'TCP' },
    ]);
    expect(ingressOf(model)).toEqual([
      '-j LOG --log-prefix margay-policy: --log-level 5',
      '-p udp -j MARK --set-xmark 0x20000/0x20000',
      '-m mark --mark 0x20000/0x20000 -j RETURN',
      '-p tcp -j DROP',
    ]);
  });

  test('rule comments name the owner, direction, index and action', () => {
    const { chains } = renderPolicy(gnp([], [{ action: 'Deny' }]));
    expect(chainNamed(chains, 'mg-po-gnp:p').rules[0]?.comment).toBe('gnp/p egress rule 0 Deny');
  });

  test('a global policy selector is not scoped; namespaceSelector uses the namespace labels', () => {
    const model = gnp([
      { action: 'Allow', source: { selector: 'app == "a"' } },
      { action: 'Allow', source: { selector: 'app == "a"', namespaceSelector: 'team == "x"' } },
    ]);
    expect(ingressOf(model)).toEqual([
      ...allow(`-m set --match-set ${sel('app == "a"')} src`),
      ...allow(`-m set --match-set ${sel('pcns.team == "x" && app == "a"')} src`),
    ]);
  });

  test('notSelector: negated, the positive side scoped to the namespace', () => {
    const model = np([{ action: 'Allow', source: { notSelector: 'role == "bad"' } }]);
    expect(ingressOf(model)).toEqual(
      allow(
        `-m set --match-set ${sel('projectcalico.org/namespace == "ns1"')} src -m set ! --match-set ${sel('role == "bad"')} src`,
      ),
    );
  });

  test('a rule without selectors in a namespaced policy is not scoped (e.g. ports from anywhere)', () => {
    expect(ingressOf(np([{ action: 'Allow', protocol: 'TCP', destination: { ports: [22] } }]))).toEqual(
      allow('-p tcp -m multiport --dports 22'),
    );
  });

  test('source and destination nets, selectors and ports together', () => {
    const model = gnp([
      {
        action: 'Allow',
        protocol: 'TCP',
        source: { nets: ['10.0.0.0/8'], selector: 'a == "1"', ports: ['1000:2000'] },
        destination: { notNets: ['10.9.0.0/16'], notSelector: 'b == "2"', ports: [80, 443] },
      },
    ]);
    expect(ingressOf(model)).toEqual(
      allow(
        [
          '-p tcp',
          `-m set --match-set ${nets('10.0.0.0/8')} src`,
          `-m set ! --match-set ${nets('10.9.0.0/16')} dst`,
          `-m set --match-set ${sel('a == "1"')} src`,
          `-m set ! --match-set ${sel('b == "2"')} dst`,
          '-m multiport --sports 1000:2000',
          '-m multiport --dports 80,443',
        ].join(' '),
      ),
    );
  });

  test('notPorts: numbers and names all excluded in one rule', () => {
    const model = gnp([
      { action: 'Deny', protocol: 'TCP', destination: { notPorts: [22, '8000:9000', 'admin'] } },
    ]);
    expect(ingressOf(model)).toEqual([
      `-p tcp -m multiport ! --dports 22,8000:9000 -m set ! --match-set ${namedPort('all()', 'tcp', 'admin')} dst,dst -j DROP`,
    ]);
  });

  test('numbers mixed with named ports: alternatives that each set the mark, then one RETURN', () => {
    const model = gnp([{ action: 'Allow', protocol: 'TCP', destination: { ports: [80, 'http'] } }]);
    expect(ingressOf(model)).toEqual([
      '-p tcp -m multiport --dports 80 -j MARK --set-xmark 0x10000/0x10000',
      `-p tcp -m set --match-set ${namedPort('all()', 'tcp', 'http')} dst,dst -j MARK --set-xmark 0x10000/0x10000`,
      '-m mark --mark 0x10000/0x10000 -j RETURN',
    ]);
  });

  test('more than 15 port slots split into several multiport matches', () => {
    const ports = [...Array.from({ length: 14 }, (_, i) => 1000 + i), '2000:2100', 3000];
    const model = gnp([{ action: 'Deny', protocol: 'UDP', destination: { ports } }]);
    const rules = ingressOf(model);
    expect(rules).toEqual([
      `-p udp -m multiport --dports ${Array.from({ length: 14 }, (_, i) => 1000 + i).join(',')} -j DROP`,
      '-p udp -m multiport --dports 2000:2100,3000 -j DROP',
    ]);
    // Deny stays exact; not-ports past 15 slots are ANDed instead:
    const not = ingressOf(gnp([{ action: 'Deny', protocol: 'UDP', destination: { notPorts: ports } }]));
    expect(not).toEqual([
      `-p udp -m multiport ! --dports ${Array.from({ length: 14 }, (_, i) => 1000 + i).join(',')} -m multiport ! --dports 2000:2100,3000 -j DROP`,
    ]);
  });

  test('Log with alternatives logs once, through the scratch mark', () => {
    const model = gnp([{ action: 'Log', protocol: 'TCP', destination: { ports: [80, 'http'] } }]);
    expect(ingressOf(model)).toEqual([
      '-j MARK --set-xmark 0x0/0x40000',
      '-p tcp -m multiport --dports 80 -j MARK --set-xmark 0x40000/0x40000',
      `-p tcp -m set --match-set ${namedPort('all()', 'tcp', 'http')} dst,dst -j MARK --set-xmark 0x40000/0x40000`,
      '-m mark --mark 0x40000/0x40000 -j LOG --log-prefix margay-policy: --log-level 5',
      '-j MARK --set-xmark 0x0/0x40000',
    ]);
  });

  test('ICMP type and code, notICMP', () => {
    const model = gnp([
      { action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 } },
      { action: 'Deny', protocol: 'ICMP', icmp: { type: 3 }, notICMP: { type: 3, code: 4 } },
    ]);
    expect(ingressOf(model)).toEqual([
      ...allow('-p icmp -m icmp --icmp-type 8/0'),
      '-p icmp -m icmp --icmp-type 3 -m icmp ! --icmp-type 3/4 -j DROP',
    ]);
  });

  test('notProtocol and protocol numbers', () => {
    const model = gnp([
      { action: 'Deny', notProtocol: 'UDP' },
      { action: 'Allow', protocol: 47 },
      { action: 'Allow', protocol: 6, destination: { ports: [80] } },
      { action: 'Allow', protocol: 'TCP', notProtocol: 'UDP' },
    ]);
    expect(ingressOf(model)).toEqual([
      '! -p udp -j DROP',
      ...allow('-p 47'),
      ...allow('-p tcp -m multiport --dports 80'),
      ...allow('-p tcp'),
    ]);
  });

  test('IPv6-only rules do not render into the IPv4 chains; mixed nets keep the IPv4 ones', () => {
    const model = gnp([
      { action: 'Deny', ipVersion: 6 },
      { action: 'Deny', protocol: 'ICMPv6' },
      { action: 'Deny', source: { nets: ['2001:db8::/32'] } },
      { action: 'Deny', source: { nets: ['2001:db8::/32', '198.51.100.0/24'], notNets: ['2001:db8::/48'] } },
    ]);
    expect(ingressOf(model)).toEqual([`-m set --match-set ${nets('198.51.100.0/24')} src -j DROP`]);
  });

  test('sets are listed once each, across both directions', () => {
    const model = gnp(
      [
        { action: 'Allow', source: { selector: 'a == "1"' } },
        { action: 'Deny', source: { selector: 'a == "1"' } },
      ],
      [{ action: 'Allow', destination: { selector: 'a == "1"', nets: ['10.0.0.0/8'] } }],
    );
    expect(renderPolicy(model).ipSets).toEqual([
      { kind: 'selector', selector: 'a == "1"' },
      { kind: 'nets', nets: ['10.0.0.0/8'] },
    ]);
  });

  test('profiles render into mg-pri-/mg-pro- and are never namespace-scoped', () => {
    const rendered = renderProfile({
      id: 'kns.ns1',
      ...calicoRules([{ action: 'Allow', source: { selector: 'a == "1"' } }], [{ action: 'Allow' }]),
    });
    expect(rendered.chains.map((c) => c.name)).toEqual(['mg-pri-kns.ns1', 'mg-pro-kns.ns1']);
    expect(lines(rendered.chains[0])).toEqual(allow(`-m set --match-set ${sel('a == "1"')} src`));
    expect(lines(rendered.chains[1])).toEqual(ACCEPT);
  });

  test('the same model always renders the same text', () => {
    const make = () => renderPolicy(k8sPolicyModel({ ingress: [{ from: [{ podSelector: {} }] }] }));
    expect(make()).toEqual(make());
  });
});

describe('what cannot be rendered is an error naming policy, direction, rule and field', () => {
  const model = (rule: unknown): PolicyModel => ({
    id: 'ns1/bad',
    namespace: 'ns1',
    ingress: [{ action: 'Allow' }, rule as PolicyRule],
    egress: [],
  });
  const errorOf = (rule: unknown): PolicyRenderError => {
    try {
      renderPolicy(model(rule));
    } catch (error) {
      if (error instanceof PolicyRenderError) return error;
      throw error;
    }
    throw new Error('rendered without an error');
  };

  test('serviceAccounts', () => {
    const error = errorOf({ action: 'Allow', source: { serviceAccounts: { names: ['sa'] } } });
    expect(error.where).toEqual({
      owner: 'policy',
      id: 'ns1/bad',
      direction: 'ingress',
      ruleIndex: 1,
      field: 'source.serviceAccounts',
    });
    expect(error.message).toBe(
      'policy ns1/bad ingress rule 1: source.serviceAccounts: is not supported by margay',
    );
  });

  test.each<[string, unknown, string]>([
    ['unknown rule field', { action: 'Allow', http: { methods: ['GET'] } }, 'http'],
    [
      'unknown entity field',
      { action: 'Allow', destination: { services: { name: 'x' } } },
      'destination.services',
    ],
    ['ports without a protocol', { action: 'Allow', destination: { ports: [80] } }, 'destination.ports'],
    ['ports with ICMP', { action: 'Allow', protocol: 'ICMP', source: { notPorts: [80] } }, 'source.notPorts'],
    [
      'named port with UDPLite',
      { action: 'Allow', protocol: 'UDPLite', destination: { ports: ['x'] } },
      'destination.ports',
    ],
    ['icmp without protocol ICMP', { action: 'Allow', protocol: 'TCP', icmp: { type: 8 } }, 'icmp'],
    ['unknown action', { action: 'Reject' }, 'action'],
    ['bad selector', { action: 'Allow', source: { selector: 'a ==' } }, 'source.selector'],
  ])('%s', (_what, rule, field) => {
    expect(errorOf(rule).where.field).toBe(field);
  });
});
