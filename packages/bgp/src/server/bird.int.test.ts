// Interop: a margay BgpServer and a real BIRD 2 over eBGP on loopback, routes both ways, checked
// on both sides, and margayctl (the built CLI) reporting the session.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loopbackEndpoint, type RunningDaemon, startBird2 } from '@margay/anchors';
import { requireCommand, requireRoot } from '@margay/testkit';
import { BgpApiClient } from '../api/client';
import { type ApiServer, startApiServer } from '../api/service';
import { silentLogger } from '../session/logger';
import { BgpServer } from './server';
import { speakerConfig, until } from './speaker.fixture';

jest.setTimeout(60_000);

const MARGAYCTL = join(__dirname, '..', '..', '..', '..', 'bin', 'margayctl');
const MARGAYCTL_BUILT = join(__dirname, '..', '..', '..', 'ctl', 'dist', 'cli.js');

let bird: RunningDaemon | undefined;
let server: BgpServer | undefined;
let api: ApiServer | undefined;
let client: BgpApiClient | undefined;

beforeAll(() => {
  requireRoot('BIRD 2 interop');
  requireCommand('bird', 'bird2');
  if (!existsSync(MARGAYCTL_BUILT)) throw new Error(`${MARGAYCTL_BUILT} is missing: run pnpm -s build first`);
});

afterAll(async () => {
  client?.close();
  await api?.close();
  await server?.close();
  await bird?.stop();
});

test('margay-bgpd and BIRD 2 exchange IPv4 routes over eBGP', async () => {
  const birdEnd = await loopbackEndpoint();
  const ours = await loopbackEndpoint();
  bird = await startBird2({
    routerId: '10.0.0.1',
    asNumber: 65001,
    listen: birdEnd,
    peers: [{ address: ours.address, port: ours.port, asNumber: 65002 }],
    originate: [{ prefix: '10.204.1.0/24', nextHop: '198.51.100.1' }],
  });
  server = await BgpServer.start(
    speakerConfig(
      ours,
      65002,
      [{ at: birdEnd, asNumber: 65001, passive: true, import: 'all', export: 'all' }],
      {
        originate: ['10.204.2.0/24'],
        nextHop: { ipv4: '198.51.100.2' },
      },
    ),
    { logger: silentLogger },
  );
  api = await startApiServer(server, `${ours.address}:0`, silentLogger);
  client = new BgpApiClient(`${ours.address}:${api.port}`);

  await bird.waitForPeer(ours.address);
  expect(await bird.waitForRoute('10.204.2.0/24')).toMatchObject({
    nextHop: '198.51.100.2',
    asPath: [65002],
  });

  await until(async () => (await client!.listRib({ prefix: '10.204.1.0/24' })).length > 0, "BIRD's route");
  expect(await client.listRib({ prefix: '10.204.1.0/24' })).toEqual([
    expect.objectContaining({
      best: true,
      nextHop: '198.51.100.1',
      asPath: '65001',
      fromPeer: birdEnd.address,
    }),
  ]);

  const { stdout } = await promisify(execFile)(MARGAYCTL, [
    'bgp',
    'peers',
    '--bgp-api',
    `${ours.address}:${api.port}`,
  ]);
  const row = stdout.split('\n').find((line) => line.startsWith(birdEnd.address));
  expect(row).toMatch(/eBGP\s+up\s+\S+\s+Established/);
});
