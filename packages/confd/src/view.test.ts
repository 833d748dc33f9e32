import { testBgpConfiguration, testNode, testPeer, testPool } from '@margay/api';
import { birdView, type ConfdSnapshot, seconds, ViewError } from './view';

const snapshot = (over: Partial<ConfdSnapshot> = {}): ConfdSnapshot => ({
  nodeName: 'n1',
  nodes: [testNode('n1', { ipv4Address: '10.0.0.1/24' }), testNode('n2', { ipv4Address: '10.0.0.2/24' })],
  configurations: [testBgpConfiguration('default', {})],
  peers: [],
  affineBlocks: ['10.244.1.0/26', 'fd00:1::/122'],
  pools: [testPool('pods', '10.244.0.0/16'), testPool('pods6', 'fd00:1::/48')],
  secrets: new Map(),
  ...over,
});
const view = (over: Partial<ConfdSnapshot> = {}) => birdView(snapshot(over), { kernelRoutes: false });

test('the peering is the one margay-bgpd gets: mesh peer, passive towards the higher address', () => {
  const v = view();
  expect(v.routerId).toBe('10.0.0.1');
  expect(v.peers.map((p) => [p.name, p.passive, p.exportFilter])).toEqual([
    ['Mesh_10_0_0_2', true, 'margay_export_to_nodes'],
  ]);
  expect(view({ nodeName: 'n2' }).peers[0]).toMatchObject({ name: 'Mesh_10_0_0_1', passive: false });
});

test('IPv6 blocks and pools stay out of the IPv4-only configuration', () => {
  const v = view();
  expect(v.blocks).toEqual(['10.244.1.0/26']);
  expect(v.pools.map((p) => p.cidr)).toEqual(['10.244.0.0/16']);
});

test('a node without a BGP address yet is an error naming it', () => {
  expect(() => view({ nodeName: 'n9' })).toThrow(
    new ViewError('node n9: no Node resource with spec.bgp.ipv4Address yet'),
  );
});

test('a password whose secret is missing is an error naming the peer and field', () => {
  const peers = [
    testPeer('tor', {
      peerIP: '10.0.0.9',
      asNumber: 65001,
      password: { secretKeyRef: { name: 's', key: 'k' } },
    }),
  ];
  expect(() => view({ peers })).toThrow(new ViewError('BGPPeer tor spec.password: secret s has no key k'));
  expect(
    view({ peers, secrets: new Map([['s/k', 'pw']]) }).peers.find((p) => p.address === '10.0.0.9')?.password,
  ).toBe('pw');
});

test('values BIRD cannot quote are errors naming where they come from', () => {
  const configurations = [testBgpConfiguration('default', { ignoredInterfaces: ['eth"0'] })];
  expect(() => view({ configurations })).toThrow(
    new ViewError(
      'BGPConfiguration spec.ignoredInterfaces[0]: "eth\\"0" cannot be written in BIRD (no ", \\ or line breaks)',
    ),
  );
});

test('an advertisement naming an unknown community is an error naming the entry', () => {
  const configurations = [
    testBgpConfiguration('default', {
      prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['nope'] }],
    }),
  ];
  expect(() => view({ configurations })).toThrow(
    new ViewError(
      'BGPConfiguration spec.prefixAdvertisements[0].communities[0]: "nope" is neither a name in spec.communities nor a community (aa:nn or aa:nn:mm)',
    ),
  );
});

test.each([
  ['90s', 90],
  ['1m30s', 90],
  ['2h', 7200],
  ['500ms', 1],
  ['0s', 0],
])('duration %s is %d s', (text, expected) => {
  expect(seconds(text, 'x')).toBe(expected);
});
