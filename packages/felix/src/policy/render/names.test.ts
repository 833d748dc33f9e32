import {
  lengthLimitedName,
  MAX_CHAIN_NAME_LENGTH,
  policyChainName,
  profileChainName,
  workloadChainName,
} from './names';

describe('chain names', () => {
  test('short ids are used verbatim', () => {
    expect(policyChainName('ingress', 'gnp/deny-all')).toBe('mg-pi-gnp:deny-all');
    expect(policyChainName('egress', 'gnp/deny-all')).toBe('mg-po-gnp:deny-all');
    expect(profileChainName('ingress', 'kns.default')).toBe('mg-pri-kns.default');
    expect(profileChainName('egress', 'kns.default')).toBe('mg-pro-kns.default');
    expect(workloadChainName('ingress', 'mg0123456789a')).toBe('mg-tw-mg0123456789a');
    expect(workloadChainName('egress', 'mg0123456789a')).toBe('mg-fw-mg0123456789a');
  });

  test('long ids: at most 28 characters, readable head, hash of the whole id', () => {
    const a = 'production-namespace/knp.default.allow-frontend-to-backend';
    const b = 'production-namespace/knp.default.allow-frontend-to-cache';
    for (const name of [policyChainName('ingress', a), profileChainName('egress', a)]) {
      expect(name.length).toBe(MAX_CHAIN_NAME_LENGTH);
    }
    expect(policyChainName('ingress', a)).toMatch(/^mg-pi-production-_[0-9a-f]{10}$/);
    expect(policyChainName('ingress', 'ns/a-longer-policy-name')).toMatch(/^mg-pi-ns:a-longer_[0-9a-f]{10}$/);
    expect(policyChainName('ingress', a)).not.toBe(policyChainName('ingress', b));
    expect(policyChainName('ingress', a)).toBe(policyChainName('ingress', a));
  });

  test('a name of exactly the limit is verbatim; one more character is hashed', () => {
    const fits = 'x'.repeat(MAX_CHAIN_NAME_LENGTH - 'mg-pi-'.length);
    expect(policyChainName('ingress', fits)).toBe(`mg-pi-${fits}`);
    expect(policyChainName('ingress', `${fits}y`)).toMatch(/_[0-9a-f]{10}$/);
  });

  test('an id that looks like a hashed name is hashed too, so names never collide', () => {
    const long = 'a-very-long-policy-identifier-that-needs-hashing';
    const hashed = lengthLimitedName('mg-pi-', long);
    const lookalike = hashed.slice('mg-pi-'.length);
    expect(lengthLimitedName('mg-pi-', lookalike)).not.toBe(hashed);
    expect(lengthLimitedName('mg-pi-', '')).toMatch(/^mg-pi-_[0-9a-f]{10}$/);
  });

  test("only characters the Table accepts: '/' becomes ':', anything else forces a hash", () => {
    expect(policyChainName('ingress', 'ns1/web')).toBe('mg-pi-ns1:web');
    expect(policyChainName('ingress', 'ns1:web')).toMatch(/^mg-pi-ns1:web_[0-9a-f]{10}$/);
    expect(profileChainName('ingress', 'odd id@x')).toMatch(/^mg-pri-odd-id-x_[0-9a-f]{10}$/);
    const valid = /^[A-Za-z0-9_.:+-]{1,28}$/;
    for (const id of ['ns1/web', 'odd id@x', 'x'.repeat(100), 'a/b/c']) {
      expect(policyChainName('egress', id)).toMatch(valid);
    }
  });

  test('names are remembered per prefix and length: the same id under another one gets its own name', () => {
    const id = 'an-id-of-twenty-chars';
    expect(lengthLimitedName('mg-pi-', id)).toBe('mg-pi-an-id-of-twenty-chars');
    expect(lengthLimitedName('mg-po-', id)).toBe('mg-po-an-id-of-twenty-chars');
    // Shorter limit: hashed, and not the remembered verbatim name of the default length.
    expect(lengthLimitedName('mg-pi-', id, 24)).toMatch(/^mg-pi-an-id-o_[0-9a-f]{10}$/);
    expect(lengthLimitedName('mg-pi-', id)).toBe('mg-pi-an-id-of-twenty-chars');
    // A prefix that spells another length is just a prefix.
    expect(lengthLimitedName('24:mg-', 'x')).toBe('24:mg-x');
    expect(lengthLimitedName('mg-', 'x', 24)).toBe('mg-x');
  });
});
