import { decodeResource, isKind } from '@margay/api';
import { change, FULL_SCALE, initialDocuments, localPod, QUICK_SCALE, quantile, remotePod } from './workload';

test('the quick scale stores every pod, policy and namespace once, all valid', () => {
  const docs = initialDocuments(QUICK_SCALE);
  expect(new Set(docs.map((doc) => doc.key)).size).toBe(docs.length);
  const kinds = docs.map((doc) => decodeResource(doc.value).kind);
  const count = (kind: string) => kinds.filter((k) => k === kind).length;
  expect(count('WorkloadEndpoint')).toBe(QUICK_SCALE.localEndpoints + QUICK_SCALE.remoteEndpoints);
  expect(count('NetworkPolicy')).toBe(QUICK_SCALE.policies);
  expect(count('Profile')).toBe(20);
  expect(count('IPPool')).toBe(1);
});

test('addresses are unique across local, remote and late pods', () => {
  const ips = [
    ...Array.from({ length: 200 }, (_, i) => localPod(i).ip),
    ...Array.from({ length: 10_000 }, (_, i) => remotePod(i).ip),
    ...Array.from({ length: 200 }, (_, i) => remotePod(i, 1).ip),
  ];
  expect(new Set(ips).size).toBe(ips.length);
});

test('changes cycle through the kinds; label changes make a non-frontend pod a frontend', () => {
  const changes = Array.from({ length: 9 }, (_, n) => change(n, QUICK_SCALE));
  expect(changes.map((c) => c.kind)).toEqual([
    'policy',
    'label',
    'new-pod',
    'policy',
    'label',
    'new-pod',
    'policy',
    'label',
    'new-pod',
  ]);
  const policy = decodeResource(changes[0]!.document.value);
  expect(isKind(policy, 'NetworkPolicy') && JSON.stringify(policy.spec.ingress)).toContain('20000');
  for (const relabel of changes.filter((c) => c.kind === 'label')) {
    const endpoint = decodeResource(relabel.document.value);
    expect(endpoint.metadata.labels?.['role']).toBe('frontend');
    const before = initialDocuments(QUICK_SCALE).find((doc) => doc.key === relabel.document.key);
    expect(before && decodeResource(before.value).metadata.labels?.['role']).not.toBe('frontend');
  }
});

test.each([QUICK_SCALE, FULL_SCALE])(
  'every policy change is to a policy that selects a local pod (%o)',
  (scale) => {
    const locals = Array.from({ length: scale.localEndpoints }, (_, i) => localPod(i));
    const changes = Array.from({ length: scale.changes }, (_, n) => change(n, scale)).filter(
      (c) => c.kind === 'policy',
    );
    expect(changes.length).toBeGreaterThan(0);
    for (const policyChange of changes) {
      const policy = decodeResource(policyChange.document.value);
      if (!isKind(policy, 'NetworkPolicy')) throw new Error('not a NetworkPolicy');
      const app = /app == "([^"]+)"/.exec(policy.spec.selector)?.[1];
      expect(
        locals.some((pod) => pod.namespace === policy.metadata.namespace && pod.labels['app'] === app),
      ).toBe(true);
    }
  },
);

test('quantile is nearest-rank', () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  expect(quantile(values, 0.5)).toBe(50);
  expect(quantile(values, 0.99)).toBe(99);
  expect(quantile([7], 0.99)).toBe(7);
  expect(() => quantile([], 0.5)).toThrow('quantile of no values');
});
