// The BIRD 2 anchor of one convergence case: every node a bird process in one fresh network
// namespace, on its own loopback address, with a config pre-rendered from Calico's template.
// Each node's kernel protocol writes its routes into the node's own table; one `ip monitor
// route` stamps every change, so no node is polled.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { makeTempDir, waitFor } from '@margay/testkit';
import { parseMonitorLine, renderBirdConfig } from './bird-config';
import {
  cpuSeconds,
  deleteNamespace,
  rssBytes,
  stopProcess,
  trackDir,
  trackNamespace,
  trackProcess,
  untrackDir,
} from './cleanup';
import type { CaseLog } from './margay-cluster';
import type { ClusterPlan, PlannedNode } from './plan';
import type { JoinMeasurement } from './report';

const START_TIMEOUT_MS = 120_000;
const JOIN_TIMEOUT_MS = 60_000;
const LEAVE_TIMEOUT_MS = 10_000;

const seconds = (from: bigint, to: bigint) => Number(to - from) / 1e9;
const tail = (file: string) => readFileSync(file, 'utf8').slice(-2000).trim();

/** table → prefix → when it appeared. */
class KernelTables {
  private readonly tables = new Map<number, Map<string, bigint>>();
  readonly process: ChildProcess;

  constructor(ns: string) {
    this.process = trackProcess(
      spawn('ip', ['-n', ns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'inherit'] }),
    );
    createInterface({ input: this.process.stdout! }).on('line', (line) => {
      const at = process.hrtime.bigint();
      const event = parseMonitorLine(line);
      if (!event) return;
      const table = this.tables.get(event.table) ?? new Map<string, bigint>();
      this.tables.set(event.table, table);
      if (event.deleted) table.delete(event.prefix);
      else if (!table.has(event.prefix)) table.set(event.prefix, at);
    });
  }

  at(table: number, prefix: string): bigint | undefined {
    return this.tables.get(table)?.get(prefix);
  }
}

export async function runBirdCase(
  plan: ClusterPlan,
  signal: AbortSignal,
  log: CaseLog,
): Promise<JoinMeasurement[]> {
  const ns = trackNamespace(`mgconv-${randomBytes(4).toString('hex')}`);
  execFileSync('ip', ['netns', 'add', ns]);
  const dir = trackDir(makeTempDir('bench-convergence-bird'));
  const birds = new Map<string, ChildProcess>();
  let monitor: KernelTables | undefined;
  const all = [...plan.existing, ...plan.joiners];
  const start = (node: PlannedNode): ChildProcess => {
    const conf = join(dir, `${node.name}.conf`);
    const stderr = openSync(join(dir, `${node.name}.stderr`), 'a');
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'bird',
        '-f',
        '-c',
        conf,
        '-s',
        join(dir, `${node.name}.ctl`),
        '-P',
        join(dir, `${node.name}.pid`),
      ],
      { detached: true, stdio: ['ignore', 'ignore', stderr] },
    );
    closeSync(stderr);
    trackProcess(child);
    birds.set(node.name, child);
    return child;
  };
  /** True, or throws: waits end at once when a bird dies or on Ctrl-C. */
  const alive = (): true => {
    signal.throwIfAborted();
    for (const [name, child] of birds)
      if (child.exitCode !== null)
        throw new Error(
          `bird of ${name} exited with code ${child.exitCode}: ${tail(join(dir, `${name}.stderr`))}`,
        );
    return true;
  };
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    for (const node of all) {
      const others = all.filter(
        (o) => o !== node && (plan.joiners.includes(o) ? !plan.joiners.includes(node) : true),
      );
      const config = renderBirdConfig({
        self: node,
        others,
        topology: plan.topology,
        port: plan.port,
        logFile: join(dir, `${node.name}.log`),
      });
      writeFileSync(join(dir, `${node.name}.conf`), config);
    }
    monitor = new KernelTables(ns);
    const tables = monitor;
    for (const node of plan.existing) start(node);
    await waitFor(
      'the existing BIRDs to converge',
      () => {
        alive();
        return plan.existing.every((n) =>
          plan.existing.every((o) => o === n || tables.at(n.table, o.block) !== undefined),
        );
      },
      START_TIMEOUT_MS,
    );
    log(`bird ${plan.topology} ${plan.size}: ${plan.existing.length} nodes converged`);

    const results: JoinMeasurement[] = [];
    for (const [j, node] of plan.joiners.entries()) {
      const cpuOfExisting = () =>
        plan.existing.reduce((sum, n) => sum + cpuSeconds(birds.get(n.name)?.pid), 0);
      const cpuBefore = cpuOfExisting();
      const startedAt = process.hrtime.bigint();
      const joiner = start(node);
      await waitFor(
        `every BIRD to route ${node.name}'s block ${node.block}`,
        () => alive() && plan.existing.every((n) => tables.at(n.table, node.block) !== undefined),
        JOIN_TIMEOUT_MS,
      );
      const cpuUsed = cpuOfExisting() - cpuBefore;
      const times = plan.existing.map((n) => seconds(startedAt, tables.at(n.table, node.block)!));
      const measurement: JoinMeasurement = {
        target: 'bird',
        topology: plan.topology,
        size: plan.size,
        joinerOrder: plan.joinerOrder,
        join: j + 1,
        seconds: Math.max(...times),
        firstSeconds: Math.min(...times),
        joinerRssBytes: rssBytes(joiner.pid),
        meanRssBytes:
          plan.existing.reduce((sum, n) => sum + rssBytes(birds.get(n.name)?.pid), 0) / plan.existing.length,
        meanCpuSeconds: cpuUsed / plan.existing.length,
      };
      results.push(measurement);
      log(`bird ${plan.topology} ${plan.size} join ${j + 1}: ${measurement.seconds.toFixed(3)} s`);
      birds.delete(node.name);
      await stopProcess(joiner);
      try {
        // Graceful restart may keep the routes as stale for a while; the next joiner's block differs anyway.
        await waitFor(
          `every BIRD to drop ${node.block}`,
          () => plan.existing.every((n) => tables.at(n.table, node.block) === undefined),
          LEAVE_TIMEOUT_MS,
        );
      } catch {
        log(
          `bird: ${node.name}'s block still routed (graceful restart) after ${LEAVE_TIMEOUT_MS / 1000} s; continuing`,
        );
      }
    }
    return results;
  } finally {
    await Promise.all([...birds.values()].map((b) => stopProcess(b)));
    if (monitor) await stopProcess(monitor.process);
    deleteNamespace(ns);
    untrackDir(dir);
  }
}
