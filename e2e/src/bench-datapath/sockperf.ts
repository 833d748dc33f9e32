// Back-to-back latency: `sockperf ping-pong` sends the next request as soon as the reply is in, so
// a round trip measures the CPU cost of the path (stack, netfilter, conntrack, routing) rather than
// wake-ups from idle and cold caches, which dominate a ping every 10 ms. The figure per run is the
// lower quartile of its round trips (`--full-rtt`): what a round trip costs when no other task held
// the CPU. On a shared machine other jobs time-share the CPU for part of a run, which moves the
// median by 10–25 % (seen here) while the lower quartile stays within a few per cent.
// Client and server are pinned to one CPU: then the whole round trip (both stacks, both nodes'
// forwarding, run in softirq on the sending CPU) is CPU work plus two context switches. Unpinned,
// the scheduler sometimes puts them on different vCPUs and every round trip waits for an IPI to
// wake an idle vCPU: ~60–75 µs instead of ~19 µs here, flipping from run to run.

import { mustRunIn, NetnsServer, runIn } from './tools';

/** UDP and TCP servers share the number (different protocols). */
export const SOCKPERF_PORT = 11111;
export type SockperfProtocol = 'udp' | 'tcp';

export interface SockperfResult {
  /** Lower quartile of the round trips, µs: the benchmark's figure. */
  readonly p25Us: number;
  /** Median round trip, µs. */
  readonly medianUs: number;
  readonly avgUs: number;
  readonly p99Us: number;
  /** Round trips in the valid window (after sockperf's warm-up). */
  readonly observations: number;
  readonly dropped: number;
}

const ANSI = /\x1b\[[0-9;]*m/g;

/** Reads a `sockperf ping-pong --full-rtt` report; throws naming what is missing. */
export function parseSockperfOutput(text: string): SockperfResult {
  const plain = text.replace(ANSI, '');
  const number = (what: string, pattern: RegExp): number => {
    const match = pattern.exec(plain);
    if (!match) throw new Error(`sockperf output has no ${what}: ${plain.slice(-400)}`);
    return Number(match[1]);
  };
  if (/avg-latency=/.test(plain))
    throw new Error('sockperf reported one-way latency: run it with --full-rtt (round trips)');
  const result: SockperfResult = {
    p25Us: number('lower quartile (percentile 25.000)', /percentile 25\.000 =\s*([\d.]+)/),
    medianUs: number('median (percentile 50.000)', /percentile 50\.000 =\s*([\d.]+)/),
    avgUs: number('avg-rtt', /avg-rtt=([\d.]+)/),
    p99Us: number('percentile 99.000', /percentile 99\.000 =\s*([\d.]+)/),
    observations: number('observation count', /Total (\d+) observations/),
    dropped: number('dropped message count', /# dropped messages = (\d+)/),
  };
  if (result.observations <= 0) throw new Error('sockperf made no observations');
  return result;
}

const pinned = (cpu: number) => ['taskset', '-c', String(cpu)];

/** A sockperf server for `protocol` bound to `address` in `netns`, pinned to `cpu`. */
export function startSockperfServer(
  netns: string,
  address: string,
  protocol: SockperfProtocol,
  cpu: number,
  signal: AbortSignal,
): Promise<NetnsServer> {
  const argv = [...pinned(cpu), 'sockperf', 'server', '-i', address, '-p', String(SOCKPERF_PORT)];
  if (protocol === 'tcp') argv.push('--tcp');
  // Listening is what counts (its banner comes before the bind): ask the socket table.
  const ss = ['ss', '-H', protocol === 'tcp' ? '-ltn' : '-lun', 'sport', '=', `:${SOCKPERF_PORT}`];
  return NetnsServer.start(
    `sockperf ${protocol} server on ${address}:${SOCKPERF_PORT}`,
    netns,
    argv,
    async () => (await mustRunIn(netns, ss, signal)).includes(`${address}:${SOCKPERF_PORT}`),
    signal,
  );
}

/**
 * One ping-pong run from `netns` to `address`. sockperf sleeps 2 s before it starts and keeps the
 * last `seconds` − 0.45 s as its valid window, so a 2 s run takes ~4.2 s for ~1.5 s of round trips.
 */
export async function sockperfOnce(
  netns: string,
  address: string,
  protocol: SockperfProtocol,
  seconds: number,
  cpu: number,
  signal: AbortSignal,
): Promise<SockperfResult> {
  const argv = [...pinned(cpu), 'sockperf', 'ping-pong', '-i', address, '-p', String(SOCKPERF_PORT)];
  argv.push('-t', String(seconds), '--full-rtt', '--no-rdtsc');
  if (protocol === 'tcp') argv.push('--tcp');
  const result = await runIn(netns, argv, signal);
  if (result.code !== 0)
    throw new Error(
      `sockperf ${protocol} in ${netns} to ${address} exited ${result.code}: ${(result.stderr + result.stdout).trim().slice(-400)}`,
    );
  return parseSockperfOutput(result.stdout + result.stderr);
}
