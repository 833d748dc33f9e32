import type { IPPool } from '@margay/api';
import { testBgpConfiguration, testNode, testPeer, testPool } from '@margay/api';
import type { DaemonConfig, PrefixListEntry } from '@margay/bgp';
import { type BgpSnapshot, bgpPeering, bgpServerConfig } from './bgp-peers';

const meshOff = testBgpConfiguration('default', { nodeToNodeMeshEnabled: false });
const pool = testPool('pool-a', '10.244.0.0/16');

function snapshot(overrides: Partial<BgpSnapshot>): BgpSnapshot {
  return {
    nodeName: 'n1',
    nodes: [],
    configurations: [],
    peers: [],
    affineBlocks: [],
    pools: [pool],
    ...overrides,
  };
}

const threeNodes = [
  testNode('n1', { ipv4Address: '10.0.0.2/24' }),
  testNode('n2', { ipv4Address: '10.0.0.3/24' }),
  testNode('n3', { ipv4Address: '10.0.0.10/24' }),
];

/** One line per peer: address, AS, port and the flags that are set. */
function peerLines(config: DaemonConfig): string[] {
  return config.peers.map((p) =>
    [
      `${p.address}:${p.port} as ${p.asNumber}`,
      p.passive ? 'passive' : 'active',
      ...(p.routeReflectorClient ? ['rr-client'] : []),
      ...(p.localAddress === undefined ? [] : [`from ${p.localAddress}`]),
    ].join(' '),
  );
}

