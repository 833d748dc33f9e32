// Four in-process speakers on loopback: B is a route reflector (AS 65000) with clients A and C,
// D (AS 65010) is B's eBGP neighbor. A and C are not peered: what one learns from the other
// crossed B by reflection. B connects; the others wait for it (two active sides restarting in
// step after a failure keep refusing each other's connections while Idle).

import { silentLogger } from '@margay/log';
import { BgpApiClient } from '../api/client';
import type { ApiEvent } from '../api/messages';
import { type ApiServer, startApiServer } from '../api/service';
import { FsmState } from '../fsm/transitions';
import type { BestChange } from '../table/rib';
import type { FibSink } from './fib-sink';
import { BgpServer, type PeerView } from './server';
import { type Endpoint, endpoint, speakerConfig, until } from './speaker.fixture';

jest.setTimeout(60_000);

let a: Endpoint;
let b: Endpoint;
let c: Endpoint;
let d: Endpoint;
const servers: BgpServer[] = [];
let api: ApiServer | undefined;
let client: BgpApiClient | undefined;
const fibChanges: BestChange[] = [];
let fibClosed: boolean | null = null;

const fib: FibSink = {
  apply: (changes) => fibChanges.push(...changes),
  close: async (keepRoutes) => {
    fibClosed = keepRoutes;
  },
};

function configOfB(cHoldTime = 90) {
  return speakerConfig(
    b,
    65000,
    [
      { at: a, asNumber: 65000, routeReflectorClient: true },
      { at: c, asNumber: 65000, routeReflectorClient: true, holdTime: cHoldTime },
      { at: d, asNumber: 65010, import: 'all', export: 'all' },
    ],
    { routeReflector: { clusterId: '10.0.0.99' }, nextHop: { ipv6: '2001:db8:ff::b' } },
  );
}

let serverA: BgpServer;
let serverB: BgpServer;
let serverC: BgpServer;
let serverD: BgpServer;

const peer = (server: BgpServer, at: Endpoint): PeerView | undefined =>
  server.peerViews().find((p) => p.address === at.address);
const established = (server: BgpServer, at: Endpoint) => peer(server, at)?.state === FsmState.Established;
const routesOf = (server: BgpServer, prefix: string) => [...server.routes({ prefix })];

beforeAll(async () => {
  [a, b, c, d] = await Promise.all([endpoint(), endpoint(), endpoint(), endpoint()]);
  serverB = await BgpServer.start(configOfB(), { logger: silentLogger });
  servers.push(serverB);
  serverA = await BgpServer.start(
    speakerConfig(a, 65000, [{ at: b, asNumber: 65000, passive: true }], { originate: ['10.1.0.0/24'] }),
  );
  servers.push(serverA);
  serverC = await BgpServer.start(speakerConfig(c, 65000, [{ at: b, asNumber: 65000, passive: true }]));
  servers.push(serverC);
  serverD = await BgpServer.start(
    speakerConfig(d, 65010, [{ at: b, asNumber: 65000, passive: true, import: 'all', export: 'all' }], {
      originate: ['10.4.0.0/24', '2001:db8:4::/48'],
      nextHop: { ipv6: '2001:db8:ff::d' },
      fib: { enabled: true },
    }),
    { fib },
  );
  servers.push(serverD);
  api = await startApiServer(serverB, `${b.address}:0`, silentLogger);
  client = new BgpApiClient(`${b.address}:${api.port}`);
});

afterAll(async () => {
  client?.close();
  await api?.close();
  for (const server of servers) await server.close();
});

test('iBGP and eBGP sessions come up', async () => {
  await until(
    () => established(serverB, a) && established(serverB, c) && established(serverB, d),
    'B established with A, C and D',
  );
  expect(peer(serverB, a)?.type).toBe('iBGP RR client');
  expect(peer(serverB, d)?.type).toBe('eBGP');
  expect(peer(serverD, b)?.routerId).toBe(b.address);
});

test('originated IPv4 and IPv6 routes propagate over eBGP and iBGP', async () => {
  await until(() => routesOf(serverC, '2001:db8:4::/48').length > 0, "D's IPv6 route at C");
  await until(() => routesOf(serverC, '10.4.0.0/24').length > 0, "D's IPv4 route at C");
  const [v4] = routesOf(serverC, '10.4.0.0/24');
  // Inside the AS the next hop stays D's (no next-hop-self on B).
  expect(v4).toMatchObject({ best: true, asPath: '65010', fromPeer: b.address, nextHop: d.address });
  const [v6] = routesOf(serverC, '2001:db8:4::/48');
  expect(v6).toMatchObject({ best: true, asPath: '65010', nextHop: '2001:db8:ff::d' });
});

test('a route reflector passes routes between its clients', async () => {
  await until(() => routesOf(serverC, '10.1.0.0/24').length > 0, "A's route at C");
  const [route] = routesOf(serverC, '10.1.0.0/24');
  expect(route).toMatchObject({ asPath: '', nextHop: a.address, fromPeer: b.address, localPref: 100 });
  // And on to D over eBGP, with our AS prepended.
  await until(() => routesOf(serverD, '10.1.0.0/24').length > 0, "A's route at D");
  expect(routesOf(serverD, '10.1.0.0/24')[0]).toMatchObject({ asPath: '65000', nextHop: b.address });
});

