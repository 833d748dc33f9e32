// Interop smoke test against a real BIRD 2 on loopback: both sides may connect (BIRD actively,
// we actively and through our listener), the session comes up and routes flow both ways.

import { loopbackEndpoint, type RunningDaemon, startBird2 } from '@margay/anchors';
import { requireCommand, requireRoot } from '@margay/testkit';
import { FsmState } from '../fsm/transitions';
import { asSequence } from '../packet/as-path';
import { buildAttributes } from '../packet/attribute-builder';
import { Afi, Safi } from '../packet/constants';
import { parseIpv4 } from '../packet/ip';
import { prefixList, prefixStrings } from '../packet/prefixes';
import { encodeAnnouncements } from '../packet/update-encode';
import { BgpListener } from './listener';
import { BgpPeer } from './peer';
import { PeerRecorder } from './raw-peer.fixture';

const IPV4_UNICAST = { afi: Afi.Ipv4, safi: Safi.Unicast };

let bird: RunningDaemon | undefined;
let listener: BgpListener | undefined;
let peer: BgpPeer | undefined;

beforeAll(() => {
  requireRoot('BIRD 2 interop');
  requireCommand('bird', 'bird2');
});

afterAll(async () => {
  peer?.stop();
  await listener?.close();
  await bird?.stop();
});

test('margay and BIRD 2 establish an eBGP session and exchange routes', async () => {
  const birdEnd = await loopbackEndpoint();
  const ours = await loopbackEndpoint();
  bird = await startBird2({
    routerId: '10.0.0.1',
    asNumber: 65001,
    listen: birdEnd,
    peers: [{ address: ours.address, port: ours.port, asNumber: 65002, gracefulRestart: true }],
    originate: [{ prefix: '10.203.1.0/24', nextHop: '198.51.100.1' }],
    gracefulRestart: { restartTime: 100 },
  });

  const events = new PeerRecorder();
  peer = new BgpPeer(
    {
      localAs: 65002,
      routerId: '10.0.0.2',
      peerAs: 65001,
      remoteAddress: birdEnd.address,
      remotePort: birdEnd.port,
      localAddress: ours.address,
      gracefulRestart: { restartTime: 120, forwardingState: false },
      timers: { connectRetryTime: 2, idleHoldTime: 1 },
    },
    events,
  );
  listener = new BgpListener({ host: ours.address, port: ours.port });
  listener.addPeer(peer);
  await listener.listen();
  peer.start();

  await events.untilEstablished(peer);
  await bird.waitForPeer(ours.address);
  const negotiated = peer.status().negotiated!;
  expect(negotiated.families).toEqual([IPV4_UNICAST]);
  expect(negotiated.context.fourOctetAs).toBe(true);
  expect(negotiated.routeRefresh).toBe(true);
  expect(negotiated.peerGracefulRestart?.restartTime).toBe(100);

  await events.until(() => events.updates.some((u) => u.announced !== null));
  const learned = events.updates.find((u) => u.announced !== null)!;
  expect(prefixStrings(learned.announced!)).toEqual(['10.203.1.0/24']);
  expect(learned.attributes?.nextHop).toBe(parseIpv4('198.51.100.1'));

  const attributes = buildAttributes(
    { origin: 0, asPath: asSequence([65002]), nextHop: parseIpv4('198.51.100.2') },
    negotiated.context,
  );
  peer.send(
    encodeAnnouncements(
      { attributes, prefixes: prefixList(Afi.Ipv4, ['10.203.2.0/24']) },
      negotiated.context,
    ),
  );
  peer.sendEndOfRib(IPV4_UNICAST);
  expect(await bird.waitForRoute('10.203.2.0/24')).toMatchObject({
    nextHop: '198.51.100.2',
    asPath: [65002],
  });

  // BIRD answers a route refresh by sending its routes again.
  const before = events.updates.length;
  peer.sendRouteRefresh(IPV4_UNICAST);
  await events.until(() => events.updates.length > before);
  expect(peer.state).toBe(FsmState.Established);
});
