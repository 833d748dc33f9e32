// Sessions over real TCP on loopback: two of our own peers, and scripted raw peers for bytes
// our peers would never send.

import { FsmState } from '../fsm/transitions';
import { buildAttributes } from '../packet/attribute-builder';
import {
  Afi,
  CeaseSubcode,
  ErrorCode,
  MessageHeaderSubcode,
  MessageType,
  OpenSubcode,
  Safi,
} from '../packet/constants';
import { encodeKeepalive } from '../packet/header';
import { parseIpv4 } from '../packet/ip';
import { ceaseNotification, encodeNotification } from '../packet/notification';
import { decodeOpen, encodeOpen, type OpenSpec } from '../packet/open';
import { prefixList, prefixStrings } from '../packet/prefixes';
import { encodeAnnouncements, encodeEndOfRib } from '../packet/update-encode';
import { type BgpPeerConfig, resolvePeerConfig } from './config';
import { BgpListener } from './listener';
import { BgpPeer } from './peer';
import { eventually, loopbackAddresses, PeerRecorder, RawPeer, RawServer } from './raw-peer.fixture';

const IPV4_UNICAST = { afi: Afi.Ipv4, safi: Safi.Unicast };
const FAST = { connectRetryTime: 1, idleHoldTime: 0.05, maxIdleHoldTime: 0.2 };

/** Everything a test starts, stopped in afterEach whatever happened. */
const running: { stop(): unknown }[] = [];
afterEach(async () => {
  for (const thing of running.splice(0).reverse()) await thing.stop();
});

async function listen(host: string, peers: BgpPeer[]): Promise<number> {
  const listener = new BgpListener({ host, port: 0 });
  for (const p of peers) listener.addPeer(p);
  running.push({ stop: () => listener.close() });
  return (await listener.listen()).port;
}

function peer(config: BgpPeerConfig, recorder = new PeerRecorder()): { peer: BgpPeer; events: PeerRecorder } {
  const p = new BgpPeer({ timers: FAST, ...config }, recorder);
  running.push(p);
  return { peer: p, events: recorder };
}

/** A passive peer of ours on `host`, waiting for `remote`; returns it with its listener's port. */
async function passivePeer(host: string, remote: string, extra: Partial<BgpPeerConfig> = {}) {
  const b = peer({
    localAs: 65002,
    routerId: '10.0.0.2',
    peerAs: 65001,
    remoteAddress: remote,
    passive: true,
    ...extra,
  });
  const port = await listen(host, [b.peer]);
  b.peer.start();
  await b.events.untilState(b.peer, FsmState.Active);
  return { ...b, port };
}

const RAW_OPEN: OpenSpec = {
  asn: 65001,
  holdTime: 90,
  bgpId: parseIpv4('10.0.0.1'),
  capabilities: { multiprotocol: [IPV4_UNICAST], fourOctetAs: 65001, routeRefresh: true },
};

