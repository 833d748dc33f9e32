// Turning measurements into the per-case table: time, rate, memory, and both compared with BIRD
// per route (GoBGP runs fewer routes, so ratios are per route, not per run).

import type { Measurement } from './runner';

export interface Row {
  target: string;
  routes: number;
  seconds: number;
  routesPerSecond: number;
  peakRssMb: number;
  bytesPerRoute: number;
  /** Time per route against BIRD's (2 = twice as slow); undefined without a BIRD run. */
  timeVsBird?: number;
  /** Peak RSS per route against BIRD's. */
  memoryVsBird?: number;
  /** The tester was still writing for most of the run: the figure is bounded by injection. */
  injectionBound: boolean;
}

const MB = 1024 * 1024;
/** When the tester's writes took this share of the run, the daemon was not the slow part. */
const INJECTION_BOUND_SHARE = 0.9;

/** Routes delivered: N to each monitor session. */
function deliveries(m: Measurement): number {
  return m.routes * m.monitors;
}

export function rows(measurements: readonly Measurement[]): Row[] {
  const bird = measurements.find((m) => m.target === 'bird');
  return measurements.map((m) => {
    const row: Row = {
      target: m.target,
      routes: m.routes,
      seconds: m.seconds,
      routesPerSecond: deliveries(m) / m.seconds,
      peakRssMb: m.peakRssBytes / MB,
      bytesPerRoute: m.peakRssBytes / m.routes,
      injectionBound: m.testerSeconds >= INJECTION_BOUND_SHARE * m.seconds,
    };
    if (bird) {
      row.timeVsBird = m.seconds / m.routes / (bird.seconds / bird.routes);
      row.memoryVsBird = row.bytesPerRoute / (bird.peakRssBytes / bird.routes);
    }
    return row;
  });
}

const fixed = (value: number | undefined, digits: number) =>
  value === undefined ? '—' : value.toFixed(digits);
const grouped = (value: number) => Math.round(value).toLocaleString('en-US');

/** A Markdown table (it reads fine in a terminal too). */
export function formatTable(title: string, measurements: readonly Measurement[]): string {
  const header = [
    'target',
    'routes',
    'time (s)',
    'routes/s',
    'peak RSS (MB)',
    'bytes/route',
    'time vs BIRD',
    'memory vs BIRD',
  ];
  const lines = [`### ${title}`, '', `| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows(measurements)) {
    const name = row.target === 'relay' ? 'harness ceiling (relay)' : row.target;
    const cells = [
      row.injectionBound ? `${name} (injection-bound)` : name,
      grouped(row.routes),
      fixed(row.seconds, 2),
      grouped(row.routesPerSecond),
      fixed(row.peakRssMb, 0),
      grouped(row.bytesPerRoute),
      row.timeVsBird === undefined ? '—' : `${fixed(row.timeVsBird, 2)}×`,
      row.memoryVsBird === undefined ? '—' : `${fixed(row.memoryVsBird, 2)}×`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
