// Route reflection (RFC 4456) with real daemons: margay-bgpd reflecting between a BIRD 2 client
// and a GoBGP client, and margay-bgpd as the client of a BIRD 2 reflector.

import { loopbackEndpoint, startBird2, startGobgp } from '@margay/anchors';
import { requireCommand, requireRoot } from '@margay/testkit';
import { Started } from './exchange.fixture';
import { Margay, neighbour } from './margay.fixture';

jest.setTimeout(30_000);

const started = new Started();

beforeAll(() => {
  requireRoot('route reflection interop');
  requireCommand('bird', 'bird2');
  requireCommand('gobgpd', 'gobgpd');
});

afterEach(() => started.stopAll());

test('margay reflects between a BIRD 2 client and a GoBGP client', async () => {
  const [birdAt, gobgpAt, ours] = [
    await loopbackEndpoint(),
    await loopbackEndpoint(),
    await loopbackEndpoint(),
  ];
  const toUs = [{ address: ours.address, port: ours.port, asNumber: 65000 }];
  const bird = await started.add(
    startBird2({
      routerId: '10.0.0.1',
      asNumber: 65000,
      listen: birdAt,
      peers: toUs,
      originate: [{ prefix: '10.71.1.0/24', nextHop: '198.51.100.1' }],
    }),
  );
  const gobgp = await started.add(
    startGobgp({
      routerId: '10.0.0.3',
      asNumber: 65000,
      listen: gobgpAt,
      peers: toUs,
      originate: [{ prefix: '10.71.3.0/24', nextHop: '198.51.100.3' }],
    }),
  );
  await started.add(
    Margay.start(
      {
        routeReflector: { clusterId: '10.0.0.99' },
        peers: [
          neighbour(birdAt, 65000, { routeReflectorClient: true }),
          neighbour(gobgpAt, 65000, { routeReflectorClient: true }),
        ],
      },
      ours,
    ),
  );

  // Each client sees the other's route, its next hop untouched, tagged by the reflector.
  expect(await gobgp.waitForRoute('10.71.1.0/24')).toMatchObject({
    asPath: [],
    nextHop: '198.51.100.1',
    originatorId: '10.0.0.1',
    clusterList: ['10.0.0.99'],
  });
  expect(await bird.waitForRoute('10.71.3.0/24')).toMatchObject({
    asPath: [],
    nextHop: '198.51.100.3',
    originatorId: '10.0.0.3',
    clusterList: ['10.0.0.99'],
  });

  await bird.withdraw('10.71.1.0/24');
  await gobgp.waitFor(
    async () => !(await gobgp.routes()).some((r) => r.prefix === '10.71.1.0/24'),
    'the reflected withdrawal',
  );
});

test('margay as a client of a BIRD 2 reflector', async () => {
  const [birdAt, gobgpAt, ours] = [
    await loopbackEndpoint(),
    await loopbackEndpoint(),
    await loopbackEndpoint(),
  ];
  const bird = await started.add(
    startBird2({
      routerId: '10.0.0.1',
      asNumber: 65000,
      listen: birdAt,
      routeReflector: { clusterId: '10.0.0.98' },
      peers: [
        { address: ours.address, port: ours.port, asNumber: 65000, routeReflectorClient: true },
        { address: gobgpAt.address, port: gobgpAt.port, asNumber: 65000, routeReflectorClient: true },
      ],
    }),
  );
  const gobgp = await started.add(
    startGobgp({
      routerId: '10.0.0.3',
      asNumber: 65000,
      listen: gobgpAt,
      peers: [{ address: birdAt.address, port: birdAt.port, asNumber: 65000 }],
      originate: [{ prefix: '10.72.3.0/24', nextHop: '198.51.100.3' }],
    }),
  );
  const margay = await started.add(
    Margay.start(
      { peers: [neighbour(birdAt, 65000)], originate: ['10.72.2.0/24'], nextHop: { ipv4: '198.51.100.2' } },
      ours,
    ),
  );

  // GoBGP's route reaches us through BIRD; ours reaches GoBGP with our router id as originator.
  expect(await margay.waitForRoute('10.72.3.0/24')).toMatchObject({
    asPath: '',
    nextHop: '198.51.100.3',
    fromPeer: birdAt.address,
  });
  expect(await gobgp.waitForRoute('10.72.2.0/24')).toMatchObject({
    asPath: [],
    nextHop: '198.51.100.2',
    originatorId: ours.address,
    clusterList: ['10.0.0.98'],
  });
  expect(await bird.waitForRoute('10.72.2.0/24')).toMatchObject({ nextHop: '198.51.100.2' });
});