describe('two margay peers on loopback', () => {
  test('active ↔ passive: Established, KEEPALIVEs, an UPDATE, End-of-RIB, route refresh, Cease on stop', async () => {
    const [addrA, addrB] = loopbackAddresses(2) as [string, string];
    const b = await passivePeer(addrB, addrA, { holdTime: 3 });
    const a = peer({
      localAs: 65001,
      routerId: '10.0.0.1',
      peerAs: 65002,
      remoteAddress: addrB,
      remotePort: b.port,
      localAddress: addrA,
      holdTime: 30,
    });
    a.peer.start();
    await a.events.untilEstablished(a.peer);
    await b.events.untilEstablished(b.peer);

    const negotiated = a.peer.status().negotiated!;
    expect(negotiated.holdTime).toBe(3);
    expect(negotiated.keepaliveTime).toBe(1);
    expect(negotiated.families).toEqual([IPV4_UNICAST]);
    expect(negotiated.context).toEqual({ fourOctetAs: true, extendedMessages: true, ibgp: false });
    expect(negotiated.routeRefresh && negotiated.enhancedRouteRefresh).toBe(true);

    // Keepalives flow both ways (every second with hold time 3).
    const seen = b.peer.status().counters.messagesIn;
    await eventually(() => b.peer.status().counters.messagesIn >= seen + 2);

    const attributes = buildAttributes(
      { origin: 0, nextHop: parseIpv4(addrA), asPath: undefined },
      { fourOctetAs: true, ibgp: false },
    );
    const prefixes = prefixList(Afi.Ipv4, ['10.1.0.0/16', '10.2.3.0/24']);
    a.peer.send(encodeAnnouncements({ attributes, prefixes }, negotiated.context));
    a.peer.sendEndOfRib(IPV4_UNICAST);
    await b.events.until(() => b.events.endOfRib.length === 1);
    expect(b.events.updates.map((u) => prefixStrings(u.announced!))).toEqual([
      ['10.1.0.0/16', '10.2.3.0/24'],
    ]);
    expect(b.events.endOfRib).toEqual([IPV4_UNICAST]);
    expect(b.peer.status().counters).toMatchObject({ updatesIn: 2, prefixesReceived: 2 });
    expect(a.peer.status().counters).toMatchObject({ updatesOut: 2 });

    b.peer.sendRouteRefresh(IPV4_UNICAST);
    await a.events.until(() => a.events.refreshes.length === 1);
    expect(a.events.refreshes[0]!.family).toEqual(IPV4_UNICAST);

    a.peer.stop();
    await b.events.until(() => b.events.downs.length === 1);
    expect(b.events.downs[0]!.reason).toMatch(/received Cease \/ Administrative Shutdown/);
    expect(b.events.downs[0]!.gracefulRestart).toBeNull();
    expect(a.peer.state).toBe(FsmState.Idle);
    expect(b.peer.status().uptime).toBeNull();
  });

  test('thousands of UPDATEs arrive whole through the batching, backpressured writer', async () => {
    const [addrA, addrB] = loopbackAddresses(2) as [string, string];
    const b = await passivePeer(addrB, addrA);
    const a = peer({
      localAs: 65001,
      routerId: '10.0.0.1',
      peerAs: 65002,
      remoteAddress: addrB,
      remotePort: b.port,
      localAddress: addrA,
    });
    a.peer.start();
    await a.events.untilEstablished(a.peer);
    await b.events.untilEstablished(b.peer);
    const ctx = a.peer.status().negotiated!.context;
    const attributes = buildAttributes({ origin: 0, nextHop: parseIpv4(addrA) }, ctx);
    let sent = 0;
    for (let block = 0; block < 100; block++) {
      // 1000 /32s per call, one UPDATE per prefix: 100 000 messages in all.
      const prefixes = Array.from({ length: 1000 }, (_, i) => `10.${block}.${i >> 8}.${i & 255}/32`);
      for (const prefix of prefixes) {
        if (
          !a.peer.send(encodeAnnouncements({ attributes, prefixes: prefixList(Afi.Ipv4, [prefix]) }, ctx))
        ) {
          await a.peer.drained();
        }
        sent++;
      }
    }
    await eventually(() => b.peer.status().counters.prefixesReceived === sent);
    expect(b.peer.status().counters.updatesIn).toBe(sent);
    expect(b.peer.state).toBe(FsmState.Established);
  });

  test('a peer with the wrong AS gets Bad Peer AS', async () => {
    const [addrA, addrB] = loopbackAddresses(2) as [string, string];
    const b = await passivePeer(addrB, addrA, { localAs: 65003 });
    const a = peer({
      localAs: 65001,
      routerId: '10.0.0.1',
      peerAs: 65002,
      remoteAddress: addrB,
      remotePort: b.port,
      localAddress: addrA,
    });
    a.peer.start();
    await eventually(() => /Bad Peer AS/.test(b.peer.status().lastError ?? ''));
    expect(a.peer.status().lastError).toMatch(/sent OPEN Message Error \/ Bad Peer AS/);
    expect(b.peer.status().lastError).toMatch(/received OPEN Message Error \/ Bad Peer AS/);
    expect(b.peer.state).not.toBe(FsmState.Established);
  });

  test('both sides connecting at once end with one established connection', async () => {
    const [addrA, addrB] = loopbackAddresses(2) as [string, string];
    const portA = await freeListenerPort(addrA);
    const portB = await freeListenerPort(addrB);
    const a = peer({
      localAs: 65001,
      routerId: '10.0.0.1',
      peerAs: 65002,
      remoteAddress: addrB,
      remotePort: portB.port,
      localAddress: addrA,
      holdTime: 3,
    });
    const b = peer({
      localAs: 65002,
      routerId: '10.0.0.2',
      peerAs: 65001,
      remoteAddress: addrA,
      remotePort: portA.port,
      localAddress: addrB,
    });
    portA.listener.addPeer(a.peer);
    portB.listener.addPeer(b.peer);
    a.peer.start();
    b.peer.start();
    await a.events.untilEstablished(a.peer);
    await b.events.untilEstablished(b.peer);
    // One KEEPALIVE round trip later both are still up on the surviving connection.
    const seen = a.peer.status().counters.messagesIn;
    await eventually(() => a.peer.status().counters.messagesIn > seen);
    expect([a.peer.state, b.peer.state]).toEqual([FsmState.Established, FsmState.Established]);
  });
});

