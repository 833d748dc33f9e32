import { encodeResource, type Resource, validateResource } from '@margay/api';
import { isCanonicalPort, readPolicyResource } from './policy-reader';

/** The schema's verdict: the resource, or undefined when it rejects the value. */
function bySchema(value: unknown): Resource | undefined {
  try {
    return validateResource(structuredClone(value), 'datastore');
  } catch {
    return undefined;
  }
}

/** A stored value: what margayctl wrote after validating (canonical JSON). */
const stored = (value: unknown) => JSON.parse(encodeResource(validateResource(value, 'test')));

// A small seeded generator, so a failure names a seed that reproduces it.
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const chance = (p: number) => next() < p;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  /** Mostly one of `usual`, now and then one of `odd`. */
  const mostly = (usual: readonly unknown[], odd: readonly unknown[]): unknown =>
    chance(0.04) ? pick(odd) : pick(usual);
  return { next, chance, pick, mostly };
}
type Random = ReturnType<typeof random>;

// Each pool mixes the canonical forms the fast reader takes with forms only the schema takes
// (normalised on the way) and values the schema rejects.
const SELECTORS = [
  'all()',
  'app == "web"',
  'has(app)',
  'role in {"a", "b"} && !has(x)',
  'env != "prod" || tier == "db"',
];
const BAD_SELECTORS = ['app ==', '', 'app == "web" &&'];
const NETS = [
  '10.0.0.0/8',
  '10.1.2.3/32',
  '0.0.0.0/0',
  '10.1.2.3',
  'fd00::/8',
  '10.1.2.3/24',
  '010.0.0.0/8',
  'x',
];
const PORTS: unknown[] = [80, 8080, 65535, '9000:9100', 'http', 'dns-tcp', '80', '9100:9000', '09000:9100'];
const BAD_PORTS: unknown[] = [0, 70000, 1.5, 'Http', 'a--b', '1:99999', null];
const PORT_PROTOCOLS: unknown[] = ['TCP', 'UDP', 'SCTP', 'UDPLite', 6, 17, 132, 'tcp', '6'];
const PROTOCOLS: unknown[] = [...PORT_PROTOCOLS, 'ICMP', 'ICMPv6', 1, 58];
const BAD_PROTOCOLS: unknown[] = [0, 256, 'tcpx', 1.5];
const NAMES = ['np-1', 'knp.default.np-2', 'a', 'web.allow', 'Bad_Name', ''];
const NAMESPACES = ['shop', 'ns-3', 'default', 'Bad.NS'];
const LABELS: unknown[] = [
  { app: 'web' },
  { 'example.com/team': 'a', env: '' },
  { app: 'bad value!' },
  { app: 3 },
];
const JUNK: unknown[] = [null, 7, -1, 'x', '', [], {}, true, 'app ==', '10.0.0.1/33', ['Ingress'], [{}], 1.5];

function genEntity(r: Random, withPorts: boolean): Record<string, unknown> {
  const entity: Record<string, unknown> = {};
  const net = () => r.mostly(NETS.slice(0, 5), NETS.slice(5));
  if (r.chance(0.4)) entity['nets'] = Array.from({ length: 1 + Math.floor(r.next() * 2) }, net);
  if (r.chance(0.2)) entity['notNets'] = [net()];
  if (r.chance(0.4)) entity['selector'] = r.mostly(SELECTORS, BAD_SELECTORS);
  if (r.chance(0.1)) entity['notSelector'] = r.mostly(SELECTORS, BAD_SELECTORS);
  if (r.chance(0.25)) entity['namespaceSelector'] = r.mostly(SELECTORS, BAD_SELECTORS);
  if (withPorts && r.chance(0.6)) {
    entity['ports'] = Array.from({ length: Math.floor(r.next() * 3) }, () => r.mostly(PORTS, BAD_PORTS));
  }
  if (withPorts && r.chance(0.1)) entity['notPorts'] = [r.mostly(PORTS, BAD_PORTS)];
  if (r.chance(0.05)) entity['serviceAccounts'] = { names: ['sa'] };
  return entity;
}

