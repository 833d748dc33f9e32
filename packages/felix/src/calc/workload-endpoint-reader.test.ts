import { CALICO_API_VERSION, validateResource, type WorkloadEndpoint } from '@margay/api';
import { isCanonicalIpv4Net, readWorkloadEndpoint } from './workload-endpoint-reader';

function stored(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return {
    apiVersion: CALICO_API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: { name: 'node--a-k8s-web-eth0', namespace: 'shop', labels: { app: 'web' }, ...metadata },
    spec: {
      orchestrator: 'k8s',
      node: 'node-a',
      interfaceName: 'mgweb',
      ipNetworks: ['10.0.0.5/32'],
      mac: 'ee:ee:ee:ee:ee:ee',
      ...spec,
    },
  };
}

/** The fields felix reads, as the full schema outputs them. */
function readBySchema(value: unknown) {
  const { metadata, spec } = validateResource(value, 'datastore') as WorkloadEndpoint;
  return {
    name: metadata.name,
    namespace: metadata.namespace,
    labels: metadata.labels,
    node: spec.node,
    interfaceName: spec.interfaceName,
    ipNetworks: spec.ipNetworks,
    profiles: spec.profiles,
    ports: spec.ports?.map(({ name, protocol, port }) => ({ name, protocol, port })),
  };
}

function readFast(value: unknown) {
  const endpoint = readWorkloadEndpoint(value);
  if (endpoint === undefined) return undefined;
  const { metadata, spec } = endpoint;
  return {
    name: metadata.name,
    namespace: metadata.namespace,
    labels: metadata.labels,
    node: spec.node,
    interfaceName: spec.interfaceName,
    ipNetworks: spec.ipNetworks,
    profiles: spec.profiles,
    ports: spec.ports,
  };
}

describe('readWorkloadEndpoint', () => {
  test.each([
    ['a plain endpoint', stored({})],
    ['no namespace (default), no labels', stored({}, { namespace: undefined, labels: undefined })],
    ['no ipNetworks (none)', stored({ ipNetworks: undefined })],
    [
      'profiles, named ports, several networks',
      stored({
        profiles: ['kns.shop', 'ksa.shop.default'],
        ports: [
          { name: 'http', protocol: 'TCP', port: 8080 },
          { name: 'dns', protocol: 'UDP', port: 53, hostPort: 5353 },
        ],
        ipNetworks: ['10.0.0.5/32', '10.1.0.0/16', '0.0.0.0/0'],
      }),
    ],
  ])('reads what the full schema reads: %s', (_name, value) => {
    expect(readFast(value)).toEqual(readBySchema(value));
  });

  test('keeps only the fields felix reads', () => {
    const endpoint = readWorkloadEndpoint(stored({ containerID: 'abc' }, { uid: 'u-1' }));
    expect(endpoint?.spec).not.toHaveProperty('mac');
    expect(endpoint?.spec).not.toHaveProperty('containerID');
    expect(endpoint?.metadata).not.toHaveProperty('uid');
    expect(endpoint?.apiVersion).toBe('margay.io/v1');
  });

  test.each([
    ['another kind', { ...stored({}), kind: 'HostEndpoint' }],
    ['an unknown apiVersion', { ...stored({}), apiVersion: 'v1' }],
    ['no spec', { ...stored({}), spec: undefined }],
    ['an empty node', stored({ node: '' })],
    ['no interfaceName', stored({ interfaceName: undefined })],
    ['a bare address (the schema adds /32)', stored({ ipNetworks: ['10.0.0.5'] })],
    ['an IPv6 network', stored({ ipNetworks: ['fd00::5/128'] })],
    ['host bits set', stored({ ipNetworks: ['10.0.0.5/24'] })],
    ['a label that is not a string', stored({}, { labels: { app: 1 } })],
    ['profiles not a list', stored({ profiles: 'kns.shop' })],
    ['a port without a protocol', stored({ ports: [{ name: 'http', port: 80 }] })],
    ['a port out of range', stored({ ports: [{ name: 'http', protocol: 'TCP', port: 70000 }] })],
    ['not an object', 'WorkloadEndpoint'],
  ])('leaves the value to full validation when unsure: %s', (_name, value) => {
    expect(readWorkloadEndpoint(value)).toBeUndefined();
  });
});

describe('isCanonicalIpv4Net', () => {
  test.each(['10.0.0.5/32', '10.64.0.0/14', '0.0.0.0/0', '255.255.255.255/32'])('%s is canonical', (net) => {
    expect(isCanonicalIpv4Net(net)).toBe(true);
  });
  test.each([
    '10.0.0.5',
    '010.0.0.5/32',
    '10.0.0.256/32',
    '10.0.0.5/33',
    '10.0.0.5/032',
    '10.65.0.0/14',
    '10.0.0.0/8 ',
    'fd00::/8',
    7,
  ])('%s is not', (net) => {
    expect(isCanonicalIpv4Net(net)).toBe(false);
  });
});

/** The regular expression the scan replaced, as the reference it must agree with. */
function referenceIsCanonical(value: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (match === null) return false;
  const numbers = match.slice(1).map(Number);
  if (match.slice(1).some((text) => text.length > 1 && text.startsWith('0'))) return false;
  if (numbers.slice(0, 4).some((n) => n > 255) || numbers[4]! > 32) return false;
  const address = numbers.slice(0, 4).reduce((sum, octet) => sum * 256 + octet, 0);
  return address % 2 ** (32 - numbers[4]!) === 0;
}

test('isCanonicalIpv4Net agrees with the reference on random near-miss text', () => {
  let state = 7;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const PIECES = [
    '0',
    '1',
    '10',
    '255',
    '256',
    '00',
    '01',
    '999',
    '1000',
    '.',
    '/',
    '32',
    '33',
    '8',
    '',
    ' ',
    'a',
    '١',
  ];
  let canonical = 0;
  for (let i = 0; i < 40_000; i++) {
    const text =
      next() < 0.6
        ? `${[0, 1, 2, 3].map(() => PIECES[Math.floor(next() * 9)]).join('.')}/${PIECES[Math.floor(next() * 14)]}`
        : Array.from(
            { length: Math.floor(next() * 10) },
            () => PIECES[Math.floor(next() * PIECES.length)],
          ).join('');
    const expected = referenceIsCanonical(text);
    if (expected) canonical++;
    if (isCanonicalIpv4Net(text) !== expected) throw new Error(`disagree on ${JSON.stringify(text)}`);
  }
  expect(canonical).toBeGreaterThan(50);
});
