import type { ApiPeer } from '@margay/bgp';
import { freePort } from '@margay/testkit';
import { runCli } from '../testing';
import { renderNodeStatus } from './node';

const PEER: ApiPeer = {
  address: '10.0.0.10',
  asNumber: 64512,
  type: 'iBGP',
  description: 'node-to-node mesh',
  state: 'Established',
  sinceUnixMs: 1_000_000,
  uptimeSeconds: 65,
  routerId: '10.0.0.10',
  messagesIn: 7,
  messagesOut: 9,
  updatesIn: 2,
  updatesOut: 3,
  prefixesReceived: 4,
  prefixesAccepted: 3,
  prefixesAdvertised: 1,
  lastError: '',
};

test('peers by family, in address order, with the configured peer type, like calicoctl node status', () => {
  const reflector = {
    ...PEER,
    address: '10.0.0.9',
    type: 'iBGP',
    description: 'node specific (route reflector)',
  };
  const tor = {
    ...PEER,
    address: '192.0.2.1',
    type: 'eBGP',
    description: 'global',
    state: 'Active',
    lastError: 'connection refused',
  };
  const undescribed = { ...PEER, address: '10.0.0.11', description: '', state: 'Connect' };
  expect(renderNodeStatus([tor, PEER, undescribed, reflector], 'table', 1_065_000)).toBe(
    'margay-node is running.\n' +
      '\n' +
      'IPv4 BGP status\n' +
      'PEER ADDRESS   PEER TYPE                         STATE   SINCE   INFO\n' +
      '10.0.0.9       node specific (route reflector)   up      1m5s    Established\n' +
      '10.0.0.10      node-to-node mesh                 up      1m5s    Established\n' +
      '10.0.0.11      iBGP                              start   1m5s    Connect\n' +
      '192.0.2.1      global                            start   1m5s    Active: connection refused\n' +
      '\n' +
      'IPv6 BGP status\n' +
      'No IPv6 peers found.\n',
  );
});

test('IPv6 peers get their own table; wide adds AS and routes; json is the peer list', () => {
  const v6 = { ...PEER, address: 'fd00::2', description: 'global', asNumber: 65100 };
  const text = renderNodeStatus([v6], 'wide', 1_065_000);
  expect(text).toContain('IPv4 BGP status\nNo IPv4 peers found.\n');
  expect(text).toMatch(
    /IPv6 BGP status\nPEER ADDRESS .* AS +ROUTES \(RCVD\/ACCEPTED\/SENT\)\nfd00::2 +global +up .* 65100 +4\/3\/1\n$/,
  );
  expect(JSON.parse(renderNodeStatus([v6, PEER], 'json', 0))).toEqual([v6, PEER]);
});

test('an unreachable API says so and asks whether margay-node runs here', async () => {
  const address = `127.0.0.1:${await freePort('127.0.0.1')}`;
  const result = await runCli(['node', 'status', '--bgp-api', address]);
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).toContain(`cannot reach the margay-bgpd API at ${address}`);
  expect(result.stderr).toContain('is margay-node running on this host?');
});

test('a bad output format exits 2', async () => {
  expect(await runCli(['node', 'status', '-o', 'yaml'])).toMatchObject({
    code: 2,
    stderr: 'error: -o "yaml" is not one of table, wide, json\n',
  });
});