function genRule(r: Random): Record<string, unknown> {
  const rule: Record<string, unknown> = {
    action: r.mostly(['Allow', 'Allow', 'Deny', 'Log', 'Pass'], ['allow']),
  };
  if (r.chance(0.15)) rule['ipVersion'] = r.mostly([4, 4, 6], [5]);
  if (r.chance(0.7)) rule['protocol'] = r.mostly(PROTOCOLS, BAD_PROTOCOLS);
  if (r.chance(0.05)) rule['notProtocol'] = r.mostly(PROTOCOLS, BAD_PROTOCOLS);
  if (r.chance(0.05)) rule['icmp'] = r.mostly([{ type: 8 }, { type: 8, code: 0 }], [{ code: 1 }]);
  // Ports need a port protocol; now and then a rule has them without one.
  const withPorts = PORT_PROTOCOLS.includes(rule['protocol']) || r.chance(0.03);
  if (r.chance(0.6)) rule['source'] = genEntity(r, withPorts);
  if (r.chance(0.6)) rule['destination'] = genEntity(r, withPorts);
  if (r.chance(0.03)) rule['metadata'] = { annotations: { note: 'x' } };
  return rule;
}

const genRules = (r: Random) => Array.from({ length: Math.floor(r.next() * 4) }, () => genRule(r));

function genMetadata(r: Random, kind: string): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    name: r.chance(0.95) ? r.pick(NAMES.slice(0, 4)) : r.pick(NAMES),
  };
  const namespaced = kind === 'NetworkPolicy';
  if (namespaced ? r.chance(0.8) : r.chance(0.05)) {
    metadata['namespace'] = r.chance(0.95) ? r.pick(NAMESPACES.slice(0, 3)) : r.pick(NAMESPACES);
  }
  if (r.chance(0.2)) metadata['labels'] = r.mostly(LABELS.slice(0, 2), LABELS.slice(2));
  if (r.chance(0.1))
    metadata['annotations'] = r.mostly([{ 'example.com/note': 'any text at all' }], [{ 'bad key!': 'x' }]);
  if (r.chance(0.1)) metadata['uid'] = r.mostly(['a-uid'], [5]);
  if (r.chance(0.05)) metadata['resourceVersion'] = '42';
  return metadata;
}

function genPolicy(r: Random): Record<string, unknown> {
  const kind = r.pick(['NetworkPolicy', 'NetworkPolicy', 'GlobalNetworkPolicy', 'Profile']);
  const apiVersion = r.chance(0.95)
    ? r.pick(['margay.io/v1', 'projectcalico.org/v3'])
    : r.pick(['v1', 'networking.k8s.io/v1']);
  const value: Record<string, unknown> = { apiVersion, kind, metadata: genMetadata(r, kind) };
  if (r.chance(0.05)) {
    value['spec'] = r.pick([null, undefined]);
    return structuredClone(value);
  }
  const spec: Record<string, unknown> = {};
  if (r.chance(0.7)) spec['ingress'] = genRules(r);
  if (r.chance(0.5)) spec['egress'] = genRules(r);
  if (kind === 'Profile') {
    if (r.chance(0.5)) spec['labelsToApply'] = r.mostly(LABELS.slice(0, 2), LABELS.slice(2));
  } else {
    if (r.chance(0.5)) spec['tier'] = r.mostly(['default', 'security'], ['Bad Tier']);
    if (r.chance(0.6)) spec['order'] = r.pick([1000, 100, 1.5, -3, 0]);
    if (r.chance(0.8)) spec['selector'] = r.mostly(SELECTORS, BAD_SELECTORS);
    if (r.chance(0.6)) {
      spec['types'] = r.mostly(
        [[], ['Ingress'], ['Egress'], ['Ingress', 'Egress'], ['Egress', 'Ingress']],
        [['Ingress', 'Ingress'], ['ingress']],
      );
    }
    if (r.chance(0.05)) spec['serviceAccountSelector'] = r.mostly(SELECTORS, BAD_SELECTORS);
    if (kind === 'GlobalNetworkPolicy') {
      if (r.chance(0.3)) spec['namespaceSelector'] = r.mostly(SELECTORS, BAD_SELECTORS);
      for (const flag of ['doNotTrack', 'preDNAT', 'applyOnForward']) {
        if (r.chance(0.5)) spec[flag] = r.mostly([true, false], ['yes']);
      }
    }
  }
  value['spec'] = spec;
  return structuredClone(value); // the pools' objects are shared; mutations must not reach them
}

