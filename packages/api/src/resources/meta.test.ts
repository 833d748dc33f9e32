import { ResourceValidationError } from '../errors';
import { doc, issuesOf, problemsOf } from '../testing';
import { validateResource } from '../validate';

const pool = { cidr: '10.0.0.0/16' };

describe('resource envelope', () => {
  test('both API groups are accepted; the result carries margay.io/v1', () => {
    for (const apiVersion of ['margay.io/v1', 'projectcalico.org/v3']) {
      const resource = validateResource({ apiVersion, kind: 'IPPool', metadata: { name: 'p' }, spec: pool });
      expect(resource.apiVersion).toBe('margay.io/v1');
    }
  });

  test('an unknown apiVersion says which are allowed', () => {
    expect(problemsOf({ ...doc('IPPool', pool), apiVersion: 'crd.projectcalico.org/v1' })).toEqual([
      'apiVersion: must be one of margay.io/v1, projectcalico.org/v3 (got "crd.projectcalico.org/v1")',
    ]);
  });

  test('an unknown or unsupported kind lists the known kinds', () => {
    const [problem] = problemsOf(doc('Tier', {}));
    expect(problem).toMatch(
      /^kind: must be one of IPPool, BGPConfiguration, .*IPAMConfiguration \(got "Tier"\)$/,
    );
    expect(problemsOf({ apiVersion: 'margay.io/v1' })[0]).toMatch(
      /^kind: must be one of .* \(got nothing\)$/,
    );
  });

  test('a document that is not a mapping', () => {
    expect(problemsOf(['a'])).toEqual([
      ': expected a mapping with apiVersion, kind, metadata and spec (got a list)',
    ]);
    expect(problemsOf('IPPool')[0]).toContain('(got "IPPool")');
  });

  test('metadata: name required and a DNS subdomain; unknown metadata fields rejected', () => {
    expect(problemsOf(doc('IPPool', pool, {}))).toEqual(['metadata.name: required']);
    expect(problemsOf(doc('IPPool', pool, { name: 'Pool_1' }))[0]).toMatch(
      /^metadata.name: "Pool_1" is not a valid name/,
    );
    expect(problemsOf(doc('IPPool', pool, { name: 'a'.repeat(254) }))).toEqual([
      'metadata.name: must be at most 253 characters (got 254)',
    ]);
    expect(problemsOf(doc('IPPool', pool, { name: 'p', lables: {} }))).toEqual([
      'metadata: unknown field "lables" (did you mean "labels"?)',
    ]);
  });

  test('labels must be valid Kubernetes keys and values; annotation values are free text', () => {
    const metadata = {
      name: 'p',
      labels: { 'app.kubernetes.io/name': 'web', 'x/y/z': 'a', ok: 'not valid!', empty: '' },
      annotations: { 'example.com/note': 'any text at all!', 'Bad Key': 'x' },
    };
    expect(problemsOf(doc('IPPool', pool, metadata))).toEqual([
      'metadata.labels["x/y/z"]: key "x/y/z": prefix "x/y" must be a lower-case DNS subdomain',
      'metadata.labels.ok: value "not valid!" must be at most 63 characters of letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
      'metadata.annotations["Bad Key"]: key "Bad Key": name part must be 1-63 characters of letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
    ]);
  });

  test('cluster-scoped kinds take no namespace; namespaced kinds default to "default"', () => {
    expect(problemsOf(doc('IPPool', pool, { name: 'p', namespace: 'kube-system' }))).toEqual([
      'metadata.namespace: IPPool is cluster-scoped and takes no namespace',
    ]);
    const policy = validateResource(doc('NetworkPolicy', {}));
    expect(policy.metadata.namespace).toBe('default');
    const scoped = validateResource(doc('NetworkPolicy', {}, { name: 'p', namespace: 'prod' }));
    expect(scoped.metadata.namespace).toBe('prod');
    expect(problemsOf(doc('NetworkPolicy', {}, { name: 'p', namespace: 'a.b' }))[0]).toMatch(
      /^metadata.namespace: "a.b" is not a valid DNS label/,
    );
  });

  test('unknown top-level fields and a missing spec', () => {
    expect(problemsOf({ ...doc('IPPool', pool), status: {} })).toEqual([
      ': unknown field "status" (allowed: apiVersion, kind, metadata, spec)',
    ]);
    // A missing spec is an empty one, so required spec fields are reported as such.
    expect(problemsOf({ apiVersion: 'margay.io/v1', kind: 'IPPool', metadata: { name: 'p' } })).toEqual([
      'spec.cidr: required',
    ]);
  });

  test('the error names source, document, kind and name on every line', () => {
    let error: unknown;
    try {
      validateResource(
        doc('IPPool', { cidr: '10.0.0.0/33', ipipMode: 'Sometimes' }, { name: 'pool-a' }),
        'pools.yaml',
        3,
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ResourceValidationError);
    expect((error as Error).message).toBe(
      [
        'pools.yaml: document 3 (IPPool pool-a): spec.cidr: "10.0.0.0/33" is not a CIDR: the prefix length must be 0-32 for IPv4',
        'pools.yaml: document 3 (IPPool pool-a): spec.ipipMode: must be one of Never, Always, CrossSubnet (got "Sometimes")',
      ].join('\n'),
    );
    expect(issuesOf(doc('IPPool', {}, { name: 'x' }))[0]).toEqual({
      source: 'test.yaml',
      document: 1,
      kind: 'IPPool',
      name: 'x',
      path: 'spec.cidr',
      message: 'required',
    });
  });
});
