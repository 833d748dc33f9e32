// Helpers for the harness's own integration tests.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hostLinkName, planTopology, slotPrefix } from './address-plan';
import { ip, listHostLinks, listNetns } from './ip';
import { isRunning } from './processes';
import { clusterDir, slotClaimDir } from './state';
import { etcdProcessesOf } from './teardown';

let clusters = 0;

/** A cluster name no other test run uses (runs overlap, and crashed runs leave clusters behind). */
export function freshClusterName(label: string): string {
  return `${label}-${process.pid}-${++clusters}`;
}

/** Everything of a cluster that still exists, described; [] once it is completely gone. */
export function leftoversOf(name: string, slot: number, etcdPid: number): string[] {
  const prefix = slotPrefix(slot);
  const { slotCidr } = planTopology(slot, 1, 1);
  return [
    ...listNetns()
      .filter((netns) => netns.startsWith(`${prefix}-`))
      .map((netns) => `namespace ${netns}`),
    ...listHostLinks()
      .filter((link) => link === hostLinkName(slot))
      .map((link) => `host link ${link}`),
    ...(ip('route', 'show', slotCidr).trim() ? [`host route to ${slotCidr}`] : []),
    ...(isRunning(etcdPid) ? [`etcd pid ${etcdPid}`] : []),
    ...etcdProcessesOf(name).map((pid) => `etcd process ${pid}`),
    ...(existsSync(clusterDir(name)) ? [`state dir ${clusterDir(name)}`] : []),
    ...(existsSync(slotClaimDir(slot)) ? [`claim on slot ${slot}`] : []),
  ];
}

/** The `e2e/cluster` shim; it runs the built CLI, so this fails clearly if there is no build. */
export function builtCli(): string {
  const cli = join(__dirname, '..', 'dist', 'cli.js');
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: the CLI tests need a build (pnpm -s build) first`);
  return join(__dirname, '..', 'cluster');
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(builtCli(), args, { encoding: 'utf8', env });
}
