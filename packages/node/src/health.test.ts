import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { healthResponse, serveHealth } from './health';

const listeningPort = (server: Server): number => (server.address() as AddressInfo).port;

const ready = { datastoreInSync: true, bgpSpeakerUp: true };

test('liveness is always 200', () => {
  expect(healthResponse('/liveness', { datastoreInSync: false, bgpSpeakerUp: false })).toEqual({
    status: 200,
    body: 'live\n',
  });
});

test.each([
  [ready, 200, 'ready\n'],
  [{ datastoreInSync: false, bgpSpeakerUp: true }, 503, 'not ready: datastore not in sync\n'],
  [{ datastoreInSync: true, bgpSpeakerUp: false }, 503, 'not ready: BGP speaker not up\n'],
  [
    { datastoreInSync: false, bgpSpeakerUp: false },
    503,
    'not ready: datastore not in sync, BGP speaker not up\n',
  ],
])('readiness of %j is %d', (readiness, status, body) => {
  expect(healthResponse('/readiness', readiness)).toEqual({ status, body });
});

test('other paths are 404', () => {
  expect(healthResponse('/', ready).status).toBe(404);
});

test('the server answers over HTTP with the current readiness', async () => {
  let readiness = { datastoreInSync: false, bgpSpeakerUp: false };
  const server = await serveHealth('127.0.0.1', 0, () => readiness);
  try {
    const url = `http://127.0.0.1:${listeningPort(server)}`;
    const before = await fetch(`${url}/readiness`);
    expect([before.status, await before.text()]).toEqual([
      503,
      'not ready: datastore not in sync, BGP speaker not up\n',
    ]);
    readiness = ready;
    const after = await fetch(`${url}/readiness?verbose`);
    expect([after.status, await after.text()]).toEqual([200, 'ready\n']);
  } finally {
    server.close();
  }
});

test('a port in use is refused naming the address', async () => {
  const first = await serveHealth('127.0.0.1', 0, () => ready);
  try {
    const port = listeningPort(first);
    await expect(serveHealth('127.0.0.1', port, () => ready)).rejects.toThrow(
      `cannot listen on 127.0.0.1:${port}`,
    );
  } finally {
    first.close();
  }
});
