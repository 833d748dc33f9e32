import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdServer, freePort, makeTempDir, removeTempDir, requireCommand } from '@margay/testkit';
import { EXIT_ERROR, EXIT_OK } from './main';
import { runCli } from './testing';

const REPO = join(__dirname, '..', '..', '..');

const VALID = `# Calico-style resources of several kinds, one file.
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
spec:
  cidr: 10.244.0.0/16
  ipipMode: CrossSubnet
  natOutgoing: true
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  nodeToNodeMeshEnabled: false
  asNumber: 64512
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: tor-1
spec:
  peerIP: 192.0.2.1
  asNumber: 64600
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-1
spec:
  bgp:
    ipv4Address: 192.0.2.11/24
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: deny-all
spec:
  selector: all()
  types: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-web
  namespace: default
spec:
  podSelector:
    matchLabels:
      app: web
  ingress:
    - ports:
        - port: 80
`;

const pool = (name: string, cidr: string, extra = '') =>
  `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n${extra}`;

let server: EtcdServer | undefined;
let dir: string | undefined;

function etcd(): EtcdServer {
  if (!server) throw new Error('etcd did not start (see beforeAll)');
  return server;
}

function env(): Record<string, string> {
  return { ETCD_ENDPOINTS: etcd().endpoints.join(',') };
}

function file(name: string, text: string): string {
  const path = join(dir!, name);
  writeFileSync(path, text);
  return path;
}

