// From measurements to the printed table: per path and figure, margay beside its two floors (bare:
// no rule; conntrack: one RELATED,ESTABLISHED accept per hook), the median of the rounds with their
// range, and per floor the median of the per-round ratios with the verdict against 5 %.

import { median } from './stats';
import { type Direction, describeVerdict, type RatioSummary, summarizeRatios } from './verdict';

export type Variant = 'margay' | 'floor' | 'floor+ct';
export const FLOORS = ['floor', 'floor+ct'] as const;
export type FloorVariant = (typeof FLOORS)[number];

export type Metric = 'throughput' | 'udpRtt' | 'tcpRtt' | 'ping';

export interface MetricSpec {
  readonly label: string;
  readonly unit: string;
  readonly direction: Direction;
  /** Stored value × scale = printed value (throughput is stored in bit/s). */
  readonly scale: number;
  readonly digits: number;
}

/** In the order the table prints them. */
export const METRICS: Record<Metric, MetricSpec> = {
  throughput: {
    label: 'TCP throughput',
    unit: 'Gbit/s',
    direction: 'higher-is-better',
    scale: 1e-9,
    digits: 2,
  },
  udpRtt: {
    label: 'UDP round trip, back to back (p25)',
    unit: 'µs',
    direction: 'lower-is-better',
    scale: 1,
    digits: 2,
  },
  tcpRtt: {
    label: 'TCP round trip, back to back (p25)',
    unit: 'µs',
    direction: 'lower-is-better',
    scale: 1,
    digits: 2,
  },
  ping: { label: 'ping every 10 ms (mean)', unit: 'ms', direction: 'lower-is-better', scale: 1, digits: 3 },
};
const METRIC_ORDER = Object.keys(METRICS) as Metric[];

/** One round's figures for one side; a figure that failed in that round is absent. */
export type Round = Partial<Record<Metric, number>>;

export interface Measurement {
  /** Which path, e.g. "routed pod→pod"; margay and its floors share it. */
  readonly path: string;
  readonly variant: Variant;
  /** In round order: round i of margay was measured back to back with round i of each floor. */
  readonly rounds: readonly Round[];
  /** Listed under the table (e.g. how the policy chains were loaded). */
  readonly note?: string;
}

export interface FigureRow {
  readonly path: string;
  readonly metric: Metric;
  /** Per side, the rounds' values (scaled for printing). */
  readonly values: Partial<Record<Variant, readonly number[]>>;
  /** margay / floor per round, summarized with the verdict; absent when a side is missing. */
  readonly ratios: Partial<Record<FloorVariant, RatioSummary>>;
}

/** Ratios margay/floor of the rounds where both sides have the figure. */
export function perRoundRatios(margay: Measurement, floor: Measurement, metric: Metric): number[] {
  if (margay.rounds.length !== floor.rounds.length)
    throw new Error(
      `${margay.path}: margay has ${margay.rounds.length} rounds but ${floor.variant} has ${floor.rounds.length}; rounds must pair`,
    );
  const ratios: number[] = [];
  for (const [i, round] of margay.rounds.entries()) {
    const a = round[metric];
    const b = floor.rounds[i]![metric];
    if (a !== undefined && b !== undefined && b > 0) ratios.push(a / b);
  }
  return ratios;
}

/** One row per path and figure, paths in the order first measured. */
export function figureRows(measurements: readonly Measurement[]): FigureRow[] {
  const rows: FigureRow[] = [];
  for (const path of new Set(measurements.map((m) => m.path))) {
    const sides = new Map<Variant, Measurement>();
    for (const m of measurements.filter((m) => m.path === path)) {
      if (sides.has(m.variant)) throw new Error(`${path}: two ${m.variant} measurements`);
      sides.set(m.variant, m);
    }
    for (const metric of METRIC_ORDER) {
      const values: Partial<Record<Variant, number[]>> = {};
      for (const [variant, m] of sides) {
        const got = m.rounds.flatMap((r) =>
          r[metric] === undefined ? [] : [r[metric]! * METRICS[metric].scale],
        );
        if (got.length > 0) values[variant] = got;
      }
      if (Object.keys(values).length === 0) continue;
      const ratios: Partial<Record<FloorVariant, RatioSummary>> = {};
      const margay = sides.get('margay');
      for (const floorVariant of FLOORS) {
        const floor = sides.get(floorVariant);
        if (!margay || !floor) continue;
        const perRound = perRoundRatios(margay, floor, metric);
        if (perRound.length > 0) ratios[floorVariant] = summarizeRatios(perRound, METRICS[metric].direction);
      }
      rows.push({ path, metric, values, ratios });
    }
  }
  return rows;
}

function valueCell(values: readonly number[] | undefined, digits: number): string {
  if (!values || values.length === 0) return '—';
  const spread =
    values.length > 1
      ? ` (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`
      : '';
  return `${median(values).toFixed(digits)}${spread}`;
}

function ratioCell(summary: RatioSummary | undefined): string {
  if (!summary) return '—';
  const band = summary.rounds > 1 ? ` (${summary.low.toFixed(3)}–${summary.high.toFixed(3)})` : '';
  return `${summary.median.toFixed(3)}×${band}`;
}

/** A Markdown table (it reads fine in a terminal too), then the paths' notes. */
export function formatTable(measurements: readonly Measurement[]): string {
  const header = [
    'path',
    'figure',
    'margay',
    'floor',
    'floor + conntrack',
    'margay/floor',
    'vs floor',
    'margay/(floor + conntrack)',
    'vs floor + conntrack',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of figureRows(measurements)) {
    const spec = METRICS[row.metric];
    const verdict = (floor: FloorVariant) => {
      const summary = row.ratios[floor];
      return summary ? describeVerdict(summary.verdict) : '—';
    };
    lines.push(
      `| ${[
        row.path,
        `${spec.label}, ${spec.unit}`,
        valueCell(row.values.margay, spec.digits),
        valueCell(row.values.floor, spec.digits),
        valueCell(row.values['floor+ct'], spec.digits),
        ratioCell(row.ratios.floor),
        verdict('floor'),
        ratioCell(row.ratios['floor+ct']),
        verdict('floor+ct'),
      ].join(' | ')} |`,
    );
  }
  const notes = [
    ...new Set(
      measurements.flatMap((m) => (m.note === undefined ? [] : [`- ${m.path}, ${m.variant}: ${m.note}`])),
    ),
  ];
  return notes.length > 0 ? `${lines.join('\n')}\n\n${notes.join('\n')}` : lines.join('\n');
}
