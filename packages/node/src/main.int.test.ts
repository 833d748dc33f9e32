// The built bin/margay-node as a process, in route-reflector mode (BGP only, so it never touches
// this machine's kernel), on real etcd and loopback: it gets ready, logs SIGHUP and carries on,
// and on SIGTERM exits 0 with its status lease revoked.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { encodeResource, resourceKey, testBgpConfiguration } from '@margay/api';
import { EtcdDatastore } from '@margay/datastore';
import { EtcdServer, freePort, requireCommand, waitFor } from '@margay/testkit';
import { statusKey } from './status';

jest.setTimeout(90_000);

const REPO = join(__dirname, '..', '..', '..');
const NODE_NAME = `rr-${randomBytes(3).toString('hex')}`;

let etcd: EtcdServer | undefined;
let store: EtcdDatastore | undefined;
let child: ChildProcess | undefined;

beforeAll(async () => {
  requireCommand('ip', 'iproute2');
  requireCommand('etcd', 'etcd-server');
  etcd = await EtcdServer.start();
  store = new EtcdDatastore({ endpoints: etcd.endpoints });
}, 60_000);

afterAll(async () => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  await store?.close();
  await etcd?.stop();
});

const ready = (port: number) =>
  fetch(`http://127.0.0.1:${port}/readiness`).then(
    (response) => response.status === 200,
    () => false, // not listening yet
  );

test('bin/margay-node runs until SIGTERM, then exits 0 having revoked its status lease', async () => {
  const main = join(REPO, 'packages', 'node', 'dist', 'main.js');
  if (!existsSync(main))
    throw new Error(`${main} is missing: run \`pnpm -s build\` before the integration tests`);
  const bgpPort = await freePort();
  await store!.put(
    resourceKey('BGPConfiguration', 'default'),
    encodeResource(testBgpConfiguration('default', { listenPort: bgpPort })),
  );
  const healthPort = await freePort();
  const address = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.1/8`;
  const args = [
    '--mode=route-reflector',
    `--health-port=${healthPort}`,
    '--metrics-port=0',
    `--ip=${address}`,
  ];
  const env = { ...process.env, NODENAME: NODE_NAME, ETCD_ENDPOINTS: etcd!.endpoints.join(',') };
  child = spawn(join(REPO, 'bin', 'margay-node'), args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));

  await waitFor('readiness', () => ready(healthPort));
  expect((await store!.get(statusKey(NODE_NAME)))?.lease).toBeDefined();

  child.kill('SIGHUP');
  // Until the hangup is logged; the node must still be ready afterwards.
  await waitFor('the SIGHUP log line', () => stderr.includes('SIGHUP: nothing to reload'));
  expect(await ready(healthPort)).toBe(true);

  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(await store!.get(statusKey(NODE_NAME))).toBeUndefined();
  expect(stderr).toContain('shutting down, keeping installed routes');
});