describe('bgpServerConfig: peers', () => {
  const cases: { name: string; input: Partial<BgpSnapshot>; peers: string[] }[] = [
    {
      name: 'full mesh of three: passive towards addresses that sort higher as strings',
      input: { nodes: threeNodes },
      peers: [
        // '10.0.0.10' < '10.0.0.2' as strings, as Calico compares them.
        '10.0.0.10:179 as 64512 active from 10.0.0.2',
        '10.0.0.3:179 as 64512 passive from 10.0.0.2',
      ],
    },
    {
      name: 'the other end of each mesh pair takes the opposite role',
      input: { nodeName: 'n3', nodes: threeNodes },
      peers: ['10.0.0.2:179 as 64512 passive from 10.0.0.10', '10.0.0.3:179 as 64512 passive from 10.0.0.10'],
    },
    {
      name: 'a deleted node is no longer a peer',
      input: { nodes: threeNodes.filter((n) => n.metadata.name !== 'n3') },
      peers: ['10.0.0.3:179 as 64512 passive from 10.0.0.2'],
    },
    {
      name: 'nodes without a BGP address take no part',
      input: { nodes: [...threeNodes.slice(0, 2), testNode('n4', undefined)] },
      peers: ['10.0.0.3:179 as 64512 passive from 10.0.0.2'],
    },
    {
      name: 'AS overrides on nodes and the global AS number',
      input: {
        nodes: [
          testNode('n1', { ipv4Address: '10.0.0.2/24' }),
          testNode('n2', { ipv4Address: '10.0.0.3/24', asNumber: 65001 }),
        ],
        configurations: [testBgpConfiguration('default', { asNumber: 65000 })],
      },
      peers: ['10.0.0.3:179 as 65001 passive from 10.0.0.2'],
    },
    {
      name: 'listenPort is the port of every node peer',
      input: {
        nodes: threeNodes.slice(0, 2),
        configurations: [testBgpConfiguration('default', { listenPort: 1179 })],
      },
      peers: ['10.0.0.3:1179 as 64512 passive from 10.0.0.2'],
    },
    {
      name: 'a node with a route reflector cluster id leaves the mesh (seen from a mesh member)',
      input: {
        nodes: [
          ...threeNodes.slice(0, 2),
          testNode('n3', { ipv4Address: '10.0.0.10/24', routeReflectorClusterID: '1.0.0.1' }),
        ],
      },
      peers: ['10.0.0.3:179 as 64512 passive from 10.0.0.2'],
    },
    {
      name: 'a node with a route reflector cluster id leaves the mesh (seen from the reflector)',
      input: {
        nodeName: 'n3',
        nodes: [
          ...threeNodes.slice(0, 2),
          testNode('n3', { ipv4Address: '10.0.0.10/24', routeReflectorClusterID: '1.0.0.1' }),
        ],
      },
      peers: [],
    },
    {
      name: 'global peerIP peer, with and without a port',
      input: {
        nodes: threeNodes.slice(0, 1),
        peers: [
          testPeer('tor', { peerIP: '192.0.2.1', asNumber: 65100 }),
          testPeer('tor-alt', { peerIP: '192.0.2.2:1790', asNumber: 65100, sourceAddress: 'None' }),
        ],
      },
      peers: ['192.0.2.1:179 as 65100 active from 10.0.0.2', '192.0.2.2:1790 as 65100 active'],
    },
    {
      name: 'per-node peers: node and nodeSelector',
      input: {
        nodes: [testNode('n1', { ipv4Address: '10.0.0.2/24' }, { rack: 'r1' })],
        peers: [
          testPeer('mine', { node: 'n1', peerIP: '192.0.2.1', asNumber: 65100 }),
          testPeer('other-node', { node: 'n2', peerIP: '192.0.2.2', asNumber: 65100 }),
          testPeer('my-rack', { nodeSelector: "rack == 'r1'", peerIP: '192.0.2.3', asNumber: 65101 }),
          testPeer('other-rack', { nodeSelector: "rack == 'r2'", peerIP: '192.0.2.4', asNumber: 65101 }),
        ],
      },
      peers: ['192.0.2.1:179 as 65100 active from 10.0.0.2', '192.0.2.3:179 as 65101 active from 10.0.0.2'],
    },
    {
      name: 'peerSelector peers other nodes with their own AS and the passive rule',
      input: {
        configurations: [meshOff],
        nodes: [
          testNode('n1', { ipv4Address: '10.0.0.2/24' }, { rr: 'true' }),
          testNode('n2', { ipv4Address: '10.0.0.3/24', asNumber: 65002 }, { rr: 'true' }),
          testNode('n3', { ipv4Address: '10.0.0.1/24' }),
        ],
        peers: [testPeer('to-rr', { nodeSelector: 'all()', peerSelector: "rr == 'true'" })],
      },
      peers: ['10.0.0.1:179 as 64512 active from 10.0.0.2', '10.0.0.3:179 as 65002 passive from 10.0.0.2'],
    },
    {
      name: 'a node the peerSelector picks peers back with the nodes the BGPPeer applies to',
      input: {
        nodeName: 'n3',
        configurations: [meshOff],
        nodes: [
          testNode('n1', { ipv4Address: '10.0.0.2/24' }, { rack: 'r1' }),
          testNode('n2', { ipv4Address: '10.0.0.3/24' }, { rack: 'r2' }),
          testNode('n3', { ipv4Address: '10.0.0.1/24' }, { tor: 'true' }),
        ],
        peers: [testPeer('rack1-to-tor', { nodeSelector: "rack == 'r1'", peerSelector: 'has(tor)' })],
      },
      peers: ['10.0.0.2:179 as 64512 passive from 10.0.0.1'],
    },
    {
      name: 'an explicit peer replaces the mesh session to the same address',
      input: {
        nodes: threeNodes.slice(0, 2),
        peers: [testPeer('n2-special', { peerIP: '10.0.0.3:1790', asNumber: 64512 })],
      },
      peers: ['10.0.0.3:1790 as 64512 passive from 10.0.0.2'],
    },
  ];

  it.each(cases)('$name', ({ input, peers }) => {
    expect(peerLines(bgpServerConfig(snapshot(input), { installRoutes: false }))).toEqual(peers);
  });
});

test('node peers retry a refused connection after 0.1 s: a new node is in etcd before its speaker listens', () => {
  const config = bgpServerConfig(snapshot({ nodes: threeNodes }), { installRoutes: false });
  for (const peer of config.peers) expect(peer).toMatchObject({ idleHoldTime: 0.1, connectRetryTime: 5 });
});

describe('bgpServerConfig: route reflectors with the mesh off', () => {
  // Two reflectors in one cluster, two clients; every node peers with the reflectors.
  const nodes = [
    testNode('rr1', { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: '244.0.0.1' }, { rr: 'true' }),
    testNode('rr2', { ipv4Address: '10.0.0.2/24', routeReflectorClusterID: '244.0.0.1' }, { rr: 'true' }),
    testNode('c1', { ipv4Address: '10.0.0.11/24' }),
    testNode('c2', { ipv4Address: '10.0.0.12/24' }),
  ];
  const peers = [
    testPeer('to-rr', { nodeSelector: 'all()', peerSelector: "rr == 'true'" }),
    testPeer('rr-to-clients', { nodeSelector: "rr == 'true'", peerSelector: '!has(rr)' }),
  ];
  const configOf = (nodeName: string) =>
    bgpServerConfig(snapshot({ nodeName, nodes, peers, configurations: [meshOff] }), {
      installRoutes: false,
    });

  it.each([
    {
      node: 'rr1',
      lines: [
        '10.0.0.11:179 as 64512 passive rr-client from 10.0.0.1',
        '10.0.0.12:179 as 64512 passive rr-client from 10.0.0.1',
        // Same cluster: the other reflector is a plain iBGP peer, not a client.
        '10.0.0.2:179 as 64512 passive from 10.0.0.1',
      ],
    },
    {
      node: 'c1',
      lines: ['10.0.0.1:179 as 64512 active from 10.0.0.11', '10.0.0.2:179 as 64512 passive from 10.0.0.11'],
    },
  ])('$node', ({ node, lines }) => {
    expect(peerLines(configOf(node))).toEqual(lines);
  });

  it('gives reflectors their cluster id and clients none', () => {
    expect(configOf('rr2').routeReflector).toEqual({ clusterId: '244.0.0.1' });
    expect(configOf('c2').routeReflector).toBeUndefined();
  });
});

