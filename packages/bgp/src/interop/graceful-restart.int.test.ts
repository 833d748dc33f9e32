// Graceful restart (RFC 4724) with BIRD 2, both ways. A restart here is a kill: the session ends
// without a NOTIFICATION, so the other side keeps the routes, marked stale, until the restarted
// speaker's End-of-RIB tells which of them are still valid.

import { type DaemonSpec, loopbackEndpoint, startBird2 } from '@margay/anchors';
import { requireCommand, requireRoot } from '@margay/testkit';
import { until } from '../server/speaker.fixture';
import { Started } from './exchange.fixture';
import { type Endpoint, Margay, neighbour } from './margay.fixture';

jest.setTimeout(30_000);

const started = new Started();

beforeAll(() => {
  requireRoot('graceful restart interop');
  requireCommand('bird', 'bird2');
});

afterEach(() => started.stopAll());

function birdSpec(birdAt: Endpoint, ours: Endpoint, originate: string[]): DaemonSpec {
  return {
    routerId: '10.0.0.1',
    asNumber: 65001,
    listen: birdAt,
    peers: [{ address: ours.address, port: ours.port, asNumber: 65000 }],
    originate: originate.map((prefix) => ({ prefix, nextHop: '198.51.100.1' })),
    gracefulRestart: { restartTime: 60 },
  };
}

async function setUp() {
  const [birdAt, ours] = [await loopbackEndpoint(), await loopbackEndpoint()];
  const bird = await started.add(startBird2(birdSpec(birdAt, ours, ['10.91.1.0/24', '10.91.5.0/24'])));
  const margay = await started.add(
    Margay.start(
      {
        gracefulRestart: { restartTime: 60 },
        peers: [neighbour(birdAt, 65001)],
        originate: ['10.91.2.0/24', '10.91.3.0/24'],
        nextHop: { ipv4: '198.51.100.2' },
      },
      ours,
    ),
  );
  await bird.waitForPeer(ours.address);
  await bird.waitForRoute('10.91.3.0/24');
  await margay.waitForRoute('10.91.5.0/24');
  return { birdAt, ours, bird, margay };
}

const prefixes = async (daemon: { routes(): Promise<{ prefix: string }[]> }) =>
  (await daemon.routes()).map((r) => r.prefix).sort();

test('margay-bgpd restarts: BIRD keeps our routes meanwhile and sweeps what we no longer send', async () => {
  const { ours, bird, margay } = await setUp();

  await margay.kill();
  await bird.waitFor(
    async () => (await bird.peers())[0]?.state !== 'Established',
    'BIRD to notice the session is gone',
  );
  expect(await prefixes(bird)).toEqual(['10.91.2.0/24', '10.91.3.0/24']);

  // We come back originating 10.91.4.0/24 instead of 10.91.3.0/24.
  margay.writeConfig({ originate: ['10.91.2.0/24', '10.91.4.0/24'] });
  await margay.restart();
  await bird.waitForPeer(ours.address);
  await bird.waitFor(
    async () => (await prefixes(bird)).join() === '10.91.2.0/24,10.91.4.0/24',
    'the refreshed routes, without the stale 10.91.3.0/24',
  );
});

test('BIRD restarts: margay keeps its routes meanwhile and sweeps them after End-of-RIB', async () => {
  const { birdAt, ours, bird, margay } = await setUp();

  process.kill(-bird.pid, 'SIGKILL');
  await until(
    async () => (await margay.peer(birdAt.address))?.state !== 'Established',
    'margay to notice the session is gone',
  );
  expect((await margay.client.listRib({ family: 'ipv4' })).map((r) => r.prefix).sort()).toEqual([
    '10.91.1.0/24',
    '10.91.2.0/24',
    '10.91.3.0/24',
    '10.91.5.0/24',
  ]);

  // The same router comes back announcing only 10.91.1.0/24: 10.91.5.0/24 was stale.
  await bird.stop();
  const restarted = await started.add(startBird2(birdSpec(birdAt, ours, ['10.91.1.0/24'])));
  await margay.waitForPeer(birdAt.address);
  await margay.waitForNoRoute('10.91.5.0/24');
  expect(await margay.routes('10.91.1.0/24')).toEqual([
    expect.objectContaining({ fromPeer: birdAt.address, asPath: '65001' }),
  ]);
  expect(await restarted.waitForRoute('10.91.2.0/24')).toMatchObject({ asPath: [65000] });
});
