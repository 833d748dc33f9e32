// Removing clusters, however far their `up` got. Everything here tolerates "already gone".
import { existsSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { podNetnsPrefix } from './address-plan';
import { ip, listHostLinks, listNetns, netnsPids } from './ip';
import { agentProcesses, etcdProcesses, killAndWait } from './processes';
import {
  clusterDir,
  etcdDir,
  isClusterDir,
  readState,
  recordedClusters,
  releaseAllSlots,
  releaseSlot,
  stateRoot,
} from './state';

const ANY_CLUSTER_NETNS = /^mge\d+-/;
const ANY_CLUSTER_HOST_LINK = /^mge\d+h$/;

/**
 * Kills every process in the cluster's namespaces (its pods' too) and its etcd, deletes the
 * namespaces and the host link, then removes the state dir and releases the slot (in that order, so
 * that a crash half-way leaves a state that still leads the next `down` to whatever remains).
 */
export async function teardownCluster(name: string): Promise<void> {
  const dir = clusterDir(name);
  if (existsSync(dir) && !isClusterDir(dir)) {
    throw new Error(`${dir} holds files the e2e harness did not put there; not touching it`);
  }
  const state = readState(name);
  // Agents first, by their marker: one whose namespace is already gone runs on in an anonymous one.
  await killAndWait(agentProcesses((cluster) => cluster === dir));
  if (state) {
    const { router, nodes, hostLink } = state.topology;
    const pods = listNetns().filter((netns) => netns.startsWith(podNetnsPrefix(state.slot)));
    await removeNetwork([...pods, router.netns, ...nodes.map((n) => n.netns)], [hostLink]);
  }
  await killAndWait(etcdProcessesOf(name));
  rmSync(dir, { recursive: true, force: true });
  if (state) releaseSlot(state.slot);
}

/**
 * Every recorded cluster, then whatever crashed runs left without a record: etcd processes under the
 * state dir, namespaces and host links named like a cluster's, and slot claims.
 */
export async function teardownAll(): Promise<void> {
  for (const name of recordedClusters()) await teardownCluster(name);
  await killAndWait(agentProcesses((cluster) => dirname(cluster) === stateRoot()));
  // etcds of clusters whose state dir was removed by hand: their data dir is <state root>/*/etcd/data
  const inStateRoot = (dataDir: string) =>
    dataDir === join(stateRoot(), basename(dirname(dirname(dataDir))), 'etcd', 'data');
  await killAndWait(etcdProcesses(inStateRoot));
  await removeNetwork(
    listNetns().filter((netns) => ANY_CLUSTER_NETNS.test(netns)),
    listHostLinks().filter((link) => ANY_CLUSTER_HOST_LINK.test(link)),
  );
  releaseAllSlots();
}

/** The etcd of cluster `name`, also if `up` was killed before it recorded its pid. */
export function etcdProcessesOf(name: string): number[] {
  const ours = join(etcdDir(name), 'data'); // EtcdServer's layout
  return etcdProcesses((dataDir) => dataDir === ours);
}

async function removeNetwork(namespaces: string[], hostLinks: string[]): Promise<void> {
  const existingNetns = new Set(listNetns());
  const present = namespaces.filter((netns) => existingNetns.has(netns));
  await killAndWait(present.flatMap(netnsPids));
  // Host links first: a veth whose peer's namespace is deleted vanishes only later, asynchronously.
  const existingLinks = new Set(listHostLinks());
  for (const link of hostLinks) if (existingLinks.has(link)) ip('link', 'del', link);
  for (const netns of present) ip('netns', 'del', netns);
}
