import { doc, problemsOf } from '../testing';
import { validateResource } from '../validate';

const config = (name: string, spec: unknown) =>
  validateResource(doc('BGPConfiguration', spec, { name })).spec;

describe('BGPConfiguration', () => {
  test('the default configuration gets Calico defaults', () => {
    expect(config('default', {})).toEqual({
      nodeToNodeMeshEnabled: true,
      asNumber: 64512,
      logSeverityScreen: 'Info',
    });
  });

  test('given values override defaults; asdot AS numbers become numbers', () => {
    const spec = config('default', {
      nodeToNodeMeshEnabled: false,
      asNumber: '1.10',
      logSeverityScreen: 'Debug',
      serviceClusterIPs: [{ cidr: '10.96.0.0/12' }],
      serviceExternalIPs: [{ cidr: '203.0.113.0/24' }],
      listenPort: 1179,
      communities: [
        { name: 'mine', value: '65001:100' },
        { name: 'large', value: '65001:100:200' },
      ],
      prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['mine', '65001:300'] }],
      nodeMeshPassword: { secretKeyRef: { name: 'bgp-secrets', key: 'mesh' } },
      nodeMeshMaxRestartTime: '120s',
      bindMode: 'NodeIP',
      ignoredInterfaces: ['docker*'],
    });
    expect(spec).toMatchObject({
      nodeToNodeMeshEnabled: false,
      asNumber: 65546,
      logSeverityScreen: 'Debug',
      listenPort: 1179,
    });
  });

  test('per-node configurations leave unset fields unset (they inherit)', () => {
    expect(config('node.worker-1', { listenPort: 1179 })).toEqual({ listenPort: 1179 });
  });

  test('mesh and AS number belong to the default configuration only', () => {
    expect(
      problemsOf(
        doc('BGPConfiguration', { asNumber: 65000, nodeToNodeMeshEnabled: false }, { name: 'node.a' }),
      ),
    ).toEqual([
      'spec.nodeToNodeMeshEnabled: only valid on the BGPConfiguration named "default"',
      'spec.asNumber: only valid on the BGPConfiguration named "default"',
    ]);
  });

  test.each([
    [{ asNumber: 0 }, 'spec.asNumber: must be from 1 to 4294967295 (got 0)'],
    [
      { asNumber: 1.1 },
      'spec.asNumber: 1.1 is not an AS number; write asdot notation as a quoted string, e.g. "1.10"',
    ],
    [
      { logSeverityScreen: 'info' },
      'spec.logSeverityScreen: must be one of Debug, Info, Warning, Error, Fatal (got "info")',
    ],
    [{ listenPort: 0 }, 'spec.listenPort: must be an integer from 1 to 65535 (got 0)'],
    [
      { serviceClusterIPs: [{ cidr: '10.96.0.1/12' }] },
      'spec.serviceClusterIPs[0].cidr: "10.96.0.1/12" is not masked (host bits are set): did you mean 10.96.0.0/12?',
    ],
    [
      { serviceClusterIPs: ['10.96.0.0/12'] },
      'spec.serviceClusterIPs[0]: expected a mapping (got "10.96.0.0/12")',
    ],
    [
      { communities: [{ name: 'c', value: '65001' }] },
      'spec.communities[0].value: "65001" is not a community: use aa:nn or aa:nn:mm',
    ],
    [
      { communities: [{ name: 'c', value: '70000:1' }] },
      'spec.communities[0].value: "70000:1" is not a community: use aa:nn or aa:nn:mm',
    ],
    [
      { nodeMeshMaxRestartTime: '2 minutes' },
      'spec.nodeMeshMaxRestartTime: "2 minutes" is not a duration (examples: 90s, 1m30s, 500ms)',
    ],
    [
      { nodeMeshPassword: { secretKeyRef: { name: 's' } } },
      'spec.nodeMeshPassword.secretKeyRef.key: required',
    ],
    [
      { nodeToNodeMesh: true },
      'spec: unknown field "nodeToNodeMesh" (allowed: logSeverityScreen, nodeToNodeMeshEnabled, asNumber, serviceClusterIPs, serviceExternalIPs, serviceLoadBalancerIPs, listenPort, communities, prefixAdvertisements, nodeMeshPassword, nodeMeshMaxRestartTime, bindMode, ignoredInterfaces, programClusterRoutes, ipv4NormalRoutePriority, ipv6NormalRoutePriority)',
    ],
  ])('%j → %s', (spec, problem) => {
    expect(problemsOf(doc('BGPConfiguration', spec, { name: 'default' }))).toEqual([problem]);
  });
});