test('best-path changes reach the FIB sink', () => {
  expect(fibChanges.some((ch) => ch.prefix === '10.1.0.0/24' && ch.kind === 'added')).toBe(true);
});

test('the gRPC API lists peers and the RIB, originates paths and streams events', async () => {
  const peers = await client!.listPeers();
  expect(peers.map((p) => p.address).sort()).toEqual([a.address, c.address, d.address].sort());
  const toD = peers.find((p) => p.address === d.address)!;
  expect(toD).toMatchObject({ asNumber: 65010, state: 'Established', type: 'eBGP', routerId: d.address });
  expect(toD.uptimeSeconds).toBeGreaterThanOrEqual(0);
  expect(toD.prefixesAccepted).toBe(2);
  expect(toD.messagesIn).toBeGreaterThan(0);

  const v6 = await client!.listRib({ family: 'ipv6' });
  expect(v6.map((r) => r.prefix)).toEqual(['2001:db8:4::/48']);
  const one = await client!.listRib({ prefix: '10.1.0.0/24' });
  expect(one).toEqual([
    expect.objectContaining({
      prefix: '10.1.0.0/24',
      best: true,
      fromPeer: a.address,
      localPref: 100,
      origin: 'igp',
    }),
  ]);
  await expect(client!.listRib({ prefix: '10.1.0.1/24' })).rejects.toThrow(/host bits set/);

  const events: ApiEvent[] = [];
  const stop = await client!.watchEvents((event) => events.push(event));
  try {
    expect(await client!.addPath('10.2.0.0/24')).toBe(true);
    expect(await client!.addPath('10.2.0.0/24')).toBe(false);
    await until(() => routesOf(serverA, '10.2.0.0/24').length > 0, "B's API-added route at A");
    await until(
      () => events.some((e) => e.event === 'route' && e.route.prefix === '10.2.0.0/24'),
      'the route event',
    );
    const event = events.find((e) => e.event === 'route' && e.route.prefix === '10.2.0.0/24');
    expect(event).toMatchObject({ route: { kind: 'added', best: { fromPeer: 'local' } } });
  } finally {
    stop();
  }
});

test('DeletePath withdraws the route everywhere', async () => {
  expect(await client!.deletePath('10.2.0.0/24')).toBe(true);
  expect(await client!.deletePath('10.2.0.0/24')).toBe(false);
  await until(() => routesOf(serverA, '10.2.0.0/24').length === 0, 'withdrawal at A');
  await until(() => routesOf(serverD, '10.2.0.0/24').length === 0, 'withdrawal at D');
});

test('reload keeps unchanged sessions and resets changed ones', async () => {
  const sinceA = peer(serverB, a)!.since;
  const seenByC: string[] = [];
  const stopWatching = serverC.onEvent((e) => {
    if (e.type === 'peer') seenByC.push(`${e.from}>${e.to}`);
  });
  const result = serverB.reload(configOfB(30));
  expect(result).toEqual({
    kept: [a.address, d.address],
    refreshed: [],
    reset: [c.address],
    removed: [],
    added: [],
  });
  await until(() => seenByC.includes('Established>Idle'), "C's session reset");
  await until(() => established(serverB, c) && established(serverC, b), 'C back up');
  stopWatching();
  expect(peer(serverB, a)).toMatchObject({ state: FsmState.Established, since: sinceA });
  await until(() => routesOf(serverC, '10.1.0.0/24').length > 0, "A's route at C again");
  expect(() => serverB.reload(speakerConfig(b, 65001, []))).toThrow(/reload cannot change asNumber/);
  expect(peer(serverB, a)?.state).toBe(FsmState.Established);

  // A new description only changes what is shown: the session stays.
  const described = configOfB(30);
  const withDescription = {
    ...described,
    peers: described.peers.map((p) =>
      p.address === a.address ? { ...p, description: 'node-to-node mesh' } : p,
    ),
  };
  expect(serverB.reload(withDescription).kept).toContain(a.address);
  expect(peer(serverB, a)).toMatchObject({ description: 'node-to-node mesh', since: sinceA });
  expect(peer(serverB, c)?.description).toBeNull();
});

test('a peer going down withdraws its routes elsewhere', async () => {
  await serverA.close();
  await until(() => routesOf(serverC, '10.1.0.0/24').length === 0, "A's route gone at C");
  await until(() => routesOf(serverD, '10.1.0.0/24').length === 0, "A's route gone at D");
  expect(peer(serverB, a)?.state).not.toBe(FsmState.Established);
});

test('reload removes peers that left the configuration', async () => {
  const withoutD = speakerConfig(
    b,
    65000,
    [
      { at: a, asNumber: 65000, routeReflectorClient: true },
      { at: c, asNumber: 65000, routeReflectorClient: true, holdTime: 30 },
    ],
    { routeReflector: { clusterId: '10.0.0.99' }, nextHop: { ipv6: '2001:db8:ff::b' } },
  );
  expect(serverB.reload(withoutD).removed).toEqual([d.address]);
  expect(peer(serverB, d)).toBeUndefined();
  await until(() => !established(serverD, b), "D's session closed");
  await until(() => routesOf(serverC, '10.4.0.0/24').length === 0, "D's routes gone at C");
});

test('closing a server closes its FIB sink', async () => {
  await serverD.close();
  expect(fibClosed).toBe(false);
});
