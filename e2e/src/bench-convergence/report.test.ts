import { caseRows, formatTable, type JoinMeasurement, median, summarize } from './report';

function join(
  target: JoinMeasurement['target'],
  seconds: number,
  extra: Partial<JoinMeasurement> = {},
): JoinMeasurement {
  return {
    target,
    topology: 'mesh',
    size: 10,
    joinerOrder: 'above',
    join: 1,
    seconds,
    firstSeconds: seconds / 2,
    joinerRssBytes: 80 * 1024 * 1024,
    meanRssBytes: 40 * 1024 * 1024,
    meanCpuSeconds: 0.012,
    ...extra,
  };
}

describe('median and summarize', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(summarize([0.5, 0.1, 0.3])).toEqual({ median: 0.3, min: 0.1, max: 0.5 });
  });

  it('refuses an empty list', () => {
    expect(() => median([])).toThrow('median of no values');
  });
});

describe('caseRows', () => {
  const runs = [
    join('margay', 0.2),
    join('margay', 0.4, { speakerSeconds: 0.1 }),
    join('margay', 0.3, { speakerSeconds: 0.3 }),
    join('bird', 2.0),
    join('bird', 2.2),
    join('margay', 1.0, { size: 30 }),
  ];

  it('groups joins by case and compares medians with BIRD in the same case only', () => {
    const [margay10, bird10, margay30] = caseRows(runs);
    expect(margay10).toMatchObject({ target: 'margay', size: 10, joins: 3, vsBird: 0.3 / 2.1 });
    expect(margay10!.seconds).toEqual({ median: 0.3, min: 0.2, max: 0.4 });
    expect(margay10!.speakerSeconds).toEqual({ median: 0.2, min: 0.1, max: 0.3 });
    expect(bird10).toMatchObject({ target: 'bird', joins: 2, vsBird: undefined, speakerSeconds: undefined });
    expect(margay30).toMatchObject({ size: 30, vsBird: undefined });
  });

  it('keeps joiner orders apart', () => {
    const rows = caseRows([join('margay', 0.2), join('bird', 2, { joinerOrder: 'below' })]);
    expect(rows).toHaveLength(2);
    expect(rows[0]!.vsBird).toBeUndefined();
  });
});

describe('formatTable', () => {
  it('prints one row per case with medians, ranges, memory, CPU and the ratio', () => {
    const lines = formatTable([join('margay', 0.2), join('margay', 0.4), join('bird', 2)]).split('\n');
    expect(lines[0]).toContain('| topology | joiner | nodes | target |');
    expect(lines.slice(2)).toEqual([
      '| full mesh | connects | 10 | **margay** | 2 | 0.300 (0.200–0.400) | 0.150 (0.100–0.200) | — | 40.0 | 80.0 | 12 | 0.15× |',
      '| full mesh | connects | 10 | BIRD 2 | 1 | 2.000 (2.000–2.000) | 1.000 (1.000–1.000) | — | 40.0 | 80.0 | 12 | — |',
    ]);
  });
});
