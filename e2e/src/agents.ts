// margay-node on the cluster's nodes: one agent per node, started detached inside the node's
// namespace (so it outlives the CLI that started it), its log appended to agents/<node>.log in the
// cluster dir and its pid recorded in the state, so that `down` stops it. Each namespace has its own
// loopback, so the agent's default health, metrics and BGP API ports never collide between nodes.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@margay/testkit';
import type { Cluster } from './cluster';
import { AGENT_MARKER, isRunning, stopProcess } from './processes';
import { clusterDir, readState, updateState } from './state';

const NODE_AGENT = join(__dirname, '..', '..', 'bin', 'margay-node');
/** margay-node's default --health-port; its /readiness answers 200 once the node is in sync. */
const DEFAULT_HEALTH_PORT = 9099;
const DEFAULT_START_TIMEOUT_MS = 30_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const LOG_TAIL_CHARS = 3000;

export interface StartAgentOptions {
  /** Extra margay-node flags (after --node-name and --ip, so they may override them). */
  args?: string[];
  /** Added to the agent's environment (ETCD_ENDPOINTS is the node's view of etcd). */
  env?: Record<string, string>;
  /** How long to wait for /readiness (default 30 s). */
  timeoutMs?: number;
}

export function agentLog(cluster: Cluster, node: string): string {
  cluster.node(node); // throws naming the cluster's nodes
  return join(agentsDir(cluster.name), `${node}.log`);
}

/** The recorded pid of the node's agent if it is still running, else undefined. */
export function agentPid(cluster: Cluster, node: string): number | undefined {
  const pid = readState(cluster.name)?.agents?.[node];
  return pid !== undefined && isAgent(pid, cluster.name) ? pid : undefined;
}

/** Starts margay-node on `node` and resolves once it is ready; throws with its log tail if it is not. */
export async function startAgent(
  cluster: Cluster,
  node: string,
  options: StartAgentOptions = {},
): Promise<void> {
  const info = cluster.node(node);
  const healthPort = Number(flagValue(options.args ?? [], '--health-port') ?? DEFAULT_HEALTH_PORT);
  if (!(healthPort > 0)) {
    throw new Error(
      `startAgent waits for /readiness: the agent on ${node} needs a --health-port other than 0`,
    );
  }
  const running = agentPid(cluster, node);
  if (running !== undefined) {
    throw new Error(
      `margay-node is already running on ${node} of cluster '${cluster.name}' (pid ${running})`,
    );
  }
  const log = agentLog(cluster, node);
  mkdirSync(agentsDir(cluster.name), { recursive: true });
  const logStart = fileSize(log);
  const fd = openSync(log, 'a');
  const argv = [NODE_AGENT, '--node-name', info.name, '--ip', info.address, ...(options.args ?? [])];
  let pid: number | undefined;
  try {
    const child = spawn('ip', ['netns', 'exec', info.netns, ...argv], {
      env: {
        ...process.env,
        ETCD_ENDPOINTS: cluster.status().etcd.nodeEndpoints.join(','),
        ...options.env,
        [AGENT_MARKER]: clusterDir(cluster.name),
      },
      stdio: ['ignore', fd, fd],
      detached: true, // its own process group: a Ctrl-C of the CLI does not reach it
    });
    child.on('error', () => {}); // a spawn failure shows as the process not running, below
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(fd);
  }
  if (pid === undefined) throw new Error(`could not start ${NODE_AGENT} on ${node}: 'ip' did not run`);
  const startedPid = pid;
  updateState(cluster.name, (state) => {
    state.agents = { ...state.agents, [node]: startedPid };
  });
  const timeoutMs = options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const probe = readinessProbe(healthPort);
  try {
    await waitFor(
      `margay-node on ${node} to be ready`,
      async () => {
        if (!isRunning(startedPid)) throw new Error('it exited');
        return (await cluster.exec(node, [process.execPath, '-e', probe])).code === 0;
      },
      timeoutMs,
    );
  } catch (error) {
    // An agent that never became ready is not left running.
    if (isRunning(startedPid)) await stopProcess(startedPid, 'SIGKILL', 0);
    updateState(cluster.name, (state) => {
      if (state.agents) delete state.agents[node];
    });
    const tail = readFileSync(log, 'utf8').slice(logStart).slice(-LOG_TAIL_CHARS);
    throw new Error(`${(error as Error).message}; its log (${log}) ends with:\n${tail}`);
  }
}

/** Stops the node's agent with `signal` and waits for it to end (SIGKILL after `timeoutMs`). */
export async function stopAgent(
  cluster: Cluster,
  node: string,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = DEFAULT_STOP_TIMEOUT_MS,
): Promise<void> {
  cluster.node(node);
  const recorded = readState(cluster.name)?.agents?.[node];
  if (recorded === undefined)
    throw new Error(`no margay-node was started on ${node} of cluster '${cluster.name}'`);
  if (isAgent(recorded, cluster.name)) await stopProcess(recorded, signal, timeoutMs);
  updateState(cluster.name, (state) => {
    if (state.agents) delete state.agents[node];
  });
}

/** The nodes whose agent is running. */
export function runningAgents(cluster: Cluster): string[] {
  return Object.keys(readState(cluster.name)?.agents ?? {}).filter(
    (node) => agentPid(cluster, node) !== undefined,
  );
}

/** Recorded pids of cluster `name` that are still its agents (a pid may since belong to another process). */
export function recordedAgentPids(name: string): number[] {
  return Object.values(readState(name)?.agents ?? {}).filter((pid) => isAgent(pid, name));
}

/** A script that exits 0 when /readiness answers 200: run by node inside the node's namespace. */
const readinessProbe = (port: number) => `require('node:http')
  .get('http://127.0.0.1:${port}/readiness', (r) => process.exit(r.statusCode === 200 ? 0 : 1))
  .on('error', () => process.exit(1))
  .setTimeout(2000, () => process.exit(1));`;

/** The value of `--flag VALUE` or `--flag=VALUE` in argv (the last one wins, as parseArgs does). */
function flagValue(argv: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  argv.forEach((arg, index) => {
    if (arg === flag) value = argv[index + 1];
    else if (arg.startsWith(`${flag}=`)) value = arg.slice(flag.length + 1);
  });
  return value;
}

const agentsDir = (name: string) => join(clusterDir(name), 'agents');

function isAgent(pid: number, clusterName: string): boolean {
  if (!isRunning(pid)) return false;
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return environ.includes(`${AGENT_MARKER}=${clusterDir(clusterName)}`);
  } catch {
    return false;
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
