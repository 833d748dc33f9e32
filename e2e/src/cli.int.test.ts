import { spawnSync } from 'node:child_process';
import { requireCommand, requireRoot } from '@margay/testkit';
import { Cluster } from './cluster';
import type { ClusterStatus } from './state';
import { builtCli, freshClusterName, leftoversOf, runCli } from './test-support';

describe('e2e/cluster', () => {
  const name = freshClusterName('cli');
  const other = freshClusterName('cli');

  beforeAll(() => {
    requireRoot('the e2e cluster CLI');
    requireCommand('ping', 'iputils-ping');
    requireCommand('etcdctl', 'etcd-client');
    builtCli();
  });
  afterAll(async () => {
    await Cluster.down(name);
    await Cluster.down(other);
  });

  test('up, status -o json, exec, env and down, as from a shell', () => {
    const up = runCli(['up', '--nodes', '2', '--name', name]);
    expect(up.stderr).toBe('');
    expect(up.status).toBe(0);
    const status = JSON.parse(runCli(['status', '-o', 'json', '--name', name]).stdout) as ClusterStatus;
    expect(status).toEqual(Cluster.load(name).status());
    expect(up.stdout).toContain(`cluster '${name}' (slot ${status.slot})`);
    for (const node of status.nodes) {
      expect(up.stdout).toMatch(
        new RegExp(`${node.name} +${node.netns} +${node.address.replaceAll('.', '\\.')} `),
      );
    }

    const exec = runCli([
      'exec',
      '--name',
      name,
      'node-2',
      '--',
      'sh',
      '-c',
      'echo "$MARGAY_NODE_NAME $ETCD_ENDPOINTS"; exit 3',
    ]);
    expect(exec.stdout).toBe(`node-2 ${status.etcd.nodeEndpoints[0]}\n`);
    expect(exec.status).toBe(3);
    const node1 = status.nodes[0]!.address.split('/')[0]!;
    expect(runCli(['exec', '--name', name, 'node-2', '--', 'ping', '-c', '1', '-W', '5', node1]).status).toBe(
      0,
    );

    const env = runCli(['env', '--name', name]);
    expect(env.stdout).toBe(`export ETCD_ENDPOINTS=${status.etcd.endpoints[0]}\n`);
    const fromShell = spawnSync(
      'bash',
      [
        '-c',
        `eval "$("${builtCli()}" env --name ${name})" && etcdctl --endpoints "$ETCD_ENDPOINTS" put /cli ok`,
      ],
      { encoding: 'utf8' },
    );
    expect(fromShell.stdout).toBe('OK\n');

    const down = runCli(['down', '--name', name]);
    expect(down.stdout).toBe(`cluster '${name}' is down\n`);
    expect(down.status).toBe(0);
    expect(leftoversOf(name, status.slot, status.etcd.pid)).toEqual([]);
  });

  test('mistakes get a clear message and a failing exit code', () => {
    const unused = freshClusterName('cli-unused');
    const failures = [
      [['status', '--name', unused], `e2e/cluster: cluster '${unused}' is not up`],
      [['exec', '--name', unused, 'node-1', '--', 'true'], `e2e/cluster: cluster '${unused}' is not up`],
      [
        ['up', '--nodes', '0', '--name', unused],
        'e2e/cluster: nodes must be a whole number from 1 to 244, got 0',
      ],
      [['up', '--nodes', 'many'], "argument 'many' is invalid. expected a whole number."],
      [['up', '--name', unused], "required option '--nodes <count>' not specified"],
      [['status', '-o', 'yaml'], 'Allowed choices are text, json.'],
    ] as const;
    for (const [args, message] of failures) {
      const result = runCli([...args]);
      expect({ args, status: result.status, stderr: result.stderr }).toEqual({
        args,
        status: 1,
        stderr: expect.stringContaining(message),
      });
    }

    expect(runCli(['up', '--nodes', '1', '--name', other]).status).toBe(0);
    const unknownNode = runCli(['exec', '--name', other, 'node-2', '--', 'true']);
    expect(unknownNode.stderr).toBe(
      `e2e/cluster: unknown node 'node-2' in cluster '${other}' (its nodes: node-1)\n`,
    );
    const again = runCli(['up', '--nodes', '1', '--name', other]);
    expect(again.stderr).toContain(`e2e/cluster: cluster '${other}' is already up`);
    expect(again.status).toBe(1);
  });

  test('every command has --help', () => {
    for (const command of ['up', 'status', 'exec', 'env', 'down']) {
      const help = runCli([command, '--help']);
      expect(help.stdout).toContain(`Usage: e2e/cluster ${command} [options]`);
      expect(help.status).toBe(0);
    }
  });
});
