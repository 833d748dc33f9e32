// Kubernetes NetworkPolicy truth tables with real traffic: margay-node on 3 nodes (iptables
// FORWARD policy DROP on each), namespaces x, y, z with pods a, b, c spread over the nodes, a
// server on TCP and UDP 80 and 81 in every pod. Each scenario applies Kubernetes NetworkPolicy
// YAML with margayctl, then probes every pair until the matrix is the expected one (written as
// data below). Ported from the upstream Kubernetes network policy e2e suite (test/e2e/network/
// netpol/network_policy.go):
//   - should support a 'default-deny-ingress' policy
//   - should support a 'default-deny-all' policy (egress half) / should deny egress from all pods in a namespace
//   - should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)
//   - should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector
//   - should enforce policy based on PodSelector and NamespaceSelector (AND)
//   - should enforce policy based on PodSelector or NamespaceSelector (OR)
//   - should enforce except clause while egress access to server in CIDR block
//   - should allow ingress access on one named port
//   - should enforce ingress policy allowing any port traffic to a server on a specific protocol (endPort variant)
//   - should not allow access by TCP when a policy specifies only SCTP
//   - should enforce updated policy / should stop enforcing policies after they are deleted
//   - should allow ingress access from updated pod / should deny ingress access to updated pod
//   - should allow ingress access from updated namespace
//   - should enforce multiple, stacked policies with overlapping podSelectors
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { requireRoot } from '@margay/testkit';
import { Cluster } from './cluster';
import {
  allReachable,
  applyYaml,
  createPolicyWorkloads,
  deleteAllPolicies,
  deleteYaml,
  expectReachability,
  PODS,
  stopServers,
  tcp,
  udp,
  updatePodEndpoint,
} from './policy-support';
import { applyPool } from './routing-support';
import { freshClusterName } from './test-support';

jest.setTimeout(180_000);

const NODES = ['node-1', 'node-2', 'node-3'];
const BUILT = [
  'packages/cni/dist/bundle/margay-cni.js',
  'packages/node/dist/main.js',
  'packages/ctl/dist/cli.js',
];

/** A Kubernetes NetworkPolicy document. */
const knp = (namespace: string, name: string, spec: Record<string, unknown>) =>
  JSON.stringify({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec,
  });
const onlyPod = (pod: string) => ({ matchLabels: { pod } });
const onlyNs = (ns: string) => ({ matchLabels: { ns } });

