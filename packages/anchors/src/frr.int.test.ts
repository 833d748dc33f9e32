import { requireCommand, requireRoot } from '@margay/testkit';
import { startBird2 } from './bird';
import type { RunningDaemon } from './daemon';
import { loopbackEndpoint } from './endpoint';
import { startFrr } from './frr';
import { startGobgp } from './gobgp';
import { peeringSpecs, stopAll } from './interop-helpers';

const started: RunningDaemon[] = [];

beforeAll(() => {
  requireRoot('FRR interop');
  requireCommand('bird', 'bird2');
  requireCommand('vtysh', 'frr');
});

afterAll(() => stopAll(started));

test('FRR and BIRD 2 exchange prefixes over eBGP, and FRR announces and withdraws at run time', async () => {
  const [frrSpec, birdSpec] = await peeringSpecs({ asNumbers: [65003, 65001] });
  frrSpec.originate = [{ prefix: '10.203.1.0/24', nextHop: '198.51.100.3' }, '10.203.2.0/24'];
  // FRR calls a 127/8 NEXT_HOP martian and resets the session, so BIRD's route carries another.
  birdSpec.originate = [{ prefix: '10.203.9.0/24', nextHop: '198.51.100.1' }];
  const frr = await startFrr(frrSpec);
  started.push(frr);
  const bird = await startBird2(birdSpec);
  started.push(bird);

  expect(await frr.waitForPeer(birdSpec.listen.address)).toEqual({
    address: birdSpec.listen.address,
    state: 'Established',
  });
  expect(await bird.waitForRoute('10.203.1.0/24')).toMatchObject({
    nextHop: '198.51.100.3',
    asPath: [65003],
  });
  // Without an explicit next hop FRR announces its own address.
  expect(await bird.waitForRoute('10.203.2.0/24')).toMatchObject({ nextHop: frrSpec.listen.address });
  expect(await frr.waitForRoute('10.203.9.0/24')).toMatchObject({ nextHop: '198.51.100.1', asPath: [65001] });

  await frr.announce({ prefix: '10.203.3.0/24', nextHop: '198.51.100.3' });
  expect(await bird.waitForRoute('10.203.3.0/24')).toMatchObject({ nextHop: '198.51.100.3' });
  await frr.withdraw('10.203.1.0/24');
  await bird.waitFor(
    async () => !(await bird.routes()).some((r) => r.prefix === '10.203.1.0/24'),
    'withdrawal',
  );
});

test('FRR reflects routes between its iBGP route-reflector clients (BIRD 2 and GoBGP)', async () => {
  const [rr, client1, client2] = [
    await loopbackEndpoint(),
    await loopbackEndpoint(),
    await loopbackEndpoint(),
  ];
  const as = 65010;
  const frr = await startFrr({
    routerId: '10.255.1.1',
    asNumber: as,
    listen: rr,
    routeReflector: { clusterId: '10.255.1.1' },
    peers: [client1, client2].map((c) => ({ ...c, asNumber: as, routeReflectorClient: true })),
  });
  started.push(frr);
  const bird = await startBird2({
    routerId: '10.255.1.2',
    asNumber: as,
    listen: client1,
    peers: [{ ...rr, asNumber: as }],
    originate: [{ prefix: '10.204.1.0/24', nextHop: '198.51.100.4' }],
  });
  started.push(bird);
  const gobgp = await startGobgp({
    routerId: '10.255.1.3',
    asNumber: as,
    listen: client2,
    peers: [{ ...rr, asNumber: as }],
  });
  started.push(gobgp);

  // The reflected route keeps the originator's next hop and an empty AS path (iBGP all the way).
  expect(await gobgp.waitForRoute('10.204.1.0/24')).toMatchObject({
    nextHop: '198.51.100.4',
    asPath: [],
    localPref: 100,
  });
  expect((await frr.peers()).map((p) => p.state)).toEqual(['Established', 'Established']);
});