describe('bgpServerConfig: speaker settings and originated prefixes', () => {
  const nodes = [testNode('n1', { ipv4Address: '10.0.0.2/24', asNumber: 65010 }), threeNodes[1]!];

  it('takes AS, router id and listen address from the node and the configuration', () => {
    const config = bgpServerConfig(
      snapshot({
        nodes,
        configurations: [
          testBgpConfiguration('default', { asNumber: 65000, listenPort: 1179 }),
          testBgpConfiguration('node.n1', { bindMode: 'NodeIP' }),
          testBgpConfiguration('node.n2', { listenPort: 2179 }),
        ],
      }),
      { installRoutes: true },
    );
    expect(config).toMatchObject({
      asNumber: 65010,
      routerId: '10.0.0.2',
      listen: { address: '10.0.0.2', port: 1179 },
      api: false,
      fib: { enabled: true },
    });
    expect(config.peers[0]).toMatchObject({
      asNumber: 65000,
      import: 'all',
      export: { prefixes: [{ prefix: '10.244.0.0/16', le: 32 }], action: 'accept' },
    });
  });

  it('exports pool routes to cluster nodes, and service ranges only to peers outside the cluster', () => {
    const config = bgpServerConfig(
      snapshot({
        nodes: threeNodes,
        peers: [testPeer('tor', { peerIP: '192.0.2.1', asNumber: 65100 })],
        pools: [
          pool,
          testPool('v6', 'fd00:10::/48'),
          testPool('no-export', '10.245.0.0/16', { disableBGPExport: true }),
          testPool('disabled', '10.246.0.0/16', { disabled: true }),
        ],
        configurations: [
          testBgpConfiguration('default', {
            serviceClusterIPs: [{ cidr: '10.96.0.0/12' }],
            serviceExternalIPs: [{ cidr: '192.0.2.128/25' }],
            serviceLoadBalancerIPs: [{ cidr: '10.244.0.0/16' }],
          }),
        ],
      }),
      { installRoutes: false },
    );
    const exports = Object.fromEntries(config.peers.map((p) => [p.address, p.export]));
    const pools = [
      { prefix: '10.244.0.0/16', le: 32 },
      { prefix: 'fd00:10::/48', le: 128 },
    ];
    expect(exports).toEqual({
      '10.0.0.3': { prefixes: pools, action: 'accept' },
      '10.0.0.10': { prefixes: pools, action: 'accept' },
      '192.0.2.1': {
        prefixes: [
          { prefix: '192.0.2.128/25', le: 32 },
          { prefix: '10.244.0.0/16', le: 32 },
          { prefix: '10.96.0.0/12', le: 32 },
          { prefix: 'fd00:10::/48', le: 128 },
        ],
        action: 'accept',
      },
    });
    expect(config.peers.map((p) => p.import)).toEqual(['all', 'all', 'all']);
  });

  it('treats a BGPPeer naming a cluster node as a node: no service ranges', () => {
    const config = bgpServerConfig(
      snapshot({
        nodes: threeNodes,
        configurations: [testBgpConfiguration('default', { serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] })],
        peers: [testPeer('n2-special', { peerIP: '10.0.0.3', asNumber: 64512 })],
      }),
      { installRoutes: false },
    );
    expect(config.peers.map((p) => p.export)).toEqual([
      { prefixes: [{ prefix: '10.244.0.0/16', le: 32 }], action: 'accept' },
      { prefixes: [{ prefix: '10.244.0.0/16', le: 32 }], action: 'accept' },
    ]);
  });

  it('exports nothing when no pool is exported and no service range is set', () => {
    const config = bgpServerConfig(snapshot({ nodes: threeNodes, pools: [] }), { installRoutes: false });
    expect(config.peers.map((p) => p.export)).toEqual(['none', 'none']);
  });

  it('originates affine blocks of exported pools and the service ranges, nothing borrowed', () => {
    const config = bgpServerConfig(
      snapshot({
        nodes,
        pools: [
          pool,
          testPool('no-export', '10.245.0.0/16', { disableBGPExport: true }),
          testPool('disabled', '10.246.0.0/16', { disabled: true }),
        ],
        affineBlocks: ['10.244.1.0/26', '10.244.0.64/26', '10.245.0.0/26', '10.246.0.0/26', '10.247.0.0/26'],
        configurations: [
          testBgpConfiguration('default', {
            serviceClusterIPs: [{ cidr: '10.96.0.0/12' }],
            serviceExternalIPs: [{ cidr: '192.0.2.0/24' }],
            serviceLoadBalancerIPs: [{ cidr: '198.51.100.0/24' }],
          }),
        ],
      }),
      { installRoutes: false },
    );
    expect(config.originate).toEqual([
      '10.244.0.64/26',
      '10.244.1.0/26',
      '10.96.0.0/12',
      '192.0.2.0/24',
      '198.51.100.0/24',
    ]);
  });

  it('refuses a node that has no BGP address yet, naming it', () => {
    expect(() =>
      bgpServerConfig(snapshot({ nodes: [testNode('n1', undefined)] }), { installRoutes: false }),
    ).toThrow('node n1: no Node resource with spec.bgp.ipv4Address yet');
  });
});