async function freeListenerPort(host: string) {
  const listener = new BgpListener({ host, port: 0 });
  running.push({ stop: () => listener.close() });
  return { listener, port: (await listener.listen()).port };
}

function header(marker: number, length: number, type: number): Buffer {
  const buf = Buffer.alloc(19, marker);
  buf.writeUInt16BE(length, 16);
  buf[18] = type;
  return buf;
}

/** An OPEN with one field overwritten at `offset` (counted from the message start). */
function patchedOpen(offset: number, value: Buffer, spec: OpenSpec = RAW_OPEN): Buffer {
  const open = encodeOpen(spec);
  value.copy(open, offset);
  return open;
}
const u16 = (n: number) => Buffer.from([n >> 8, n & 255]);

describe('a raw TCP client sending bad input', () => {
  const cases: [string, Buffer, number, number, Partial<BgpPeerConfig>][] = [
    [
      'bad marker',
      header(0, 19, MessageType.Keepalive),
      ErrorCode.MessageHeader,
      MessageHeaderSubcode.ConnectionNotSynchronized,
      {},
    ],
    [
      'bad length',
      header(0xff, 18, MessageType.Keepalive),
      ErrorCode.MessageHeader,
      MessageHeaderSubcode.BadMessageLength,
      {},
    ],
    ['bad type', header(0xff, 19, 9), ErrorCode.MessageHeader, MessageHeaderSubcode.BadMessageType, {}],
    [
      'OPEN of version 3',
      patchedOpen(19, Buffer.of(3)),
      ErrorCode.OpenMessage,
      OpenSubcode.UnsupportedVersionNumber,
      {},
    ],
    [
      'OPEN with a truncated parameter list',
      patchedOpen(28, Buffer.of(200)),
      ErrorCode.OpenMessage,
      OpenSubcode.Unspecific,
      {},
    ],
    [
      'OPEN with hold time 1',
      patchedOpen(22, u16(1)),
      ErrorCode.OpenMessage,
      OpenSubcode.UnacceptableHoldTime,
      {},
    ],
    [
      'OPEN with BGP Identifier 0',
      patchedOpen(24, Buffer.alloc(4)),
      ErrorCode.OpenMessage,
      OpenSubcode.BadBgpIdentifier,
      {},
    ],
    [
      'OPEN from the wrong AS',
      encodeOpen({ ...RAW_OPEN, asn: 65009, capabilities: { fourOctetAs: 65009 } }),
      ErrorCode.OpenMessage,
      OpenSubcode.BadPeerAs,
      {},
    ],
    [
      'OPEN without a required capability',
      encodeOpen(RAW_OPEN),
      ErrorCode.OpenMessage,
      OpenSubcode.UnsupportedCapability,
      {
        requiredCapabilities: ['graceful-restart'],
        gracefulRestart: { restartTime: 120, forwardingState: true },
      },
    ],
    ['KEEPALIVE instead of OPEN', encodeKeepalive(), ErrorCode.FiniteStateMachine, 1, {}],
  ];

  test.each(cases)(
    '%s gets the right NOTIFICATION and is closed',
    async (_name, bytes, code, subcode, extra) => {
      const [addrA, addrB] = loopbackAddresses(2) as [string, string];
      const b = await passivePeer(addrB, addrA, extra);
      const raw = await RawPeer.connect(addrB, b.port, addrA);
      running.push({ stop: () => raw.destroy() });
      await raw.expect(MessageType.Open);
      raw.send(bytes);
      const n = await raw.expectNotification();
      expect([n.code, n.subcode]).toEqual([code, subcode]);
      await raw.closed;
      expect(b.peer.state).not.toBe(FsmState.Established);
    },
  );

  test('Unsupported Capability names the missing capability in its data', async () => {
    const [addrA, addrB] = loopbackAddresses(2) as [string, string];
    const b = await passivePeer(addrB, addrA, { requiredCapabilities: ['four-octet-as'] });
    const raw = await RawPeer.connect(addrB, b.port, addrA);
    running.push({ stop: () => raw.destroy() });
    await raw.expect(MessageType.Open);
    raw.send(encodeOpen({ ...RAW_OPEN, capabilities: { multiprotocol: [IPV4_UNICAST] } }));
    const n = await raw.expectNotification();
    expect([n.code, n.subcode]).toEqual([ErrorCode.OpenMessage, OpenSubcode.UnsupportedCapability]);
    expect(n.data).toEqual(Buffer.from([65, 4, 0, 0, 0xfd, 0xea])); // four-octet AS 65002
  });

  test('a connection from an unknown address gets Cease / Connection Rejected', async () => {
    const [addrA, addrB, stranger] = loopbackAddresses(3) as [string, string, string];
    const b = await passivePeer(addrB, addrA);
    const raw = await RawPeer.connect(addrB, b.port, stranger);
    running.push({ stop: () => raw.destroy() });
    const n = await raw.expectNotification();
    expect([n.code, n.subcode]).toEqual([ErrorCode.Cease, CeaseSubcode.ConnectionRejected]);
    await raw.closed;
  });

  test('a session-resetting UPDATE is answered with the decoder NOTIFICATION', async () => {
    const [addrA, addrB] = loopbackAddresses(2) as [string, string];
    const b = await passivePeer(addrB, addrA);
    const raw = await establishRaw(addrB, b.port, addrA);
    // Withdrawn Routes Length 200 in a 23-octet UPDATE.
    const update = Buffer.concat([header(0xff, 23, MessageType.Update), u16(200), u16(0)]);
    raw.send(update);
    const n = await raw.expectNotification();
    expect([n.code, n.subcode]).toEqual([ErrorCode.UpdateMessage, 1]);
    await raw.closed;
    await b.events.until(() => b.events.downs.length === 1);
  });
});

