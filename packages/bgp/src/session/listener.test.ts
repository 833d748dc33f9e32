// The shared listener's handling of connections from addresses that are not peers: rejected at
// once by default, or held (unread) for a peer added within `holdUnknownMs`. Real TCP on loopback;
// the peer is a stand-in that records the sockets it is given.

import { connect, type Socket } from 'node:net';
import type { LogFields, Logger } from '@margay/log';
import { waitFor } from '@margay/testkit';
import { BgpListener } from './listener';
import type { BgpPeer } from './peer';

const ADDRESS = '127.0.0.1';
/** Cease (6) / Connection Rejected (5): the tail of the NOTIFICATION a rejected caller reads. */
const CONNECTION_REJECTED = Buffer.from([3, 6, 5]);

interface Client {
  readonly socket: Socket;
  received: Buffer;
  closed: boolean;
}

const listeners: BgpListener[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
});

function recordingLogger(messages: string[]): Logger {
  const record = (message: string, _fields?: LogFields) => void messages.push(message);
  return { debug: record, info: record, warn: record, error: record };
}

async function startListener(holdUnknownMs: number | undefined, messages: string[] = []) {
  const listener = new BgpListener({
    host: ADDRESS,
    port: 0,
    holdUnknownMs,
    logger: recordingLogger(messages),
  });
  listeners.push(listener);
  const { port } = await listener.listen();
  return { listener, port };
}

async function dial(port: number, send?: string): Promise<Client> {
  const socket = connect({ host: ADDRESS, port });
  sockets.push(socket);
  const client: Client = { socket, received: Buffer.alloc(0), closed: false };
  socket.on('data', (chunk: Buffer) => {
    client.received = Buffer.concat([client.received, chunk]);
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    client.closed = true;
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  if (send !== undefined) socket.write(send);
  return client;
}

/** A peer of ADDRESS that keeps what it is handed. */
function recordingPeer(accepted: Socket[]): BgpPeer {
  const peer = {
    remoteAddress: ADDRESS,
    accept: (socket: Socket) => {
      sockets.push(socket);
      accepted.push(socket);
    },
  };
  return peer as unknown as BgpPeer;
}

const rejected = (client: Client) =>
  client.closed && client.received.subarray(-CONNECTION_REJECTED.length).equals(CONNECTION_REJECTED);

test('without a hold, a connection from an unknown address is rejected at once', async () => {
  const { port } = await startListener(undefined);
  const client = await dial(port);
  await waitFor('the Cease / Connection Rejected NOTIFICATION and the close', () => rejected(client), 5000);
});

test('a held connection goes, with what the caller already sent, to a peer added within the hold', async () => {
  const messages: string[] = [];
  const { listener, port } = await startListener(60_000, messages);
  const client = await dial(port, 'OPEN-bytes');
  await waitFor('the connection to be held', () => messages.includes('holding connection from unknown peer'));
  const accepted: Socket[] = [];
  listener.addPeer(recordingPeer(accepted));
  await waitFor('the held connection to reach the peer', () => accepted.length === 1, 5000);
  let read = '';
  accepted[0]!.on('data', (chunk: Buffer) => {
    read += chunk.toString();
  });
  await waitFor('the bytes sent while held', () => read === 'OPEN-bytes', 5000);
  expect(client.received.length).toBe(0); // no NOTIFICATION: nothing was refused
  expect(client.closed).toBe(false);
});

test('a held connection is rejected when no peer of its address appears in time', async () => {
  const { listener, port } = await startListener(100);
  const client = await dial(port, 'OPEN-bytes');
  await waitFor('the rejection once the hold ran out', () => rejected(client), 5000);
  const accepted: Socket[] = [];
  listener.addPeer(recordingPeer(accepted)); // too late: nothing is left to hand over
  await new Promise((resolve) => setImmediate(resolve));
  expect(accepted).toHaveLength(0);
});

test('a second connection from an address already held is rejected, the first kept', async () => {
  const messages: string[] = [];
  const { listener, port } = await startListener(60_000, messages);
  const first = await dial(port, 'first');
  await waitFor('the first connection to be held', () =>
    messages.includes('holding connection from unknown peer'),
  );
  const second = await dial(port, 'second');
  await waitFor('the second connection to be rejected', () => rejected(second), 5000);
  const accepted: Socket[] = [];
  listener.addPeer(recordingPeer(accepted));
  await waitFor('the first connection to reach the peer', () => accepted.length === 1, 5000);
  expect(first.closed).toBe(false);
});

test('closing the listener closes the connections it holds', async () => {
  const messages: string[] = [];
  const { listener, port } = await startListener(60_000, messages);
  const client = await dial(port);
  await waitFor('the connection to be held', () => messages.includes('holding connection from unknown peer'));
  listeners.splice(listeners.indexOf(listener), 1);
  await listener.close();
  await waitFor('the held connection to close', () => client.closed, 5000);
});
