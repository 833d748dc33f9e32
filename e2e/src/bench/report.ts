// Turning measurements into the per-case table: time, rate, memory, and both compared with BIRD
// per route (GoBGP runs fewer routes, so ratios are per route, not per run). Memory is reported
// two ways: peak RSS per route (what the host must have), and the growth above the daemon's own
// idle RSS per route (what the routes cost, without the fixed cost of a runtime such as Node's).

import type { Measurement } from './runner';

export interface Row {
  /** The target, with margay's V8 flags when the run set them. */
  target: string;
  routes: number;
  seconds: number;
  routesPerSecond: number;
  /** The daemon's CPU time (all threads) during the run: less sensitive to a busy machine than time. */
  cpuSeconds: number;
  idleRssMb: number;
  peakRssMb: number;
  /** Peak RSS ÷ routes. */
  bytesPerRoute: number;
  /** (Peak − idle RSS) ÷ routes; 0 when the peak was not above idle. */
  bytesPerRouteAboveIdle: number;
  /** Time per route against BIRD's (2 = twice as slow); undefined without a BIRD run. */
  timeVsBird?: number;
  /** CPU time per route against BIRD's. */
  cpuVsBird?: number;
  /** Peak RSS per route against BIRD's. */
  memoryVsBird?: number;
  /** Growth above idle per route against BIRD's; undefined without a BIRD run or if BIRD's was 0. */
  aboveIdleVsBird?: number;
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

const aboveIdlePerRoute = (m: Measurement) => Math.max(0, m.peakRssBytes - m.idleRssBytes) / m.routes;

/** "margay", or "margay [--flag]" / "margay [no flags]" when the run replaced its V8 flags. */
export function targetLabel(m: Measurement): string {
  if (m.nodeFlags === undefined) return m.target;
  return `${m.target} [${m.nodeFlags === '' ? 'no flags' : m.nodeFlags}]`;
}

export function rows(measurements: readonly Measurement[]): Row[] {
  const bird = measurements.find((m) => m.target === 'bird');
  return measurements.map((m) => {
    const row: Row = {
      target: targetLabel(m),
      routes: m.routes,
      seconds: m.seconds,
      routesPerSecond: deliveries(m) / m.seconds,
      cpuSeconds: m.cpuSeconds,
      idleRssMb: m.idleRssBytes / MB,
      peakRssMb: m.peakRssBytes / MB,
      bytesPerRoute: m.peakRssBytes / m.routes,
      bytesPerRouteAboveIdle: aboveIdlePerRoute(m),
      injectionBound: m.testerSeconds >= INJECTION_BOUND_SHARE * m.seconds,
    };
    if (bird) {
      row.timeVsBird = m.seconds / m.routes / (bird.seconds / bird.routes);
      if (bird.cpuSeconds > 0) row.cpuVsBird = m.cpuSeconds / m.routes / (bird.cpuSeconds / bird.routes);
      row.memoryVsBird = row.bytesPerRoute / (bird.peakRssBytes / bird.routes);
      const birdAboveIdle = aboveIdlePerRoute(bird);
      if (birdAboveIdle > 0) row.aboveIdleVsBird = row.bytesPerRouteAboveIdle / birdAboveIdle;
    }
    return row;
  });
}

const fixed = (value: number | undefined, digits: number) =>
  value === undefined ? '—' : value.toFixed(digits);
const grouped = (value: number) => Math.round(value).toLocaleString('en-US');
const ratio = (value: number | undefined) => (value === undefined ? '—' : `${fixed(value, 2)}×`);

/** A Markdown table (it reads fine in a terminal too). */
export function formatTable(title: string, measurements: readonly Measurement[]): string {
  const header = [
    'target',
    'routes',
    'time (s)',
    'routes/s',
    'CPU (s)',
    'idle RSS (MB)',
    'peak RSS (MB)',
    'bytes/route',
    'bytes/route above idle',
    'time vs BIRD',
    'CPU vs BIRD',
    'memory vs BIRD',
    'above idle vs BIRD',
  ];
  const lines = [`### ${title}`, '', `| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows(measurements)) {
    const name = row.target === 'relay' ? 'harness ceiling (relay)' : row.target;
    const cells = [
      row.injectionBound ? `${name} (injection-bound)` : name,
      grouped(row.routes),
      fixed(row.seconds, 2),
      grouped(row.routesPerSecond),
      fixed(row.cpuSeconds, 2),
      fixed(row.idleRssMb, 0),
      fixed(row.peakRssMb, 0),
      grouped(row.bytesPerRoute),
      grouped(row.bytesPerRouteAboveIdle),
      ratio(row.timeVsBird),
      ratio(row.cpuVsBird),
      ratio(row.memoryVsBird),
      ratio(row.aboveIdleVsBird),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
