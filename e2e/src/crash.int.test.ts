import { spawn, spawnSync } from 'node:child_process';
import { makeTempDir, removeTempDir, requireCommand, requireRoot } from '@margay/testkit';
import { Cluster } from './cluster';
import { etcdProcesses, killAndWait } from './processes';
import { clusterDir, readState } from './state';
import { etcdProcessesOf } from './teardown';
import { builtCli, freshClusterName, leftoversOf } from './test-support';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(() => {
  requireRoot('the e2e cluster harness');
  requireCommand('unshare', 'util-linux');
  requireCommand('pgrep', 'procps');
  builtCli();
});

describe('an up killed half-way', () => {
  const name = freshClusterName('crashed');
  afterAll(() => Cluster.down(name));

  test('leaves namespaces, a link, a running etcd and a slot behind, and down removes them all', async () => {
    // Killed while etcd starts: everything else exists, and the detached etcd outlives its parent.
    const up = spawn(builtCli(), ['up', '--nodes', '3', '--name', name], { stdio: 'ignore' });
    const exited = new Promise((resolve) => up.once('exit', resolve));
    try {
      while (etcdProcessesOf(name).length === 0 && up.exitCode === null) await sleep(5);
    } finally {
      up.kill('SIGKILL');
      await exited;
    }
    const state = readState(name);
    if (!state) throw new Error(`up ended before it recorded any state (exit code ${up.exitCode})`);
    const [etcdPid] = etcdProcessesOf(name);
    const prefix = `mge${state.slot}`;
    expect(leftoversOf(name, state.slot, etcdPid!)).toEqual(
      expect.arrayContaining([
        `namespace ${prefix}-router`,
        `namespace ${prefix}-node-1`,
        `namespace ${prefix}-node-3`,
        `host link ${prefix}h`,
        `etcd pid ${etcdPid}`,
        `state dir ${clusterDir(name)}`,
        `claim on slot ${state.slot}`,
      ]),
    );

    await Cluster.down(name);
    expect(leftoversOf(name, state.slot, etcdPid!)).toEqual([]);
  });
});

// downAll sweeps the whole machine, so it runs on a machine of its own: a fresh network namespace as
// its host and a private /run/netns, where it cannot touch the clusters of tests running alongside.
const SANDBOXED_SCENARIO = `
set -euo pipefail
mkdir -p /run/netns && mount -t tmpfs margay-sandbox /run/netns
ip link set lo up
cluster() { "$CLUSTER" "$@" >/dev/null; }

cluster up --nodes 2 --name complete                           # slot 0

"$CLUSTER" up --nodes 2 --name crashed >/dev/null & up=$!      # slot 1, killed while etcd starts
until pgrep -f "$MARGAY_E2E_STATE_DIR/crashed/" >/dev/null || ! kill -0 $up 2>/dev/null; do sleep 0.005; done
kill -KILL $up; wait $up 2>/dev/null || true               # (no "Killed" notice)

cluster up --nodes 1 --name lost                               # slot 2, then its records vanish
rm -r "$MARGAY_E2E_STATE_DIR/lost" "$MARGAY_E2E_STATE_DIR/.slots/2"
cluster up --nodes 1 --name next                               # slot 2 still has debris: skipped

echo "before: $(ip netns list | cut -d' ' -f1 | LC_ALL=C sort | xargs)"
echo "next: slot $("$CLUSTER" status -o json --name next | grep -o '"slot": [0-9]*' | grep -o '[0-9]*$')"
cluster down --all
echo "netns: [$(ip netns list | xargs)]"
echo "links: [$(ip -o link show | cut -d: -f2 | xargs)]"
echo "etcds: [$(pgrep -f "$MARGAY_E2E_STATE_DIR/" | xargs)]"
echo "state: [$(ls -A "$MARGAY_E2E_STATE_DIR" | xargs)]"
`;

test('downAll removes complete, crashed and unrecorded clusters alike', async () => {
  const stateDir = makeTempDir('e2e-sandbox');
  try {
    const sandbox = spawnSync(
      'unshare',
      ['--net', '--mount', '--propagation', 'private', 'bash', '-c', SANDBOXED_SCENARIO],
      { encoding: 'utf8', env: { ...process.env, CLUSTER: builtCli(), MARGAY_E2E_STATE_DIR: stateDir } },
    );
    expect(sandbox.stderr).toBe('');
    expect(sandbox.stdout.trim().split('\n')).toEqual([
      'before: mge0-node-1 mge0-node-2 mge0-router mge1-node-1 mge1-node-2 mge1-router mge2-node-1 mge2-router mge3-node-1 mge3-router',
      'next: slot 3',
      'netns: []',
      'links: [lo]',
      'etcds: []',
      'state: []',
    ]);
  } finally {
    // Whatever the scenario left keeps the sandbox alive; its etcds are the only long-lived processes.
    await killAndWait(etcdProcesses((dataDir) => dataDir.startsWith(`${stateDir}/`)));
    removeTempDir(stateDir);
  }
});
