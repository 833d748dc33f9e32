// margayctl bgp against two real in-process margay speakers and the real gRPC API.

import { validateConfig } from '@margay/bgp';
import { waitFor } from '@margay/testkit';
import { runCli } from '../testing';
import { type Endpoint, loopbackEndpoint, Speakers } from './speakers.fixture';

jest.setTimeout(60_000);

const speakers = new Speakers();
afterAll(() => speakers.close());

test('bgp peers, rib and refresh: the sessions and routes of margay-bgpd, a soft reset in', async () => {
  const [a, b] = [await loopbackEndpoint(), await loopbackEndpoint()];
  const speaker = (at: Endpoint, asNumber: number, peer: Endpoint, peerAs: number, extra: object) =>
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
  const first = await speakers.start(speaker(a, 65001, b, 65002, {}));
  const second = await speakers.start({
    ...speaker(b, 65002, a, 65001, { passive: true }),
    originate: ['10.7.0.0/24'],
  });
  const bgpApi = await speakers.serveApi(first, a.address);

  await waitFor('the route in the RIB margayctl shows', async () => {
    const { stdout } = await runCli(['bgp', 'rib', '--bgp-api', bgpApi, '-o', 'json']);
    return stdout.includes('10.7.0.0/24');
  });
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
  await waitFor('the routes re-sent', () => second.peerViews()[0]!.updatesOut > sentBySecond);
  const unknown = await runCli(['bgp', 'refresh', '127.0.0.1', '--bgp-api', bgpApi]);
  expect(unknown).toMatchObject({
    code: 1,
    stderr: expect.stringContaining('no peer 127.0.0.1 is configured'),
  });
});
