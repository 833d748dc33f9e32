// The pure parts of the datapath benchmark: reading iperf3's JSON and ping's output, and the
// statistics the table prints (median of runs, mean and p99 of round-trip times).

/** Received throughput of one iperf3 TCP run (`iperf3 -c … -J`), in bits per second. */
export function parseIperf3Json(text: string): number {
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch (error) {
    throw new Error(`iperf3 output is not JSON (${(error as Error).message}): ${text.slice(0, 200)}`);
  }
  const root = report as { error?: unknown; end?: { sum_received?: { bits_per_second?: unknown } } };
  if (typeof root.error === 'string') throw new Error(`iperf3 failed: ${root.error}`);
  const bps = root.end?.sum_received?.bits_per_second;
  if (typeof bps !== 'number' || !Number.isFinite(bps) || bps <= 0)
    throw new Error('iperf3 JSON has no positive end.sum_received.bits_per_second');
  return bps;
}

export interface PingResult {
  readonly sent: number;
  readonly received: number;
  /** Round-trip times in milliseconds, one per reply, in order. */
  readonly rttsMs: readonly number[];
}

/**
 * iputils' or busybox's ping output: every `time=X ms` reply line, and the "N packets transmitted,
 * M (packets) received" summary. Throws when the summary is missing or disagrees with the replies.
 */
export function parsePingOutput(text: string): PingResult {
  const rttsMs = [...text.matchAll(/\btime[=<]([\d.]+) ?ms\b/g)].map((m) => Number(m[1]));
  const summary = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text);
  if (!summary)
    throw new Error(`no ping summary ("N packets transmitted, M received") in: ${text.slice(-300)}`);
  const sent = Number(summary[1]);
  const received = Number(summary[2]);
  if (rttsMs.length !== received)
    throw new Error(`ping reported ${received} replies but printed ${rttsMs.length} round-trip times`);
  return { sent, received, rttsMs };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank percentile (p in (0, 100]): the smallest value with at least p % at or below it. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error(`p${p} of no values`);
  if (!(p > 0 && p <= 100)) throw new Error(`percentile ${p} is not in (0, 100]`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new Error('mean of no values');
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

export interface LatencySummary {
  readonly avgMs: number;
  readonly p99Ms: number;
  /** Echoes lost (sent − received). */
  readonly lost: number;
}

export function summarizePing(result: PingResult): LatencySummary {
  if (result.rttsMs.length === 0) throw new Error(`all ${result.sent} pings were lost`);
  return {
    avgMs: mean(result.rttsMs),
    p99Ms: percentile(result.rttsMs, 99),
    lost: result.sent - result.received,
  };
}