async function establishRaw(host: string, port: number, from: string, spec: OpenSpec = RAW_OPEN) {
  const raw = await RawPeer.connect(host, port, from);
  running.push({ stop: () => raw.destroy() });
  const open = decodeOpen(await raw.expect(MessageType.Open));
  raw.send(encodeOpen(spec));
  raw.send(encodeKeepalive());
  await raw.expect(MessageType.Keepalive);
  return Object.assign(raw, { theirOpen: open });
}

describe('graceful restart', () => {
  test('a peer dropping the connection without NOTIFICATION restarts gracefully; our R bit clears', async () => {
    const [addrA, addrB] = loopbackAddresses(2) as [string, string];
    const b = await passivePeer(addrB, addrA, {
      gracefulRestart: { restartTime: 90, forwardingState: true, restarting: true },
    });
    const grSpec: OpenSpec = {
      ...RAW_OPEN,
      capabilities: {
        ...RAW_OPEN.capabilities,
        gracefulRestart: {
          restarting: false,
          notification: false,
          restartTime: 120,
          families: [{ ...IPV4_UNICAST, forwardingState: true }],
        },
      },
    };
    const first = await establishRaw(addrB, b.port, addrA, grSpec);
    expect(first.theirOpen.ok && first.theirOpen.open.capabilities.gracefulRestart).toMatchObject({
      restarting: true,
      restartTime: 90,
      families: [{ ...IPV4_UNICAST, forwardingState: true }],
    });
    await b.events.untilEstablished(b.peer);
    first.destroy();
    await b.events.until(() => b.events.downs.length === 1);
    expect(b.events.downs[0]!.gracefulRestart).toEqual({
      restartTime: 120,
      families: [{ ...IPV4_UNICAST, forwardingState: true }],
    });

    await b.events.untilState(b.peer, FsmState.Active);
    const second = await establishRaw(addrB, b.port, addrA, grSpec);
    expect(second.theirOpen.ok && second.theirOpen.open.capabilities.gracefulRestart?.restarting).toBe(false);
    // A NOTIFICATION ends the session without graceful restart (RFC 4724 §4.2).
    second.send(encodeNotification(ceaseNotification(CeaseSubcode.AdministrativeReset)));
    await b.events.until(() => b.events.downs.length === 2);
    expect(b.events.downs[1]!.gracefulRestart).toBeNull();
  });
});

