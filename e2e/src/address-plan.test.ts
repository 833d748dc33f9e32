import fc from 'fast-check';
import { MAX_NODES, MAX_SUBNETS, planTopology, SLOT_COUNT } from './address-plan';

const toNumber = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const withoutLength = (cidr: string) => cidr.split('/')[0]!;

test('slot 1 with 4 nodes on 2 subnets, by hand', () => {
  const plan = planTopology(1, 4, 2);
  expect(plan.hostLink).toBe('mge1h');
  expect(plan.transit).toEqual({
    hostAddress: '198.18.8.1',
    routerAddress: '198.18.8.2',
  });
  expect(plan.slotCidr).toBe('198.18.8.0/21');
  expect(plan.router).toEqual({
    netns: 'mge1-router',
    addresses: ['198.18.8.2/24', '198.18.9.1/24', '198.18.10.1/24'],
  });
  expect(plan.subnets).toEqual([
    { index: 1, cidr: '198.18.9.0/24', gateway: '198.18.9.1' },
    { index: 2, cidr: '198.18.10.0/24', gateway: '198.18.10.1' },
  ]);
  expect(plan.nodes.map((n) => [n.name, n.netns, n.subnet, n.address, n.interface])).toEqual([
    ['node-1', 'mge1-node-1', 1, '198.18.9.11/24', 'eth0'],
    ['node-2', 'mge1-node-2', 2, '198.18.10.12/24', 'eth0'],
    ['node-3', 'mge1-node-3', 1, '198.18.9.13/24', 'eth0'],
    ['node-4', 'mge1-node-4', 2, '198.18.10.14/24', 'eth0'],
  ]);
});

test('the last slot ends exactly at the end of 198.18.0.0/15', () => {
  const plan = planTopology(SLOT_COUNT - 1, 1, MAX_SUBNETS);
  expect(plan.slotCidr).toBe('198.19.248.0/21');
  expect(plan.subnets.at(-1)?.cidr).toBe('198.19.255.0/24');
});

test('every plan stays inside its slot, with unique addresses and names that fit an interface', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: SLOT_COUNT - 1 }),
      fc.integer({ min: 1, max: MAX_NODES }),
      fc.integer({ min: 1, max: MAX_SUBNETS }),
      (slot, nodes, subnets) => {
        const plan = planTopology(slot, nodes, subnets);
        const slotStart = toNumber('198.18.0.0') + slot * 2048;
        const addresses = [
          ...plan.router.addresses.map(withoutLength),
          plan.transit.hostAddress,
          ...plan.nodes.map((n) => withoutLength(n.address)),
        ];
        const offsets = addresses.map((address) => toNumber(address) - slotStart);
        // inside the slot's /21, never a network or broadcast address
        expect(offsets.filter((o) => o < 0 || o >= 2048 || o % 256 === 0 || o % 256 === 255)).toEqual([]);
        expect(new Set(addresses).size).toBe(addresses.length);
        const subnetOf = (ip: string) => ip.split('.').slice(0, 3).join('.');
        const gateway = new Map(plan.subnets.map((s) => [s.index, s.gateway]));
        expect(
          plan.nodes.filter((n) => subnetOf(withoutLength(n.address)) !== subnetOf(gateway.get(n.subnet)!)),
        ).toEqual([]);
        // node names are also the router's ends of the nodes' veths
        expect(plan.nodes.filter((n) => n.name.length > 15)).toEqual([]);
        expect(plan.hostLink.length).toBeLessThanOrEqual(15);
        // round-robin: subnet sizes differ by at most one
        const sizes = plan.subnets.map((s) => plan.nodes.filter((n) => n.subnet === s.index).length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      },
    ),
  );
});

test.each([
  [0, 0, 1, 'nodes must be a whole number from 1 to 244, got 0'],
  [0, 245, 1, 'nodes must be a whole number from 1 to 244, got 245'],
  [0, 2.5, 1, 'nodes must be a whole number from 1 to 244, got 2.5'],
  [0, 3, 0, 'subnets must be a whole number from 1 to 7, got 0'],
  [0, 3, 8, 'subnets must be a whole number from 1 to 7, got 8'],
  [64, 3, 1, 'slot must be a whole number from 0 to 63, got 64'],
])('slot %p, %p nodes, %p subnets is refused', (slot, nodes, subnets, message) => {
  expect(() => planTopology(slot, nodes, subnets)).toThrow(message);
});
