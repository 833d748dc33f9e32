import { renderBirdConfig, startBird2 } from './bird';
import { exabgpRoute, renderExabgpConfig, startExabgp } from './exabgp';
import { renderFrrConfig } from './frr';
import { renderGobgpConfig } from './gobgp';
import { renderOpenbgpdConfig } from './openbgpd';
import type { DaemonSpec, OriginatedRoute } from './spec';

// A route reflector with one passive iBGP client and one eBGP peer, graceful restart on.
const spec: DaemonSpec = {
  routerId: '10.0.0.1',
  asNumber: 64512,
  listen: { address: '127.20.0.1', port: 1790 },
  routeReflector: { clusterId: '10.0.0.99' },
  gracefulRestart: { restartTime: 90 },
  peers: [
    { address: '127.20.0.2', port: 1791, asNumber: 64512, passive: true, routeReflectorClient: true },
    { address: '127.20.0.3', asNumber: 65003, gracefulRestart: false },
  ],
};
const routes: OriginatedRoute[] = [
  { prefix: '10.1.0.0/24', nextHop: '198.51.100.1' },
  { prefix: '10.2.0.0/24' },
];

function block(config: string, start: string): string {
  const from = config.indexOf(start);
  expect(from).toBeGreaterThanOrEqual(0);
  return config.slice(from, config.indexOf('\n}', from));
}

test('BIRD 2: strict bind on our endpoint, RR client with cluster id, passive, GR, next hop per route', () => {
  const config = renderBirdConfig(2, spec, routes, '/x/bird.log');
  expect(config).toContain(
    'protocol static originated {\n  ipv4;\n  route 10.1.0.0/24 blackhole;\n  route 10.2.0.0/24 blackhole;\n}',
  );
  expect(config).toContain('if net = 10.1.0.0/24 then bgp_next_hop = 198.51.100.1;');
  expect(config).not.toContain('if net = 10.2.0.0/24');
  const client = block(config, 'protocol bgp peer0');
  for (const line of [
    'local 127.20.0.1 port 1790 as 64512;',
    'neighbor 127.20.0.2 port 1791 as 64512;',
    'strict bind;',
    'passive on;',
    'rr client;',
    'rr cluster id 10.0.0.99;',
    'graceful restart time 90;',
  ])
    expect(client).toContain(line);
  expect(client).not.toContain('multihop'); // iBGP
  const external = block(config, 'protocol bgp peer1');
  expect(external).toContain('neighbor 127.20.0.3 port 179 as 65003;');
  expect(external).toContain('multihop;');
  expect(external).not.toContain('graceful restart');
  expect(config).not.toContain('enable as4');
});

test('BIRD: as4 false makes a 2-octet-only session', () => {
  const twoOctet = { ...spec, peers: [{ address: '127.20.0.3', asNumber: 23456, as4: false }] };
  for (const version of [1, 2] as const)
    expect(block(renderBirdConfig(version, twoOctet, [], '/x/bird.log'), 'protocol bgp peer0')).toContain(
      'enable as4 off;',
    );
});

test('BIRD 1.6: global listen, source address, channel-less filters', () => {
  const config = renderBirdConfig(1, spec, routes, '/x/bird.log');
  expect(config).toContain('listen bgp address 127.20.0.1 port 1790;');
  expect(config).not.toContain('strict bind');
  expect(config).not.toContain('ipv4');
  expect(block(config, 'protocol bgp peer0')).toContain(
    'local 127.20.0.1 as 64512;\n  neighbor 127.20.0.2 port 1791 as 64512;\n  source address 127.20.0.1;',
  );
});

test('GoBGP: transport, RR, GR and multihop sections per neighbour', () => {
  const config = renderGobgpConfig(spec);
  expect(config).toContain('port = 1790\n  local-address-list = ["127.20.0.1"]');
  const [, client = '', external = ''] = config.split('[[neighbors]]');
  for (const line of [
    'remote-port = 1791',
    'passive-mode = true',
    'route-reflector-client = true',
    'route-reflector-cluster-id = "10.0.0.99"',
    'restart-time = 90',
    'afi-safi-name = "ipv4-unicast"',
  ])
    expect(client).toContain(line);
  expect(external).toContain('multihop-ttl = 255');
  expect(external).not.toContain('graceful-restart');
});

