import { resourcePrefix } from '@margay/api';
import type { Cluster } from './cluster';
import {
  allReachable,
  applyYaml,
  expectReachability,
  margayctl,
  PODS,
  probe,
  tcp,
  usePolicyCluster,
} from './policy-support';
import { withStore } from './routing-support';

jest.setTimeout(180_000);

const calico = (kind: 'NetworkPolicy' | 'GlobalNetworkPolicy', metadata: object, spec: object) =>
  JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind, metadata, spec });
const inNamespace = (ns: string) => `projectcalico.org/namespace == "${ns}"`;
const fromNs = (ns: string) => ({ namespaceSelector: `ns == "${ns}"` });

describe('Calico policy truth tables on 3 nodes', () => {
  let cluster!: Cluster;
  usePolicyCluster('calpol', (up) => {
    cluster = up;
  });

  test('Pass skips to the next tier, and from the last tier to the namespace profile', async () => {
    await applyYaml(
      cluster,
      [
        // Tier security (before default): x's ingress from x and y goes on to the default tier;
        // from z nothing matches, so the end of the tier drops it.
        calico(
          'GlobalNetworkPolicy',
          { name: 'security.pass-x-y' },
          {
            tier: 'security',
            order: 10,
            selector: inNamespace('x'),
            types: ['Ingress'],
            ingress: [
              { action: 'Pass', source: fromNs('x') },
              { action: 'Pass', source: fromNs('y') },
            ],
          },
        ),
        // Default tier: x lets in y only (so what security passed from x is dropped here).
        calico(
          'NetworkPolicy',
          { name: 'allow-y', namespace: 'x' },
          {
            order: 100,
            selector: 'all()',
            types: ['Ingress'],
            ingress: [{ action: 'Allow', source: fromNs('y') }],
          },
        ),
        // Default tier, y: z is passed to the profile kns.y (which allows); the rest is dropped.
        calico(
          'NetworkPolicy',
          { name: 'pass-z', namespace: 'y' },
          {
            order: 100,
            selector: 'all()',
            types: ['Ingress'],
            ingress: [{ action: 'Pass', source: fromNs('z') }],
          },
        ),
      ].join('\n---\n'),
    );
    const expected = allReachable()
      .expectIngress('x-', false)
      .expect('y-', 'x-', true)
      .expectIngress('y-', false)
      .expect('z-', 'y-', true);
    await expectReachability(cluster, [[tcp(80), expected]]);
  });

  test('GlobalNetworkPolicy order: the lower order decides; swapping the orders swaps the verdict', async () => {
    const policies = (denyOrder: number, allowOrder: number) =>
      [
        calico(
          'GlobalNetworkPolicy',
          { name: 'deny-z-to-x' },
          {
            order: denyOrder,
            selector: inNamespace('x'),
            types: ['Ingress'],
            ingress: [{ action: 'Deny', source: fromNs('z') }],
          },
        ),
        calico(
          'GlobalNetworkPolicy',
          { name: 'allow-all-to-x' },
          {
            order: allowOrder,
            selector: inNamespace('x'),
            types: ['Ingress'],
            ingress: [{ action: 'Allow' }],
          },
        ),
      ].join('\n---\n');
    await applyYaml(cluster, policies(10, 20));
    await expectReachability(cluster, [[tcp(80), allReachable().expect('z-', 'x-', false)]]);
    await applyYaml(cluster, policies(30, 20));
    await expectReachability(cluster, [[tcp(80), allReachable()]]);
    // Deny of a lower order than a later Allow of the same traffic, on the egress side this time.
    await applyYaml(
      cluster,
      calico(
        'GlobalNetworkPolicy',
        { name: 'deny-egress-y-to-z' },
        {
          order: 5,
          selector: inNamespace('y'),
          types: ['Egress'],
          egress: [{ action: 'Deny', destination: { selector: inNamespace('z') } }, { action: 'Allow' }],
        },
      ),
    );
    await expectReachability(cluster, [[tcp(80), allReachable().expect('y-', 'z-', false)]]);
  });

  test('a multi-document file with one malformed policy is refused whole: nothing is written, nothing changes', async () => {
    const good = JSON.stringify({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'deny-ingress', namespace: 'x' },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    });
    const bad = JSON.stringify({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'bad-except', namespace: 'y' },
      spec: {
        podSelector: {},
        ingress: [{ from: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.245.0.0/24'] } }] }],
      },
    });
    const run = await margayctl(cluster, ['apply', '-f', '-'], `${good}\n---\n${bad}\n`);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('must be a strict subset of 10.244.0.0/16');
    const stored = await withStore(cluster, async (store) => {
      const policies = await store.list(resourcePrefix('NetworkPolicy'));
      const global = await store.list(resourcePrefix('GlobalNetworkPolicy'));
      return [...policies.items, ...global.items].map((item) => item.key);
    });
    expect(stored).toEqual([]);
    // The good half was not applied: x is still open (one probe round, after the apply returned).
    const probed = await probe(cluster, PODS, tcp(80));
    expect(probed.format()).toBe(allReachable().format());
  });
});