/** Every object inside `value` (itself included), to pick one to damage. */
function objects(value: unknown, found: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(value)) for (const item of value) objects(item, found);
  else if (typeof value === 'object' && value !== null) {
    found.push(value as Record<string, unknown>);
    for (const item of Object.values(value)) objects(item, found);
  }
  return found;
}

/** One random change: a field removed, replaced by junk, or an unknown field added. */
function mutate(r: Random, value: unknown): void {
  const target = r.pick(objects(value));
  const keys = Object.keys(target);
  const what = r.next();
  const junk = structuredClone(r.pick(JUNK));
  if (what < 0.2 || keys.length === 0) target[r.pick(['bogus', 'Selector', 'ports', 'types'])] = junk;
  else if (what < 0.4) delete target[r.pick(keys)];
  else target[r.pick(keys)] = junk;
}

describe('readPolicyResource against the full schema', () => {
  test('on random valid, unusual and damaged values: whatever it reads equals what the schema returns', () => {
    const counts = { read: 0, schemaValid: 0, schemaInvalid: 0, mutated: 0, readMutated: 0 };
    for (let seed = 1; seed <= 4000; seed++) {
      const r = random(seed);
      let value: unknown = genPolicy(r);
      // Half the time start from what margayctl stores, the canonical form the fast reader is for.
      const valid = bySchema(value);
      if (valid !== undefined && r.chance(0.5)) value = JSON.parse(encodeResource(valid));
      const mutations = r.chance(0.5) ? 1 + Math.floor(r.next() * 2) : 0;
      for (let i = 0; i < mutations; i++) mutate(r, value);
      const expected = bySchema(value);
      const read = readPolicyResource(structuredClone(value));
      if (expected === undefined) counts.schemaInvalid++;
      else counts.schemaValid++;
      if (read !== undefined) counts.read++;
      if (mutations > 0) counts.mutated++;
      if (mutations > 0 && read !== undefined) counts.readMutated++;
      if (read !== undefined && expected === undefined) {
        throw new Error(
          `seed ${seed}: the fast reader accepted what the schema rejects: ${JSON.stringify(value)}`,
        );
      }
      if (read !== undefined) {
        try {
          expect(read).toStrictEqual(expected);
        } catch (error) {
          throw new Error(`seed ${seed}: ${JSON.stringify(value)}\n${(error as Error).message}`);
        }
      }
    }
    // The run must exercise both verdicts, and the fast path must take most canonical values.
    expect(counts.schemaInvalid).toBeGreaterThan(1000);
    expect(counts.schemaValid).toBeGreaterThan(1000);
    expect(counts.read).toBeGreaterThan(counts.schemaValid / 2);
    expect(counts.readMutated).toBeGreaterThan(100); // harmless damage (a field dropped) still reads
  });

  test('reads every stored value that is already canonical (what margayctl writes)', () => {
    let canonical = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const valid = bySchema(genPolicy(random(seed)));
      if (valid === undefined) continue;
      const value = JSON.parse(encodeResource(valid));
      if (!usesOnlyFastForms(value)) continue;
      canonical++;
      expect(readPolicyResource(value)).toStrictEqual(bySchema(value));
    }
    expect(canonical).toBeGreaterThan(200);
  });
});

