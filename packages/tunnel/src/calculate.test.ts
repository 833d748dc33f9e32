import { calculateTunnelState } from './calculate';
import { derivedVxlanMac } from './constants';
import type { TunnelInputs, TunnelPool, TunnelState } from './state';

const MAC = { a: '66:00:00:00:00:0a', b: '66:00:00:00:00:0b', c: '66:00:00:00:00:0c' };

function pool(mode: Partial<Pick<TunnelPool, 'ipipMode' | 'vxlanMode'>>, cidr = '10.244.0.0/16'): TunnelPool {
  return { name: 'default', cidr, ipipMode: 'Never', vxlanMode: 'Never', ...mode };
}

/** Node a and b share 192.168.1.0/24; c is on 192.168.2.0/24. Each holds one block. */
function inputs(pools: TunnelPool[], overrides: Partial<TunnelInputs> = {}): TunnelInputs {
  return {
    nodeName: 'a',
    pools,
    nodes: [
      {
        name: 'a',
        ipv4Address: '192.168.1.10/24',
        ipipTunnelAddr: '10.244.0.1',
        vxlanTunnelAddr: '10.244.0.2',
        vxlanMac: MAC.a,
      },
      {
        name: 'b',
        ipv4Address: '192.168.1.11/24',
        ipipTunnelAddr: '10.244.0.65',
        vxlanTunnelAddr: '10.244.0.66',
        vxlanMac: MAC.b,
      },
      {
        name: 'c',
        ipv4Address: '192.168.2.10/24',
        ipipTunnelAddr: '10.244.0.129',
        vxlanTunnelAddr: '10.244.0.130',
        vxlanMac: MAC.c,
      },
    ],
    affinities: [
      { node: 'a', cidr: '10.244.0.0/26' },
      { node: 'b', cidr: '10.244.0.64/26' },
      { node: 'c', cidr: '10.244.0.128/26' },
    ],
    underlay: { device: 'eth0', mtu: 1500 },
    ...overrides,
  };
}

function state(input: TunnelInputs): TunnelState {
  const calculation = calculateTunnelState(input);
  if (!calculation.ready) throw new Error(`not ready: ${calculation.reason}`);
  return calculation.state;
}

