import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { waitFor } from '@margay/testkit';
import { MessageWriter } from './writer';

/** A connected pair of loopback sockets: `sender` is ours, `receiver` collects what arrives. */
interface Pair {
  readonly sender: Socket;
  readonly receiver: Socket;
  readonly received: Buffer[];
  receivedBytes(): number;
}

let server: Server;
const open: Socket[] = [];

beforeAll(async () => {
  server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});

afterEach(() => {
  for (const socket of open.splice(0)) socket.destroy();
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function pair(): Promise<Pair> {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no port');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const sender = connect(address.port, '127.0.0.1');
  open.push(sender);
  await once(sender, 'connect');
  const [receiver] = await accepted;
  open.push(receiver);
  const received: Buffer[] = [];
  receiver.on('data', (chunk: Buffer) => received.push(chunk));
  return { sender, receiver, received, receivedBytes: () => received.reduce((n, c) => n + c.length, 0) };
}

function filled(length: number, seed: number): Buffer {
  const buf = Buffer.alloc(length);
  for (let i = 0; i < length; i++) buf[i] = (seed + i * 7) & 0xff;
  return buf;
}

describe('MessageWriter', () => {
  it('hands the queued Buffers to the socket as they are, in order, without copying them', async () => {
    const { sender, received, receivedBytes } = await pair();
    const handed: Buffer[] = [];
    const write = sender.write.bind(sender);
    sender.write = ((chunk: Buffer, ...rest: never[]) => {
      handed.push(chunk);
      return write(chunk, ...rest);
    }) as typeof sender.write;
    const writer = new MessageWriter(sender);
    // One Buffer shared by several connections (an update group's batch) plus two more.
    const shared = filled(70_000, 1);
    const parts = [shared, filled(3, 2), filled(50_000, 3)];
    for (const part of parts) writer.write(part);
    const total = parts.reduce((n, p) => n + p.length, 0);
    await waitFor('every byte to arrive', () => receivedBytes() === total, 5000);
    expect(handed).toHaveLength(parts.length);
    for (const [i, chunk] of handed.entries()) expect(chunk).toBe(parts[i]);
    expect(Buffer.concat(received).equals(Buffer.concat(parts))).toBe(true);
  });

  it('asks the caller to wait beyond its high-water mark, and releases it once the peer reads', async () => {
    const { sender, receiver, received, receivedBytes } = await pair();
    receiver.pause();
    const writer = new MessageWriter(sender);
    const parts = [filled(600_000, 4), filled(600_000, 5), filled(600_000, 6)];
    const answers = parts.map((part) => writer.write(part));
    // 1 MiB is the mark: the first write fits under it, the second does not.
    expect(answers).toEqual([true, false, false]);
    let released = false;
    const drained = writer.drained().then(() => {
      released = true;
    });
    // Nothing was handed to the socket yet (that happens once per event-loop turn).
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(released).toBe(false);
    receiver.resume();
    await drained;
    const total = parts.reduce((n, p) => n + p.length, 0);
    await waitFor('every byte to arrive', () => receivedBytes() === total, 5000);
    expect(Buffer.concat(received).equals(Buffer.concat(parts))).toBe(true);
  });
});
