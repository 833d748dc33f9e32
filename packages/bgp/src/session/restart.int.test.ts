// Stopping and restarting sessions between two of our own peers over loopback: the Cease subcode
// a stop sends, and two active peers getting back together after a reset instead of refusing
// each other's connections while each waits, Idle, for its own restart.

import { FsmState } from '../fsm/transitions';
import { CeaseSubcode } from '../packet/constants';
import { BgpServer } from '../server/server';
import { endpoint, speakerConfig, until } from '../server/speaker.fixture';
import type { BgpPeerConfig } from './config';
import { BgpListener } from './listener';
import { BgpPeer } from './peer';
import { loopbackAddresses, PeerRecorder } from './raw-peer.fixture';

jest.setTimeout(30_000);

const running: { stop(): unknown }[] = [];
afterEach(async () => {
  for (const thing of running.splice(0).reverse()) await thing.stop();
});

async function listen(host: string) {
  const listener = new BgpListener({ host, port: 0 });
  running.push({ stop: () => listener.close() });
  return { listener, port: (await listener.listen()).port };
}

function addPeer(listener: BgpListener, config: BgpPeerConfig) {
  const events = new PeerRecorder();
  const peer = new BgpPeer(config, events);
  running.push(peer);
  listener.addPeer(peer);
  return { peer, events };
}

test('two active peers reconnect after a reset although each restarts while the other waits Idle', async () => {
  const [addrA, addrB] = loopbackAddresses(2) as [string, string];
  const [atA, atB] = [await listen(addrA), await listen(addrB)];
  // Different restart delays: each peer's restart falls while the other one waits, Idle, for its
  // own. Refusing connections while Idle kept the two apart for good.
  const timers = (idleHoldTime: number) => ({ connectRetryTime: 1, idleHoldTime, maxIdleHoldTime: 8 });
  const a = addPeer(atA.listener, {
    localAs: 65001,
    routerId: '10.0.0.1',
    peerAs: 65002,
    remoteAddress: addrB,
    remotePort: atB.port,
    localAddress: addrA,
    timers: timers(1),
  });
  const b = addPeer(atB.listener, {
    localAs: 65002,
    routerId: '10.0.0.2',
    peerAs: 65001,
    remoteAddress: addrA,
    remotePort: atA.port,
    localAddress: addrB,
    timers: timers(2),
  });
  a.peer.start();
  b.peer.start();
  await a.events.untilEstablished(a.peer);
  await b.events.untilEstablished(b.peer);

  // A resets (as a reload does): B fails and waits Idle for its restart; A's next connection
  // arrives during that wait.
  a.peer.stop(CeaseSubcode.OtherConfigurationChange);
  a.peer.start();
  await b.events.until(() => b.events.downs.length === 1);
  await a.events.until(() => a.events.established.length === 2);
  await b.events.until(() => b.events.established.length === 2);
  expect([a.peer.state, b.peer.state]).toEqual([FsmState.Established, FsmState.Established]);
  expect(b.events.downs[0]?.reason).toBe('received Cease / Other Configuration Change');
});

test('a reload removing a peer sends it Cease / Peer De-configured', async () => {
  const [ours, theirs] = [await endpoint(), await endpoint()];
  const far = await listen(theirs.address);
  const remote = addPeer(far.listener, {
    localAs: 65002,
    routerId: '10.0.0.2',
    peerAs: 65001,
    remoteAddress: ours.address,
    passive: true,
  });
  remote.peer.start();
  const server = await BgpServer.start(
    speakerConfig({ address: ours.address, port: 0 }, 65001, [
      { at: { address: theirs.address, port: far.port }, asNumber: 65002 },
    ]),
  );
  running.push({ stop: () => server.close() });
  await remote.events.untilEstablished(remote.peer);

  expect(server.reload(speakerConfig({ address: ours.address, port: 0 }, 65001, [])).removed).toEqual([
    theirs.address,
  ]);
  await remote.events.until(() => remote.events.downs.length === 1);
  expect(remote.events.downs[0]?.reason).toBe('received Cease / Peer De-configured');
});

test('a server closed for a restart ends its sessions without a NOTIFICATION: the peer keeps its routes until End-of-RIB', async () => {
  const [a, b] = [await endpoint(), await endpoint()];
  const gr = { gracefulRestart: { restartTime: 120, preserveForwarding: true } };
  const configOfA = speakerConfig(a, 65001, [{ at: b, asNumber: 65001 }], {
    ...gr,
    originate: ['10.1.0.0/24', '10.2.0.0/24'],
  });
  const speakerB = await BgpServer.start(speakerConfig(b, 65001, [{ at: a, asNumber: 65001 }], gr));
  running.push({ stop: () => speakerB.close() });
  const endOfRib: string[] = [];
  speakerB.onEndOfRib((peer, family) => endOfRib.push(`${peer} ${family}`));
  const learned = () => [...speakerB.routes()].map((route) => route.prefix).sort();
  const established = () => speakerB.peerViews()[0]?.state === FsmState.Established;

  const first = await BgpServer.start(configOfA);
  running.push({ stop: () => first.close() });
  await until(() => learned().length === 2 && endOfRib.length > 0, 'B to learn both prefixes and End-of-RIB');
  await first.close({ restarting: true });
  await until(() => !established(), "B to see A's connection end");
  expect(learned()).toEqual(['10.1.0.0/24', '10.2.0.0/24']); // kept, stale: no NOTIFICATION ended it

  // A is back without 10.2.0.0/24: B drops it at A's End-of-RIB.
  endOfRib.length = 0;
  const second = await BgpServer.start({ ...configOfA, originate: ['10.1.0.0/24'] });
  running.push({ stop: () => second.close() });
  await until(() => endOfRib.includes(`${a.address} ipv4`), "A's End-of-RIB after its restart");
  expect(learned()).toEqual(['10.1.0.0/24']);
});
