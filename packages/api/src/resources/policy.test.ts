import { doc, problemsOf } from '../testing';
import { validateResource } from '../validate';

const policy = (spec: unknown, kind = 'NetworkPolicy') =>
  validateResource(doc(kind, spec)).spec as Record<string, unknown>;
const allow = { action: 'Allow' };

describe('NetworkPolicy', () => {
  test('defaults: tier default, selector all(), no rules, types Ingress', () => {
    expect(policy({})).toEqual({
      tier: 'default',
      selector: 'all()',
      types: ['Ingress'],
      ingress: [],
      egress: [],
    });
  });

  test.each([
    [{ ingress: [allow] }, ['Ingress']],
    [{ egress: [allow] }, ['Egress']],
    [{ ingress: [allow], egress: [allow] }, ['Ingress', 'Egress']],
    [{}, ['Ingress']],
    [{ types: ['Egress'] }, ['Egress']],
    [{ types: ['Ingress', 'Egress'] }, ['Ingress', 'Egress']],
    [{ types: [], egress: [allow] }, ['Egress']],
  ])('types of %j are %j', (spec, types) => {
    expect(policy(spec)).toMatchObject({ types });
  });

  test('a full rule round-trips, with values normalised', () => {
    const spec = policy({
      order: 100.5,
      selector: 'role == "db"',
      ingress: [
        {
          action: 'Allow',
          protocol: 'tcp',
          source: { selector: 'role == "api"', namespaceSelector: 'env == "prod"', notNets: ['10.1.0.0/16'] },
          destination: { ports: [5432, '6000:6010', 'metrics'], notPorts: ['6005'] },
        },
        { action: 'Deny', protocol: 'ICMP', icmp: { type: 8, code: 0 } },
        { action: 'Log', ipVersion: 6, source: { nets: ['fd00::1'] } },
        {
          action: 'Pass',
          notProtocol: 17,
          destination: { serviceAccounts: { names: ['api'], selector: 'team == "x"' } },
        },
      ],
    });
    expect(spec.ingress).toEqual([
      {
        action: 'Allow',
        protocol: 'TCP',
        source: { selector: 'role == "api"', namespaceSelector: 'env == "prod"', notNets: ['10.1.0.0/16'] },
        destination: { ports: [5432, '6000:6010', 'metrics'], notPorts: [6005] },
      },
      { action: 'Deny', protocol: 'ICMP', icmp: { type: 8, code: 0 } },
      { action: 'Log', ipVersion: 6, source: { nets: ['fd00::1/128'] } },
      {
        action: 'Pass',
        notProtocol: 17,
        destination: { serviceAccounts: { names: ['api'], selector: 'team == "x"' } },
      },
    ]);
  });

  test.each([
    [
      { ingress: [{ action: 'Accept' }] },
      'spec.ingress[0].action: must be one of Allow, Deny, Log, Pass (got "Accept")',
    ],
    [{ ingress: [{}] }, 'spec.ingress[0].action: required: one of Allow, Deny, Log, Pass'],
    [
      { ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80, 0] } }] },
      'spec.ingress[0].destination.ports[1]: port must be from 1 to 65535 (got 0)',
    ],
    [
      { ingress: [{ action: 'Allow', destination: { ports: [80] } }] },
      'spec.ingress[0].destination.ports: ports need protocol TCP, UDP, SCTP or UDPLite',
    ],
    [
      { egress: [{ action: 'Allow', protocol: 'ICMP', source: { notPorts: [80] } }] },
      'spec.egress[0].source.notPorts: ports need protocol TCP, UDP, SCTP or UDPLite',
    ],
    [
      { ingress: [{ action: 'Allow', protocol: 'GRE' }] },
      'spec.ingress[0].protocol: must be one of TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1-255 (got "GRE")',
    ],
    [
      { ingress: [{ action: 'Allow', protocol: 256 }] },
      'spec.ingress[0].protocol: protocol number must be from 1 to 255 (got 256)',
    ],
    [
      { ingress: [{ action: 'Allow', protocol: 'TCP', icmp: { type: 8 } }] },
      'spec.ingress[0].icmp: needs protocol ICMP or ICMPv6',
    ],
    [
      { ingress: [{ action: 'Allow', protocol: 'ICMP', ipVersion: 6, icmp: { type: 8 } }] },
      'spec.ingress[0].icmp: protocol ICMP does not match ipVersion 6',
    ],
    [
      { ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { code: 1 } }] },
      'spec.ingress[0].icmp.code: a code needs a type',
    ],
    [
      { ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 255 } }] },
      'spec.ingress[0].icmp.type: must be an integer from 0 to 254 (got 255)',
    ],
    [{ ingress: [{ action: 'Allow', ipVersion: 5 }] }, 'spec.ingress[0].ipVersion: must be 4 or 6 (got 5)'],
    [
      { ingress: [{ action: 'Allow', ipVersion: 4, source: { nets: ['fd00::/8'] } }] },
      'spec.ingress[0].source.nets[0]: an IPv6 network in a rule with ipVersion 4',
    ],
    [
      { ingress: [{ action: 'Allow', source: { nets: ['10.0.0.1/8'] } }] },
      'spec.ingress[0].source.nets[0]: "10.0.0.1/8" is not masked (host bits are set): did you mean 10.0.0.0/8?',
    ],
    [
      { ingress: [{ action: 'Allow', source: { selector: 'a ==' } }] },
      'spec.ingress[0].source.selector: invalid selector "a ==": unexpected end of selector, expected a quoted string at position 4',
    ],
    [
      { ingress: [{ action: 'Allow', http: { methods: ['GET'] } }] },
      'spec.ingress[0]: unknown field "http" (allowed: action, ipVersion, protocol, notProtocol, icmp, notICMP, source, destination, metadata)',
    ],
    [
      { ingress: [{ action: 'Allow', destination: { port: [80] } }] },
      'spec.ingress[0].destination: unknown field "port" (did you mean "ports"?)',
    ],
    [{ types: ['Ingress', 'Ingress'] }, 'spec.types: lists a type more than once'],
    [{ types: ['ingress'] }, 'spec.types[0]: must be one of Ingress, Egress (got "ingress")'],
    [
      { types: ['Ingress'], egress: [allow] },
      'spec.egress: has rules but types does not include Egress, so they would never apply',
    ],
    [{ order: 'first' }, 'spec.order: expected a number (got "first")'],
    [
      { tier: 'Security' },
      'spec.tier: "Security" is not a valid name: use lower-case letters, digits, "-" and ".", starting and ending with a letter or digit',
    ],
  ])('%j → %s', (spec, problem) => {
    expect(problemsOf(doc('NetworkPolicy', spec))).toEqual([problem]);
  });

  test('every problem in a policy is reported at once', () => {
    const problems = problemsOf(
      doc('NetworkPolicy', {
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80, '90:80'] } }],
        egress: [{ action: 'Maybe' }],
      }),
    );
    expect(problems).toEqual([
      'spec.ingress[0].destination.ports[1]: port range "90:80" has its start after its end',
      'spec.egress[0].action: must be one of Allow, Deny, Log, Pass (got "Maybe")',
    ]);
  });
});

