// The BGP side's start order (issue #5): a node's speaker listens, with every existing node as a
// peer, before its Node resource is written, and keeps running once the write is seen. Speakers
// are real, on loopback addresses of a fresh 127.x.y.0/24; the datastore is the in-memory one.

import { randomInt } from 'node:crypto';
import { connect } from 'node:net';
import { resourceKey, resourcePrefix, testBgpConfiguration, testNode, writeResource } from '@margay/api';
import { type BgpServer, FsmState, type LogFields, type Logger } from '@margay/bgp';
import { MemoryDatastore, type PutOptions } from '@margay/datastore';
import { freePort, waitFor } from '@margay/testkit';
import type { BgpAgent } from './bgp-agent';
import { listenThenRegister } from './listen-then-register';

jest.setTimeout(30_000);

const subnet = `127.${randomInt(1, 255)}.${randomInt(1, 255)}`;
const address = (n: number) => `${subnet}.${n}`;

const agents: BgpAgent[] = [];
const stores: MemoryDatastore[] = [];

afterEach(async () => {
  await Promise.all(agents.splice(0).map((agent) => agent.close()));
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

/** A store with the cluster's BGPConfiguration (each speaker on its own address, one port). */
async function clusterStore(
  store = new MemoryDatastore(),
): Promise<{ store: MemoryDatastore; port: number }> {
  stores.push(store);
  const port = await freePort(address(1));
  await writeResource(store, testBgpConfiguration('default', { bindMode: 'NodeIP', listenPort: port }));
  return { store, port };
}

async function join(
  store: MemoryDatastore,
  name: string,
  n: number,
  extra: { onSpeaker?: (server: BgpServer) => void; logger?: Logger; debounceMs?: number } = {},
): Promise<BgpAgent> {
  const { agent } = await listenThenRegister({
    store,
    registration: { name, ipv4Address: `${address(n)}/8` },
    agent: extra,
  });
  agents.push(agent);
  return agent;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function recordingLogger(messages: string[]): Logger {
  const record = (message: string, _fields?: LogFields) => void messages.push(message);
  return { debug: record, info: record, warn: record, error: record };
}

const peerOf = (agent: BgpAgent, n: number) =>
  agent.server?.peerViews().find((p) => p.address === address(n));

test('the speaker listens, with the existing nodes as peers, before the Node is written', async () => {
  const { store, port } = await clusterStore();
  await writeResource(store, testNode('n1', { ipv4Address: `${address(1)}/8` }));
  const order: string[] = [];
  const watch = store.watch(resourcePrefix('Node'), {
    onEvent: (event) => {
      if (event.type === 'put' && event.kv.key === resourceKey('Node', 'n2')) order.push('node n2 written');
    },
    onError: () => {},
  });
  let peersAtStart: string[] = [];
  try {
    await join(store, 'n2', 2, {
      onSpeaker: (server) => {
        order.push('speaker');
        peersAtStart = server.peerViews().map((p) => p.address);
      },
    });
    await waitFor('the watch to see the registration', () => order.includes('node n2 written'));
  } finally {
    await watch.close();
  }
  expect(order).toEqual(['speaker', 'node n2 written']);
  expect(peersAtStart).toEqual([address(1)]);
  expect(await canConnect(address(2), port)).toBe(true);
});

test('the first speaker is kept once its registration is seen, and takes later changes', async () => {
  const { store } = await clusterStore();
  await writeResource(store, testNode('n1', { ipv4Address: `${address(1)}/8` }));
  const speakers: BgpServer[] = [];
  const agent = await join(store, 'n2', 2, { onSpeaker: (server) => speakers.push(server) });
  await writeResource(store, testNode('n3', { ipv4Address: `${address(3)}/8` }));
  await waitFor('the new node n3 to be a peer', () => peerOf(agent, 3) !== undefined);
  expect(speakers).toHaveLength(1);
  expect(agent.server).toBe(speakers[0]);
});

test("a restarting node's speaker takes its new address from the start, and is not replaced", async () => {
  const { store, port } = await clusterStore();
  // What the previous run left: the same node at another address.
  await writeResource(store, testNode('n2', { ipv4Address: `${address(9)}/8` }));
  await writeResource(store, testNode('n1', { ipv4Address: `${address(1)}/8` }));
  const speakers: BgpServer[] = [];
  const agent = await join(store, 'n2', 2, { onSpeaker: (server) => speakers.push(server) });
  expect(await canConnect(address(2), port)).toBe(true);
  await writeResource(store, testNode('n3', { ipv4Address: `${address(3)}/8` }));
  await waitFor('the new node n3 to be a peer', () => peerOf(agent, 3) !== undefined);
  expect(speakers).toHaveLength(1);
  expect(await canConnect(address(9), port)).toBe(false);
});

test('a node that connects before the other has read its Node is held, not refused', async () => {
  const { store } = await clusterStore();
  const messages: string[] = [];
  // n1 learns about new nodes only 500 ms after they appear; n2 sorts above it, so n2 connects.
  const n1 = await join(store, 'n1', 1, { debounceMs: 500, logger: recordingLogger(messages) });
  const n2 = await join(store, 'n2', 2);
  await waitFor(
    'the n1–n2 session on both sides',
    () => peerOf(n1, 2)?.state === FsmState.Established && peerOf(n2, 1)?.state === FsmState.Established,
  );
  expect(messages).toContain('held connection handed to its peer');
  expect(messages).not.toContain('connection from unknown peer rejected');
  expect(peerOf(n2, 1)?.lastError).toBeNull();
});

test('a registration that would not validate fails before anything starts', async () => {
  const { store } = await clusterStore();
  let speakers = 0;
  const attempt = listenThenRegister({
    store,
    registration: { name: 'n2', ipv4Address: `${subnet}.300/8` },
    agent: { onSpeaker: () => speakers++ },
  });
  await expect(attempt).rejects.toThrow(/Node n2/);
  expect(await store.get(resourceKey('Node', 'n2'))).toBeUndefined();
  expect(speakers).toBe(0);
});

/** A datastore whose writes of Nodes fail, as when etcd goes away during the start. */
class NodeWritesFail extends MemoryDatastore {
  override async put(key: string, value: string, options?: PutOptions) {
    if (key.startsWith(resourcePrefix('Node'))) throw new Error('etcd unavailable');
    return super.put(key, value, options);
  }
}

test('when registration fails, the speaker that was started stops and the error is thrown', async () => {
  const { store, port } = await clusterStore(new NodeWritesFail());
  const speakers: BgpServer[] = [];
  const attempt = listenThenRegister({
    store,
    registration: { name: 'n2', ipv4Address: `${address(2)}/8` },
    agent: { onSpeaker: (server) => speakers.push(server) },
  });
  await expect(attempt).rejects.toThrow('etcd unavailable');
  expect(speakers).toHaveLength(1);
  expect(await canConnect(address(2), port)).toBe(false);
});
