import { InvalidArgumentError } from 'commander';
import { listOf, wholeNumber } from './bench-cli';

describe('bench command-line parsers', () => {
  it('wholeNumber takes whole numbers in range and names what is wrong', () => {
    const runs = wholeNumber(1, 20);
    expect(runs('3')).toBe(3);
    expect(() => runs('0')).toThrow(new InvalidArgumentError('"0" is not a whole number in 1..20'));
    expect(() => runs('2.5')).toThrow(InvalidArgumentError);
    expect(() => runs('21')).toThrow('"21" is not a whole number in 1..20');
  });

  it('listOf splits on commas, trims, and rejects an unknown name', () => {
    const targets = listOf('target', ['margay', 'bird'] as const);
    expect(targets('margay, bird')).toEqual(['margay', 'bird']);
    expect(() => targets('margay,frr')).toThrow('"frr" is not a target (margay, bird)');
  });
});
