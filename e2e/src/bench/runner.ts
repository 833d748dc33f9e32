// One measurement: a target daemon for one case, a monitor process holding its sessions, a tester
// process injecting every route on "go". The clock runs from the tester's first write to the
// moment every monitor session holds all N routes; the daemon's RSS is sampled meanwhile.

import { allocateTopology, type CaseSettings, routesFor, workloadFor } from './cases';
import { HarnessChild } from './children';
import type { MonitorSettings, TesterSettings } from './ipc';
import { type RunningTarget, startTarget, type TargetName } from './targets';

export interface Measurement {
  target: TargetName;
  /** margay-bgpd's V8 flags when a run replaced its launcher's ('' = none); absent otherwise. */
  nodeFlags?: string;
  case: CaseSettings['name'];
  routes: number;
  monitors: number;
  updates: number;
  /** First UPDATE written → every monitor session holds all routes. */
  seconds: number;
  /** First UPDATE written → the monitor sees the first benchmark route. */
  firstRouteSeconds: number;
  /** First UPDATE written → the tester's last byte accepted by its socket. */
  testerSeconds: number;
  /** CPU time (user + system, all threads) the daemon used from "go" to done. */
  cpuSeconds: number;
  /** The daemon's RSS with every session up, before the first route. */
  idleRssBytes: number;
  peakRssBytes: number;
}

const RSS_SAMPLE_MS = 100;
/** A run fails when the monitors' count has not moved for this long. */
const STALL_MS = 30_000;

const seconds = (from: string, to: string) => Number(BigInt(to) - BigInt(from)) / 1e9;

/**
 * Runs one measurement; `signal` aborts it (Ctrl-C). Everything started is stopped either way.
 * `nodeFlags` replaces margay-bgpd's V8 flags (see startTarget).
 */
export async function measure(
  target: TargetName,
  settings: CaseSettings,
  signal: AbortSignal,
  nodeFlags?: string,
): Promise<Measurement> {
  const topology = await allocateTopology(settings);
  const routes = routesFor(target, settings);
  const cleanup: (() => Promise<void>)[] = [];
  const stopSampling = new AbortController();
  try {
    const daemon: RunningTarget = await startTarget(target, topology, signal, nodeFlags);
    cleanup.push(() => daemon.stop());
    const monitorSettings: MonitorSettings = {
      daemon: topology.daemon,
      localAddresses: topology.monitors.addresses,
      asNumber: topology.monitors.asNumber,
      routes,
    };
    const monitor = new HarnessChild('monitor', monitorSettings);
    cleanup.push(() => monitor.stop());
    await monitor.waitFor('ready', signal);
    const testerSettings: TesterSettings = {
      daemon: topology.daemon,
      localAddress: topology.tester.address,
      routerId: '10.255.0.2',
      workload: workloadFor(settings, routes),
    };
    const tester = new HarnessChild('tester', testerSettings);
    cleanup.push(() => tester.stop());
    const ready = await tester.waitFor('ready', signal);

    const idleRssBytes = daemon.rssBytes();
    let peakRssBytes = idleRssBytes;
    const sampler = setInterval(() => {
      peakRssBytes = Math.max(peakRssBytes, daemon.rssBytes());
    }, RSS_SAMPLE_MS);
    stopSampling.signal.addEventListener('abort', () => clearInterval(sampler));

    const stalled = watchForStall(monitor, routes, AbortSignal.any([signal, stopSampling.signal]));
    const running = AbortSignal.any([signal, stalled]);
    const cpuAtGo = daemon.cpuSeconds();
    tester.send({ type: 'go' });
    const [sent, done] = await Promise.all([
      tester.waitFor('sent', running),
      monitor.waitFor('done', running),
    ]);
    stopSampling.abort();
    const cpuSeconds = daemon.cpuSeconds() - cpuAtGo;
    peakRssBytes = Math.max(peakRssBytes, daemon.rssBytes());
    const first = monitor.latest('first-update');
    return {
      target,
      ...(nodeFlags === undefined ? {} : { nodeFlags }),
      case: settings.name,
      routes,
      monitors: settings.monitors,
      updates: ready.updates ?? 0,
      seconds: seconds(sent.start, done.at),
      firstRouteSeconds: first ? seconds(sent.start, first.at) : Number.NaN,
      testerSeconds: seconds(sent.start, sent.end),
      cpuSeconds,
      idleRssBytes,
      peakRssBytes,
    };
  } finally {
    stopSampling.abort();
    for (const step of cleanup.reverse()) await step();
  }
}

/** An abort signal that fires, with the reason, when the monitor's progress stops moving for STALL_MS. */
function watchForStall(monitor: HarnessChild, routes: number, until: AbortSignal): AbortSignal {
  const stall = new AbortController();
  let lastHeld = -1;
  let lastChange = Date.now();
  const timer = setInterval(() => {
    const held = monitor.latest('progress')?.held ?? 0;
    if (held !== lastHeld) {
      lastHeld = held;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > STALL_MS) {
      clearInterval(timer);
      stall.abort(
        new Error(
          `stalled: every monitor session held at least ${held} of ${routes} routes for ${STALL_MS / 1000} s`,
        ),
      );
    }
  }, 1000);
  until.addEventListener('abort', () => clearInterval(timer));
  return stall.signal;
}
