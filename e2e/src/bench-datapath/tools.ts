// iperf3 and ping inside network namespaces. Every process is tracked (killed by pid on any exit,
// see ../bench-convergence/cleanup) and aborts with the run's signal (Ctrl-C).

import { type ChildProcess, spawn } from 'node:child_process';
import { waitFor } from '@margay/testkit';
import { stopProcess, trackProcess } from '../bench-convergence/cleanup';
import { type LatencySummary, parseIperf3Json, parsePingOutput, summarizePing } from './stats';

export const IPERF_PORT = 5201;

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs argv in `netns` to completion; killed (SIGKILL) if the signal aborts. */
export function runIn(netns: string, argv: readonly string[], signal: AbortSignal): Promise<RunResult> {
  signal.throwIfAborted();
  const child = trackProcess(
    spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const onAbort = () => child.kill('SIGKILL');
  signal.addEventListener('abort', onAbort, { once: true });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) reject(signal.reason);
      else resolve({ code: code ?? 128, stdout, stderr: sig ? `${stderr}(killed by ${sig})` : stderr });
    });
  });
}

export async function mustRunIn(
  netns: string,
  argv: readonly string[],
  signal: AbortSignal,
): Promise<string> {
  const result = await runIn(netns, argv, signal);
  if (result.code !== 0)
    throw new Error(`${argv.join(' ')} in ${netns} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** A long-running process in a namespace (a benchmark's server), until stop(). */
export class NetnsServer {
  private constructor(private readonly child: ChildProcess) {}

  /**
   * Starts argv in `netns` and waits until `ready` says it serves (it gets the output so far);
   * an exit before that fails the start with the output. `what` names it in errors.
   */
  static async start(
    what: string,
    netns: string,
    argv: readonly string[],
    ready: (output: string) => boolean | Promise<boolean>,
    signal: AbortSignal,
  ): Promise<NetnsServer> {
    const child = trackProcess(
      spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    let output = '';
    const collect = (chunk: string) => {
      output += chunk;
    };
    child.stdout!.setEncoding('utf8').on('data', collect);
    child.stderr!.setEncoding('utf8').on('data', collect);
    const server = new NetnsServer(child);
    try {
      await waitFor(
        `${what} in ${netns}`,
        () => {
          signal.throwIfAborted();
          if (child.exitCode !== null) throw new Error(`it exited ${child.exitCode}: ${output.trim()}`);
          return ready(output);
        },
        10_000,
      );
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  stop(): Promise<void> {
    return stopProcess(this.child);
  }
}

/** An iperf3 server bound to `address` in `netns`. */
export function startIperfServer(netns: string, address: string, signal: AbortSignal): Promise<NetnsServer> {
  const argv = ['iperf3', '-s', '--forceflush', '-B', address, '-p', String(IPERF_PORT)];
  return NetnsServer.start(
    `iperf3 server on ${address}`,
    netns,
    argv,
    (output) => output.includes('Server listening'),
    signal,
  );
}

/** One iperf3 TCP run from `netns` to `address`: bits per second received. */
export async function iperfOnce(
  netns: string,
  address: string,
  seconds: number,
  signal: AbortSignal,
): Promise<number> {
  const argv = ['iperf3', '-c', address, '-p', String(IPERF_PORT), '-t', String(seconds), '-J'];
  const result = await runIn(netns, argv, signal);
  // iperf3 -J reports its errors inside the JSON too, which parseIperf3Json names.
  if (result.code !== 0 && !result.stdout.trim().startsWith('{'))
    throw new Error(`iperf3 in ${netns} to ${address} exited ${result.code}: ${result.stderr.trim()}`);
  return parseIperf3Json(result.stdout);
}

/** `count` echoes every `intervalS` from `netns` to `address`. */
export async function pingOnce(
  netns: string,
  address: string,
  count: number,
  intervalS: number,
  signal: AbortSignal,
): Promise<LatencySummary> {
  const argv = ['ping', '-n', '-c', String(count), '-i', String(intervalS), '-W', '2', address];
  const result = await runIn(netns, argv, signal);
  return summarizePing(parsePingOutput(result.stdout));
}