/** Whether the value avoids what the reader leaves to the schema on purpose. */
function usesOnlyFastForms(value: unknown): boolean {
  const text = JSON.stringify(value);
  return !/"icmp"|"notICMP"|"serviceAccounts"|:\{"annotations"|"fd00::/.test(
    text.replace(/"metadata":\{"name"/, ''),
  );
}

describe('readPolicyResource', () => {
  const k8sPolicy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { team: 'a' } },
              podSelector: { matchLabels: { role: 'fe' } },
            },
            { ipBlock: { cidr: '10.0.0.0/8', except: ['10.65.1.0/24'] } },
          ],
          ports: [
            { port: 8080 },
            { protocol: 'UDP', port: 53 },
            { port: 9000, endPort: 9100 },
            { port: 'http' },
          ],
        },
      ],
      egress: [{ to: [{ ipBlock: { cidr: '172.16.0.0/12' } }], ports: [{ protocol: 'SCTP', port: 5432 }] }],
    },
  };

  test('a converted Kubernetes NetworkPolicy as stored takes the fast path, with the schema result', () => {
    const value = stored(k8sPolicy);
    expect(value.kind).toBe('NetworkPolicy');
    expect(readPolicyResource(value)).toStrictEqual(validateResource(value, 'datastore'));
  });

  test('a profile with labels to apply, and a global policy with its defaults', () => {
    const profile = stored({
      apiVersion: 'projectcalico.org/v3',
      kind: 'Profile',
      metadata: { name: 'kns.shop' },
      spec: {
        ingress: [{ action: 'Allow' }],
        egress: [{ action: 'Allow' }],
        labelsToApply: { 'pcns.team': 'a' },
      },
    });
    expect(readPolicyResource(profile)).toStrictEqual(validateResource(profile, 'datastore'));
    const global = { apiVersion: 'margay.io/v1', kind: 'GlobalNetworkPolicy', metadata: { name: 'deny' } };
    expect(readPolicyResource(global)).toStrictEqual(validateResource(global, 'datastore'));
    expect(readPolicyResource(global)?.spec).toMatchObject({
      tier: 'default',
      selector: 'all()',
      types: ['Ingress'],
    });
  });

  test.each([
    ['an unknown field', { spec: { selector: 'all()', bogus: 1 } }],
    ['a selector that does not parse', { spec: { selector: 'app ==' } }],
    ['a port written as text (the schema outputs a number)', { rulePorts: ['80'] }],
    ['a lower-case protocol (the schema spells it TCP)', { protocol: 'tcp' }],
    ['a bare address (the schema adds /32)', { nets: ['10.0.0.5'] }],
    ['ports without a port protocol', { protocol: 'ICMP' }],
    ['a rule type missing from types', { spec: { types: ['Egress'] } }],
  ])('leaves the value to the schema: %s', (_name, change) => {
    const value = stored(k8sPolicy);
    const rule = value.spec.ingress[0];
    if ('spec' in change) Object.assign(value.spec, change.spec);
    if ('rulePorts' in change) rule.destination.ports = change.rulePorts;
    if ('protocol' in change) rule.protocol = change.protocol;
    if ('nets' in change) rule.source.nets = change.nets;
    expect(readPolicyResource(value)).toBeUndefined();
  });

  test('other kinds and Kubernetes NetworkPolicies are not its business', () => {
    expect(readPolicyResource(k8sPolicy)).toBeUndefined();
    expect(
      readPolicyResource({ apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'p' } }),
    ).toBeUndefined();
    expect(readPolicyResource('NetworkPolicy')).toBeUndefined();
  });
});

describe('isCanonicalPort', () => {
  test.each([80, 1, 65535, '9000:9100', '80:80', 'http', 'dns-tcp'])('%s is canonical', (port) => {
    expect(isCanonicalPort(port)).toBe(true);
  });
  test.each([0, 65536, 1.5, '80', '9100:9000', '09000:9100', '1:65536', 'Http', 'a--b', '-a', null])(
    '%s is not',
    (port) => {
      expect(isCanonicalPort(port)).toBe(false);
    },
  );
});