describe('calculateTunnelState', () => {
  test('IPIP Always: tunl0 with the tunnel address and MTU 1480, every remote block via its node onlink', () => {
    const result = state(inputs([pool({ ipipMode: 'Always' })]));
    expect(result.ipip).toEqual({ name: 'tunl0', mtu: 1480, address: '10.244.0.1' });
    expect(result.vxlan).toBeUndefined();
    expect(result.routes).toEqual([
      { dst: '10.244.0.64/26', type: 'unicast', via: '192.168.1.11', dev: 'tunl0', onlink: true },
      { dst: '10.244.0.128/26', type: 'unicast', via: '192.168.2.10', dev: 'tunl0', onlink: true },
    ]);
    expect(result.neighbours).toEqual([]);
    expect(result.fdb).toEqual([]);
  });

  test('IPIP CrossSubnet: a same-subnet node gets a plain route over the underlay', () => {
    const result = state(inputs([pool({ ipipMode: 'CrossSubnet' })]));
    expect(result.routes).toEqual([
      { dst: '10.244.0.64/26', type: 'unicast', via: '192.168.1.11', dev: 'eth0' },
      { dst: '10.244.0.128/26', type: 'unicast', via: '192.168.2.10', dev: 'tunl0', onlink: true },
    ]);
  });

  test('VXLAN Always: device on the underlay, routes via remote VTEPs, ARP and FDB entry per remote VTEP', () => {
    const result = state(inputs([pool({ vxlanMode: 'Always' })]));
    expect(result.ipip).toBeUndefined();
    expect(result.vxlan).toEqual({
      name: 'vxlan.margay',
      vni: 4096,
      port: 4789,
      parent: 'eth0',
      local: '192.168.1.10',
      mac: MAC.a,
      mtu: 1450,
      address: '10.244.0.2',
    });
    expect(result.routes).toEqual([
      { dst: '10.244.0.64/26', type: 'unicast', via: '10.244.0.66', dev: 'vxlan.margay', onlink: true },
      { dst: '10.244.0.128/26', type: 'unicast', via: '10.244.0.130', dev: 'vxlan.margay', onlink: true },
    ]);
    expect(result.neighbours).toEqual([
      { ip: '10.244.0.66', mac: MAC.b },
      { ip: '10.244.0.130', mac: MAC.c },
    ]);
    expect(result.fdb).toEqual([
      { mac: MAC.b, dst: '192.168.1.11' },
      { mac: MAC.c, dst: '192.168.2.10' },
    ]);
  });

  test('VXLAN CrossSubnet: same-subnet block plain, the other through the tunnel', () => {
    const result = state(inputs([pool({ vxlanMode: 'CrossSubnet' })]));
    expect(result.routes).toEqual([
      { dst: '10.244.0.64/26', type: 'unicast', via: '192.168.1.11', dev: 'eth0' },
      { dst: '10.244.0.128/26', type: 'unicast', via: '10.244.0.130', dev: 'vxlan.margay', onlink: true },
    ]);
  });

  test('Never: no devices, no routes (BGP routes those blocks)', () => {
    expect(state(inputs([pool({})]))).toEqual({
      ipip: undefined,
      vxlan: undefined,
      routes: [],
      neighbours: [],
      fdb: [],
    });
  });

  test('configured MTUs win over the underlay-derived ones', () => {
    const ipip = state(inputs([pool({ ipipMode: 'Always' })], { mtu: { ipip: 1400 } }));
    expect(ipip.ipip?.mtu).toBe(1400);
    const vxlan = state(inputs([pool({ vxlanMode: 'Always' })], { mtu: { vxlan: 1300 } }));
    expect(vxlan.vxlan?.mtu).toBe(1300);
  });

  test('only blocks inside encapsulated pools are routed; each pool by its own mode', () => {
    const result = state(
      inputs([
        pool({ ipipMode: 'Always' }, '10.244.0.0/25'),
        { ...pool({}, '10.244.0.128/25'), name: 'plain' },
      ]),
    );
    expect(result.routes.map((r) => r.dst)).toEqual(['10.244.0.64/26']);
  });

  test('a pool with both modes is refused with a problem naming it', () => {
    const calculation = calculateTunnelState(inputs([pool({ ipipMode: 'Always', vxlanMode: 'Always' })]));
    expect(calculation.ready && calculation.state.routes).toEqual([]);
    expect(calculation.problems).toEqual([
      'IPPool default: ipipMode and vxlanMode are both enabled; the pool is ignored',
    ]);
  });

  test('a VXLAN node without a MAC uses the derived one; a remote without a tunnel address gets no route', () => {
    const base = inputs([pool({ vxlanMode: 'Always' })]);
    const nodes = base.nodes.map((node) =>
      node.name === 'b'
        ? { name: 'b', ipv4Address: '192.168.1.11/24', vxlanTunnelAddr: '10.244.0.66' }
        : node,
    );
    const withoutC = nodes.map((node) =>
      node.name === 'c' ? { name: 'c', ipv4Address: '192.168.2.10/24' } : node,
    );
    const calculation = calculateTunnelState({ ...base, nodes: withoutC });
    if (!calculation.ready) throw new Error('not ready');
    expect(calculation.state.neighbours).toEqual([{ ip: '10.244.0.66', mac: derivedVxlanMac('b') }]);
    expect(derivedVxlanMac('b')).toMatch(/^66(:[0-9a-f]{2}){5}$/);
    expect(calculation.state.routes.map((r) => r.dst)).toEqual(['10.244.0.64/26']);
    expect(calculation.problems).toEqual([
      'block 10.244.0.128/26 of node c: the node has no VXLAN tunnel address yet; not routed',
    ]);
  });

  test('VXLAN waits for our own tunnel address: no device, no VXLAN routes', () => {
    const base = inputs([pool({ vxlanMode: 'Always' })]);
    const nodes = base.nodes.map((node) =>
      node.name === 'a' ? { name: 'a', ipv4Address: '192.168.1.10/24' } : node,
    );
    const calculation = calculateTunnelState({ ...base, nodes });
    if (!calculation.ready) throw new Error('not ready');
    expect(calculation.state.vxlan).toBeUndefined();
    expect(calculation.state.routes).toEqual([]);
    expect(calculation.problems[0]).toBe('VXLAN waits for Node a to get a VXLAN tunnel address');
  });

  test('not ready without our Node, its address or the underlay', () => {
    const pools = [pool({ vxlanMode: 'Always' })];
    const base = inputs(pools);
    expect(calculateTunnelState({ ...base, nodeName: 'z' })).toMatchObject({
      ready: false,
      reason: 'Node z is not registered yet',
    });
    const noAddress = base.nodes.map((node) => (node.name === 'a' ? { name: 'a' } : node));
    expect(calculateTunnelState({ ...base, nodes: noAddress })).toMatchObject({
      ready: false,
      reason: 'Node a has no IPv4 address yet',
    });
    expect(calculateTunnelState({ ...base, underlay: undefined })).toMatchObject({
      ready: false,
      reason: 'no interface holds 192.168.1.10/24 yet',
    });
  });

  test('a block claimed by two nodes keeps the first; a node without an address is reported', () => {
    const base = inputs([pool({ ipipMode: 'Always' })]);
    const calculation = calculateTunnelState({
      ...base,
      nodes: [...base.nodes, { name: 'd' }],
      affinities: [
        ...base.affinities,
        { node: 'c', cidr: '10.244.0.64/26' },
        { node: 'd', cidr: '10.244.1.0/26' },
      ],
    });
    if (!calculation.ready) throw new Error('not ready');
    expect(calculation.state.routes.find((r) => r.dst === '10.244.0.64/26')).toMatchObject({
      via: '192.168.1.11',
    });
    expect(calculation.problems).toEqual([
      'block 10.244.0.64/26 of node c: the block is also affine to another node; keeping the first',
      'block 10.244.1.0/26 of node d: the node has no IPv4 address; not routed',
    ]);
  });

  test('remote VTEPs with a duplicate address or MAC are refused', () => {
    const base = inputs([pool({ vxlanMode: 'Always' })]);
    const nodes = base.nodes.map((node) => (node.name === 'c' ? { ...node, vxlanMac: MAC.b } : node));
    const calculation = calculateTunnelState({ ...base, nodes });
    if (!calculation.ready) throw new Error('not ready');
    expect(calculation.state.fdb).toEqual([{ mac: MAC.b, dst: '192.168.1.11' }]);
    expect(calculation.problems).toContain(
      `Node c: VXLAN address 10.244.0.130 or MAC ${MAC.b} is used by another node; no VTEP`,
    );
  });
});
