import { parseMonitorLine, renderBirdConfig } from './bird-config';
import { peeringsOf, planCluster } from './plan';

describe('planCluster', () => {
  it('puts joiners above the existing nodes in string order, and below with joinerOrder below', () => {
    const above = planCluster('mesh', 30, 5, '127.7.8', 18000);
    const below = planCluster('mesh', 30, 5, '127.7.8', 18000, 'below');
    for (const plan of [above, below]) {
      expect(plan.existing).toHaveLength(29);
      expect(plan.joiners).toHaveLength(5);
      const addresses = [...plan.existing, ...plan.joiners].map((n) => n.address);
      expect(new Set(addresses).size).toBe(34);
    }
    const highestExisting = above.existing
      .map((n) => n.address)
      .sort()
      .at(-1)!;
    expect(above.joiners.every((j) => j.address > highestExisting)).toBe(true);
    const lowestExisting = below.existing.map((n) => n.address).sort()[0]!;
    expect(below.joiners.every((j) => j.address < lowestExisting)).toBe(true);
  });

  it('makes the first two existing nodes reflectors in rr, and none in mesh', () => {
    const rr = planCluster('rr', 10, 1, '127.7.8', 18000);
    expect(rr.existing.filter((n) => n.routeReflector).map((n) => n.name)).toEqual(['node-0', 'node-1']);
    expect(planCluster('mesh', 10, 1, '127.7.8', 18000).existing.some((n) => n.routeReflector)).toBe(false);
  });

  it.each([
    [2, 1, '127.1.1', /cluster size 2 is not in 3\.\.50/],
    [51, 1, '127.1.1', /cluster size 51/],
    [10, 0, '127.1.1', /joins 0 is not in 1\.\.50/],
    [10, 1, '10.1.1', /subnet 10\.1\.1 is not 127\.X\.Y/],
  ])('refuses size %p, joins %p, subnet %p', (size, joins, subnet, message) => {
    expect(() => planCluster('mesh', size, joins, subnet, 18000)).toThrow(message);
  });
});

describe('peeringsOf', () => {
  const plan = planCluster('rr', 5, 1, '127.7.8', 18000);
  const all = [...plan.existing, ...plan.joiners];

  it('gives a reflector every other node, clients as rr clients, and the higher address the connecting side', () => {
    const reflector = plan.existing[0]!;
    expect(peeringsOf(reflector, all, 'rr')).toEqual([
      { address: '127.7.8.101', passive: true, routeReflectorClient: false },
      { address: '127.7.8.102', passive: true, routeReflectorClient: true },
      { address: '127.7.8.103', passive: true, routeReflectorClient: true },
      { address: '127.7.8.200', passive: true, routeReflectorClient: true },
    ]);
  });

  it('gives a client only the reflectors, and in mesh everyone', () => {
    const joiner = plan.joiners[0]!;
    expect(peeringsOf(joiner, all, 'rr').map((p) => [p.address, p.passive])).toEqual([
      ['127.7.8.100', false],
      ['127.7.8.101', false],
    ]);
    expect(peeringsOf(joiner, all, 'mesh')).toHaveLength(4);
  });
});

describe('renderBirdConfig', () => {
  const plan = planCluster('mesh', 3, 1, '127.7.8', 18000);
  const [first, second] = plan.existing as [(typeof plan.existing)[0], (typeof plan.existing)[0]];
  const config = renderBirdConfig({
    self: first,
    others: [second, ...plan.joiners],
    topology: 'mesh',
    port: 18000,
    logFile: 'bird.log',
  });

  it("keeps Calico's bgp_template timers and writes the block and the node's own kernel table", () => {
    for (const line of [
      'connect delay time 2;',
      'connect retry time 5;',
      'error wait time 5,30;',
      'graceful restart;',
      'gateway recursive;',
      'add paths on;',
      'local 127.7.8.100 port 18000 as 64512;',
      'route 10.244.0.0/26 blackhole;',
      'kernel table 1000;',
    ])
      expect(config).toContain(line);
  });

  it('names mesh peers like confd and is passive towards higher addresses', () => {
    expect(config).toContain(
      [
        'protocol bgp Mesh_127_7_8_101 from bgp_template {',
        '  neighbor 127.7.8.101 port 18000 as 64512;',
        '  source address 127.7.8.100;',
        '  multihop;',
        '  passive on;',
        '}',
      ].join('\n'),
    );
    expect(config).toContain('protocol bgp Mesh_127_7_8_200 from bgp_template {');
    expect(config).not.toContain('rr client');
  });
});

describe('parseMonitorLine', () => {
  it('reads added and deleted routes of numbered tables', () => {
    expect(parseMonitorLine('blackhole 10.244.3.0/26 table 1005 proto bird metric 32 ')).toEqual({
      deleted: false,
      prefix: '10.244.3.0/26',
      table: 1005,
    });
    expect(parseMonitorLine('Deleted blackhole 10.244.3.0/26 table 1005 proto bird metric 32')).toEqual({
      deleted: true,
      prefix: '10.244.3.0/26',
      table: 1005,
    });
  });

  it('ignores routes of the main table and other lines', () => {
    expect(parseMonitorLine('10.0.0.0/24 dev lo proto kernel scope link')).toBeUndefined();
    expect(parseMonitorLine('local 127.0.0.1 dev lo table local proto kernel')).toBeUndefined();
    expect(parseMonitorLine('')).toBeUndefined();
  });
});
