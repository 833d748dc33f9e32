// Enhanced route refresh (RFC 7313 §4) on the receiving side, driven by a scripted peer on
// loopback: a BoRR marks the peer's paths of that family stale, what it re-sends before the EoRR
// stays, the rest is swept at the EoRR, or by the timer when the EoRR never comes.

import { silentLogger } from '@margay/log';
import { FsmState } from '../fsm/transitions';
import { asSequence } from '../packet/as-path';
import { buildAttributes } from '../packet/attribute-builder';
import { Afi, MessageType, Origin, RouteRefreshSubtype, Safi } from '../packet/constants';
import { encodeKeepalive } from '../packet/header';
import { parseIpv4 } from '../packet/ip';
import { encodeOpen } from '../packet/open';
import { prefixList } from '../packet/prefixes';
import { encodeRouteRefresh } from '../packet/route-refresh';
import { encodeAnnouncements } from '../packet/update-encode';
import { RawPeer } from '../session/raw-peer.fixture';
import { BgpServer } from './server';
import { type Endpoint, endpoint, speakerConfig, until } from './speaker.fixture';

jest.setTimeout(60_000);

const PEER_AS = 65020;
const IPV4_UNICAST = { afi: Afi.Ipv4, safi: Safi.Unicast };
const CTX = { fourOctetAs: true, extendedMessages: false, ibgp: false };

interface Scene {
  readonly server: BgpServer;
  readonly raw: RawPeer;
  readonly peerAt: Endpoint;
}

const open: Scene[] = [];

afterEach(async () => {
  for (const { raw, server } of open.splice(0)) {
    raw.destroy();
    await server.close();
  }
});

/** A margay speaker and a scripted eBGP peer that offers (enhanced) route refresh, established. */
async function establish(refreshStaleTimeMs?: number): Promise<Scene> {
  const [at, peerAt] = await Promise.all([endpoint(), endpoint()]);
  const config = speakerConfig(at, 65010, [
    { at: peerAt, asNumber: PEER_AS, passive: true, import: 'all', export: 'none', families: ['ipv4'] },
  ]);
  const server = await BgpServer.start(config, {
    logger: silentLogger,
    ...(refreshStaleTimeMs === undefined ? {} : { refreshStaleTimeMs }),
  });
  let raw: RawPeer;
  try {
    raw = await RawPeer.connect(at.address, at.port, peerAt.address);
  } catch (error) {
    await server.close();
    throw error;
  }
  const scene = { server, raw, peerAt };
  open.push(scene);
  await raw.expect(MessageType.Open);
  const capabilities = {
    multiprotocol: [IPV4_UNICAST],
    fourOctetAs: PEER_AS,
    routeRefresh: true,
    enhancedRouteRefresh: true,
  };
  raw.send(encodeOpen({ asn: PEER_AS, holdTime: 90, bgpId: parseIpv4(peerAt.address), capabilities }));
  await raw.expect(MessageType.Keepalive);
  raw.send(encodeKeepalive());
  await until(
    () => server.peerViews()[0]?.state === FsmState.Established,
    'the session with the scripted peer to be Established',
  );
  return scene;
}

function announce(scene: Scene, prefixes: string[]): void {
  const attributes = buildAttributes(
    { origin: Origin.Igp, asPath: asSequence([PEER_AS]), nextHop: parseIpv4('198.51.100.20') },
    CTX,
  );
  scene.raw.send(encodeAnnouncements({ attributes, prefixes: prefixList(Afi.Ipv4, prefixes) }, CTX));
}

const prefixesOf = (scene: Scene) => [...scene.server.routes()].map((r) => r.prefix).sort();

async function withTwoRoutes(refreshStaleTimeMs?: number): Promise<Scene> {
  const scene = await establish(refreshStaleTimeMs);
  announce(scene, ['10.70.1.0/24', '10.70.2.0/24']);
  await until(() => prefixesOf(scene).length === 2, 'both routes in the table');
  return scene;
}

test('BoRR, one route re-sent, EoRR: the route not re-sent is swept, the other stays', async () => {
  const scene = await withTwoRoutes();
  const updatesIn = scene.server.peerViews()[0]!.updatesIn;
  scene.raw.send(encodeRouteRefresh(IPV4_UNICAST, RouteRefreshSubtype.BeginningOfRouteRefresh));
  announce(scene, ['10.70.1.0/24']);
  await until(() => scene.server.peerViews()[0]!.updatesIn > updatesIn, 'the re-sent UPDATE');
  // Between BoRR and EoRR nothing is removed: stale paths still count.
  expect(prefixesOf(scene)).toEqual(['10.70.1.0/24', '10.70.2.0/24']);
  scene.raw.send(encodeRouteRefresh(IPV4_UNICAST, RouteRefreshSubtype.EndOfRouteRefresh));
  await until(() => prefixesOf(scene).length === 1, 'the route not re-sent to be swept at the EoRR');
  expect(prefixesOf(scene)).toEqual(['10.70.1.0/24']);
  expect(scene.server.peerViews()[0]).toMatchObject({ state: FsmState.Established, prefixesAccepted: 1 });
});

test('BoRR without an EoRR: the timer sweeps what was not re-sent, the session stays up', async () => {
  const scene = await withTwoRoutes(300);
  scene.raw.send(encodeRouteRefresh(IPV4_UNICAST, RouteRefreshSubtype.BeginningOfRouteRefresh));
  announce(scene, ['10.70.2.0/24']);
  await until(() => prefixesOf(scene).length === 1, 'the timer to sweep the route not re-sent');
  expect(prefixesOf(scene)).toEqual(['10.70.2.0/24']);
  expect(scene.server.peerViews()[0]).toMatchObject({ state: FsmState.Established, prefixesAccepted: 1 });
});

test('an EoRR without a BoRR sweeps nothing', async () => {
  const scene = await withTwoRoutes(300);
  scene.raw.send(encodeRouteRefresh(IPV4_UNICAST, RouteRefreshSubtype.EndOfRouteRefresh));
  // A later route proves the EoRR before it has been handled.
  announce(scene, ['10.70.3.0/24']);
  await until(() => prefixesOf(scene).length === 3, 'the later route');
  expect(prefixesOf(scene)).toEqual(['10.70.1.0/24', '10.70.2.0/24', '10.70.3.0/24']);
});
