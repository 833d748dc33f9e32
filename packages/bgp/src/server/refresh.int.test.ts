// Route refresh between two in-process speakers on loopback: X (AS 65001) asks Y (AS 65002) to
// re-send its routes, through the server, the gRPC API and an import-policy reload. Both sides
// negotiate enhanced route refresh, so Y's answers come between BoRR and EoRR. A scripted peer
// without route refresh shows the fallback: its session is reset instead.

import { silentLogger } from '@margay/log';
import { BgpApiClient } from '../api/client';
import { type ApiServer, startApiServer } from '../api/service';
import { FsmState } from '../fsm/transitions';
import { Afi, CeaseSubcode, ErrorCode, MessageType, Safi } from '../packet/constants';
import { encodeKeepalive } from '../packet/header';
import { parseIpv4 } from '../packet/ip';
import { decodeNotification } from '../packet/notification';
import { encodeOpen } from '../packet/open';
import { RawPeer } from '../session/raw-peer.fixture';
import { BgpServer, type PeerView } from './server';
import { type Endpoint, endpoint, speakerConfig, until } from './speaker.fixture';

jest.setTimeout(60_000);

const Y_PREFIX = '10.8.1.0/24';

let x: Endpoint;
let y: Endpoint;
let serverX: BgpServer | undefined;
let serverY: BgpServer | undefined;
let api: ApiServer | undefined;
let client: BgpApiClient | undefined;

const configOfX = (importFromY: 'all' | 'none') =>
  speakerConfig(x, 65001, [{ at: y, asNumber: 65002, import: importFromY, export: 'all' }]);

const view = (server: BgpServer | undefined, at: Endpoint): PeerView => {
  const found = server?.peerViews().find((p) => p.address === at.address);
  if (!found) throw new Error(`no peer ${at.address}`);
  return found;
};
const routesAtX = () => [...serverX!.routes({ prefix: Y_PREFIX })];

beforeAll(async () => {
  [x, y] = await Promise.all([endpoint(), endpoint()]);
  serverX = await BgpServer.start(configOfX('all'), { logger: silentLogger });
  serverY = await BgpServer.start(
    speakerConfig(
      y,
      65002,
      // IPv4 only: the session carries no IPv6 even though X offers it.
      [{ at: x, asNumber: 65001, passive: true, import: 'all', export: 'all', families: ['ipv4'] }],
      { originate: [Y_PREFIX] },
    ),
    { logger: silentLogger },
  );
  await until(() => routesAtX().length > 0, "Y's route at X");
  api = await startApiServer(serverX, `${x.address}:0`, silentLogger);
  client = new BgpApiClient(`${x.address}:${api.port}`);
});

afterAll(async () => {
  client?.close();
  await api?.close();
  await serverX?.close();
  await serverY?.close();
});

test('refresh: the peer sends its routes again and ours stay', async () => {
  const sentByY = view(serverY, x).updatesOut;
  const receivedByX = view(serverX, y).updatesIn;
  const since = view(serverX, y).since;

  expect(serverX!.refresh(y.address)).toEqual(['ipv4']);
  await until(() => view(serverY, x).updatesOut > sentByY, 'Y to re-send its UPDATEs');
  await until(() => view(serverX, y).updatesIn > receivedByX, 'X to receive them');
  // The re-sent route replaced itself: EoRR swept nothing.
  expect(routesAtX()).toEqual([expect.objectContaining({ prefix: Y_PREFIX, fromPeer: y.address })]);
  expect(view(serverX, y)).toMatchObject({ state: FsmState.Established, since, prefixesAccepted: 1 });
});

test('refresh refuses unknown peers and families the session does not carry', () => {
  expect(() => serverX!.refresh('127.0.0.1')).toThrow('no peer 127.0.0.1 is configured');
  expect(() => serverX!.refresh(y.address, 'ipv6')).toThrow(
    `peer ${y.address} has no ipv6 session (negotiated: ipv4)`,
  );
});

test('the gRPC API refreshes a peer and rejects bad requests', async () => {
  const sentByY = view(serverY, x).updatesOut;
  expect(await client!.refreshPeer(y.address, 'ipv4')).toEqual(['ipv4']);
  await until(() => view(serverY, x).updatesOut > sentByY, 'Y to re-send its UPDATEs');
  await expect(client!.refreshPeer('10.0.0')).rejects.toThrow('address: "10.0.0" is not an IP address');
  await expect(client!.refreshPeer('127.0.0.1')).rejects.toThrow('no peer 127.0.0.1 is configured');
});

test('an import policy change on reload refreshes the peer instead of resetting it', async () => {
  const since = view(serverX, y).since;
  const sinceAtY = view(serverY, x).since;

  expect(serverX!.reload(configOfX('none'))).toEqual({
    kept: [y.address],
    refreshed: [y.address],
    reset: [],
    removed: [],
    added: [],
  });
  await until(() => routesAtX().length === 0, "Y's route gone at X under import none");

  expect(serverX!.reload(configOfX('all')).refreshed).toEqual([y.address]);
  await until(() => routesAtX().length > 0, "Y's route back at X under import all");

  expect(view(serverX, y)).toMatchObject({ state: FsmState.Established, since });
  expect(view(serverY, x)).toMatchObject({ state: FsmState.Established, since: sinceAtY });
});

test('a peer without route refresh is reset when its import policy changes', async () => {
  const [w, z] = await Promise.all([endpoint(), endpoint()]);
  const configOfW = (importFromZ: 'all' | 'none') =>
    speakerConfig(w, 65003, [{ at: z, asNumber: 65004, passive: true, import: importFromZ }]);
  const serverW = await BgpServer.start(configOfW('none'), { logger: silentLogger });
  let raw: RawPeer | undefined;
  try {
    raw = await RawPeer.connect(w.address, w.port, z.address);
    await raw.expect(MessageType.Open);
    const capabilities = { multiprotocol: [{ afi: Afi.Ipv4, safi: Safi.Unicast }], fourOctetAs: 65004 };
    raw.send(encodeOpen({ asn: 65004, holdTime: 90, bgpId: parseIpv4(z.address), capabilities }));
    await raw.expect(MessageType.Keepalive);
    raw.send(encodeKeepalive());
    await until(() => view(serverW, z).state === FsmState.Established, 'W established with Z');

    expect(() => serverW.refresh(z.address)).toThrow('route refresh was not negotiated');
    expect(serverW.reload(configOfW('all'))).toMatchObject({ refreshed: [], reset: [z.address] });
    // W's End-of-RIB may come first; the NOTIFICATION ends the connection.
    let frame = await raw.next();
    while (frame.type !== MessageType.Notification) frame = await raw.next();
    const cease = decodeNotification(frame.body)!;
    expect([cease.code, cease.subcode]).toEqual([ErrorCode.Cease, CeaseSubcode.OtherConfigurationChange]);
  } finally {
    raw?.destroy();
    await serverW.close();
  }
});