describe('bgpServerConfig: pool carve-outs (disableBGPExport inside an exported pool)', () => {
  const nodes = [testNode('n1', { ipv4Address: '10.0.0.2/24' }), threeNodes[1]!];
  const cases: {
    name: string;
    pools: IPPool[];
    blocks: string[];
    exported: PrefixListEntry[] | 'none';
    originated: string[];
  }[] = [
    {
      name: 'a nested pool without export is rejected before the pool around it',
      pools: [pool, testPool('quiet', '10.244.128.0/20', { disableBGPExport: true })],
      blocks: ['10.244.0.0/26', '10.244.130.0/26'],
      exported: [
        { prefix: '10.244.128.0/20', le: 32, action: 'reject' },
        { prefix: '10.244.0.0/16', le: 32 },
      ],
      originated: ['10.244.0.0/26'],
    },
    {
      name: 'order in the datastore does not matter: the more specific entry still comes first',
      pools: [testPool('quiet', '10.244.128.0/20', { disableBGPExport: true }), pool],
      blocks: ['10.244.130.0/26'],
      exported: [
        { prefix: '10.244.128.0/20', le: 32, action: 'reject' },
        { prefix: '10.244.0.0/16', le: 32 },
      ],
      originated: [],
    },
    {
      name: 'an exported pool inside the carve-out is exported again (three levels)',
      pools: [
        pool,
        testPool('quiet', '10.244.128.0/20', { disableBGPExport: true }),
        testPool('loud', '10.244.129.0/24'),
      ],
      blocks: ['10.244.129.64/26', '10.244.130.0/26', '10.244.1.0/26'],
      exported: [
        { prefix: '10.244.129.0/24', le: 32 },
        { prefix: '10.244.128.0/20', le: 32, action: 'reject' },
        { prefix: '10.244.0.0/16', le: 32 },
      ],
      originated: ['10.244.1.0/26', '10.244.129.64/26'],
    },
    {
      name: 'a non-exported pool outside every exported pool needs no entry',
      pools: [pool, testPool('quiet', '10.245.0.0/16', { disableBGPExport: true })],
      blocks: ['10.245.0.0/26'],
      exported: [{ prefix: '10.244.0.0/16', le: 32 }],
      originated: [],
    },
    {
      name: 'a disabled pool nested in an exported one is carved out too',
      pools: [pool, testPool('old', '10.244.64.0/18', { disabled: true })],
      blocks: ['10.244.64.0/26'],
      exported: [
        { prefix: '10.244.64.0/18', le: 32, action: 'reject' },
        { prefix: '10.244.0.0/16', le: 32 },
      ],
      originated: [],
    },
    {
      name: 'only carve-outs and nothing exported: export nothing',
      pools: [testPool('quiet', '10.244.0.0/16', { disableBGPExport: true })],
      blocks: ['10.244.0.0/26'],
      exported: 'none',
      originated: [],
    },
    {
      name: 'IPv6 carve-out',
      pools: [
        testPool('v6', 'fd00:10::/48'),
        testPool('v6-quiet', 'fd00:10:0:8000::/49', { disableBGPExport: true }),
      ],
      blocks: ['fd00:10::/122', 'fd00:10:0:8000::/122'],
      exported: [
        { prefix: 'fd00:10:0:8000::/49', le: 128, action: 'reject' },
        { prefix: 'fd00:10::/48', le: 128 },
      ],
      originated: ['fd00:10::/122'],
    },
  ];

  it.each(cases)('$name', ({ pools, blocks, exported, originated }) => {
    const config = bgpServerConfig(snapshot({ nodes, pools, affineBlocks: blocks }), {
      installRoutes: false,
    });
    const expected = exported === 'none' ? 'none' : { prefixes: exported, action: 'accept' };
    expect(config.peers[0]?.export).toEqual(expected);
    expect(config.originate).toEqual(originated);
  });
});

