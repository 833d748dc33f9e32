import type { ChildProcess } from 'node:child_process';
import type { Cluster } from './cluster';
import {
  allReachable,
  applyYaml,
  deleteYaml,
  expectReachability,
  PODS,
  POLICY_NODES,
  tcp,
  udp,
  updatePodEndpoint,
  usePolicyCluster,
} from './policy-support';

jest.setTimeout(180_000);

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
  let cluster!: Cluster;
  let servers: readonly ChildProcess[] = [];
  usePolicyCluster('netpol', (up, running) => {
    cluster = up;
    servers = running;
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
    expect(new Set(cluster.pods().map((pod) => pod.node))).toEqual(new Set(POLICY_NODES));
    // A server that died would read as a deny everywhere: they all still run.
    expect(servers.map((server) => server.exitCode)).toEqual(PODS.map(() => null));
  });
});
