// The daemons under test, started for one benchmark case: the anchors (BIRD 2, FRR, GoBGP) through
// @margay/anchors, margay-bgpd from this checkout, and the relay that measures the harness itself.
// Every target listens on `daemon` and waits for the tester and monitors to connect (passive peers).

import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type DaemonSpec, type RunningDaemon, startBird2, startFrr, startGobgp } from '@margay/anchors';
import { makeTempDir } from '@margay/testkit';
import {
  HarnessChild,
  processGroupCpuSeconds,
  processTreeCpuSeconds,
  processTreeRss,
  stopProcess,
  track,
} from './children';
import type { Endpoint } from './ipc';

export const TARGETS = ['relay', 'margay', 'bird', 'frr', 'gobgp'] as const;
export type TargetName = (typeof TARGETS)[number];

export interface Topology {
  daemon: Endpoint;
  daemonAs: number;
  tester: { address: string; asNumber: number };
  monitors: { addresses: string[]; asNumber: number };
  /** iBGP with the daemon as route reflector and every peer its client. */
  routeReflector: boolean;
}

export interface RunningTarget {
  rssBytes(): number;
  /** CPU time (user + system, all threads) the daemon has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const DAEMON_ROUTER_ID = '10.255.0.1';

function peerList(topology: Topology): { address: string; asNumber: number }[] {
  return [
    topology.tester,
    ...topology.monitors.addresses.map((address) => ({ address, asNumber: topology.monitors.asNumber })),
  ];
}

function anchorSpec(topology: Topology): DaemonSpec {
  return {
    routerId: DAEMON_ROUTER_ID,
    asNumber: topology.daemonAs,
    listen: topology.daemon,
    peers: peerList(topology).map((peer) => ({
      ...peer,
      passive: true,
      routeReflectorClient: topology.routeReflector,
    })),
    routeReflector: topology.routeReflector ? { clusterId: DAEMON_ROUTER_ID } : undefined,
  };
}

/** margay-bgpd reads YAML, and JSON is YAML. */
function margayConfig(topology: Topology): string {
  return JSON.stringify(
    {
      asNumber: topology.daemonAs,
      routerId: DAEMON_ROUTER_ID,
      listen: topology.daemon,
      api: false,
      logLevel: 'warn',
      routeReflector: topology.routeReflector ? { clusterId: DAEMON_ROUTER_ID } : undefined,
      peers: peerList(topology).map((peer) => ({
        ...peer,
        passive: true,
        multihop: peer.asNumber !== topology.daemonAs,
        families: ['ipv4'],
        import: 'all',
        export: 'all',
        routeReflectorClient: topology.routeReflector,
      })),
    },
    null,
    2,
  );
}

/**
 * margay-bgpd from this checkout, through the launcher operators use (bin/margay-bgpd, which
 * execs node with the daemon's V8 flags, so the pid and its RSS are the daemon's). `nodeFlags`
 * replaces the launcher's V8 flags ('' for none).
 */
async function startMargay(topology: Topology, nodeFlags: string | undefined): Promise<RunningTarget> {
  const repo = resolve(__dirname, '..', '..', '..');
  const cli = join(repo, 'packages', 'bgp', 'dist', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error(`margay-bgpd is not built (${cli} is missing): run pnpm -s build`);
  const launcher = join(repo, 'bin', 'margay-bgpd');
  const dir = makeTempDir('bench-margay');
  const configFile = join(dir, 'margay-bgpd.yaml');
  const logFile = join(dir, 'margay-bgpd.log');
  writeFileSync(configFile, margayConfig(topology));
  const log = openSync(logFile, 'a');
  const env = nodeFlags === undefined ? process.env : { ...process.env, MARGAY_BGPD_NODE_FLAGS: nodeFlags };
  const child = spawn(launcher, ['--config', configFile], { stdio: ['ignore', log, log], env });
  closeSync(log);
  track(child);
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null)
      process.stderr.write(
        `margay-bgpd exited with code ${code}; log:\n${readFileSync(logFile, 'utf8').slice(-3000)}\n`,
      );
  });
  return {
    rssBytes: () => processTreeRss(child.pid ?? 0),
    cpuSeconds: () => processTreeCpuSeconds(child.pid ?? 0),
    stop: async () => {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An anchor daemon: a process-group leader, so its CPU time is its group's. */
function anchorTarget(daemon: RunningDaemon): RunningTarget {
  return {
    rssBytes: () => daemon.rssBytes(),
    cpuSeconds: () => processGroupCpuSeconds(daemon.pid),
    stop: () => daemon.stop(),
  };
}

async function startRelay(topology: Topology, signal: AbortSignal): Promise<RunningTarget> {
  const relay = new HarnessChild('relay', {
    listen: topology.daemon,
    asNumber: topology.daemonAs,
    testerAddress: topology.tester.address,
    monitorAddresses: topology.monitors.addresses,
  });
  try {
    await relay.waitFor('ready', signal);
  } catch (error) {
    await relay.stop();
    throw error;
  }
  const pid = relay.process.pid ?? 0;
  return {
    rssBytes: () => processTreeRss(pid),
    cpuSeconds: () => processTreeCpuSeconds(pid),
    stop: () => relay.stop(),
  };
}

/** `margayNodeFlags` replaces the V8 flags of margay-bgpd's launcher (undefined: its own). */
export async function startTarget(
  name: TargetName,
  topology: Topology,
  signal: AbortSignal,
  margayNodeFlags?: string,
): Promise<RunningTarget> {
  switch (name) {
    case 'relay':
      return startRelay(topology, signal);
    case 'margay':
      return startMargay(topology, margayNodeFlags);
    case 'bird':
      return anchorTarget(await startBird2(anchorSpec(topology)));
    case 'frr':
      return anchorTarget(await startFrr(anchorSpec(topology)));
    case 'gobgp':
      return anchorTarget(await startGobgp(anchorSpec(topology)));
  }
}