describe('connection collision (RFC 4271 §6.8)', () => {
  // Our peer (10.0.0.2) connects to a raw server; the raw side also connects to our listener and
  // both connections reach OpenSent. Whoever has the higher BGP Identifier keeps its connection.
  test.each([
    ['lower', '10.0.0.1', 'incoming'],
    ['higher', '10.0.0.3', 'outgoing'],
  ])('a peer with a %s identifier: the connection %s to us is closed', async (_which, rawId, loser) => {
    const [addrA, addrB] = loopbackAddresses(2) as [string, string];
    const server = await RawServer.listen(addrA);
    running.push({ stop: () => server.close() });
    const b = peer({
      localAs: 65002,
      routerId: '10.0.0.2',
      peerAs: 65001,
      remoteAddress: addrA,
      remotePort: server.port,
      localAddress: addrB,
    });
    const port = await listen(addrB, [b.peer]);
    b.peer.start();
    const outgoing = await server.accept(); // b → raw
    await outgoing.expect(MessageType.Open);
    const incoming = await RawPeer.connect(addrB, port, addrA); // raw → b
    running.push({ stop: () => incoming.destroy() });
    await incoming.expect(MessageType.Open);

    const spec = { ...RAW_OPEN, bgpId: parseIpv4(rawId) };
    incoming.send(encodeOpen(spec));
    outgoing.send(encodeOpen(spec));
    // From our side: "incoming" is the raw side's connection, which a lower raw identifier loses.
    const [dumped, kept] = loser === 'incoming' ? [incoming, outgoing] : [outgoing, incoming];
    const n = await dumped.expectNotification();
    expect([n.code, n.subcode]).toEqual([ErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution]);
    await dumped.closed;
    kept.send(encodeKeepalive());
    await b.events.untilEstablished(b.peer);
    await kept.expect(MessageType.Keepalive);
  });
});

describe('configuration', () => {
  test.each([
    [{ localAs: 0 }, /localAs 0 is not an AS number/],
    [{ routerId: '300.1.1.1' }, /routerId "300.1.1.1" is not a dotted IPv4 address/],
    [{ remoteAddress: 'peer' }, /remoteAddress "peer" is not an IP address/],
    [{ holdTime: 2 }, /holdTime 2 must be 0 or 3..65535/],
    [{ remotePort: 70000 }, /remotePort 70000 is not a TCP port/],
    [{ families: [] }, /families must name at least one/],
    [{ timers: { connectRetryTime: 0 } }, /timers.connectRetryTime 0 must be a positive/],
    [
      { requiredCapabilities: ['graceful-restart'] as const },
      /requiredCapabilities graceful-restart needs gracefulRestart/,
    ],
  ])('%j is refused by name', (bad, message) => {
    const good: BgpPeerConfig = {
      localAs: 65001,
      routerId: '10.0.0.1',
      peerAs: 65002,
      remoteAddress: '127.0.0.1',
    };
    expect(() => resolvePeerConfig({ ...good, ...bad })).toThrow(message);
    expect(() => new BgpPeer({ ...good, ...bad })).toThrow(message);
  });
});

describe('sending', () => {
  test('anything but whole UPDATE messages is refused before it reaches the wire', async () => {
    const [addrA, addrB] = loopbackAddresses(2) as [string, string];
    const b = await passivePeer(addrB, addrA);
    await establishRaw(addrB, b.port, addrA);
    await b.events.untilEstablished(b.peer);
    expect(() => b.peer.send(encodeKeepalive())).toThrow(
      /octet 0 of the buffer to send does not start a whole UPDATE/,
    );
    const update = encodeEndOfRib(IPV4_UNICAST);
    expect(() => b.peer.send(Buffer.concat([update, update.subarray(0, 10)]))).toThrow(/octet 23 /);
    expect(b.peer.status().counters.updatesOut).toBe(0);
    expect(() =>
      new BgpPeer({ localAs: 1, routerId: '1.1.1.1', peerAs: 2, remoteAddress: '127.0.0.1' }).send(update),
    ).toThrow(/cannot send UPDATEs in state Idle/);
  });
});
