// Pods and namespaces on a cluster, made the way Kubernetes would: a network namespace per pod, wired
// by the real margay-cni run inside the node's namespace; a namespace is the Profile `kns.<name>`
// that Calico's controllers write for it. Each pod is recorded in <cluster dir>/pods/<name>.json;
// `down` removes pod namespaces by their name prefix, recorded or not.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeResource,
  encodeResource,
  isKind,
  resourceKey,
  resourcePrefix,
  validateResource,
} from '@margay/api';
import { ConflictError, type Datastore, EtcdDatastore } from '@margay/datastore';
import { podNetnsPrefix } from './address-plan';
import type { Cluster, ExecResult } from './cluster';
import { ip, netnsPids } from './ip';
import { killAndWait } from './processes';
import { clusterDir } from './state';

export interface PodInfo {
  name: string;
  node: string;
  /** The Kubernetes namespace. */
  namespace: string;
  ip: string;
  /** The pod's network namespace. */
  netns: string;
  labels: Record<string, string>;
  containerId: string;
}

export interface AddPodOptions {
  /** Default `default`. */
  namespace?: string;
  labels?: Record<string, string>;
}

/** The CNI network the harness's pods are attached to (the name Calico's manifests use). */
const NETWORK = 'k8s-pod-network';
const PLUGIN = join(__dirname, '..', '..', 'bin', 'margay-cni');
const POD_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Calico's prefix for namespace labels on `kns.` profiles (selectors see them as `pcns.<key>`). */
const NAMESPACE_LABEL_PREFIX = 'pcns.';

/** `app=web,tier=db` → labels; throws naming the item that is not `key=value`. */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of text.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0)
      throw new Error(`label ${JSON.stringify(item)} is not key=value (in ${JSON.stringify(text)})`);
    labels[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return labels;
}

/** Creates pod `name` on `node` through margay-cni; returns it with the address IPAM gave it. */
export async function addPod(
  cluster: Cluster,
  node: string,
  name: string,
  options: AddPodOptions = {},
): Promise<PodInfo> {
  checkPodName(name);
  cluster.node(node); // throws naming the cluster's nodes
  if (readPod(cluster, name)) throw new Error(`pod '${name}' already exists in cluster '${cluster.name}'`);
  const namespace = options.namespace ?? 'default';
  const labels = options.labels ?? {};
  resourcePrefix('WorkloadEndpoint', namespace); // throws unless the namespace name is valid
  const pools = await withStore(cluster, async (store) => {
    await ensureNamespace(store, namespace);
    return ipv4PoolNames(store);
  });
  if (pools.length === 0) {
    throw new Error(
      `cluster '${cluster.name}' has no enabled IPv4 IPPool in etcd for pods to get addresses from; ` +
        'apply one first, e.g. margayctl apply -f pool.yaml (kind: IPPool, spec.cidr: 10.244.0.0/16)',
    );
  }
  const pod: Omit<PodInfo, 'ip'> = {
    name,
    node,
    namespace,
    netns: podNetns(cluster, name),
    labels,
    containerId: randomBytes(16).toString('hex'),
  };
  ip('netns', 'add', pod.netns); // fails if the name is taken
  try {
    const added = await runPlugin(cluster, 'ADD', pod, { ipam: { type: 'margay-ipam', ipv4_pools: pools } });
    if (added.code !== 0) throw new Error(`margay-cni ADD of pod '${name}' failed: ${pluginError(added)}`);
    const result = JSON.parse(added.stdout) as { ips: { address: string }[] };
    const created: PodInfo = { ...pod, ip: result.ips[0]!.address.split('/')[0]! };
    mkdirSync(podsDir(cluster), { recursive: true });
    writeFileSync(podFile(cluster, name), `${JSON.stringify(created, null, 2)}\n`);
    return created;
  } catch (error) {
    await runPlugin(cluster, 'DEL', pod).catch(() => undefined);
    ip('netns', 'del', pod.netns);
    throw error;
  }
}

/** Releases the pod through margay-cni (address, endpoint, veth), then removes its namespace. */
export async function deletePod(cluster: Cluster, name: string): Promise<void> {
  const pod = readPod(cluster, name);
  if (!pod) throw new Error(`no pod '${name}' in cluster '${cluster.name}'`);
  const deleted = await runPlugin(cluster, 'DEL', pod);
  if (deleted.code !== 0) throw new Error(`margay-cni DEL of pod '${name}' failed: ${pluginError(deleted)}`);
  await killAndWait(netnsPids(pod.netns));
  ip('netns', 'del', pod.netns);
  rmSync(podFile(cluster, name));
}

