// Interop with BIRD 2: eBGP and iBGP over IPv4, eBGP over IPv6, and route refresh (RFC 2918,
// enhanced per RFC 7313) both ways: BIRD asking margay-bgpd, and margay-bgpd asking BIRD.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startBird2 } from '@margay/anchors';
import { requireCommand, requireRoot } from '@margay/testkit';
import { until } from '../server/speaker.fixture';
import { pairAndExchange, Started } from './exchange.fixture';

jest.setTimeout(30_000);

const started = new Started();

beforeAll(() => {
  requireRoot('BIRD 2 interop');
  requireCommand('bird', 'bird2');
});

afterEach(() => started.stopAll());

test('eBGP over IPv4: routes both ways, withdrawals, route refresh, margayctl', async () => {
  const {
    anchor: bird,
    anchorAt,
    margay,
  } = await pairAndExchange(started, startBird2, {
    anchorAs: 65001,
    n: 21,
  });

  // BIRD's "reload in" sends ROUTE-REFRESH: margay answers with its table again.
  const before = (await margay.waitForPeer(anchorAt.address)).updatesOut;
  await promisify(execFile)('birdc', ['-s', join(bird.dir, 'bird.ctl'), 'reload in peer0']);
  await until(
    async () => (await margay.peer(anchorAt.address))!.updatesOut > before,
    'UPDATEs re-sent after the refresh',
  );
  expect(await bird.waitForRoute('10.21.2.0/24')).toMatchObject({ asPath: [65000] });
  expect((await margay.peer(anchorAt.address))?.state).toBe('Established');

  expect(await margay.margayctlPeerRow(anchorAt.address)).toMatch(/eBGP\s+up\s+\S+\s+Established/);
});

test('margay-bgpd asks BIRD for a route refresh: BIRD re-sends and the route stays', async () => {
  const {
    anchor: bird,
    anchorAt,
    margay,
  } = await pairAndExchange(started, startBird2, {
    anchorAs: 65001,
    n: 24,
  });
  await bird.announce({ prefix: '10.24.4.0/24', nextHop: '198.51.100.1' });
  await margay.waitForRoute('10.24.4.0/24');

  const before = (await margay.peer(anchorAt.address))!;
  expect(await margay.client.refreshPeer(anchorAt.address)).toEqual(['ipv4']);
  await until(
    async () => (await margay.peer(anchorAt.address))!.updatesIn > before.updatesIn,
    `BIRD to re-send its UPDATEs (log: ${margay.logFile})`,
  );
  // BIRD brackets the re-sent routes with BoRR and EoRR: what it sent again survives the sweep.
  expect(await margay.routes('10.24.4.0/24')).toEqual([
    expect.objectContaining({ asPath: '65001', fromPeer: anchorAt.address }),
  ]);
  expect(await margay.peer(anchorAt.address)).toMatchObject({
    state: 'Established',
    sinceUnixMs: before.sinceUnixMs,
  });
});

test('iBGP over IPv4: empty AS path, LOCAL_PREF carried', async () => {
  const {
    anchor: bird,
    anchorAt,
    margay,
  } = await pairAndExchange(started, startBird2, {
    anchorAs: 65000,
    n: 22,
  });
  expect(await bird.waitForRoute('10.22.2.0/24')).toMatchObject({ localPref: 100 });
  expect((await margay.peer(anchorAt.address))?.type).toBe('iBGP');
});

test('eBGP over IPv6 on ::1', async () => {
  await pairAndExchange(started, startBird2, { anchorAs: 65001, ipv6: true, n: 23 });
});
