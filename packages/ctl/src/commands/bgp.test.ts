import type { ApiPeer, ApiRibEntry } from '@margay/bgp';
import { freePort } from '@margay/testkit';
import { runCli } from '../testing';
import { formatSince, renderPeers, renderRib } from './bgp';

const PEER: ApiPeer = {
  address: '10.0.0.2',
  asNumber: 65001,
  type: 'eBGP',
  description: '',
  state: 'Established',
  sinceUnixMs: 1_000_000,
  uptimeSeconds: 65,
  routerId: '10.0.0.2',
  messagesIn: 7,
  messagesOut: 9,
  updatesIn: 2,
  updatesOut: 3,
  prefixesReceived: 4,
  prefixesAccepted: 3,
  prefixesAdvertised: 1,
  lastError: '',
};

const ROUTE: ApiRibEntry = {
  prefix: '10.1.0.0/24',
  best: true,
  nextHop: '10.0.0.2',
  asPath: '65001',
  origin: 'igp',
  med: 5,
  communities: ['65001:7'],
  fromPeer: '10.0.0.2',
};

test('peers render like calicoctl node status; wide adds AS, prefixes and messages', () => {
  const idle = { ...PEER, address: '10.0.0.3', state: 'Active', lastError: 'connection refused' };
  expect(renderPeers([PEER, idle], 'table', 1_065_000)).toBe(
    'PEER ADDRESS   PEER TYPE   STATE   SINCE   INFO\n' +
      '10.0.0.2       eBGP        up      1m5s    Established\n' +
      '10.0.0.3       eBGP        start   1m5s    connection refused\n',
  );
  const wide = renderPeers([PEER], 'wide', 1_065_000).split('\n');
  expect(wide[0]).toBe(
    'PEER ADDRESS   PEER TYPE   STATE   SINCE   INFO          AS      PREFIXES (RCVD/ACCEPTED/SENT)   MESSAGES (IN/OUT)',
  );
  expect(wide[1]).toMatch(/Established\s+65001\s+4\/3\/1\s+7\/9$/);
  expect(JSON.parse(renderPeers([PEER], 'json', 0))).toEqual([PEER]);
});

test('a configured description is the peer type', () => {
  const mesh = { ...PEER, type: 'iBGP', description: 'node-to-node mesh' };
  expect(renderPeers([mesh], 'table', 1_065_000).split('\n')[1]).toBe(
    '10.0.0.2       node-to-node mesh   up      1m5s    Established',
  );
});

test('routes render with a best marker; wide adds local pref, MED, origin, communities', () => {
  expect(renderRib([ROUTE], 'table')).toBe(
    'PREFIX        NEXT HOP   AS PATH   FROM       BEST\n10.1.0.0/24   10.0.0.2   65001     10.0.0.2   *\n',
  );
  expect(renderRib([ROUTE], 'wide').split('\n')[1]).toMatch(/\*\s+-\s+5\s+igp\s+65001:7$/);
});

test('formatSince', () => {
  expect(formatSince(0, 42_000)).toBe('42s');
  expect(formatSince(0, 3 * 3600_000 + 120_000)).toBe('3h2m');
  expect(formatSince(0, 2 * 86400_000 + 3600_000)).toBe('2d1h');
});

test('an unreachable API is reported by address after a bounded wait', async () => {
  const address = `127.0.0.1:${await freePort('127.0.0.1')}`;
  const result = await runCli(['bgp', 'peers', '--bgp-api', address]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(`cannot reach the margay-bgpd API at ${address} within 3s`);
});

test('bad options exit 2', async () => {
  expect(await runCli(['bgp', 'peers', '-o', 'yaml'])).toMatchObject({
    code: 2,
    stderr: 'error: -o "yaml" is not one of table, wide, json\n',
  });
  expect(await runCli(['bgp', 'rib', '--family', 'ipx'])).toMatchObject({
    code: 2,
    stderr: 'error: --family "ipx" is not ipv4 or ipv6\n',
  });
  expect(await runCli(['bgp', 'refresh', '10.0.0.2', '--family', 'ipx'])).toMatchObject({
    code: 2,
    stderr: 'error: --family "ipx" is not ipv4 or ipv6\n',
  });
  expect(await runCli(['bgp', 'refresh'])).toMatchObject({ code: 2 });
});