/** Every recorded pod, by name. */
export function listPods(cluster: Cluster): PodInfo[] {
  let files: string[];
  try {
    files = readdirSync(podsDir(cluster));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return files
    .filter((file) => file.endsWith('.json'))
    .map((file) => readPod(cluster, file.slice(0, -'.json'.length))!)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function getPod(cluster: Cluster, name: string): PodInfo {
  const pod = readPod(cluster, name);
  if (!pod) {
    const known = listPods(cluster).map((p) => p.name);
    throw new Error(
      `no pod '${name}' in cluster '${cluster.name}' (its pods: ${known.join(', ') || 'none'})`,
    );
  }
  return pod;
}

/**
 * Records Kubernetes namespace `name` as Calico does: the Profile `kns.<name>` that allows all
 * traffic (what a pod no policy selects gets) and whose labelsToApply are the namespace's labels,
 * prefixed `pcns.`, plus `pcns.projectcalico.org/name`.
 */
export async function addNamespace(
  cluster: Cluster,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  const profile = namespaceProfile(name, labels);
  await withStore(cluster, (store) =>
    store.put(resourceKey('Profile', profile.metadata.name), encodeResource(profile)),
  );
}

function namespaceProfile(name: string, labels: Record<string, string>) {
  resourcePrefix('WorkloadEndpoint', name); // throws unless the namespace name is valid
  const labelsToApply = Object.fromEntries(
    Object.entries({ 'projectcalico.org/name': name, ...labels }).map(([key, value]) => [
      `${NAMESPACE_LABEL_PREFIX}${key}`,
      value,
    ]),
  );
  return validateResource({
    apiVersion: 'projectcalico.org/v3',
    kind: 'Profile',
    metadata: { name: `kns.${name}` },
    spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply },
  });
}

/**
 * A pod's namespace exists in Kubernetes before the pod does: its profile is written (without
 * labels) unless it is already there, so pods of a namespace nobody added are not dropped by policy.
 */
async function ensureNamespace(store: Datastore, name: string): Promise<void> {
  const profile = namespaceProfile(name, {});
  try {
    await store.put(resourceKey('Profile', profile.metadata.name), encodeResource(profile), {
      prevRevision: 0,
    });
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
}

function checkPodName(name: string): void {
  if (!POD_NAME.test(name)) {
    throw new Error(
      `invalid pod name ${JSON.stringify(name)}: use lowercase letters, digits and '-' (at most 63, not starting or ending with '-')`,
    );
  }
}

function podNetns(cluster: Cluster, name: string): string {
  return podNetnsPrefix(cluster.status().slot) + name;
}

const podsDir = (cluster: Cluster) => join(clusterDir(cluster.name), 'pods');
const podFile = (cluster: Cluster, name: string) => join(podsDir(cluster), `${name}.json`);

function readPod(cluster: Cluster, name: string): PodInfo | undefined {
  try {
    return JSON.parse(readFileSync(podFile(cluster, name), 'utf8')) as PodInfo;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function withStore<T>(cluster: Cluster, use: (store: Datastore) => Promise<T>): Promise<T> {
  const store = new EtcdDatastore({ endpoints: cluster.status().etcd.endpoints });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

async function ipv4PoolNames(store: Datastore): Promise<string[]> {
  const { items } = await store.list(resourcePrefix('IPPool'));
  return items
    .map(({ value }) => decodeResource(value))
    .filter((pool) => isKind(pool, 'IPPool') && !pool.spec.disabled && !pool.spec.cidr.includes(':'))
    .map((pool) => pool.metadata.name)
    .sort();
}

/** Runs margay-cni in the pod's node as a runtime would: CNI_* in the environment, the config on stdin. */
function runPlugin(
  cluster: Cluster,
  command: 'ADD' | 'DEL',
  pod: Omit<PodInfo, 'ip'>,
  extraConfig: Record<string, unknown> = {},
): Promise<ExecResult> {
  const labels = Object.entries(pod.labels).map(([key, value]) => `${key}=${value}`);
  const args = [`K8S_POD_NAMESPACE=${pod.namespace}`, `K8S_POD_NAME=${pod.name}`];
  if (labels.length > 0) args.push(`MARGAY_POD_LABELS=${labels.join(',')}`);
  const config = { cniVersion: '1.1.0', name: NETWORK, type: 'margay', nodename: pod.node, ...extraConfig };
  return cluster.exec(pod.node, [PLUGIN], {
    env: {
      CNI_COMMAND: command,
      CNI_CONTAINERID: pod.containerId,
      CNI_NETNS: `/run/netns/${pod.netns}`,
      CNI_IFNAME: 'eth0',
      CNI_ARGS: args.join(';'),
      CNI_PATH: '/opt/cni/bin',
    },
    input: JSON.stringify(config),
  });
}

/** The plugin's error message (its JSON error on stdout), or whatever it printed. */
function pluginError(run: ExecResult): string {
  try {
    const { msg, details } = JSON.parse(run.stdout) as { msg?: string; details?: string };
    if (msg) return details ? `${msg} (${details})` : msg;
  } catch {
    // not JSON: fall through to the raw output
  }
  return (run.stdout + run.stderr).trim() || `exit code ${run.code}`;
}
