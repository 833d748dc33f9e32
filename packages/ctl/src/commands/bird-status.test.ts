import { parseBirdProtocols, renderBirdNodeStatus } from './bird-status';

// `birdc show protocols all` of BIRD 2.0.12, shortened to what the parser reads and skips.
const SHOW_PROTOCOLS_ALL = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     18:41:48.978

Mesh_10_0_0_10 BGP        ---        up     18:41:50.100  Established
  Description:    node-to-node mesh
  BGP state:          Established
    Neighbor address: 10.0.0.10
    Neighbor AS:      64512
  Channel ipv4
    State:          UP

Node_10_0_0_9 BGP        ---        start  18:41:48.978  Active        Socket: Connection refused
  Description:    node specific (route reflector client)
  BGP state:          Active
    Neighbor address: 10.0.0.9
    Neighbor AS:      64512

kernel1    Kernel     master4    up     18:41:48.978
  Channel ipv4
    State:          UP
`;

test('BGP protocols with their neighbor, description, state, since and info; other protocols skipped', () => {
  expect(parseBirdProtocols(SHOW_PROTOCOLS_ALL)).toEqual([
    {
      protocol: 'Mesh_10_0_0_10',
      address: '10.0.0.10',
      type: 'node-to-node mesh',
      state: 'up',
      since: '18:41:50.100',
      info: 'Established',
    },
    {
      protocol: 'Node_10_0_0_9',
      address: '10.0.0.9',
      type: 'node specific (route reflector client)',
      state: 'start',
      since: '18:41:48.978',
      info: 'Active Socket: Connection refused',
    },
  ]);
  expect(parseBirdProtocols('BIRD 2.0.12 ready.\n')).toEqual([]);
});

const CONFIG = { file: '/run/b/bird.cfg', sha256: 'ab'.repeat(32), since: '2026-01-02T03:04:05.000Z' };

test('a BIRD node: confd ok, then the peers in address order, like calicoctl node status', () => {
  const text = renderBirdNodeStatus(
    'n1',
    parseBirdProtocols(SHOW_PROTOCOLS_ALL),
    { ok: true, config: CONFIG },
    'table',
  );
  expect(text).toBe(
    'margay-node is running with BIRD as its BGP daemon.\n' +
      '\n' +
      'margay-confd: ok; BIRD runs /run/b/bird.cfg (sha256 abababababab, since 2026-01-02T03:04:05.000Z)\n' +
      '\n' +
      'IPv4 BGP status\n' +
      'PEER ADDRESS   PEER TYPE                                STATE   SINCE          INFO\n' +
      '10.0.0.9       node specific (route reflector client)   start   18:41:48.978   Active Socket: Connection refused\n' +
      '10.0.0.10      node-to-node mesh                        up      18:41:50.100   Established\n' +
      '\n' +
      'IPv6 BGP status\n' +
      'No IPv6 peers found.\n',
  );
});

test('a refused configuration shows the stage and the error, and what BIRD still runs', () => {
  const text = renderBirdNodeStatus(
    'n1',
    [],
    {
      ok: false,
      stage: 'check',
      error: 'bird.cfg:40:3 Keepalive time must be at most hold time',
      config: CONFIG,
    },
    'table',
  );
  expect(text).toContain(
    'margay-confd: ERROR at check: bird.cfg:40:3 Keepalive time must be at most hold time\n' +
      '  the last change in etcd is not in BIRD; BIRD runs /run/b/bird.cfg (sha256 abababababab',
  );
  expect(renderBirdNodeStatus('n7', [], undefined, 'table')).toContain(
    'margay-confd: no status for node n7 yet',
  );
});

test('wide adds the protocol name; json has the daemon, the confd status and the peers', () => {
  const peers = parseBirdProtocols(SHOW_PROTOCOLS_ALL);
  expect(renderBirdNodeStatus('n1', peers, undefined, 'wide')).toMatch(/PROTOCOL\n.*Node_10_0_0_9\n/);
  const json = JSON.parse(renderBirdNodeStatus('n1', peers, { ok: false, stage: 'render' }, 'json'));
  expect(json).toEqual({ daemon: 'bird', node: 'n1', confd: { ok: false, stage: 'render' }, peers });
});
