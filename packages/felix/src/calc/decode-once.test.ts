import type { WorkloadEndpoint } from '@margay/api';
import { ResourceValidationError } from '@margay/api';
import { endpointDocument, keyValue } from '../testing';
import { decodeStored, endpointNetworks } from './decode-once';

const web = endpointDocument({
  name: 'web',
  node: 'node-a',
  interfaceName: 'mgweb',
  ipNetworks: ['10.0.0.5/32'],
});

describe('decodeStored', () => {
  test('decodes a stored value once per KeyValue and hands every reader the same resource', () => {
    const kv = keyValue(web.key, web.value, 2);
    const first = decodeStored(kv);
    expect(first.kind).toBe('WorkloadEndpoint');
    expect(first.spec).toMatchObject({ node: 'node-a', interfaceName: 'mgweb', ipNetworks: ['10.0.0.5/32'] });
    expect(decodeStored(kv)).toBe(first);
  });

  test('only the latest KeyValue is remembered: one decoded again after another is decoded anew, equal', () => {
    const first = keyValue(web.key, web.value, 2);
    const other = keyValue(web.key, web.value.replace('"mgweb"', '"mgapi"'), 3);
    const decoded = decodeStored(first);
    expect(decodeStored(other).spec).toMatchObject({ interfaceName: 'mgapi' });
    const again = decodeStored(first);
    expect(again).not.toBe(decoded);
    expect(again).toEqual(decoded);
    expect(decodeStored(first)).toBe(again);
  });

  test('another KeyValue of the same key is decoded anew (a new revision may hold a new value)', () => {
    const before = decodeStored(keyValue(web.key, web.value, 2));
    const moved = endpointDocument({
      name: 'web',
      node: 'node-b',
      interfaceName: 'mgweb',
      ipNetworks: ['10.0.0.5/32'],
    });
    const after = decodeStored(keyValue(moved.key, moved.value, 3));
    expect(after).not.toBe(before);
    expect(after.spec).toMatchObject({ node: 'node-b' });
  });

  test('a corrupt value throws the validation error to every reader', () => {
    const corrupt = keyValue(web.key, '{"kind": "WorkloadEndpoint"', 4);
    expect(() => decodeStored(corrupt)).toThrow(ResourceValidationError);
    expect(() => decodeStored(corrupt)).toThrow(/invalid JSON/);
    const wrongField = keyValue(web.key, web.value.replace('"mgweb"', '""'), 5);
    expect(() => decodeStored(wrongField)).toThrow(/interfaceName/);
  });
});

describe('decodeStored, the fast and the full path', () => {
  test('an endpoint the fast reader is unsure of is validated in full (and normalised by the schema)', () => {
    const bare = endpointDocument({
      name: 'web',
      node: 'node-a',
      interfaceName: 'mgweb',
      ipNetworks: ['10.0.0.5'],
    });
    expect(decodeStored(keyValue(bare.key, bare.value, 6)).spec).toMatchObject({
      ipNetworks: ['10.0.0.5/32'],
    });
  });

  test('an endpoint missing a field felix reads fails with the schema error naming it', () => {
    const value = JSON.stringify({ ...JSON.parse(web.value), spec: { node: 'node-a', ipNetworks: [] } });
    expect(() => decodeStored(keyValue(web.key, value, 7))).toThrow(/spec\.interfaceName/);
  });

  test('a policy takes the fast reader; a corrupt one fails with the schema error naming the field', () => {
    const policy = {
      apiVersion: 'margay.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        selector: 'app == "web"',
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80] } }],
      },
    };
    const key = '/margay/resources/v1/networkpolicies/shop/web';
    expect(decodeStored(keyValue(key, JSON.stringify(policy), 10)).spec).toMatchObject({
      tier: 'default',
      types: ['Ingress'],
      ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80] } }],
    });
    const corrupt = JSON.stringify({ ...policy, spec: { ...policy.spec, selector: 'app ==' } });
    expect(() => decodeStored(keyValue(key, corrupt, 11))).toThrow(/spec\.selector/);
    const textPort = JSON.stringify(policy).replace('[80]', '["80"]');
    expect(decodeStored(keyValue(key, textPort, 12)).spec).toMatchObject({
      ingress: [{ destination: { ports: [80] } }], // normalised by the schema
    });
  });

  test('other kinds are validated in full', () => {
    const pool = JSON.stringify({
      apiVersion: 'margay.io/v1',
      kind: 'IPPool',
      metadata: { name: 'pool' },
      spec: { cidr: '10.0.0.0/33' },
    });
    expect(() => decodeStored(keyValue('/margay/resources/v1/ippools/pool', pool, 8))).toThrow(/cidr/);
  });
});

test('endpointNetworks: canonical prefixes on either path', () => {
  const fast = decodeStored(keyValue(web.key, web.value, 9)) as WorkloadEndpoint;
  expect(endpointNetworks(fast)).toEqual(['10.0.0.5/32']);
  const v6 = endpointDocument({
    name: 'web',
    node: 'node-a',
    interfaceName: 'mgweb',
    ipNetworks: ['FD00:0::5/128'],
  });
  const full = decodeStored(keyValue(v6.key, v6.value, 10)) as WorkloadEndpoint;
  expect(endpointNetworks(full)).toEqual(['fd00::5/128']);
});
