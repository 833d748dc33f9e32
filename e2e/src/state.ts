// Where clusters are recorded: ${MARGAY_E2E_STATE_DIR:-/run/margay-e2e}/<name>/state.json (plus etcd's
// data and log beside it), and the slot claims in .slots/<slot>, made atomically by mkdir.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NodeInfo, type RouterInfo, SLOT_COUNT, type SubnetInfo, type Topology } from './address-plan';

export interface EtcdInfo {
  /** The host's view: http://127.0.0.1:<port>. */
  endpoints: string[];
  /** The nodes' view: http://<host transit address>:<port>. */
  nodeEndpoints: string[];
  pid: number;
  dataDir: string;
  logFile: string;
}

/** What `cluster.status()` and `e2e/cluster status -o json` show. */
export interface ClusterStatus {
  name: string;
  slot: number;
  etcd: EtcdInfo;
  router: RouterInfo;
  subnets: SubnetInfo[];
  nodes: NodeInfo[];
}

export interface ClusterState {
  name: string;
  slot: number;
  /** False until `up` has finished; a state that stays false is what an interrupted `up` left. */
  ready: boolean;
  topology: Topology;
  /** Written before etcd starts; `pid` is 0 until it runs (and while stopEtcd has it stopped). */
  etcd: EtcdInfo;
  /** margay-node processes started by startAgent, by node name (absent in states from before agents). */
  agents?: Record<string, number>;
}

const DEFAULT_STATE_ROOT = '/run/margay-e2e';
const CLUSTER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const CLUSTER_DIR_ENTRIES = new Set(['state.json', 'state.json.tmp', 'etcd', 'pods', 'agents']);

export function stateRoot(): string {
  return process.env['MARGAY_E2E_STATE_DIR'] || DEFAULT_STATE_ROOT;
}

export function clusterDir(name: string): string {
  checkClusterName(name);
  return join(stateRoot(), name);
}

const slotClaimsDir = () => join(stateRoot(), '.slots');

/** What EtcdServer gets as its dataDir; it keeps its data in data/ and its log in etcd.log there. */
export function etcdDir(name: string): string {
  return join(clusterDir(name), 'etcd');
}

export function slotClaimDir(slot: number): string {
  return join(slotClaimsDir(), String(slot));
}

export function checkClusterName(name: string): void {
  if (!CLUSTER_NAME.test(name)) {
    throw new Error(
      `invalid cluster name ${JSON.stringify(name)}: use lowercase letters, digits and '-' (at most 63, not starting with '-')`,
    );
  }
}

/** Names of the clusters that have a state dir, complete or not. */
export function recordedClusters(): string[] {
  let entries: string[];
  try {
    entries = readdirSync(stateRoot());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries.filter((entry) => CLUSTER_NAME.test(entry) && isClusterDir(join(stateRoot(), entry)));
}

/**
 * Whether `dir` is a directory holding nothing but what `up` puts there (possibly not all of it yet).
 * Teardown removes only such directories, whatever MARGAY_E2E_STATE_DIR points at.
 */
export function isClusterDir(dir: string): boolean {
  try {
    return readdirSync(dir).every((entry) => CLUSTER_DIR_ENTRIES.has(entry));
  } catch {
    return false;
  }
}

/** The recorded state, or undefined if `up` never got as far as writing one. */
export function readState(name: string): ClusterState | undefined {
  const file = join(clusterDir(name), 'state.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let state: Partial<ClusterState>;
  try {
    state = JSON.parse(text) as Partial<ClusterState>;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message})`);
  }
  if (
    state.name !== name ||
    !Number.isInteger(state.slot) ||
    typeof state.ready !== 'boolean' ||
    !Array.isArray(state.topology?.nodes) ||
    !Array.isArray(state.etcd?.endpoints)
  ) {
    throw new Error(
      `${file} is not the state of cluster '${name}' (missing or wrong name, slot, ready, topology, etcd)`,
    );
  }
  return state as ClusterState;
}

/** Written whole or not at all (rename is atomic), so a crash never leaves a torn state file. */
export function writeState(state: ClusterState): void {
  const file = join(clusterDir(state.name), 'state.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/**
 * Read, change, write: for records other processes may change meanwhile (agents started by the
 * CLI while a test holds the cluster), so that no writer puts back a stale copy.
 */
export function updateState(name: string, change: (state: ClusterState) => void): ClusterState {
  const state = readState(name);
  if (!state) throw new Error(`cluster '${name}' has no state in ${clusterDir(name)} (is it up?)`);
  change(state);
  writeState(state);
  return state;
}

/** Claims the lowest slot that is free and that `isUsable` accepts; undefined if there is none. */
export function claimSlot(isUsable: (slot: number) => boolean): number | undefined {
  mkdirSync(slotClaimsDir(), { recursive: true });
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    try {
      mkdirSync(slotClaimDir(slot));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    let usable = false;
    try {
      usable = isUsable(slot);
    } finally {
      if (!usable) releaseSlot(slot);
    }
    if (usable) return slot;
  }
  return undefined;
}

/** Only for sweeping up after crashed runs: claims without a cluster state are otherwise never released. */
export function releaseAllSlots(): void {
  rmSync(slotClaimsDir(), { recursive: true, force: true });
}

export function releaseSlot(slot: number): void {
  try {
    rmdirSync(slotClaimDir(slot));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