describe('Kubernetes NetworkPolicy truth tables on 3 nodes', () => {
  const name = freshClusterName('netpol');
  let cluster: Cluster;
  let servers: ChildProcess[] = [];

  beforeAll(async () => {
    requireRoot('the network policy e2e tests');
    for (const file of BUILT) {
      const path = join(__dirname, '..', '..', file);
      if (!existsSync(path)) throw new Error(`${path} is missing: run pnpm -s build (and the cni bundle)`);
    }
    cluster = await Cluster.up({ nodes: 3, name });
    await applyPool(cluster, '10.244.0.0/16', 26);
    await Promise.all(NODES.map((node) => cluster.startAgent(node)));
    servers = await createPolicyWorkloads(cluster, NODES);
  });
  afterAll(async () => {
    await stopServers(servers);
    await Cluster.down(name);
  });
  beforeEach(async () => {
    // Every scenario starts from no policy, and waits until the kernel says so too.
    await deleteAllPolicies(cluster);
    await expectReachability(cluster, [[tcp(80), allReachable()]]);
  });

  test('the baseline: with no policy, FORWARD DROP on every node, everyone reaches everyone on TCP and UDP', async () => {
    await expectReachability(cluster, [
      [tcp(81), allReachable()],
      [udp(80), allReachable()],
    ]);
  });

  test('default deny ingress in x: nothing reaches x, x still reaches the others', async () => {
    await applyYaml(cluster, knp('x', 'deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] }));
    const expected = allReachable().expectIngress('x-', false);
    await expectReachability(cluster, [
      [tcp(80), expected],
      [udp(81), expected],
    ]);
  });

  test('default deny egress in x: x reaches nothing, the others still reach x (replies are allowed)', async () => {
    await applyYaml(cluster, knp('x', 'deny-egress', { podSelector: {}, policyTypes: ['Egress'] }));
    const expected = allReachable().expectEgress('x-', false);
    await expectReachability(cluster, [
      [tcp(80), expected],
      [udp(80), expected],
    ]);
  });

  test('egress denied on the client side wins over ingress allowed on the server', async () => {
    await applyYaml(
      cluster,
      [
        knp('y', 'deny-egress', { podSelector: {}, policyTypes: ['Egress'] }),
        knp('x', 'allow-all-to-a', { podSelector: onlyPod('a'), ingress: [{}] }),
      ].join('\n---\n'),
    );
    await expectReachability(cluster, [[tcp(80), allReachable().expectEgress('y-', false)]]);
  });

  test('allow from another namespace (namespaceSelector): only y reaches x/a', async () => {
    await applyYaml(
      cluster,
      knp('x', 'allow-from-y', {
        podSelector: onlyPod('a'),
        ingress: [{ from: [{ namespaceSelector: onlyNs('y') }] }],
      }),
    );
    await expectReachability(cluster, [
      [tcp(80), allReachable().expectIngress('x-a', false).expect('y-', 'x-a', true)],
    ]);
  });

  test('namespaceSelector AND podSelector in one peer: only y/b reaches x/a', async () => {
    await applyYaml(
      cluster,
      knp('x', 'allow-y-b', {
        podSelector: onlyPod('a'),
        ingress: [{ from: [{ namespaceSelector: onlyNs('y'), podSelector: onlyPod('b') }] }],
      }),
    );
    await expectReachability(cluster, [
      [tcp(80), allReachable().expectIngress('x-a', false).expect('y-b', 'x-a', true)],
    ]);
  });

  test('namespaceSelector OR podSelector as two peers: all of y, and b of x, reach x/a', async () => {
    await applyYaml(
      cluster,
      knp('x', 'allow-y-or-b', {
        podSelector: onlyPod('a'),
        ingress: [{ from: [{ namespaceSelector: onlyNs('y') }, { podSelector: onlyPod('b') }] }],
      }),
    );
    const expected = allReachable()
      .expectIngress('x-a', false)
      .expect('y-', 'x-a', true)
      .expect('x-b', 'x-a', true);
    await expectReachability(cluster, [[tcp(80), expected]]);
  });

  test('ipBlock with except: x/a reaches the whole pool but y/b', async () => {
    await applyYaml(
      cluster,
      knp('x', 'egress-pool-but-y-b', {
        podSelector: onlyPod('a'),
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '10.244.0.0/16', except: [`${cluster.pod('y-b').ip}/32`] } }] }],
      }),
    );
    const expected = allReachable().expect('x-a', 'y-b', false);
    await expectReachability(cluster, [
      [tcp(80), expected],
      [udp(81), expected],
    ]);
  });

  test("named port: ingress to x/a allowed on its port named 'serve-81' only", async () => {
    await updatePodEndpoint(cluster, 'x-a', (endpoint) => {
      endpoint.spec.ports = [
        { name: 'serve-81', protocol: 'TCP', port: 81 },
        { name: 'serve-udp', protocol: 'UDP', port: 80 },
      ];
    });
    await applyYaml(
      cluster,
      knp('x', 'named-port', { podSelector: onlyPod('a'), ingress: [{ ports: [{ port: 'serve-81' }] }] }),
    );
    await expectReachability(cluster, [
      [tcp(81), allReachable()],
      [tcp(80), allReachable().expectIngress('x-a', false)],
      // The name is TCP's: UDP on any port stays closed.
      [udp(80), allReachable().expectIngress('x-a', false)],
    ]);
  });

  test('endPort range: UDP 81-85 open to x/a, UDP 80 and TCP closed', async () => {
    await applyYaml(
      cluster,
      knp('x', 'udp-range', {
        podSelector: onlyPod('a'),
        ingress: [{ ports: [{ protocol: 'UDP', port: 81, endPort: 85 }] }],
      }),
    );
    const closed = allReachable().expectIngress('x-a', false);
    await expectReachability(cluster, [
      [udp(81), allReachable()],
      [udp(80), closed],
      [tcp(81), closed],
    ]);
  });

  test('an SCTP rule never matches TCP or UDP on the same port', async () => {
    await applyYaml(
      cluster,
      knp('x', 'sctp-only', {
        podSelector: onlyPod('a'),
        ingress: [{ ports: [{ protocol: 'SCTP', port: 80 }] }],
      }),
    );
    const closed = allReachable().expectIngress('x-a', false);
    await expectReachability(cluster, [
      [tcp(80), closed],
      [udp(80), closed],
    ]);
  });

  test('stacked policies on one pod: their allows add up', async () => {
    await applyYaml(
      cluster,
      [
        knp('x', 'allow-80-from-y', {
          podSelector: onlyPod('a'),
          ingress: [{ from: [{ namespaceSelector: onlyNs('y') }], ports: [{ port: 80 }] }],
        }),
        knp('x', 'allow-81-from-z', {
          podSelector: {},
          ingress: [{ from: [{ namespaceSelector: onlyNs('z') }], ports: [{ port: 81 }] }],
        }),
      ].join('\n---\n'),
    );
    await expectReachability(cluster, [
      [tcp(80), allReachable().expectIngress('x-', false).expect('y-', 'x-a', true)],
      [tcp(81), allReachable().expectIngress('x-', false).expect('z-', 'x-', true)],
    ]);
  });

  test('policy update then delete: the allowed peer follows the policy, then everything is open again', async () => {
    const allowFrom = (pod: string) =>
      knp('x', 'allow-one', {
        podSelector: onlyPod('a'),
        ingress: [{ from: [{ podSelector: onlyPod(pod) }] }],
      });
    await applyYaml(cluster, allowFrom('b'));
    await expectReachability(cluster, [
      [tcp(80), allReachable().expectIngress('x-a', false).expect('x-b', 'x-a', true)],
    ]);
    await applyYaml(cluster, allowFrom('c'));
    await expectReachability(cluster, [
      [tcp(80), allReachable().expectIngress('x-a', false).expect('x-c', 'x-a', true)],
    ]);
    await deleteYaml(cluster, allowFrom('c'));
    await expectReachability(cluster, [[tcp(80), allReachable()]]);
  });

  test('a pod label change moves the pod into and out of a selector', async () => {
    await applyYaml(
      cluster,
      knp('x', 'allow-from-b', {
        podSelector: onlyPod('a'),
        ingress: [{ from: [{ podSelector: onlyPod('b') }] }],
      }),
    );
    const onlyB = allReachable().expectIngress('x-a', false).expect('x-b', 'x-a', true);
    await expectReachability(cluster, [[tcp(80), onlyB]]);
    const relabel = (pod: string) =>
      updatePodEndpoint(cluster, 'x-c', (endpoint) => {
        endpoint.metadata.labels = { ...endpoint.metadata.labels, pod };
      });
    try {
      await relabel('b');
      await expectReachability(cluster, [
        [
          tcp(80),
          allReachable().expectIngress('x-a', false).expect('x-b', 'x-a', true).expect('x-c', 'x-a', true),
        ],
      ]);
    } finally {
      await relabel('c');
    }
    await expectReachability(cluster, [[tcp(80), onlyB]]);
  });

  test('a namespace label change moves its pods into and out of a namespaceSelector', async () => {
    await applyYaml(
      cluster,
      knp('x', 'allow-from-updated', {
        podSelector: {},
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }] }],
      }),
    );
    const closed = allReachable().expectIngress('x-', false);
    await expectReachability(cluster, [[tcp(80), closed]]);
    try {
      await cluster.addNamespace('z', { ns: 'z', team: 'blue' });
      await expectReachability(cluster, [
        [tcp(80), allReachable().expectIngress('x-', false).expect('z-', 'x-', true)],
      ]);
    } finally {
      await cluster.addNamespace('z', { ns: 'z' });
    }
    await expectReachability(cluster, [[tcp(80), closed]]);
  });

  test('every pod of the layout took part', () => {
    // Guards the matrices above against a layout that silently shrank.
    expect(cluster.pods().map((pod) => pod.name)).toEqual([...PODS].sort());
    expect(new Set(cluster.pods().map((pod) => pod.node))).toEqual(new Set(NODES));
    // A server that died would read as a deny everywhere: they all still run.
    expect(servers.map((server) => server.exitCode)).toEqual(PODS.map(() => null));
  });
});
