import { formatTable, type Measurement, pathRows, withinTarget } from './report';

const latency = (avgMs: number, p99Ms = avgMs * 2, lost = 0) => ({ avgMs, p99Ms, lost });

const measurements: Measurement[] = [
  {
    path: 'routed',
    variant: 'floor',
    throughputBps: [10e9, 9e9, 11e9],
    latency: [latency(0.1), latency(0.12)],
  },
  {
    path: 'routed',
    variant: 'margay',
    throughputBps: [9.8e9, 9.7e9, 9.9e9],
    latency: [latency(0.102), latency(0.104)],
    note: 'agents running',
  },
  { path: 'vxlan', variant: 'margay', throughputBps: [4e9], latency: [latency(0.2, 0.5, 3)] },
  { path: 'vxlan', variant: 'floor', throughputBps: [5e9], latency: [latency(0.1)] },
  { path: 'ipip', variant: 'margay', throughputBps: [], latency: [latency(1)] },
  { path: 'ipip', variant: 'floor', throughputBps: [], latency: [latency(1)] },
];

describe('pathRows', () => {
  it('pairs margay with its floor per path, in the order measured, with median ratios', () => {
    const rows = pathRows(measurements);
    expect(rows.map((r) => r.path)).toEqual(['routed', 'vxlan', 'ipip']);
    expect(rows[0]!.throughputRatio).toBeCloseTo(9.8 / 10, 9);
    expect(rows[0]!.latencyRatio).toBeCloseTo(0.103 / 0.11, 9);
    expect(rows[1]!.throughputRatio).toBeCloseTo(0.8, 9);
    expect(rows[1]!.latencyRatio).toBeCloseTo(2, 9);
    expect(rows[2]!.throughputRatio).toBeUndefined();
    expect(rows[2]!.latencyRatio).toBe(1);
  });

  it('a path measured on one side only has no ratio', () => {
    const [row] = pathRows([measurements[0]!]);
    expect(row!.margay).toBeUndefined();
    expect(row!.throughputRatio).toBeUndefined();
    expect(withinTarget(row!)).toBeUndefined();
  });
});

describe('withinTarget', () => {
  it('needs throughput ≥ 95 % and latency ≤ 105 % of the floor', () => {
    const [routed, vxlan, ipip] = pathRows(measurements);
    expect(withinTarget(routed!)).toBe(true);
    expect(withinTarget(vxlan!)).toBe(false);
    expect(withinTarget(ipip!)).toBe(true);
  });
});

describe('formatTable', () => {
  it('prints one Markdown row per path with medians, ranges, ratios, losses and notes', () => {
    const table = formatTable(measurements).split('\n');
    expect(table).toHaveLength(2 + 3);
    expect(table[0]).toMatch(/^\| path \| margay Gbit\/s \| floor Gbit\/s \|/);
    expect(table[2]).toBe(
      '| routed | 9.80 (9.70–9.90) | 10.00 (9.00–11.00) | 0.980× | 0.103 / 0.206 | 0.110 / 0.220 | 0.936× | yes | agents running |',
    );
    expect(table[3]).toBe(
      '| vxlan | 4.00 | 5.00 | 0.800× | 0.200 / 0.500 (3 lost) | 0.100 / 0.200 | 2.000× | **no** |  |',
    );
    expect(table[4]).toBe('| ipip | — | — | — | 1.000 / 2.000 | 1.000 / 2.000 | 1.000× | yes |  |');
  });
});
