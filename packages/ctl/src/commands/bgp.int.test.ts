// margayctl bgp against two real in-process margay speakers and the real gRPC API.

import { randomInt } from 'node:crypto';
import { type ApiServer, BgpServer, silentLogger, startApiServer, validateConfig } from '@margay/bgp';
import { freePort } from '@margay/testkit';
import { runCli } from '../testing';

jest.setTimeout(60_000);

const servers: BgpServer[] = [];
let api: ApiServer | undefined;

afterAll(async () => {
  await api?.close();
  for (const server of servers) await server.close();
});

async function endpoint() {
  const address = `127.${randomInt(16, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
  return { address, port: await freePort(address) };
}

test('bgp peers, rib and refresh: the sessions and routes of margay-bgpd, a soft reset in', async () => {
  const [a, b] = [await endpoint(), await endpoint()];
  const speaker = (at: typeof a, asNumber: number, peer: typeof a, peerAs: number, extra: object) =>
    validateConfig(
      {
        asNumber,
        routerId: at.address,
        listen: at,
        api: false,
        peers: [
          {
            address: peer.address,
            port: peer.port,
            localAddress: at.address,
            asNumber: peerAs,
            import: 'all',
            export: 'all',
            idleHoldTime: 1,
            ...extra,
          },
        ],
      },
      'test',
    );
  const first = await BgpServer.start(speaker(a, 65001, b, 65002, {}), { logger: silentLogger });
  servers.push(first);
  const second = await BgpServer.start(
    { ...speaker(b, 65002, a, 65001, { passive: true }), originate: ['10.7.0.0/24'] },
    { logger: silentLogger },
  );
  servers.push(second);
  api = await startApiServer(first, `${a.address}:0`, silentLogger);
  const bgpApi = `${a.address}:${api.port}`;

  for (;;) {
    const { stdout } = await runCli(['bgp', 'rib', '--bgp-api', bgpApi, '-o', 'json']);
    if (stdout.includes('10.7.0.0/24')) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const peers = await runCli(['bgp', 'peers', '--bgp-api', bgpApi, '-o', 'wide']);
  expect(peers.code).toBe(0);
  expect(peers.stdout.split('\n')[1]).toMatch(
    new RegExp(
      `^${b.address.replaceAll('.', '\\.')}\\s+eBGP\\s+up\\s+\\S+\\s+Established\\s+65002\\s+1/1/0\\s+`,
    ),
  );
  const rib = await runCli(['bgp', 'rib', '--bgp-api', bgpApi, '--family', 'ipv4']);
  expect(rib).toEqual({
    code: 0,
    stdout: expect.stringMatching(
      new RegExp(
        `\\n10\\.7\\.0\\.0/24\\s+${b.address.replaceAll('.', '\\.')}\\s+65002\\s+${b.address.replaceAll('.', '\\.')}\\s+\\*\\n$`,
      ),
    ),
    stderr: '',
  });

  const sentBySecond = second.peerViews()[0]!.updatesOut;
  expect(await runCli(['bgp', 'refresh', b.address, '--bgp-api', bgpApi, '--family', 'ipv4'])).toEqual({
    code: 0,
    stdout: `asked ${b.address} to re-send its routes (ipv4)\n`,
    stderr: '',
  });
  while (second.peerViews()[0]!.updatesOut <= sentBySecond) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const unknown = await runCli(['bgp', 'refresh', '127.0.0.1', '--bgp-api', bgpApi]);
  expect(unknown).toMatchObject({
    code: 1,
    stderr: expect.stringContaining('no peer 127.0.0.1 is configured'),
  });
});
