// 4-octet AS numbers (RFC 6793) across a 2-octet-only neighbour: margay-bgpd in AS 4200000001
// and BIRD 1.6 with `enable as4 off` (BIRD 2 cannot be made to ignore our 4-octet AS capability:
// it checks the capability's AS against its neighbour AS, which as4 off limits to 16 bits). A
// BIRD 2 behind it (4-octet capable) shows that AS4_PATH crossed the 2-octet speaker intact.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bird1Dir, loopbackEndpoint, startBird1, startBird2 } from '@margay/anchors';
import { requireCommand, requireRoot } from '@margay/testkit';
import { AS_TRANS } from '../packet/constants';
import { Started } from './exchange.fixture';
import { Margay, neighbour } from './margay.fixture';

jest.setTimeout(30_000);

const started = new Started();
const OUR_AS = 4200000001;

beforeAll(() => {
  requireRoot('4-octet AS interop');
  requireCommand('bird', 'bird2');
  if (!existsSync(join(bird1Dir(), 'bird')))
    throw new Error(`BIRD 1.6 is missing from ${bird1Dir()}: run scripts/setup-bird1`);
});

afterEach(() => started.stopAll());

test('AS_TRANS in OPEN, AS4_PATH carried, AS paths right on every side', async () => {
  const [twoOctetAt, farAt, ours] = [
    await loopbackEndpoint(),
    await loopbackEndpoint(),
    await loopbackEndpoint(),
  ];
  const twoOctet = await started.add(
    startBird1({
      routerId: '10.0.0.1',
      asNumber: 65001,
      listen: twoOctetAt,
      peers: [
        // A 2-octet speaker knows us by the AS_TRANS in our OPEN.
        { address: ours.address, port: ours.port, asNumber: AS_TRANS, as4: false },
        { address: farAt.address, port: farAt.port, asNumber: 65002, as4: false },
      ],
      originate: [{ prefix: '10.81.1.0/24', nextHop: '198.51.100.1' }],
    }),
  );
  const far = await started.add(
    startBird2({
      routerId: '10.0.0.2',
      asNumber: 65002,
      listen: farAt,
      peers: [{ address: twoOctetAt.address, port: twoOctetAt.port, asNumber: 65001 }],
    }),
  );
  const margay = await started.add(
    Margay.start(
      {
        asNumber: OUR_AS,
        peers: [neighbour(twoOctetAt, 65001)],
        originate: ['10.81.2.0/24'],
        nextHop: { ipv4: '198.51.100.2' },
      },
      ours,
    ),
  );

  // The session runs with 2-octet AS paths (BIRD would misread 4-octet ones): our AS is AS_TRANS
  // in AS_PATH and travels in AS4_PATH, from which BIRD 1.6 rebuilds it (RFC 6793 §4.2.3) ...
  await twoOctet.waitForPeer(ours.address);
  expect(await twoOctet.waitForRoute('10.81.2.0/24')).toMatchObject({ asPath: [OUR_AS] });
  // ... and passes AS4_PATH on unchanged to a 4-octet speaker behind it.
  expect(await far.waitForRoute('10.81.2.0/24')).toMatchObject({ asPath: [65001, OUR_AS] });
  expect(await margay.waitForRoute('10.81.1.0/24')).toMatchObject({
    asPath: '65001',
    nextHop: '198.51.100.1',
  });
});
