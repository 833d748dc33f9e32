import { doc, problemsOf } from '../testing';
import { validateResource } from '../validate';

describe('IPAMConfiguration', () => {
  test('defaults', () => {
    expect(validateResource(doc('IPAMConfiguration', {}, { name: 'default' })).spec).toEqual({
      strictAffinity: false,
      maxBlocksPerHost: 0,
      autoAllocateBlocks: true,
    });
  });

  test.each([
    [{ name: 'ipam' }, {}, 'metadata.name: must be "default" (IPAM has one cluster-wide configuration)'],
    [
      { name: 'default' },
      { maxBlocksPerHost: -1 },
      'spec.maxBlocksPerHost: must be an integer from 0 to 2147483647 (got -1)',
    ],
    [
      { name: 'default' },
      { strictAffinity: 'yes' },
      'spec.strictAffinity: expected true or false (got "yes")',
    ],
  ])('%j %j → %s', (metadata, spec, problem) => {
    expect(problemsOf(doc('IPAMConfiguration', spec, metadata))).toEqual([problem]);
  });
});
