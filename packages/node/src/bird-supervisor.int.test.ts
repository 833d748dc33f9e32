// The supervisor with the real parts: etcd, margay-confd (the checkout's bin shim, so build first),
// BIRD 2 on a fresh loopback address. BIRD comes up on confd's first render, confd's watch
// reconfigures it, a killed BIRD is started again, and stop() ends both with BIRD's graceful restart.

import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Resource,
  testBgpConfiguration,
  testNode,
  testPeer,
  testPool,
  writeResource,
} from '@margay/api';
import { ProcessRunner } from '@margay/dataplane';
import { EtcdDatastore } from '@margay/datastore';
import {
  EtcdServer,
  freePort,
  isAlive,
  makeTempDir,
  removeTempDir,
  requireCommand,
  requireRoot,
  waitFor,
} from '@margay/testkit';
import { BirdSupervisor } from './bird-supervisor';

jest.setTimeout(120_000);

const CONFD_CLI = join(__dirname, '..', '..', 'confd', 'dist', 'cli.js');

let etcd: EtcdServer | undefined;
let store: EtcdDatastore | undefined;
let dir: string | undefined;
let supervisor: BirdSupervisor | undefined;

afterEach(async () => {
  await supervisor?.stop(); // SIGKILLs what does not end in time
  await store?.close();
  await etcd?.stop();
  if (dir) removeTempDir(dir);
});

test('BIRD on confd’s first render, reconfigured from etcd, restarted when killed, stopped gracefully', async () => {
  requireRoot('BIRD 2 with its device and kernel protocols');
  requireCommand('bird', 'bird2');
  requireCommand('birdc', 'bird2');
  requireCommand('etcd', 'etcd-server');
  if (!existsSync(CONFD_CLI)) throw new Error(`${CONFD_CLI} is missing: run pnpm -s build`);
  etcd = await EtcdServer.start();
  store = new EtcdDatastore({ endpoints: etcd.endpoints });
  dir = makeTempDir('bird-supervisor');

  const subnet = `127.${randomInt(1, 255)}.${randomInt(1, 255)}`;
  const write = (r: Resource) => writeResource(store!, r);
  const port = await freePort(`${subnet}.1`);
  await write(testBgpConfiguration('default', { bindMode: 'NodeIP', listenPort: port }));
  await write(testPool('pods', `10.${randomInt(1, 255)}.0.0/16`));
  await write(testNode('n1', { ipv4Address: `${subnet}.1/8` }));
  await write(testNode('n2', { ipv4Address: `${subnet}.2/8` }));

  supervisor = BirdSupervisor.start({
    nodeName: 'n1',
    runDir: join(dir, 'run'),
    store,
    runner: new ProcessRunner(),
    kernelRoutes: false,
    // margay-node's children inherit its ETCD_* variables; jest's process.env is not the real one.
    confdCommand: ['env', `ETCD_ENDPOINTS=${etcd.endpoints.join(',')}`, process.execPath, CONFD_CLI],
    backoffMs: { initial: 200, max: 1000 },
    pollIntervalMs: 200,
  });
  const mesh = (n: number) => `Mesh_${subnet.replace(/\./g, '_')}_${n}`;
  // Until BIRD answers, confd reports ok and BIRD has the mesh peer n2.
  await waitFor('BIRD up on the first render', async () => {
    const status = await supervisor!.refresh();
    return status.birdUp && status.confdOk && status.protocols.some((p) => p.name === mesh(2));
  });
  const firstPid = supervisor.status().pids.bird;
  expect(isAlive(firstPid)).toBe(true);

  // A new node reaches BIRD through confd's watch: same BIRD.
  await write(testNode('n3', { ipv4Address: `${subnet}.3/8` }));
  // Until BIRD lists it.
  await waitFor('the mesh peer n3', async () =>
    (await supervisor!.refresh()).protocols.some((p) => p.name === mesh(3)),
  );
  expect(supervisor.status().pids.bird).toBe(firstPid);

  // A BIRD that dies is started again, on the file confd keeps.
  process.kill(firstPid!, 'SIGKILL');
  // Until a new BIRD answers with the same peers.
  await waitFor('BIRD started again', async () => {
    const status = await supervisor!.refresh();
    return status.restarts.bird === 1 && status.birdUp && status.protocols.some((p) => p.name === mesh(3));
  });
  const secondPid = supervisor.status().pids.bird;
  expect(secondPid).not.toBe(firstPid);
  // A peer added now still reaches the new BIRD: confd did not die with the old one.
  await write(testPeer('tor', { peerIP: `${subnet}.9`, asNumber: 65009 }));
  // Until BIRD lists the global peer.
  await waitFor('the global peer', async () =>
    (await supervisor!.refresh()).protocols.some((p) => p.name.startsWith('Global_')),
  );

  const confdPid = supervisor.status().pids.confd;
  await supervisor.stop();
  expect(isAlive(secondPid)).toBe(false);
  expect(isAlive(confdPid)).toBe(false);
  expect(supervisor.status().restarts.bird).toBe(1); // stopping is not a crash
});
