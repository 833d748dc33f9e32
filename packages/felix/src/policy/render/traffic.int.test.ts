// Rendered chains enforcing real traffic: a "node" namespace with three "pods" on veths
// (mga1, mgb1 and mgc1, which no endpoint claims), FORWARD policy DROP as Docker sets it, and TCP
// probes between them. Checks tiers (Deny in an earlier tier wins, Pass moves on), default deny
// once a policy selects, SCTP rules not matching TCP, named ports, replies via conntrack, the
// node reaching its pods, and fail-closed dispatch of an unknown interface.

import { type ChildProcess, spawn } from 'node:child_process';
import type { Chain } from '@margay/dataplane';
import { NetworkNamespace } from '@margay/dataplane';
import { requireCommand, requireRoot, waitFor } from '@margay/testkit';
import { TCP_PROBE, tcpServerScript } from '../kernel.fixture';
import type { EndpointModel, PolicyModel, ProfileModel } from '../model';
import { renderDispatch } from './dispatch';
import { renderEndpoint } from './endpoint';
import { ipSetSpecFor } from './ipset-names';
import { renderPolicy, renderProfile } from './policy';
import { renderStatic } from './static';
import { calicoRules, k8sPolicyModel, restoreScript } from './testing';

const POD = { a: '10.70.0.1', b: '10.70.0.2', c: '10.70.0.3' } as const;
const PORTS = [8080, 8081, 8082, 8083, 8084];

const SERVER = tcpServerScript(PORTS, POD.b);

