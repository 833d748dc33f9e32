// From measurements to the printed table: per path, margay beside its hand-built floor, the median
// throughput of the runs, ping avg/p99, and the ratios margay/floor.

import { type LatencySummary, median } from './stats';

export type Variant = 'margay' | 'floor';

export interface Measurement {
  /** Which path, e.g. "routed pod→pod"; a margay and a floor measurement share it. */
  readonly path: string;
  readonly variant: Variant;
  /** Bits per second of each iperf3 run (empty: not measured on this path). */
  readonly throughputBps: readonly number[];
  /** Ping round trips, one summary per ping run (the table takes the median of each figure). */
  readonly latency: readonly LatencySummary[];
  /** Said in the table's last column (e.g. how the policy chains were loaded). */
  readonly note?: string;
}

export interface PathRow {
  readonly path: string;
  readonly margay: Measurement | undefined;
  readonly floor: Measurement | undefined;
  /** Median throughput margay / floor (higher is better; 1.00 = the kernel's own cost). */
  readonly throughputRatio: number | undefined;
  /** Median mean RTT margay / floor (lower is better). */
  readonly latencyRatio: number | undefined;
}

/** The margin the issue allows: margay within 5 % of its floor. */
export const TARGET_MARGIN = 0.05;

const medianGbps = (m: Measurement | undefined) =>
  m && m.throughputBps.length > 0 ? median(m.throughputBps) / 1e9 : undefined;
const medianOf = (m: Measurement | undefined, pick: (l: LatencySummary) => number) =>
  m && m.latency.length > 0 ? median(m.latency.map(pick)) : undefined;
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

/** One row per path, in the order first measured. */
export function pathRows(measurements: readonly Measurement[]): PathRow[] {
  const paths = [...new Set(measurements.map((m) => m.path))];
  return paths.map((path) => {
    const margay = measurements.find((m) => m.path === path && m.variant === 'margay');
    const floor = measurements.find((m) => m.path === path && m.variant === 'floor');
    return {
      path,
      margay,
      floor,
      throughputRatio: ratio(medianGbps(margay), medianGbps(floor)),
      latencyRatio: ratio(
        medianOf(margay, (l) => l.avgMs),
        medianOf(floor, (l) => l.avgMs),
      ),
    };
  });
}

/** Whether a row meets the target; undefined when it has no ratio at all. */
export function withinTarget(row: PathRow): boolean | undefined {
  const checks: boolean[] = [];
  if (row.throughputRatio !== undefined) checks.push(row.throughputRatio >= 1 - TARGET_MARGIN);
  if (row.latencyRatio !== undefined) checks.push(row.latencyRatio <= 1 + TARGET_MARGIN);
  return checks.length === 0 ? undefined : checks.every(Boolean);
}

function gbps(m: Measurement | undefined): string {
  if (!m || m.throughputBps.length === 0) return '—';
  const values = m.throughputBps.map((b) => b / 1e9);
  const spread =
    values.length > 1 ? ` (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})` : '';
  return `${median(values).toFixed(2)}${spread}`;
}

function latency(m: Measurement | undefined): string {
  const avg = medianOf(m, (l) => l.avgMs);
  const p99 = medianOf(m, (l) => l.p99Ms);
  if (avg === undefined || p99 === undefined) return '—';
  const lost = m!.latency.reduce((sum, l) => sum + l.lost, 0);
  return `${avg.toFixed(3)} / ${p99.toFixed(3)}${lost > 0 ? ` (${lost} lost)` : ''}`;
}

const times = (r: number | undefined) => (r === undefined ? '—' : `${r.toFixed(3)}×`);

/** A Markdown table (it reads fine in a terminal too). */
export function formatTable(measurements: readonly Measurement[]): string {
  const header = [
    'path',
    'margay Gbit/s',
    'floor Gbit/s',
    'throughput margay/floor',
    'margay ping avg / p99 ms',
    'floor ping avg / p99 ms',
    'latency margay/floor',
    'within 5 %',
    'note',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of pathRows(measurements)) {
    const verdict = withinTarget(row);
    const notes = [row.margay?.note, row.floor?.note].filter((n): n is string => n !== undefined);
    lines.push(
      `| ${[
        row.path,
        gbps(row.margay),
        gbps(row.floor),
        times(row.throughputRatio),
        latency(row.margay),
        latency(row.floor),
        times(row.latencyRatio),
        verdict === undefined ? '—' : verdict ? 'yes' : '**no**',
        notes.join('; ') || '',
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
