import { figureRows, formatTable, type Measurement, perRoundRatios } from './report';

const rounds = (...values: [number, number][]) =>
  values.map(([throughput, udpRtt]) => ({ throughput, udpRtt }));

// Six rounds: margay's throughput is 0.99× of the bare floor every round, its round trip 1.10× of
// the bare floor (over) and 1.01× of the conntrack floor (within).
const floor = rounds([10e9, 20], [9e9, 21], [11e9, 19], [10e9, 20], [12e9, 22], [8e9, 18]);
const measurements: Measurement[] = [
  {
    path: 'routed',
    variant: 'margay',
    rounds: floor.map((r) => ({ throughput: r.throughput * 0.99, udpRtt: r.udpRtt * 1.1 })),
    note: 'agents running',
  },
  { path: 'routed', variant: 'floor', rounds: floor },
  {
    path: 'routed',
    variant: 'floor+ct',
    rounds: floor.map((r) => ({ throughput: r.throughput, udpRtt: (r.udpRtt * 1.1) / 1.01 })),
    note: 'conntrack on',
  },
  { path: 'ipip', variant: 'margay', rounds: [{ ping: 1 }, { ping: 2 }] },
  { path: 'ipip', variant: 'floor', rounds: [{ ping: 1 }, { ping: 1 }] },
];

describe('perRoundRatios', () => {
  it('pairs round i of margay with round i of the floor, skipping rounds missing the figure', () => {
    const margay: Measurement = {
      path: 'p',
      variant: 'margay',
      rounds: [{ udpRtt: 22 }, {}, { udpRtt: 30 }],
    };
    const bare: Measurement = {
      path: 'p',
      variant: 'floor',
      rounds: [{ udpRtt: 20 }, { udpRtt: 20 }, { udpRtt: 25 }],
    };
    expect(perRoundRatios(margay, bare, 'udpRtt')).toEqual([1.1, 1.2]);
  });

  it('refuses rounds that do not pair', () => {
    const margay: Measurement = { path: 'p', variant: 'margay', rounds: [{ udpRtt: 1 }] };
    const bare: Measurement = { path: 'p', variant: 'floor', rounds: [{ udpRtt: 1 }, { udpRtt: 1 }] };
    expect(() => perRoundRatios(margay, bare, 'udpRtt')).toThrow(/margay has 1 rounds but floor has 2/);
  });
});

describe('figureRows', () => {
  it('gives one row per path and figure, with a verdict against each floor', () => {
    const rows = figureRows(measurements);
    expect(rows.map((r) => `${r.path} ${r.metric}`)).toEqual([
      'routed throughput',
      'routed udpRtt',
      'ipip ping',
    ]);
    const [throughput, rtt, ping] = rows;
    expect(throughput!.values.floor).toEqual([10, 9, 11, 10, 12, 8]);
    expect(throughput!.ratios.floor!.median).toBeCloseTo(0.99, 9);
    expect(throughput!.ratios.floor!.verdict).toEqual({ kind: 'within' });
    expect(rtt!.ratios.floor!.median).toBeCloseTo(1.1, 9);
    expect(rtt!.ratios.floor!.verdict).toEqual({ kind: 'over' });
    expect(rtt!.ratios['floor+ct']!.median).toBeCloseTo(1.01, 9);
    expect(rtt!.ratios['floor+ct']!.verdict).toEqual({ kind: 'within' });
    // Two rounds are too few for a band.
    expect(ping!.ratios.floor!.verdict).toEqual({ kind: 'no verdict', why: 'rounds' });
    expect(ping!.ratios['floor+ct']).toBeUndefined();
  });

  it('refuses two measurements of one side', () => {
    expect(() => figureRows([measurements[1]!, measurements[1]!])).toThrow(/routed: two floor measurements/);
  });
});

describe('formatTable', () => {
  it('prints medians with ranges, ratios with their band, verdicts, then the notes', () => {
    const lines = formatTable(measurements).split('\n');
    expect(lines[0]).toMatch(
      /^\| path \| figure \| margay \| floor \| floor \+ conntrack \| margay\/floor \| vs floor \|/,
    );
    expect(lines[2]).toBe(
      '| routed | TCP throughput, Gbit/s | 9.90 (7.92–11.88) | 10.00 (8.00–12.00) | 10.00 (8.00–12.00) | 0.990× (0.990–0.990) | within 5 % | 0.990× (0.990–0.990) | within 5 % |',
    );
    expect(lines[3]).toMatch(
      /^\| routed \| UDP round trip, back to back \(p25\), µs \| 22\.00 \(19\.80–24\.20\) \| 20\.00 \(18\.00–22\.00\) \|/,
    );
    expect(lines[3]).toMatch(
      /\| 1\.100× \(1\.100–1\.100\) \| \*\*over 5 %\*\* \| 1\.010× \(1\.010–1\.010\) \| within 5 % \|$/,
    );
    expect(lines[4]).toBe(
      '| ipip | ping every 10 ms (mean), ms | 1.500 (1.000–2.000) | 1.000 (1.000–1.000) | — | 1.500× (1.000–2.000) | no verdict (fewer than 6 rounds) | — | — |',
    );
    expect(lines.slice(6)).toEqual(['- routed, margay: agents running', '- routed, floor+ct: conntrack on']);
  });
});
