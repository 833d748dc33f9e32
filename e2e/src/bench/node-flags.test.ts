import { InvalidArgumentError } from 'commander';
import { nodeFlagSet } from './node-flags';

describe('nodeFlagSet', () => {
  it('collects flag sets in order, normalising spaces; an empty set means no flags', () => {
    let sets = nodeFlagSet('', []);
    sets = nodeFlagSet('  --max-semi-space-size=1   --single-threaded-gc ', sets);
    expect(sets).toEqual(['', '--max-semi-space-size=1 --single-threaded-gc']);
  });

  it('rejects words that are not flags, naming them', () => {
    expect(() => nodeFlagSet('--optimize-for-size rm', [])).toThrow(InvalidArgumentError);
    expect(() => nodeFlagSet('--optimize-for-size rm', [])).toThrow('"rm" is not a node or V8 flag');
    expect(() => nodeFlagSet('-x', [])).toThrow('"-x"');
    expect(() => nodeFlagSet('--', [])).toThrow('"--"');
  });
});
