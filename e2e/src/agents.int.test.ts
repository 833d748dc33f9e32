// The harness's agent handling on a 1-node cluster: start and stop, refusals, a failed start
// reported with its log, and `down` killing an agent still running.
import { requireRoot } from '@margay/testkit';
import { agentPid } from './agents';
import { Cluster } from './cluster';
import { agentProcesses, isRunning } from './processes';
import { clusterDir, readState } from './state';
import { freshClusterName, runCli } from './test-support';

jest.setTimeout(60_000);

describe('margay-node agents in the harness', () => {
  const name = freshClusterName('agents');
  let cluster: Cluster;

  beforeAll(async () => {
    requireRoot('the e2e agent tests');
    cluster = await Cluster.up({ nodes: 1, name });
  });
  afterAll(async () => {
    await Cluster.down(name);
  });

  test('a start that fails says so with the log tail, and leaves no agent', async () => {
    await expect(
      cluster.startAgent('node-1', { args: ['--log-level', 'loud'], timeoutMs: 10_000 }),
    ).rejects.toThrow(
      /margay-node on node-1 to be ready: it exited; its log \(.*node-1\.log\) ends with:\n.*--log-level "loud" is not one of/s,
    );
    expect(cluster.runningAgents()).toEqual([]);
    expect(readState(name)?.agents).toEqual({});
  });

  test('start, refuse a second start, stop with SIGTERM; the pid is recorded and then forgotten', async () => {
    await cluster.startAgent('node-1');
    const pid = agentPid(cluster, 'node-1')!;
    expect(readState(name)?.agents).toEqual({ 'node-1': pid });
    expect(cluster.runningAgents()).toEqual(['node-1']);
    await expect(cluster.startAgent('node-1')).rejects.toThrow(
      `margay-node is already running on node-1 of cluster '${name}' (pid ${pid})`,
    );
    await cluster.stopAgent('node-1');
    expect(isRunning(pid)).toBe(false);
    expect(readState(name)?.agents).toEqual({});
    await expect(cluster.stopAgent('node-1')).rejects.toThrow(
      `no margay-node was started on node-1 of cluster '${name}'`,
    );
    expect(() => cluster.agentLog('node-9')).toThrow("unknown node 'node-9'");
  });

  test('the CLI needs a node or --all; down kills an agent that still runs', async () => {
    const neither = runCli(['agent', 'start', '--name', name]);
    expect(neither.status).toBe(1);
    expect(neither.stderr).toContain('give a node (e.g. node-1) or --all');

    const start = runCli(['agent', 'start', '--all', '--name', name]);
    expect(start.stderr).toBe('');
    const pid = agentPid(cluster, 'node-1')!;
    expect(isRunning(pid)).toBe(true);
    const dir = clusterDir(name);
    await Cluster.down(name);
    expect(isRunning(pid)).toBe(false);
    expect(agentProcesses((cluster) => cluster === dir)).toEqual([]);
  });
});