describe('rendered policy enforcing real traffic', () => {
  const namespaces: NetworkNamespace[] = [];
  let node: NetworkNamespace;
  const pods: Record<'a' | 'b' | 'c', NetworkNamespace | undefined> = {
    a: undefined,
    b: undefined,
    c: undefined,
  };
  let server: ChildProcess | undefined;

  async function must(netns: NetworkNamespace, argv: string[], input = ''): Promise<string> {
    const result = await netns.runner.run(argv, input);
    if (result.code !== 0) throw new Error(`${argv.join(' ')} in ${netns.name}: ${result.stderr.trim()}`);
    return result.stdout;
  }

  async function addPod(name: string, hostVeth: string, address: string): Promise<NetworkNamespace> {
    const pod = await NetworkNamespace.create(`mgpod${name}`);
    namespaces.push(pod);
    await node.ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.name);
    await node.ip('link', 'set', hostVeth, 'up');
    await node.ip('route', 'add', `${address}/32`, 'dev', hostVeth);
    await pod.ip('addr', 'add', `${address}/32`, 'dev', 'eth0');
    await pod.ip('link', 'set', 'eth0', 'up');
    // Calico's pod routing: everything via a link-local gateway the node answers ARP for.
    await pod.ip('route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link');
    await pod.ip('route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0');
    return pod;
  }

  beforeAll(async () => {
    requireRoot('the policy traffic test');
    requireCommand('iptables-restore', 'iptables');
    requireCommand('ipset', 'ipset');
    node = await NetworkNamespace.create('mgnode');
    namespaces.push(node);
    await node.ip('addr', 'add', '169.254.1.1/32', 'dev', 'lo');
    await must(node, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    pods.a = await addPod('a', 'mga1', POD.a);
    pods.b = await addPod('b', 'mgb1', POD.b);
    pods.c = await addPod('c', 'mgc1', POD.c);

    const args = ['netns', 'exec', pods.b.name, process.execPath, '-e', SERVER];
    const started = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    server = started;
    let output = '';
    started.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitFor('the server in pod b', () => output.includes('ready'), 10_000);

    await programTheNode();
  });

  afterAll(async () => {
    if (server?.pid !== undefined) process.kill(server.pid, 'SIGKILL');
    for (const netns of namespaces.reverse()) await netns.delete().catch(() => undefined);
  });

  async function programTheNode(): Promise<void> {
    const policies: PolicyModel[] = [
      // Tier "security": port 8084 is denied whatever later tiers say; everything else passes on.
      {
        id: 'gnp/security',
        ...calicoRules([
          { action: 'Deny', protocol: 'TCP', destination: { ports: [8084] } },
          { action: 'Pass' },
        ]),
      },
      // Tier "default": a Kubernetes policy selecting pod b.
      k8sPolicyModel(
        {
          podSelector: { matchLabels: { app: 'b' } },
          ingress: [
            {
              from: [{ podSelector: { matchLabels: { app: 'a' } } }],
              ports: [
                { protocol: 'TCP', port: 8080 },
                { protocol: 'SCTP', port: 8081 },
                { protocol: 'TCP', port: 'web' },
                { protocol: 'TCP', port: 8084 },
              ],
            },
          ],
        },
        'ns1',
        'allow-a',
      ),
      // Pod b may start no connection at all: its replies still flow (conntrack).
      k8sPolicyModel(
        { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Egress'] },
        'ns1',
        'b-no-egress',
      ),
    ];
    const profiles: ProfileModel[] = [
      { id: 'kns.ns1', ...calicoRules([{ action: 'Allow' }], [{ action: 'Allow' }]) },
    ];
    const endpoints: EndpointModel[] = [
      { interfaceName: 'mga1', tiers: [], profileIds: ['kns.ns1'], addresses: [`${POD.a}/32`] },
      {
        interfaceName: 'mgb1',
        tiers: [
          { name: 'security', ingressPolicies: ['gnp/security'], egressPolicies: [] },
          {
            name: 'default',
            ingressPolicies: ['ns1/knp.default.allow-a'],
            egressPolicies: ['ns1/knp.default.b-no-egress'],
          },
        ],
        profileIds: ['kns.ns1'],
        addresses: [`${POD.b}/32`],
      },
      // mgc1 has no endpoint: unknown to us, so fail closed.
    ];

    // Set members as the calc graph would compute them (pod c is labelled app=a too).
    const members = new Map<string, string[]>([
      [
        ipSetSpecFor({ kind: 'selector', selector: 'projectcalico.org/namespace == "ns1" && app == "a"' })
          .name,
        [POD.a, POD.c],
      ],
      [
        ipSetSpecFor({ kind: 'named-port', selector: 'all()', protocol: 'tcp', port: 'web' }).name,
        [`${POD.b},tcp:8082`],
      ],
    ]);

    const filter: Chain[] = [];
    const sets = new Map<string, string>();
    for (const rendered of [...policies.map(renderPolicy), ...profiles.map(renderProfile)]) {
      filter.push(...rendered.chains);
      for (const ref of rendered.ipSets) sets.set(ipSetSpecFor(ref).name, ipSetSpecFor(ref).type);
    }
    for (const name of members.keys()) expect(sets.has(name)).toBe(true);
    for (const endpoint of endpoints) filter.push(...renderEndpoint(endpoint));
    filter.push(...renderDispatch(endpoints));
    const statics = renderStatic({ pools: ['10.70.0.0/16'], natOutgoingPools: [] });
    filter.push(...statics.filter.chains);
    for (const { spec, members: list } of statics.ipSets) {
      sets.set(spec.name, spec.type);
      members.set(spec.name, list);
    }

    const ipsetLines = [...sets].map(([name, type]) => `create ${name} ${type}`);
    for (const [name, list] of members) for (const member of list) ipsetLines.push(`add ${name} ${member}`);
    await must(node, ['ipset', 'restore'], `${ipsetLines.join('\n')}\n`);
    await must(node, ['iptables', '-P', 'FORWARD', 'DROP']);
    await must(
      node,
      ['iptables-restore', '--noflush'],
      restoreScript('filter', filter, statics.filter.hooks),
    );
    await must(
      node,
      ['iptables-restore', '--noflush'],
      restoreScript('nat', statics.nat.chains, statics.nat.hooks),
    );
  }

  async function connects(from: NetworkNamespace | undefined, to: string, port: number): Promise<boolean> {
    if (from === undefined) throw new Error('setup failed');
    const result = await from.runner.run([process.execPath, '-e', TCP_PROBE, to, String(port)]);
    if (![0, 2, 3].includes(result.code)) throw new Error(`probe failed to run: ${result.stderr}`);
    return result.code === 0;
  }

  test('pod a → pod b: the truth table', async () => {
    const seen: Record<number, boolean> = {};
    for (const port of PORTS) seen[port] = await connects(pods.a, POD.b, port);
    expect(seen).toEqual({
      8080: true, // allowed in tier default after tier security passed; FORWARD policy DROP does not stop it
      8081: false, // allowed for SCTP only: never TCP
      8082: true, // named port "web"
      8083: false, // no rule: default deny once a policy selects pod b
      8084: false, // denied in tier security, although tier default allows it
    });
  });

  test('pod c, on an interface no endpoint claims, is dropped (fail closed)', async () => {
    expect(await connects(pods.c, POD.b, 8080)).toBe(false);
    // It was our "unknown interface" rule that dropped it, not a broken setup.
    const listed = await must(node, ['iptables', '-L', 'mg-from-wl-dispatch', '-v', '-x', '-n']);
    const unknown = listed.split('\n').find((line) => line.includes('DROP') && line.includes('mg+'));
    expect(Number(unknown?.trim().split(/\s+/)[0])).toBeGreaterThan(0);
  });

  test('the node reaches pod b on any port, whatever its ingress policy', async () => {
    expect(await connects(node, POD.b, 8083)).toBe(true);
  });
});
