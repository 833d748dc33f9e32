// The whole node on real etcd and a real kernel: a network namespace stands in for the node (its
// address is autodetected there, felix and the FIB program routes there), while the process
// itself runs in this test. It must register, become ready, report metrics and its status key,
// and stop cleanly: routes kept, status lease revoked.

import { randomBytes, randomInt } from 'node:crypto';
import { resourceKey, testBgpConfiguration, testPool, writeResource } from '@margay/api';
import { NetworkNamespace } from '@margay/dataplane';
import { Ipam } from '@margay/ipam';
import { freePort, requireCommand, requireRoot, waitFor } from '@margay/testkit';
import { TestEtcd } from './etcd.fixture';
import { NodeProcess } from './node-process';
import { statusKey } from './status';

jest.setTimeout(90_000);

const NODE_NAME = `node-${randomBytes(3).toString('hex')}`;
const NODE_ADDRESS = `10.${randomInt(1, 255)}.${randomInt(0, 256)}.2/24`;

let etcd: TestEtcd | undefined;
let netns: NetworkNamespace | undefined;
let node: NodeProcess | undefined;

beforeAll(async () => {
  requireRoot('the margay-node integration test');
  requireCommand('ip', 'iproute2');
  etcd = await TestEtcd.start();
  netns = await NetworkNamespace.create('mg-node');
  // A veth with both ends in the namespace: the dummy driver is not everywhere.
  await netns.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
  await netns.ip('link', 'set', 'eth0p', 'up');
  await netns.ip('address', 'add', NODE_ADDRESS, 'dev', 'eth0');
  await netns.ip('link', 'set', 'eth0', 'up');
}, 60_000);

afterAll(async () => {
  await node?.stop();
  await netns?.delete();
  await etcd?.stop();
});

function newStore() {
  if (etcd === undefined) throw new Error('etcd was not started');
  return etcd.newStore();
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url);
  return { status: response.status, text: await response.text() };
}

test('the node registers, becomes ready, reports, and stops keeping its routes', async () => {
  const admin = newStore();
  // Another port than 179, in case something on this machine uses it.
  await writeResource(admin, testBgpConfiguration('default', { listenPort: await freePort() }));
  await writeResource(admin, testPool('pods', '10.244.0.0/16'));
  const [healthPort, metricsPort] = [await freePort(), await freePort()];

  node = await NodeProcess.start({
    settings: { nodeName: NODE_NAME, addressMethod: 'first-found', mode: 'full', healthPort, metricsPort },
    store: newStore(),
    runner: netns!.runner,
    metricsHost: '127.0.0.1',
  });

  const registered = await admin.get(resourceKey('Node', NODE_NAME));
  expect(JSON.parse(registered!.value).spec.bgp.ipv4Address).toBe(NODE_ADDRESS);

  // Until the datastore snapshot is in and the speaker runs.
  await waitFor(
    'readiness',
    async () => (await get(`http://127.0.0.1:${healthPort}/readiness`)).status === 200,
  );
  expect(await get(`http://127.0.0.1:${healthPort}/liveness`)).toEqual({ status: 200, text: 'live\n' });

  // A block affine to the node: felix blackholes it in the node's kernel, BGP originates it.
  const { block } = await new Ipam(admin).assign({ handle: 'pod-1', node: NODE_NAME });
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  // Until both have picked the block up.
  await waitFor('the metrics', async () => {
    const { text } = await get(metricsUrl);
    return text.includes('\nmargay_felix_routes 1\n') && text.includes('\nmargay_bgp_routes 1\n');
  });
  const { status, text } = await get(metricsUrl);
  expect(status).toBe(200);
  expect(text).toContain('\nmargay_datastore_in_sync 1\n');
  expect(text).toContain('\nmargay_bgp_peers{state="Established"} 0\n');
  expect(text).toMatch(/\nprocess_resident_memory_bytes [1-9]\d*\n/);
  expect(await netns!.ip('route', 'show', 'proto', '78')).toContain(`blackhole ${block}`);

  const reported = await admin.get(statusKey(NODE_NAME));
  expect(reported?.lease).toBeDefined();
  expect(JSON.parse(reported!.value)).toEqual({
    time: expect.any(String),
    uptime: expect.any(Number),
    bgp: { peers: {} },
  });

  await node.stop();
  // The lease is revoked (its TTL is 90 s: only a revocation removes the key this soon) ...
  expect(await admin.get(statusKey(NODE_NAME))).toBeUndefined();
  // ... the probes are gone, and the node's routes stay for the traffic still flowing.
  await expect(fetch(`http://127.0.0.1:${healthPort}/liveness`)).rejects.toThrow();
  expect(await netns!.ip('route', 'show', 'proto', '78')).toContain(`blackhole ${block}`);
});