describe('bgpServerConfig: peer descriptions (PEER TYPE of margayctl node status)', () => {
  const nodes = [
    testNode('rr1', { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: '244.0.0.1' }, { rr: 'true' }),
    testNode('c1', { ipv4Address: '10.0.0.11/24' }, { rack: 'r1' }),
    testNode('c2', { ipv4Address: '10.0.0.12/24' }),
  ];
  const peers = [
    testPeer('to-rr', { nodeSelector: 'all()', peerSelector: "rr == 'true'" }),
    testPeer('tor', { peerIP: '192.0.2.1', asNumber: 65100 }),
    testPeer('rack', { nodeSelector: "rack == 'r1'", peerIP: '192.0.2.2', asNumber: 65101 }),
  ];
  const describe = (nodeName: string, configurations = [meshOff]) =>
    Object.fromEntries(
      bgpServerConfig(snapshot({ nodeName, nodes, peers, configurations }), {
        installRoutes: false,
      }).peers.map((p) => [p.address, p.description]),
    );

  it.each([
    {
      node: 'c1',
      mesh: [meshOff],
      expected: {
        '10.0.0.1': 'node specific (route reflector)',
        '192.0.2.1': 'global',
        '192.0.2.2': 'node specific',
      },
    },
    {
      node: 'rr1',
      mesh: [meshOff],
      expected: {
        '10.0.0.11': 'node specific (route reflector client)',
        '10.0.0.12': 'node specific (route reflector client)',
        '192.0.2.1': 'global',
      },
    },
    {
      node: 'c2',
      mesh: [],
      expected: {
        '10.0.0.1': 'node specific (route reflector)',
        '10.0.0.11': 'node-to-node mesh',
        '192.0.2.1': 'global',
      },
    },
  ])('$node', ({ node, mesh, expected }) => {
    expect(describe(node, mesh)).toEqual(expected);
  });
});

describe('bgpServerConfig: the gRPC API', () => {
  it('is off unless asked for, and at the given address when asked', () => {
    const input = snapshot({ nodes: threeNodes });
    expect(bgpServerConfig(input, { installRoutes: false }).api).toBe(false);
    expect(bgpServerConfig(input, { installRoutes: false, api: '127.0.0.1:50151' }).api).toBe(
      '127.0.0.1:50151',
    );
    expect(() => bgpServerConfig(input, { installRoutes: false, api: 'nowhere' })).toThrow(
      'BGP configuration of node n1: api: "nowhere" is not HOST:PORT',
    );
  });
});

describe('bgpPeering: the daemon-neutral peering margay-confd renders BIRD from', () => {
  test('peers name their source and node, and are the speaker configuration’s peers', () => {
    const tor = testPeer('tor', { peerIP: '10.0.0.254', asNumber: 65001 });
    const input = snapshot({ nodes: threeNodes, peers: [tor], affineBlocks: ['10.244.1.0/26'] });
    const peering = bgpPeering(input);
    expect(peering.peers.map((p) => [p.address, p.kind, p.resource?.metadata.name, p.nodeName])).toEqual([
      ['10.0.0.10', 'node-to-node mesh', undefined, 'n3'],
      ['10.0.0.254', 'global', 'tor', undefined],
      ['10.0.0.3', 'node-to-node mesh', undefined, 'n2'],
    ]);
    expect(peering.blocks).toEqual(['10.244.1.0/26']);
    const config = bgpServerConfig(input, { installRoutes: false });
    expect(config.peers.map((p) => [p.address, p.passive])).toEqual(
      peering.peers.map((p) => [p.address, p.passive]),
    );
  });
});

test("graceful restart as Calico's BIRD: 120 s, forwarding kept, on every session", () => {
  const config = bgpServerConfig(snapshot({ nodes: threeNodes }), { installRoutes: true });
  expect(config.gracefulRestart).toEqual({ restartTime: 120, preserveForwarding: true });
  expect(config.peers.length).toBeGreaterThan(0);
});
