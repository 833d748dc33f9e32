import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { EtcdServer, freePort, requireCommand } from '@margay/testkit';
import {
  checkClusterSize,
  hostLinkName,
  type NodeInfo,
  planTopology,
  SLOT_COUNT,
  slotPrefix,
} from './address-plan';
import { agentLog, runningAgents, type StartAgentOptions, startAgent, stopAgent } from './agents';
import { createNode, createRouter } from './build';
import { listHostLinks, listNetns } from './ip';
import { type AddPodOptions, addNamespace, addPod, deletePod, getPod, listPods, type PodInfo } from './pods';
import { stopProcess } from './processes';
import {
  type ClusterState,
  type ClusterStatus,
  checkClusterName,
  claimSlot,
  clusterDir,
  etcdDir,
  readState,
  recordedClusters,
  stateRoot,
  updateState,
  writeState,
} from './state';
import { etcdProcessesOf, teardownAll, teardownCluster } from './teardown';

export const DEFAULT_CLUSTER_NAME = 'margay';

export interface UpOptions {
  /** How many nodes (node-1..node-N), 1–244. */
  nodes: number;
  /** How many node subnets (1–7, default 1); nodes are spread over them round-robin. */
  subnets?: number;
  /** Default `margay`. */
  name?: string;
}

export interface SpawnInNodeOptions {
  /** Added to the environment (after ETCD_ENDPOINTS and MARGAY_NODE_NAME, so it can override them). */
  env?: Record<string, string>;
  stdio?: StdioOptions;
}

export interface ExecOptions {
  env?: Record<string, string>;
  /** Written to the command's stdin (which is then closed). */
  input?: string;
}

export interface ExecResult {
  /** The exit code, or 128 + the signal number if a signal ended it (as a shell reports it). */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A network-namespace cluster: nodes on bridged subnets behind a router namespace, and a real etcd on
 * the host. Its state lives on disk, so a cluster brought up by one process (the CLI) can be used and
 * brought down by another.
 */
export class Cluster {
  private constructor(private readonly state: ClusterState) {}

  static async up(options: UpOptions): Promise<Cluster> {
    const name = options.name ?? DEFAULT_CLUSTER_NAME;
    const subnets = options.subnets ?? 1;
    checkClusterName(name);
    checkClusterSize(options.nodes, subnets);
    requireHarnessRoot();
    requireCommand('ip', 'iproute2');
    requireCommand('etcd', 'etcd-server');

    const dir = clusterDir(name);
    mkdirSync(stateRoot(), { recursive: true });
    try {
      mkdirSync(dir); // claims the name
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      throw new Error(
        `cluster '${name}' is already up (state in ${dir}); bring it down first: e2e/cluster down --name ${name}`,
      );
    }
    try {
      const state = await recordPlan(name, options.nodes, subnets);
      createRouter(state.topology);
      for (const node of state.topology.nodes) createNode(state.topology, node);
      mkdirSync(state.etcd.dataDir);
      const etcd = await EtcdServer.start({
        hosts: ['127.0.0.1', state.topology.transit.hostAddress],
        clientPort: Number(new URL(state.etcd.endpoints[0]!).port),
        dataDir: state.etcd.dataDir,
        detached: true, // outlives the CLI's `up`; `down` stops it
      });
      state.etcd.pid = etcd.processId;
      state.ready = true;
      writeState(state);
      return new Cluster(state);
    } catch (error) {
      await teardownCluster(name).catch((cleanupError: Error) => {
        (error as Error).message +=
          `\n(cleaning up failed too: ${cleanupError.message}; try e2e/cluster down --all)`;
      });
      throw error;
    }
  }

  /** A cluster that is up (brought up by this or another process). */
  static load(name: string = DEFAULT_CLUSTER_NAME): Cluster {
    const state = readState(name);
    if (!state) {
      throw new Error(
        `cluster '${name}' is not up (no state in ${clusterDir(name)}); bring it up with: e2e/cluster up --nodes N --name ${name}`,
      );
    }
    if (!state.ready) {
      throw new Error(
        `cluster '${name}' never finished coming up (its up was interrupted, or is still running); remove it with: e2e/cluster down --name ${name}`,
      );
    }
    return new Cluster(state);
  }

  /** Removes whatever exists of cluster `name`, even of a half-finished `up`; idempotent. */
  static down(name: string = DEFAULT_CLUSTER_NAME): Promise<void> {
    return teardownCluster(name);
  }

  /** Every cluster, plus anything crashed runs left behind (namespaces, host links, etcds, slot claims). */
  static downAll(): Promise<void> {
    return teardownAll();
  }

  get name(): string {
    return this.state.name;
  }

  status(): ClusterStatus {
    const { name, slot, etcd, topology } = this.state;
    return structuredClone({
      name,
      slot,
      etcd,
      router: topology.router,
      subnets: topology.subnets,
      nodes: topology.nodes,
    });
  }

  node(name: string): NodeInfo {
    const node = this.state.topology.nodes.find((n) => n.name === name);
    if (!node) {
      const known = this.state.topology.nodes.map((n) => n.name).join(', ');
      throw new Error(`unknown node '${name}' in cluster '${this.name}' (its nodes: ${known})`);
    }
    return structuredClone(node);
  }

  /** Starts `argv` in the node's namespace, with ETCD_ENDPOINTS (the node's view) and MARGAY_NODE_NAME set. */
  spawn(node: string, argv: string[], options: SpawnInNodeOptions = {}): ChildProcess {
    const { netns, name } = this.node(node);
    if (argv.length === 0) throw new Error(`nothing to run on ${name}: the command is empty`);
    const env = {
      ...process.env,
      ETCD_ENDPOINTS: this.state.etcd.nodeEndpoints.join(','),
      MARGAY_NODE_NAME: name,
      ...options.env,
    };
    return spawn('ip', ['netns', 'exec', netns, ...argv], { env, stdio: options.stdio ?? 'pipe' });
  }