/** etcdctl, independent of margay's own client, for looking at the raw keyspace. */
function etcdctl(...args: string[]): string {
  const result = spawnSync('etcdctl', [`--endpoints=${etcd().endpoints.join(',')}`, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ETCDCTL_API: '3' },
  });
  if (result.status !== 0) throw new Error(`etcdctl ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

function rawKeys(): string[] {
  return etcdctl('get', '', '--from-key', '--keys-only')
    .split('\n')
    .filter((line) => line !== '');
}

beforeAll(async () => {
  requireCommand('etcd', 'etcd-server');
  requireCommand('etcdctl', 'etcd-client');
  dir = makeTempDir('ctl-int');
  server = await EtcdServer.start();
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (dir) removeTempDir(dir);
});

beforeEach(() => {
  etcdctl('del', '', '--from-key');
});

test('a valid multi-document file of several kinds is applied, and get returns each resource', async () => {
  const applied = await runCli(['apply', '-f', file('valid.yaml', VALID)], { env: env() });
  expect(applied).toEqual({ code: EXIT_OK, stdout: 'Successfully applied 6 resource(s)\n', stderr: '' });
  expect(rawKeys()).toHaveLength(6);

  const expectations: [string[], Record<string, unknown>][] = [
    [['ippool', 'pool-a'], { kind: 'IPPool', spec: { cidr: '10.244.0.0/16', ipipMode: 'CrossSubnet' } }],
    [['bgpconfig', 'default'], { kind: 'BGPConfiguration', spec: { nodeToNodeMeshEnabled: false } }],
    [['bgppeer', 'tor-1'], { kind: 'BGPPeer', spec: { peerIP: '192.0.2.1', asNumber: 64600 } }],
    [['node', 'node-1'], { kind: 'Node', spec: { bgp: { ipv4Address: '192.0.2.11/24' } } }],
    [['gnp', 'deny-all'], { kind: 'GlobalNetworkPolicy', spec: { selector: 'all()' } }],
    [
      ['networkpolicy', 'knp.default.allow-web'],
      { kind: 'NetworkPolicy', metadata: { namespace: 'default' } },
    ],
  ];
  for (const [args, expected] of expectations) {
    const got = await runCli(['get', ...args, '-o', 'json'], { env: env() });
    expect(got.code).toBe(EXIT_OK);
    const resource = JSON.parse(got.stdout);
    expect(resource).toMatchObject(expected);
    expect(resource.metadata).toMatchObject({ name: args[1], uid: expect.any(String) });
    expect(Number(resource.metadata.resourceVersion)).toBeGreaterThan(0);
  }
});

test('an invalid file names each bad field and leaves etcd empty', async () => {
  const input = file(
    'invalid.yaml',
    [
      pool('good', '10.1.0.0/16'),
      pool('wide', '10.0.0.0/33'),
      pool('odd', '10.2.0.0/16', '  ipipMode: Sometimes\n'),
    ].join('---\n'),
  );
  const result = await runCli(['apply', '-f', input], { env: env() });
  expect(result.code).toBe(EXIT_ERROR);
  expect(result.stderr).toContain(`${input}: document 2 (IPPool wide): spec.cidr: `);
  expect(result.stderr).toContain(`${input}: document 3 (IPPool odd): spec.ipipMode: `);
  expect(result.stderr).toContain('Sometimes');
  expect(rawKeys()).toEqual([]);
});

test('create, replace and delete keep their all-or-nothing promises on a real etcd', async () => {
  const run = (...argv: string[]) => runCli(argv, { env: env() });
  expect((await run('create', '-f', file('a.yaml', pool('pool-a', '10.1.0.0/16')))).code).toBe(EXIT_OK);
  const both = file(
    'ab.yaml',
    `${pool('pool-b', '10.2.0.0/16')}---\n${pool('pool-a', '10.1.0.0/16', '  disabled: true\n')}`,
  );

  const created = await run('create', '-f', both);
  expect(created).toMatchObject({
    code: EXIT_ERROR,
    stderr: 'IPPool pool-a already exists\nnothing was created\n',
  });
  expect(rawKeys()).toHaveLength(1);

  const replaced = await run('replace', '-f', both);
  expect(replaced).toMatchObject({
    code: EXIT_ERROR,
    stderr: 'IPPool pool-b does not exist\nnothing was replaced\n',
  });

  expect(await run('apply', '-f', both)).toMatchObject({ code: EXIT_OK });
  expect(JSON.parse((await run('get', 'ippool', 'pool-a', '-o', 'json')).stdout).spec.disabled).toBe(true);

  expect(await run('delete', 'ippool', 'pool-a', 'pool-c')).toMatchObject({ code: EXIT_ERROR });
  expect(rawKeys()).toHaveLength(2);
  expect(await run('delete', '-f', both)).toMatchObject({
    code: EXIT_OK,
    stdout: "Successfully deleted 2 'IPPool' resource(s)\n",
  });
  expect(rawKeys()).toEqual([]);
});

test('an unreachable etcd is a clear error naming the endpoint, not a hang', async () => {
  const endpoint = `http://127.0.0.1:${await freePort()}`;
  const result = await runCli(['get', 'ippool', '--etcd-endpoints', endpoint], { env: env() });
  expect(result.code).toBe(EXIT_ERROR);
  expect(result.stderr).toContain(endpoint);
});

test('the built bin/margayctl works end to end with ETCD_ENDPOINTS', async () => {
  const cli = join(REPO, 'packages', 'ctl', 'dist', 'cli.js');
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: run \`pnpm -s build\` before the integration tests`);
  const bin = join(REPO, 'bin', 'margayctl');
  const spawnCtl = (args: string[], stdin = '') =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(bin, args, { env: { ...process.env, ...env() } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(stdin);
    });

  const applied = await spawnCtl(['apply', '-f', '-'], pool('pool-bin', '10.9.0.0/16'));
  expect(applied).toEqual({ code: 0, stdout: "Successfully applied 1 'IPPool' resource(s)\n", stderr: '' });
  const listed = await spawnCtl(['get', 'ippools']);
  expect(listed).toEqual({
    code: 0,
    stdout: 'NAME       CIDR          SELECTOR\npool-bin   10.9.0.0/16   all()\n',
    stderr: '',
  });
  const usage = await spawnCtl(['get']);
  expect(usage.code).toBe(2);
  const missing = await spawnCtl(['delete', 'ippool', 'nope']);
  expect(missing).toMatchObject({ code: 1, stderr: 'IPPool nope does not exist\nnothing was deleted\n' });
});
