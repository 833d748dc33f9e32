// The agent serves its speaker's gRPC API (what margayctl node status reads) on real etcd and real
// sessions: peers carry their types, and the API follows the speaker when it has to be replaced.

import { randomInt } from 'node:crypto';
import { testBgpConfiguration, testNode, testPool, writeResource } from '@margay/api';
import { BgpApiClient } from '@margay/bgp';
import { freePort, waitFor } from '@margay/testkit';
import { BgpAgent } from './bgp-agent';
import { TestEtcd } from './etcd.fixture';

jest.setTimeout(90_000);

const subnet = `127.${randomInt(1, 255)}.${randomInt(1, 255)}`;
const address = (n: number) => `${subnet}.${n}`;

let etcd: TestEtcd | undefined;
const agents: BgpAgent[] = [];
const clients: BgpApiClient[] = [];

beforeAll(async () => {
  etcd = await TestEtcd.start();
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(agents.map((agent) => agent.close()));
  await etcd?.stop();
});

const newStore = () => etcd!.newStore();

test('the API lists mesh peers by type, and survives a speaker restart', async () => {
  const admin = newStore();
  const port = await freePort(address(1));
  const apiAddress = `${address(1)}:${await freePort(address(1))}`;
  await writeResource(admin, testBgpConfiguration('default', { bindMode: 'NodeIP', listenPort: port }));
  await writeResource(admin, testPool('pods', '10.244.0.0/16'));
  await writeResource(admin, testNode('n1', { ipv4Address: `${address(1)}/8` }));
  await writeResource(admin, testNode('n2', { ipv4Address: `${address(2)}/8` }));
  const a1 = BgpAgent.start({ store: newStore(), nodeName: 'n1', apiAddress });
  agents.push(a1);
  agents.push(BgpAgent.start({ store: newStore(), nodeName: 'n2' }));
  const client = new BgpApiClient(apiAddress, { timeoutMs: 2000 });
  clients.push(client);

  const meshUp = async () => {
    const peers = await client.listPeers().catch(() => []);
    return peers.some((p) => p.address === address(2) && p.state === 'Established');
  };
  await waitFor('the mesh session, seen through the API', meshUp);
  expect(await client.listPeers()).toEqual([
    expect.objectContaining({ address: address(2), type: 'iBGP', description: 'node-to-node mesh' }),
  ]);

  // A new AS for n1 cannot be reloaded: the agent replaces the speaker, and the API moves with it.
  const first = a1.server;
  await writeResource(admin, testNode('n1', { ipv4Address: `${address(1)}/8`, asNumber: 65010 }));
  await waitFor('a new speaker on n1', () => a1.server !== null && a1.server !== first);
  await waitFor('the API of the new speaker', async () => {
    const peers = await client.listPeers().catch(() => []);
    return peers.some((p) => p.address === address(2) && p.type === 'eBGP');
  });
});