  /** Runs `argv` in the node's namespace to completion (see `spawn`) and collects its output. */
  async exec(node: string, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return runToCompletion(this.spawn(node, argv, { env: options.env }), options.input);
  }

  /** Creates a pod on `node`: a network namespace wired by margay-cni (see pods.ts). */
  addPod(node: string, name: string, options: AddPodOptions = {}): Promise<PodInfo> {
    return addPod(this, node, name, options);
  }

  deletePod(name: string): Promise<void> {
    return deletePod(this, name);
  }

  pod(name: string): PodInfo {
    return getPod(this, name);
  }

  pods(): PodInfo[] {
    return listPods(this);
  }

  /** Starts `argv` in the pod's network namespace. */
  spawnInPod(name: string, argv: string[], options: SpawnInNodeOptions = {}): ChildProcess {
    const { netns } = this.pod(name);
    if (argv.length === 0) throw new Error(`nothing to run in pod ${name}: the command is empty`);
    const env = { ...process.env, ...options.env };
    return spawn('ip', ['netns', 'exec', netns, ...argv], { env, stdio: options.stdio ?? 'pipe' });
  }

  /** Runs `argv` in the pod's network namespace to completion and collects its output. */
  async execInPod(name: string, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return runToCompletion(this.spawnInPod(name, argv, { env: options.env }), options.input);
  }

  /** Records a Kubernetes namespace and its labels, as the Profile `kns.<name>`. */
  addNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    return addNamespace(this, name, labels);
  }

  /**
   * Starts margay-node in the node's namespace (detached; `down` stops it) and resolves once its
   * /readiness says ready. Its log: agentLog(node).
   */
  startAgent(node: string, options: StartAgentOptions = {}): Promise<void> {
    return startAgent(this, node, options);
  }

  /** Stops the node's margay-node with `signal` and waits for it to end (SIGKILL after a bound). */
  stopAgent(node: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    return stopAgent(this, node, signal);
  }

  /** Nodes whose margay-node is running. */
  runningAgents(): string[] {
    return runningAgents(this);
  }

  /** Where the node's margay-node writes its log (appended across restarts). */
  agentLog(node: string): string {
    return agentLog(this, node);
  }

  /** Stops etcd (SIGTERM, then SIGKILL): an outage for everything that uses it. */
  async stopEtcd(): Promise<void> {
    for (const pid of etcdProcessesOf(this.name)) await stopProcess(pid, 'SIGTERM', 5000);
    updateState(this.name, (state) => {
      state.etcd.pid = 0;
    });
    this.state.etcd.pid = 0;
  }

  /** Starts etcd again on the same port with the same data. */
  async startEtcd(): Promise<void> {
    if (etcdProcessesOf(this.name).length > 0) throw new Error(`etcd of cluster '${this.name}' is running`);
    const { etcd, topology } = this.state;
    const server = await EtcdServer.start({
      hosts: ['127.0.0.1', topology.transit.hostAddress],
      clientPort: Number(new URL(etcd.endpoints[0]!).port),
      dataDir: etcd.dataDir,
      detached: true,
    });
    updateState(this.name, (state) => {
      state.etcd.pid = server.processId;
    });
    this.state.etcd.pid = server.processId;
  }

  down(): Promise<void> {
    return teardownCluster(this.state.name);
  }
}

/** Feeds `input` to the child, collects its output and waits for it to end. */
function runToCompletion(child: ChildProcess, input = ''): Promise<ExecResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  // A command that exits without reading its input makes the write fail (EPIPE): that is its choice.
  child.stdin?.on('error', () => {});
  child.stdin?.end(input);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: exitStatus(code, signal), stdout, stderr }));
  });
}

/** Exit code as a shell reports it: 128 + the signal number if a signal ended the process. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + (signal ? constants.signals[signal] : 0);
}

export function requireHarnessRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the e2e cluster harness needs root: it creates network namespaces, veths and routes');
  }
}

/** Claims a slot and writes the whole plan (and etcd's port) before anything is created. */
async function recordPlan(name: string, nodes: number, subnets: number): Promise<ClusterState> {
  const port = await freePort(); // before the claim: nothing may fail between claiming and recording
  const slot = claimSlot(hasNoLeftovers);
  if (slot === undefined) {
    throw new Error(
      `no free slot: all ${SLOT_COUNT} are taken (recorded clusters: ${recordedClusters().join(', ') || 'none'}); ` +
        'e2e/cluster down --all removes what crashed runs left',
    );
  }
  const topology = planTopology(slot, nodes, subnets);
  const state: ClusterState = {
    name,
    slot,
    ready: false,
    topology,
    etcd: {
      endpoints: [`http://127.0.0.1:${port}`],
      nodeEndpoints: [`http://${topology.transit.hostAddress}:${port}`],
      pid: 0,
      dataDir: etcdDir(name),
      logFile: join(etcdDir(name), 'etcd.log'), // where EtcdServer writes it
    },
  };
  writeState(state);
  return state;
}

/**
 * A free slot may still have namespaces or a host link of its name: leftovers of a run whose state was
 * lost, or a cluster recorded under another MARGAY_E2E_STATE_DIR. Such a slot is skipped, never reused.
 */
function hasNoLeftovers(slot: number): boolean {
  const prefix = slotPrefix(slot);
  return (
    !listNetns().some((netns) => netns.startsWith(`${prefix}-`)) &&
    !listHostLinks().includes(hostLinkName(slot))
  );
}