test('FRR: route-map for the explicit next hop, families activated explicitly, IPv6 syntax', () => {
  const config = renderFrrConfig(spec, routes, '/x/frr.log');
  expect(config).toContain('route-map originate-10-1-0-0-24 permit 10\n set ip next-hop 198.51.100.1');
  expect(config).toContain('  network 10.1.0.0/24 route-map originate-10-1-0-0-24\n  network 10.2.0.0/24\n');
  for (const line of [
    ' bgp cluster-id 10.0.0.99',
    ' bgp graceful-restart restart-time 90',
    ' neighbor 127.20.0.2 passive',
    ' neighbor 127.20.0.2 graceful-restart',
    '  neighbor 127.20.0.2 route-reflector-client',
    ' neighbor 127.20.0.3 ebgp-multihop 255',
    '  neighbor 127.20.0.3 attribute-unchanged next-hop',
  ])
    expect(config).toContain(`${line}\n`);
  const v6 = renderFrrConfig(
    { ...spec, listen: { address: '::1', port: 1790 }, peers: [] },
    [{ prefix: '2001:db8::/32', nextHop: '2001:db8::1' }],
    '/x',
  );
  expect(v6).toContain('set ipv6 next-hop global 2001:db8::1');
  expect(v6).toContain(' address-family ipv6 unicast\n');
});

test('OpenBGPD: listen/socket, no FIB, networks with next hops, no-modify on eBGP multihop', () => {
  const config = renderOpenbgpdConfig(spec, routes, '/x/bgpd.sock');
  for (const line of [
    'listen on 127.20.0.1 port 1790',
    'socket "/x/bgpd.sock"',
    'fib-update no',
    'network 10.1.0.0/24 set nexthop 198.51.100.1',
    'network 10.2.0.0/24',
  ])
    expect(config).toContain(`${line}\n`);
  const client = block(config, 'neighbor 127.20.0.2 {');
  for (const line of ['port 1791', 'passive', 'route-reflector 10.0.0.99', 'announce restart yes'])
    expect(client).toContain(line);
  expect(block(config, 'neighbor 127.20.0.3 {')).toContain('multihop 255\n  set nexthop no-modify');
});

test('ExaBGP: raw attributes as `attribute [ type flags value ]`, the API bridge as its process', () => {
  expect(
    exabgpRoute({ prefix: '10.1.0.0/24', attributes: [{ type: 4, flags: 0x80, value: '0000000064' }] }),
  ).toBe('route 10.1.0.0/24 next-hop self attribute [ 0x04 0x80 0x0000000064 ]');
  const eBgpOnly = { ...spec, peers: [spec.peers[1]!] };
  const config = renderExabgpConfig(eBgpOnly, routes, { script: '/x/bridge.py', socket: '/x/api.sock' });
  expect(config).toContain('run /usr/bin/python3 /x/bridge.py /x/api.sock;');
  expect(config).toContain(
    '    route 10.1.0.0/24 next-hop 198.51.100.1;\n    route 10.2.0.0/24 next-hop self;\n',
  );
  expect(config).toContain('connect 179;');
});

test('bad input is refused before anything starts', async () => {
  await expect(startBird2({ ...spec, asNumber: -1 })).rejects.toThrow(
    'bird2 spec: asNumber -1 is not an AS number',
  );
  await expect(
    startExabgp({
      ...spec,
      peers: [],
      originate: [{ prefix: '10.1.0.0/24', attributes: [{ type: 4, flags: 0x80, value: 'xyz' }] }],
    }),
  ).rejects.toThrow('exabgp spec: originate[0].attributes[0].value "xyz" is not hex bytes');
  await expect(startExabgp(spec)).rejects.toThrow(
    'exabgp spec: peers[0].routeReflectorClient is not possible',
  );
});
