// The shipped templates rendered for typical clusters, compared with reviewed files in testdata/
// (UPDATE_GOLDEN=1 rewrites them) and each checked by the real BIRD 2 parser (`bird -p`).

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testBgpConfiguration, testNode, testPeer, testPool } from '@margay/api';
import { makeTempDir, removeTempDir, requireCommand } from '@margay/testkit';
import { defaultTemplateDir, loadTemplates, renderBird } from './render';
import type { ConfdSnapshot } from './view';

const templates = loadTemplates(defaultTemplateDir());
let dir = '';

beforeAll(() => {
  requireCommand('bird', 'bird2');
  dir = makeTempDir('confd-golden');
});
afterAll(() => removeTempDir(dir));

const pools = [
  testPool('pods', '10.244.0.0/16'),
  // A carve-out nobody may announce, nested in the exported pool.
  testPool('quiet', '10.244.200.0/24', { disableBGPExport: true }),
];

const base: ConfdSnapshot = {
  nodeName: 'n1',
  nodes: [
    testNode('n1', { ipv4Address: '10.0.0.1/24' }),
    testNode('n2', { ipv4Address: '10.0.0.2/24' }),
    testNode('n3', { ipv4Address: '10.0.0.3/24', asNumber: 64600 }),
  ],
  configurations: [testBgpConfiguration('default', {})],
  peers: [],
  affineBlocks: ['10.244.1.0/26', '10.244.200.0/26'],
  pools,
  secrets: new Map(),
};

const cases: Record<string, { snapshot: ConfdSnapshot; kernelRoutes?: boolean }> = {
  mesh: {
    snapshot: {
      ...base,
      nodeName: 'n2',
      configurations: [
        testBgpConfiguration('default', {
          bindMode: 'NodeIP',
          listenPort: 1790,
          ignoredInterfaces: ['vxlan.calico', 'eth9'],
          serviceClusterIPs: [{ cidr: '10.96.0.0/12' }],
        }),
      ],
    },
    kernelRoutes: true,
  },
  'route-reflector': {
    snapshot: {
      ...base,
      nodes: [
        testNode('n1', { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: '244.0.0.1' }, { rr: 'true' }),
        testNode('n2', { ipv4Address: '10.0.0.2/24' }),
        testNode('n3', { ipv4Address: '10.0.0.3/24' }),
        testNode('n4', { ipv4Address: '10.0.0.4/24', routeReflectorClusterID: '244.0.0.1' }, { rr: 'true' }),
      ],
      configurations: [testBgpConfiguration('default', { nodeToNodeMeshEnabled: false })],
      peers: [testPeer('to-reflectors', { nodeSelector: 'all()', peerSelector: "rr == 'true'" })],
    },
  },
  'route-reflector-client': {
    snapshot: {
      ...base,
      nodeName: 'n2',
      nodes: [
        testNode('n1', { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: '244.0.0.1' }, { rr: 'true' }),
        testNode('n2', { ipv4Address: '10.0.0.2/24' }),
      ],
      configurations: [testBgpConfiguration('default', { nodeToNodeMeshEnabled: false })],
      peers: [testPeer('to-reflectors', { nodeSelector: 'all()', peerSelector: "rr == 'true'" })],
    },
  },
  'peers-and-passwords': {
    snapshot: {
      ...base,
      configurations: [
        testBgpConfiguration('default', {
          nodeMeshPassword: { secretKeyRef: { name: 'bgp', key: 'mesh' } },
          nodeMeshMaxRestartTime: '5m',
          serviceLoadBalancerIPs: [{ cidr: '192.0.2.0/24' }],
        }),
      ],
      peers: [
        testPeer('tor', {
          peerIP: '10.0.0.254:1179',
          asNumber: 65001,
          password: { secretKeyRef: { name: 'bgp', key: 'tor' } },
          keepaliveTime: '20s',
          maxRestartTime: '1m30s',
          ttlSecurity: 2,
        }),
        testPeer('n1-uplink', {
          node: 'n1',
          peerIP: '10.0.0.253',
          asNumber: 65002,
          localASNumber: 65100,
          nextHopMode: 'Keep',
          numAllowedLocalASNumbers: 2,
          password: { secretKeyRef: { name: 'absent', key: 'x', optional: true } },
        }),
      ],
      secrets: new Map([
        ['bgp/mesh', 'mesh-secret'],
        ['bgp/tor', 'tor-secret'],
      ]),
    },
  },
  communities: {
    snapshot: {
      ...base,
      configurations: [
        testBgpConfiguration('default', {
          logSeverityScreen: 'Debug',
          communities: [{ name: 'pods', value: '65001:100' }],
          prefixAdvertisements: [
            { cidr: '10.244.0.0/16', communities: ['pods', '65001:200:300'] },
            { cidr: '10.244.1.0/26', communities: ['65001:1'] },
          ],
        }),
      ],
    },
  },
};

test.each(Object.entries(cases))(
  '%s: matches testdata and is accepted by bird -p',
  (name, { snapshot, kernelRoutes }) => {
    const text = renderBird(templates, snapshot, { kernelRoutes: kernelRoutes ?? false });
    const golden = join(__dirname, 'testdata', `${name}.conf`);
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(golden, text);
    expect(text).toEqual(readFileSync(golden, 'utf8'));

    const file = join(dir, `${name}.conf`);
    writeFileSync(file, text);
    // Throws with BIRD's message (file:line:column) when the configuration does not parse.
    execFileSync('bird', ['-p', '-c', file], { stdio: 'pipe' });
  },
);
