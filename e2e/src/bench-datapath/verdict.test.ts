import { bandRank, describeVerdict, minimumRounds, summarizeRatios } from './verdict';

describe('bandRank', () => {
  it('is min–max from 6 to 8 rounds, then narrows as rounds add up', () => {
    expect([2, 3, 4, 5].map((n) => bandRank(n))).toEqual([undefined, undefined, undefined, undefined]);
    expect([6, 7, 8].map((n) => bandRank(n))).toEqual([1, 1, 1]);
    // n = 9: [2nd, 8th] covers the median with 96.1 %; n = 20: [6th, 15th] with 95.9 %.
    expect(bandRank(9)).toBe(2);
    expect(bandRank(20)).toBe(6);
    expect(minimumRounds()).toBe(6);
  });
});

describe('summarizeRatios', () => {
  const latency = (ratios: number[]) => summarizeRatios(ratios, 'lower-is-better');
  const throughput = (ratios: number[]) => summarizeRatios(ratios, 'higher-is-better');

  it('is within 5 % when the whole band is inside the limit', () => {
    const summary = latency([1.01, 1.02, 1.0, 1.04, 0.98, 1.03]);
    expect(summary).toMatchObject({ rounds: 6, low: 0.98, high: 1.04, verdict: { kind: 'within' } });
    expect(summary.median).toBeCloseTo(1.015, 9);
    expect(throughput([0.96, 1.1, 0.99, 1.0, 0.97, 1.02]).verdict).toEqual({ kind: 'within' });
  });

  it('is over when the whole band is beyond the limit', () => {
    expect(latency([1.06, 1.1, 1.08, 1.12, 1.07, 1.09]).verdict).toEqual({ kind: 'over' });
    expect(throughput([0.9, 0.94, 0.8, 0.93, 0.92, 0.85]).verdict).toEqual({ kind: 'over' });
  });

  it('gives no verdict when the band straddles the limit, whichever side the median is on', () => {
    expect(latency([1.0, 1.01, 1.02, 1.02, 1.03, 1.2]).verdict).toEqual({
      kind: 'no verdict',
      why: 'spread',
    });
    expect(latency([1.04, 1.08, 1.09, 1.1, 1.1, 1.11]).verdict).toEqual({
      kind: 'no verdict',
      why: 'spread',
    });
    expect(throughput([0.9, 1.0, 1.01, 1.02, 1.03, 1.04]).verdict).toEqual({
      kind: 'no verdict',
      why: 'spread',
    });
  });

  it('gives no verdict from fewer than 6 rounds, however tight', () => {
    expect(latency([1.0, 1.0, 1.0, 1.0, 1.0])).toMatchObject({
      low: 1,
      high: 1,
      verdict: { kind: 'no verdict', why: 'rounds' },
    });
  });

  it('trims the band with more rounds: one stray round among 9 does not block a verdict', () => {
    const summary = latency([1.01, 1.02, 1.0, 1.03, 1.01, 1.02, 1.0, 1.02, 1.3]);
    expect(summary).toMatchObject({ low: 1.0, high: 1.03, verdict: { kind: 'within' } });
  });

  it('rejects empty or non-positive ratios', () => {
    expect(() => latency([])).toThrow(/no ratios/);
    expect(() => latency([1, Number.NaN])).toThrow(/round 2 is not a positive number/);
    expect(() => latency([0])).toThrow(/round 1/);
  });
});

describe('describeVerdict', () => {
  it('says each verdict in words', () => {
    expect(describeVerdict({ kind: 'within' })).toBe('within 5 %');
    expect(describeVerdict({ kind: 'over' })).toBe('**over 5 %**');
    expect(describeVerdict({ kind: 'no verdict', why: 'spread' })).toBe(
      'no verdict (spread larger than the difference)',
    );
    expect(describeVerdict({ kind: 'no verdict', why: 'rounds' })).toBe('no verdict (fewer than 6 rounds)');
  });
});
