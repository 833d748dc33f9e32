// margayctl node status against real in-process margay speakers and the real gRPC API: the peer
// types come from the descriptions the node agent configures.

import { validateConfig } from '@margay/bgp';
import { waitFor } from '@margay/testkit';
import { runCli } from '../testing';
import { type Endpoint, loopbackEndpoint, Speakers } from './speakers.fixture';

jest.setTimeout(60_000);

const speakers = new Speakers();
afterAll(() => speakers.close());

test('node status: mesh peer up, an unreachable global peer down with its reason', async () => {
  const [a, b, silent] = [await loopbackEndpoint(), await loopbackEndpoint(), await loopbackEndpoint()];
  const speaker = (at: Endpoint, peers: object[]) =>
    validateConfig({ asNumber: 64512, routerId: at.address, listen: at, api: false, peers }, 'test');
  const peerOf = (to: Endpoint, from: Endpoint, extra: object) => ({
    address: to.address,
    port: to.port,
    localAddress: from.address,
    asNumber: 64512,
    idleHoldTime: 1,
    ...extra,
  });
  const first = await speakers.start(
    speaker(a, [
      peerOf(b, a, { description: 'node-to-node mesh' }),
      // Nothing listens there: the session stays down.
      { ...peerOf(silent, a, { description: 'global' }), asNumber: 65100, connectRetryTime: 1 },
    ]),
  );
  await speakers.start(speaker(b, [peerOf(a, b, { passive: true, description: 'node-to-node mesh' })]));
  const bgpApi = await speakers.serveApi(first, a.address);
  await waitFor('the mesh session', () =>
    first.peerViews().some((p) => p.address === b.address && p.state === 'Established'),
  );

  const status = await runCli(['node', 'status', '--bgp-api', bgpApi]);
  expect(status.code).toBe(0);
  const lines = status.stdout.split('\n');
  expect(lines.slice(0, 3)).toEqual(['margay-node is running.', '', 'IPv4 BGP status']);
  expect(lines[3]).toMatch(/^PEER ADDRESS\s+PEER TYPE\s+STATE\s+SINCE\s+INFO$/);
  const row = (address: string) => lines.find((line) => line.startsWith(`${address} `));
  expect(row(b.address)).toMatch(/^\S+\s+node-to-node mesh\s+up\s+\d+s\s+Established$/);
  expect(row(silent.address)).toMatch(/^\S+\s+global\s+start\s+\d+s\s+(Idle|Connect|Active)\b/);
  expect(status.stdout).toContain('IPv6 BGP status\nNo IPv6 peers found.\n');

  const json = await runCli(['node', 'status', '--bgp-api', bgpApi, '-o', 'json']);
  expect(JSON.parse(json.stdout)).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ address: b.address, type: 'iBGP', description: 'node-to-node mesh' }),
      expect.objectContaining({ address: silent.address, type: 'eBGP', description: 'global' }),
    ]),
  );
});
