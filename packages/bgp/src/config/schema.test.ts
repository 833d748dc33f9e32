import { parseConfig } from './load';
import { ConfigError } from './schema';

const GOOD = `
asNumber: 65000
routerId: 10.255.0.1
listen: { address: 127.0.0.1, port: 10182 }
api: 127.0.0.1:50151
originate: [10.1.0.0/24, 2001:db8:1::/48]
peers:
  - { address: 127.0.0.2, asNumber: 65001, passive: true, import: all, export: all }
  - { address: 127.0.0.3, asNumber: 65000, routeReflectorClient: true }
  - { address: 127.0.0.4, asNumber: 65004 }
`;

function problems(text: string): readonly string[] {
  try {
    parseConfig(text, 'bgpd.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

test('a good file is read with defaults filled in', () => {
  const config = parseConfig(GOOD, 'bgpd.yaml');
  expect(config.asNumber).toBe(65000);
  expect(config.listen).toEqual({ address: '127.0.0.1', port: 10182 });
  expect(config.originate).toEqual(['10.1.0.0/24', '2001:db8:1::/48']);
  expect(config.nextHop).toEqual({ ipv4: '127.0.0.1', ipv6: '::ffff:127.0.0.1' });
  expect(config.fib).toEqual({ enabled: false, table: 254, protocol: 77 });
  expect(config.logLevel).toBe('info');
  expect(config.peers[0]).toMatchObject({
    holdTime: 90,
    connectRetryTime: 120,
    passive: true,
    families: ['ipv4', 'ipv6'],
    import: 'all',
    export: 'all',
  });
});

test('idleHoldTime takes fractions of a second (a starting peer is retried soon)', () => {
  const config = parseConfig(
    'asNumber: 65000\nrouterId: 10.0.0.1\npeers:\n  - { address: 127.0.0.2, asNumber: 1, idleHoldTime: 0.1 }\n',
    'x',
  );
  expect(config.peers[0]!.idleHoldTime).toBe(0.1);
  expect(parseConfig(GOOD, 'x').peers[0]!.idleHoldTime).toBe(5);
});

test('RFC 8212: eBGP peers default to no import and no export, iBGP peers to all', () => {
  const [explicit, ibgp, ebgp] = parseConfig(GOOD, 'x').peers;
  expect(ibgp).toMatchObject({ import: 'all', export: 'all', routeReflectorClient: true });
  expect(ebgp).toMatchObject({ import: 'none', export: 'none' });
  expect(explicit).toMatchObject({ import: 'all', export: 'all' });
});

test('prefix-list policies are read with the action filled in', () => {
  const config = parseConfig(
    `asNumber: 65000
routerId: 10.0.0.1
peers:
  - address: 127.0.0.2
    asNumber: 65001
    import: all
    export:
      prefixes:
        - { prefix: 10.244.0.0/16, le: 32 }
        - { prefix: "fd00:10::/48", ge: 64, le: 128 }
        - { prefix: 10.96.0.0/12 }
`,
    'bgpd.yaml',
  );
  expect(config.peers[0]).toMatchObject({
    import: 'all',
    export: {
      prefixes: [
        { prefix: '10.244.0.0/16', le: 32 },
        { prefix: 'fd00:10::/48', ge: 64, le: 128 },
        { prefix: '10.96.0.0/12' },
      ],
      action: 'accept',
    },
  });
});

test('prefix entries may reject (carve-outs); peers may carry a description', () => {
  const config = parseConfig(
    `asNumber: 64512
routerId: 192.0.2.1
peers:
  - address: 192.0.2.2
    asNumber: 64512
    description: node-to-node mesh
    export:
      prefixes:
        - { prefix: 10.244.5.0/24, le: 32, action: reject }
        - { prefix: 10.244.0.0/16, le: 32 }
`,
    'bgpd.yaml',
  );
  expect(config.peers[0]).toMatchObject({
    description: 'node-to-node mesh',
    export: {
      prefixes: [{ prefix: '10.244.5.0/24', le: 32, action: 'reject' }, { prefix: '10.244.0.0/16' }],
    },
  });
  expect(() =>
    parseConfig(
      'asNumber: 1\nrouterId: 1.1.1.1\npeers:\n  - address: 1.1.1.2\n    asNumber: 1\n    export: { prefixes: [{ prefix: 10.0.0.0/8, action: deny }] }\n',
      'x.yaml',
    ),
  ).toThrow('x.yaml: peers[0].export.prefixes[0].action: must be "accept" or "reject"');
});

test('a minimal file gets the default listener and API', () => {
  const config = parseConfig('asNumber: 64512\nrouterId: 192.0.2.1\n', 'min.yaml');
  expect(config.listen).toEqual({ address: '0.0.0.0', port: 179 });
  expect(config.api).toBe('127.0.0.1:50151');
  expect(config.nextHop.ipv4).toBe('192.0.2.1');
  expect(config.peers).toEqual([]);
});

test('listen: false and api: false turn the listener and the API off', () => {
  const config = parseConfig('asNumber: 1\nrouterId: 1.1.1.1\nlisten: false\napi: false\n', 'x');
  expect(config.listen).toBe(false);
  expect(config.api).toBe(false);
});

test.each([
  ['peers:\n  - { address: 127.0.0.2, asNumber: 0 }', 'bgpd.yaml: peers[0].asNumber: must be 1..4294967295'],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1 }\n  - { address: 127.0.0.3, asNumber: 4294967296 }',
    'bgpd.yaml: peers[1].asNumber: must be 1..4294967295',
  ],
  ['peers:\n  - { address: nope, asNumber: 1 }', 'bgpd.yaml: peers[0].address: "nope" is not an IP address'],
  [
    'originate: [10.1.0.1/24]',
    'bgpd.yaml: originate[0]: "10.1.0.1/24" has host bits set (did you mean 10.1.0.0/24?)',
  ],
  ['originate: [10.1.0.0/33]', 'bgpd.yaml: originate[0]: "10.1.0.0/33" has a length above 32'],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, holdTime: 2 }',
    'bgpd.yaml: peers[0].holdTime: must be 0 or 3..65535 seconds',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, import: some }',
    'bgpd.yaml: peers[0].import: must be "all", "none" or { prefixes: [...] }',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, export: { prefixes: [] } }',
    'bgpd.yaml: peers[0].export.prefixes: must list at least one prefix (use "none" to match nothing)',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, export: { prefixes: [{ prefix: 10.0.0.0/8, ge: 4 }] } }',
    'bgpd.yaml: peers[0].export.prefixes[0].ge: must be 8..32 for 10.0.0.0/8',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, export: { prefixes: [{ prefix: 10.0.0.0/8, ge: 24, le: 16 }] } }',
    'bgpd.yaml: peers[0].export.prefixes[0].le: must be 24..32 for 10.0.0.0/8',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, import: { prefixes: [{ prefix: 10.0.0.0/8 }, { prefix: "2001:db8::/32", le: 129 }] } }',
    'bgpd.yaml: peers[0].import.prefixes[1].le: must be 0..128',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, import: { prefixes: [{ prefix: 10.0.0.0/8, le: 33 }] } }',
    'bgpd.yaml: peers[0].import.prefixes[0].le: must be 8..32 for 10.0.0.0/8',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, import: { prefixes: [{ prefix: 10.0.0.1/8 }] } }',
    'bgpd.yaml: peers[0].import.prefixes[0].prefix: "10.0.0.1/8" has host bits set (did you mean 10.0.0.0/8?)',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, import: { prefixes: [{ prefix: 10.0.0.0/8, ge: 8.5 }] } }',
    'bgpd.yaml: peers[0].import.prefixes[0].ge: must be an integer',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, import: { prefixes: [{ prefix: 10.0.0.0/8 }], action: reject } }',
    'bgpd.yaml: peers[0].import.action: must be "accept"',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, import: { prefix: 10.0.0.0/8 } }',
    'bgpd.yaml: peers[0].import: Unrecognized key: "prefix"',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, familes: [ipv4] }',
    'bgpd.yaml: peers[0]: Unrecognized key: "familes"',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, routeReflectorClient: true }',
    'bgpd.yaml: peers[0].routeReflectorClient: only an iBGP peer (AS 65000) can be a client',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1 }\n  - { address: 127.0.0.2, asNumber: 2 }',
    'bgpd.yaml: peers[1].address: 127.0.0.2 is configured twice',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, holdTime: 9, keepaliveTime: 4 }',
    'bgpd.yaml: peers[0].keepaliveTime: must be at most a third of holdTime (9)',
  ],
  [
    'peers:\n  - { address: 127.0.0.2, asNumber: 1, idleHoldTime: 0.05 }',
    'bgpd.yaml: peers[0].idleHoldTime: must be 0.1..120 seconds',
  ],
  ['api: localhost', 'bgpd.yaml: api: "localhost" is not HOST:PORT'],
  ['logLevel: loud', 'bgpd.yaml: logLevel: must be debug, info, warn or error'],
])('%s is rejected naming the field', (extra, expected) => {
  expect(problems(`asNumber: 65000\nrouterId: 10.0.0.1\n${extra}\n`)).toContain(expected);
});

test('missing required fields and YAML syntax errors name the file', () => {
  expect(problems('peers: []\n')).toEqual([
    'bgpd.yaml: asNumber: is required',
    'bgpd.yaml: routerId: is required',
  ]);
  expect(problems('asNumber: [1\n')[0]).toMatch(/^bgpd\.yaml: line \d+: /);
});