describe('GlobalNetworkPolicy', () => {
  test('defaults include the GNP-only flags', () => {
    expect(policy({ namespaceSelector: 'has(projectcalico.org/name)' }, 'GlobalNetworkPolicy')).toEqual({
      tier: 'default',
      selector: 'all()',
      namespaceSelector: 'has(projectcalico.org/name)',
      types: ['Ingress'],
      ingress: [],
      egress: [],
      doNotTrack: false,
      preDNAT: false,
      applyOnForward: false,
    });
  });

  test('a preDNAT host policy', () => {
    const spec = { preDNAT: true, applyOnForward: true, selector: 'has(host-endpoint)', ingress: [allow] };
    expect(policy(spec, 'GlobalNetworkPolicy')).toMatchObject({ ...spec, types: ['Ingress'] });
  });

  test.each([
    [
      { doNotTrack: true, preDNAT: true, applyOnForward: true },
      'spec.preDNAT: doNotTrack and preDNAT cannot both be true',
    ],
    [{ doNotTrack: true }, 'spec.applyOnForward: must be true for doNotTrack and preDNAT policies'],
    [
      { preDNAT: true, applyOnForward: true, egress: [allow] },
      'spec.egress: preDNAT policies apply to ingress only',
    ],
  ])('%j → %s', (spec, problem) => {
    expect(problemsOf(doc('GlobalNetworkPolicy', spec))).toEqual([problem]);
  });

  test('a namespace on a global policy is an error', () => {
    expect(problemsOf(doc('GlobalNetworkPolicy', {}, { name: 'g', namespace: 'x' }))).toEqual([
      'metadata.namespace: GlobalNetworkPolicy is cluster-scoped and takes no namespace',
    ]);
  });
});

describe('Profile', () => {
  test('rules and labels to apply', () => {
    expect(
      policy({ labelsToApply: { 'projectcalico.org/name': 'prod' }, ingress: [allow] }, 'Profile'),
    ).toEqual({
      labelsToApply: { 'projectcalico.org/name': 'prod' },
      ingress: [allow],
      egress: [],
    });
    expect(problemsOf(doc('Profile', { labelsToApply: { 'a b': 'c' } }))[0]).toMatch(
      /^spec.labelsToApply\["a b"\]: key "a b"/,
    );
  });
});
