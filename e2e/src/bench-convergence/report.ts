// From join measurements to the printed table: median (min–max) per target and case, and
// margay's median against BIRD's measured in the same run.

import type { JoinerOrder, Topology } from './plan';

export const TARGETS = ['margay', 'bird'] as const;
export type Target = (typeof TARGETS)[number];

export interface JoinMeasurement {
  readonly target: Target;
  readonly topology: Topology;
  readonly size: number;
  readonly joinerOrder: JoinerOrder;
  readonly join: number;
  /** Joiner start → the last other node has the joiner's block as best route. */
  readonly seconds: number;
  /** Joiner start → the first other node has it. */
  readonly firstSeconds: number;
  /** margay only: joiner start → its speaker is running (Node written, snapshot in sync). */
  readonly speakerSeconds?: number;
  readonly joinerRssBytes: number;
  /** Mean over the other nodes, measured after the join converged. */
  readonly meanRssBytes: number;
  /** CPU time each other node used from the joiner's start to convergence, mean over them. */
  readonly meanCpuSeconds: number;
}

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

export interface CaseRow {
  readonly target: Target;
  readonly topology: Topology;
  readonly size: number;
  readonly joinerOrder: JoinerOrder;
  readonly joins: number;
  readonly seconds: Summary;
  readonly firstSeconds: Summary;
  readonly speakerSeconds: Summary | undefined;
  readonly joinerRssMb: number;
  readonly meanRssMb: number;
  readonly meanCpuMs: number;
  /** margay's median / BIRD's median for the same case; undefined for BIRD or without a BIRD run. */
  readonly vsBird: number | undefined;
}

const MB = 1024 * 1024;

/** One row per (topology, size, target), in the order first seen. */
export function caseRows(measurements: readonly JoinMeasurement[]): CaseRow[] {
  const groups = new Map<string, JoinMeasurement[]>();
  for (const m of measurements) {
    const key = `${m.topology}/${m.size}/${m.joinerOrder}/${m.target}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const rows = [...groups.values()].map((group): CaseRow => {
    const first = group[0]!;
    const speaker = group.flatMap((m) => (m.speakerSeconds === undefined ? [] : [m.speakerSeconds]));
    return {
      target: first.target,
      topology: first.topology,
      size: first.size,
      joinerOrder: first.joinerOrder,
      joins: group.length,
      seconds: summarize(group.map((m) => m.seconds)),
      firstSeconds: summarize(group.map((m) => m.firstSeconds)),
      speakerSeconds: speaker.length > 0 ? summarize(speaker) : undefined,
      joinerRssMb: median(group.map((m) => m.joinerRssBytes)) / MB,
      meanRssMb: median(group.map((m) => m.meanRssBytes)) / MB,
      meanCpuMs: median(group.map((m) => m.meanCpuSeconds)) * 1000,
      vsBird: undefined,
    };
  });
  return rows.map((row) => {
    if (row.target === 'bird') return row;
    const bird = rows.find(
      (r) =>
        r.target === 'bird' &&
        r.topology === row.topology &&
        r.size === row.size &&
        r.joinerOrder === row.joinerOrder,
    );
    return bird ? { ...row, vsBird: row.seconds.median / bird.seconds.median } : row;
  });
}

const range = (s: Summary) => `${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})`;

/** A Markdown table (it reads fine in a terminal too). */
export function formatTable(measurements: readonly JoinMeasurement[]): string {
  const header = [
    'topology',
    'joiner',
    'nodes',
    'target',
    'joins',
    'convergence (s)',
    'first node (s)',
    'speaker up (s)',
    'RSS per node (MB)',
    'joiner RSS (MB)',
    'CPU per node per join (ms)',
    'vs BIRD',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of caseRows(measurements)) {
    const cells = [
      row.topology === 'rr' ? 'rr (2 reflectors)' : 'full mesh',
      row.joinerOrder === 'above' ? 'connects' : 'is connected to',
      String(row.size),
      row.target === 'margay' ? '**margay**' : 'BIRD 2',
      String(row.joins),
      range(row.seconds),
      range(row.firstSeconds),
      row.speakerSeconds ? range(row.speakerSeconds) : '—',
      row.meanRssMb.toFixed(1),
      row.joinerRssMb.toFixed(1),
      row.meanCpuMs.toFixed(0),
      row.vsBird === undefined ? '—' : `${row.vsBird.toFixed(2)}×`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** What the clock measures, printed with every table. */
export const DEFINITION = `Convergence = joiner start → the last of the other nodes has the joiner's pod block as its best route.
  margay: the joiner's node process is already running with its modules loaded and its IPAM block claimed;
    "start" is the moment it receives "go" and begins margay-node's start-up: list/watch etcd, start
    the speaker, then write its Node resource (etcd watch latency included on every node). "Has the block" =
    the best-path change reaches that node's FIB sink (where the kernel route would be written).
  BIRD 2: every config is pre-rendered from Calico's template (connect delay 2 s, connect retry 5 s);
    "start" is the spawn of the joiner's bird process. "Has the block" = the route appears in that
    node's own kernel routing table (BIRD's kernel protocol exports it; one ip monitor watches all).
  Calico's passive rule: the higher address connects. With --joiner above (default) the joiner's address
  sorts above every existing node's and it opens every session itself; with --joiner below the existing
  nodes must connect to it. Each join is a new node; it leaves again before the next join.
  CPU per node per join = CPU time (user + system) each other node's process used from the joiner's start
  to convergence, mean over them (all nodes share this machine's CPUs).`;
