// RFC 7606 (revised UPDATE error handling) driven from ExaBGP, whose routes can carry malformed
// attributes byte for byte: margay-bgpd must keep the session up, withdraw or repair the route
// as the RFC says, and go on accepting good routes.

import { loopbackEndpoint, startExabgp } from '@margay/anchors';
import { requireCommand, requireRoot } from '@margay/testkit';
import { Started } from './exchange.fixture';
import { Margay, neighbour } from './margay.fixture';

jest.setTimeout(30_000);

const started = new Started();
const NEXT_HOP = '198.51.100.1';

beforeAll(() => {
  requireRoot('RFC 7606 interop');
  requireCommand('exabgp', 'exabgp');
});

afterAll(() => started.stopAll());

test('malformed attributes: treat-as-withdraw, attribute discard, session kept', async () => {
  const [exabgpAt, ours] = [await loopbackEndpoint(), await loopbackEndpoint()];
  const exabgp = await started.add(
    startExabgp({
      routerId: '10.0.0.1',
      asNumber: 65001,
      listen: exabgpAt,
      peers: [{ address: ours.address, port: ours.port, asNumber: 65000 }],
      originate: [
        { prefix: '10.101.1.0/24', nextHop: NEXT_HOP },
        { prefix: '10.101.3.0/24', nextHop: NEXT_HOP },
      ],
    }),
  );
  const margay = await started.add(Margay.start({ peers: [neighbour(exabgpAt, 65001)] }, ours));
  await margay.waitForPeer(exabgpAt.address);
  await margay.waitForRoute('10.101.1.0/24');
  await margay.waitForRoute('10.101.3.0/24');
  const establishedSince = (await margay.peer(exabgpAt.address))!.sinceUnixMs;

  // MULTI_EXIT_DISC is 4 octets; 5 make the update treat-as-withdraw (§7.4).
  await exabgp.announce({
    prefix: '10.101.1.0/24',
    nextHop: NEXT_HOP,
    attributes: [{ type: 4, flags: 0x80, value: '0000000001' }],
  });
  await margay.waitForNoRoute('10.101.1.0/24');

  // AGGREGATOR of the wrong length is discarded, the route kept (§7.7).
  await exabgp.announce({
    prefix: '10.101.2.0/24',
    nextHop: NEXT_HOP,
    attributes: [{ type: 7, flags: 0xc0, value: '0000fde9' }],
  });
  expect(await margay.waitForRoute('10.101.2.0/24')).toMatchObject({ asPath: '65001', nextHop: NEXT_HOP });

  // ORIGIN 5 is undefined: treat-as-withdraw (§7.1).
  await exabgp.announce({
    prefix: '10.101.3.0/24',
    nextHop: NEXT_HOP,
    attributes: [{ type: 1, flags: 0x40, value: '05' }],
  });
  await margay.waitForNoRoute('10.101.3.0/24');

  // A good route after all that still arrives, with its attribute, over the same session.
  await exabgp.announce({
    prefix: '10.101.4.0/24',
    nextHop: NEXT_HOP,
    attributes: [{ type: 4, flags: 0x80, value: '00000064' }],
  });
  expect(await margay.waitForRoute('10.101.4.0/24')).toMatchObject({ med: 100, origin: 'igp' });
  expect(await margay.peer(exabgpAt.address)).toMatchObject({
    state: 'Established',
    sinceUnixMs: establishedSince,
  });
  expect((await exabgp.peers())[0]?.state).toBe('Established');
  // And for the reasons intended, not for some other flaw in what ExaBGP sent.
  const log = margay.log();
  expect(log).toContain('UPDATE treat-as-withdraw: MULTI_EXIT_DISC');
  expect(log).toContain('UPDATE attribute-discard: AGGREGATOR');
  expect(log).toContain('UPDATE treat-as-withdraw: ORIGIN');
});
