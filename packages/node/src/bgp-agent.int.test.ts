// Three agents on real etcd, each with an in-process speaker on its own loopback address. What is
// written to etcd must reach the running speakers: sessions come and go, blocks get announced,
// and no speaker is ever replaced.

import { randomInt } from 'node:crypto';
import { resourceKey, testBgpConfiguration, testNode, testPool, writeResource } from '@margay/api';
import { type BgpServer, FsmState } from '@margay/bgp';
import { Ipam } from '@margay/ipam';
import { freePort, waitFor } from '@margay/testkit';
import { BgpAgent } from './bgp-agent';
import { TestEtcd } from './etcd.fixture';

jest.setTimeout(90_000);

// A fresh 127.x.y.0/24 per run, so parallel runs never share addresses.
const subnet = `127.${randomInt(1, 255)}.${randomInt(1, 255)}`;
const address = (n: number) => `${subnet}.${n}`;

let etcd: TestEtcd | undefined;
const agents: BgpAgent[] = [];

beforeAll(async () => {
  etcd = await TestEtcd.start();
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.close()));
  await etcd?.stop();
});

const newStore = () => etcd!.newStore();

function startAgent(nodeName: string): BgpAgent {
  const agent = BgpAgent.start({ store: newStore(), nodeName });
  agents.push(agent);
  return agent;
}

const serverOf = (agent: BgpAgent): BgpServer => {
  if (!agent.server) throw new Error('the agent has not started its speaker');
  return agent.server;
};
const sessionTo = (agent: BgpAgent, n: number) =>
  agent.server?.peerViews().find((p) => p.address === address(n));
const established = (agent: BgpAgent, n: number) => sessionTo(agent, n)?.state === FsmState.Established;

test('sessions and routes follow what is written to etcd, without restarting any speaker', async () => {
  const admin = newStore();
  const port = await freePort(address(1));
  await writeResource(admin, testBgpConfiguration('default', { bindMode: 'NodeIP', listenPort: port }));
  await writeResource(admin, testPool('pods', '10.244.0.0/16'));
  await writeResource(admin, testNode('n1', { ipv4Address: `${address(1)}/8` }));
  await writeResource(admin, testNode('n2', { ipv4Address: `${address(2)}/8` }));

  const [a1, a2] = [startAgent('n1'), startAgent('n2')];
  // Until the n1–n2 mesh session is up on both sides.
  await waitFor('the n1–n2 mesh session', () => established(a1, 2) && established(a2, 1));
  const [speaker1, speaker2] = [serverOf(a1), serverOf(a2)];
  const n1ToN2Since = sessionTo(a1, 2)!.since;

  // A new node: both old nodes add a session to it.
  const a3 = startAgent('n3');
  await writeResource(admin, testNode('n3', { ipv4Address: `${address(3)}/8` }));
  // Until n3 is meshed with n1 and n2.
  await waitFor(
    'sessions to the new node n3',
    () => established(a1, 3) && established(a2, 3) && established(a3, 1),
  );
  expect(sessionTo(a1, 2)!.since).toEqual(n1ToN2Since);

  // A deleted node: its sessions go.
  await admin.delete(resourceKey('Node', 'n3'));
  // Until n1 and n2 drop n3.
  await waitFor(
    "the deleted node's sessions to go",
    () => sessionTo(a1, 3) === undefined && sessionTo(a2, 3) === undefined,
  );

  // A new block affine to n1: n1 originates it and n2 learns it from n1.
  const { block } = await new Ipam(admin).assign({ handle: 'pod-1', node: 'n1' });
  expect(block.startsWith('10.244.')).toBe(true);
  // Until n2 has the block from n1.
  await waitFor("the block to reach n2's RIB", () =>
    [...speaker2.routes({ prefix: block })].some((r) => r.fromPeer === address(1) && r.best),
  );

  expect(serverOf(a1)).toBe(speaker1);
  expect(serverOf(a2)).toBe(speaker2);
  expect(sessionTo(a1, 2)!.since).toEqual(n1ToN2Since);
});
