// The demo's story, step by step, on a real namespace cluster: nodes, etcd, margay-node on every
// node (BGP full mesh), pods through margay-cni, BGP sessions and routes, a ping matrix across
// nodes, a Kubernetes NetworkPolicy that blocks one flow while others still pass, and a file with
// bad documents refused whole. Each step checks what it shows and fails loudly when it is not so.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from '@margay/testkit';
import { Cluster } from '../cluster';
import { margayctl, probe, type Reachability, startServers, stopServers, tcp } from '../policy-support';
import { PROTO, pings, routesOf } from '../routing-support';
import type { Progress, StepContext } from './progress';
import { differences, type PingHint, type Reach, renderMatrix } from './report';

const REPO = join(__dirname, '..', '..', '..');
const MARGAYCTL = join(REPO, 'bin', 'margayctl');
const INVALID_SAMPLE = join(REPO, 'e2e', 'samples', 'invalid.yaml');

/** The Kubernetes namespace of the demo's pods. */
export const NAMESPACE = 'shop';
export const WEB_PORT = 8080;
const POOL_CIDR = '10.244.0.0/16';
const BLOCK_SIZE = 26;

export interface DemoPod {
  readonly name: string;
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * web, frontend and batch first (the policy's cast), then one more batch pod per extra node; pods
 * go round-robin over the nodes, so with 3 nodes or more every node has a pod and every pair of the
 * first three crosses nodes.
 */
export function planPods(nodes: readonly string[]): DemoPod[] {
  if (nodes.length === 0) throw new Error('the demo needs at least one node');
  const cast: { name: string; labels: Record<string, string> }[] = [
    { name: 'web', labels: { app: 'web' } },
    { name: 'frontend', labels: { role: 'frontend' } },
    { name: 'batch', labels: { role: 'batch' } },
  ];
  for (let index = cast.length; index < nodes.length; index++) {
    cast.push({ name: `batch-${index - 1}`, labels: { role: 'batch' } });
  }
  return cast.map((pod, index) => ({ ...pod, node: nodes[index % nodes.length]! }));
}

/** IPPool and BGP settings, in Calico's v3 field names, applied with margayctl. */
export const CLUSTER_YAML = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  cidr: ${POOL_CIDR}
  blockSize: ${BLOCK_SIZE}
  ipipMode: Never
  vxlanMode: Never
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  asNumber: 64512
  nodeToNodeMeshEnabled: true
`;

/** Only pods labelled role=frontend may reach app=web, and only on TCP ${WEB_PORT}. */
export const POLICY_YAML = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-from-frontend
  namespace: ${NAMESPACE}
spec:
  podSelector:
    matchLabels: { app: web }
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchLabels: { role: frontend }
      ports:
        - { protocol: TCP, port: ${WEB_PORT} }
`;

/** Reachability the policy should leave: everything but non-frontend pods → web. */
export function expectedAfterPolicy(pods: readonly DemoPod[]): Reach {
  const byName = new Map(pods.map((pod) => [pod.name, pod]));
  return (from, to) => {
    if (from === to) return undefined;
    if (byName.get(to)?.labels.app !== 'web') return true;
    return byName.get(from)?.labels.role === 'frontend';
  };
}

export interface DemoOptions {
  readonly name: string;
  readonly nodes: number;
}

/** The running demo: what it created (for teardown and --keep) and what it showed (for the summary). */
export class Demo {
  cluster: Cluster | undefined;
  readonly shown: string[] = [];
  private servers: ChildProcess[] = [];
  private pods: DemoPod[] = [];

  constructor(
    private readonly options: DemoOptions,
    private readonly progress: Progress,
  ) {}

  /** Two pings to try on a cluster left up: one the policy blocks, one it leaves alone. */
  pingHints(): PingHint[] {
    const ipOf = (pod: string) => this.cluster?.pod(pod).ip ?? `<ip of ${pod}>`;
    return [
      { from: 'batch', to: 'web', ip: ipOf('web'), note: 'blocked by web-from-frontend' },
      { from: 'web', to: 'batch', ip: ipOf('batch'), note: 'allowed (no policy selects batch)' },
    ];
  }

  get podNames(): string[] {
    return this.pods.map((pod) => pod.name);
  }

  async run(): Promise<void> {
    const { progress, options } = this;
    const nodes = Array.from({ length: options.nodes }, (_, index) => `node-${index + 1}`);
    const first = nodes[0]!;
    this.pods = planPods(nodes);

    const cluster = await progress.step(
      `Bring up ${options.nodes} nodes in network namespaces, a router and etcd`,
      async (step) => {
        this.cluster = await Cluster.up({ nodes: options.nodes, name: options.name });
        const status = this.cluster.status();
        step.note(`cluster ${status.name}, etcd ${status.etcd.endpoints[0]}`);
        step.show(
          status.nodes.map((node) => `${node.name}  ${node.address}  (netns ${node.netns})`).join('\n'),
        );
        return this.cluster;
      },
    );

    await progress.step(`Apply an IPPool and BGP settings with margayctl (from ${first})`, async (step) => {
      await this.ctl(['apply', '-f', '-'], CLUSTER_YAML);
      await cluster.addNamespace(NAMESPACE, { team: NAMESPACE });
      step.note(`pool ${POOL_CIDR} in /${BLOCK_SIZE} blocks, AS 64512, node-to-node mesh`);
    });

    await progress.step(`Start margay-node on every node`, async (step) => {
      await Promise.all(nodes.map((node) => cluster.startAgent(node)));
      // Each agent registered its Node (address, AS): what the mesh is built from.
      step.show(await this.ctl(['get', 'nodes', '-o', 'wide']));
      step.note(`${nodes.length} agents ready (/readiness), Nodes registered`);
      this.shown.push(`margay-node ran on ${nodes.length} nodes: BGP speaker, FIB, felix routes and policy`);
    });

    await progress.step('Start pods through the CNI plugin', async (step) => {
      for (const pod of this.pods) {
        await cluster.addPod(pod.node, pod.name, { namespace: NAMESPACE, labels: { ...pod.labels } });
      }
      step.show(
        this.pods
          .map((pod) => {
            const labels = Object.entries(pod.labels).map(([key, value]) => `${key}=${value}`);
            return `${pod.name.padEnd(10)} ${cluster.pod(pod.name).ip.padEnd(15)} ${pod.node}  ${labels.join(',')}`;
          })
          .join('\n'),
      );
      step.note(`${this.pods.length} pods in namespace ${NAMESPACE}`);
    });

    await progress.step(`BGP sessions: full mesh (margayctl node status on ${first})`, (step) =>
      this.showSessions(step, nodes),
    );

    await progress.step(`Routes on ${first} (ip route)`, (step) => this.showRoutes(step, first));

    await progress.step('Ping every pod from every other pod', (step) => this.pingMatrix(step));

    await progress.step(`Apply a Kubernetes NetworkPolicy: only role=frontend may reach app=web`, (step) =>
      this.applyPolicy(step),
    );

    await progress.step('A file with bad documents is refused whole', (step) => this.refuseInvalid(step));
  }

  /** Stops what the demo started outside the cluster (pod servers); the cluster's own teardown does the rest. */
  async stopServers(): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    await stopServers(servers);
  }

  private async ctl(args: string[], input = ''): Promise<string> {
    const run = await margayctl(this.cluster!, args, input);
    if (run.code !== 0) {
      throw new Error(`margayctl ${args.join(' ')} exited ${run.code}: ${(run.stderr || run.stdout).trim()}`);
    }
    return run.stdout;
  }

  /** Waits until every node has an Established session to every other node, then shows node-1's. */
  private async showSessions(step: StepContext, nodes: readonly string[]): Promise<void> {
    const cluster = this.cluster!;
    const established = async (node: string) => {
      const run = await cluster.exec(node, [MARGAYCTL, 'node', 'status', '-o', 'json']);
      if (run.code !== 0) return 0;
      return (JSON.parse(run.stdout) as { state: string }[]).filter((peer) => peer.state === 'Established')
        .length;
    };
    let counts: number[] = [];
    try {
      await waitFor(
        `every node to have ${nodes.length - 1} Established BGP sessions`,
        async () => {
          counts = await Promise.all(nodes.map(established));
          return counts.every((count) => count === nodes.length - 1);
        },
        30_000,
      );
    } catch (error) {
      const seen = nodes.map((node, index) => `${node}: ${counts[index] ?? 0}`).join(', ');
      throw new Error(`${(error as Error).message} (Established so far: ${seen})`);
    }
    const table = await cluster.exec(nodes[0]!, [MARGAYCTL, 'node', 'status']);
    step.show(table.stdout);
    const sessions = (nodes.length * (nodes.length - 1)) / 2;
    step.note(`${sessions} sessions Established`);
    this.shown.push(`a BGP full mesh: ${sessions} sessions Established, ${nodes.length - 1} per node`);
  }

  /** Waits until node-1 has learned every other node's block, then shows its routing table. */
  private async showRoutes(step: StepContext, node: string): Promise<void> {
    const cluster = this.cluster!;
    const remoteNodes = new Set(this.pods.map((pod) => pod.node).filter((other) => other !== node));
    await waitFor(
      `${node} to learn a block from each of ${[...remoteNodes].join(', ')} over BGP (proto ${PROTO.bgp})`,
      () => routesOf(cluster, node, PROTO.bgp).length >= remoteNodes.size,
      30_000,
    );
    const table = await cluster.exec(node, ['ip', 'route']);
    const learned = routesOf(cluster, node, PROTO.bgp).length;
    const felix = routesOf(cluster, node, PROTO.felix);
    step.show(
      [
        table.stdout.trimEnd(),
        '',
        `proto ${PROTO.bgp}: blocks learned over BGP from the other nodes (via their addresses)`,
        `proto ${PROTO.felix}: felix's routes: a /32 per local pod (dev its veth), a blackhole per local block`,
      ].join('\n'),
    );
    step.note(`${learned} learned blocks, ${felix.length} felix routes`);
    this.shown.push(
      `${node}'s routes: ${learned} blocks learned over BGP (proto ${PROTO.bgp}), ${felix.length} felix routes (proto ${PROTO.felix})`,
    );
  }

  /** Pings until every pair answers (routes take a moment to spread), then shows the matrix. */
  private async pingMatrix(step: StepContext): Promise<void> {
    const cluster = this.cluster!;
    const names = this.podNames;
    const answered = new Map<string, boolean>();
    const reach: Reach = (from, to) => (from === to ? undefined : (answered.get(`${from}>${to}`) ?? false));
    const nodeOf = Object.fromEntries(this.pods.map((pod) => [pod.name, pod.node]));
    try {
      await waitFor(
        'every pod to answer a ping from every other pod',
        async () => {
          await Promise.all(
            names.flatMap((from) =>
              names
                .filter((to) => to !== from && !answered.get(`${from}>${to}`))
                .map(async (to) => answered.set(`${from}>${to}`, await pings(cluster, from, to))),
            ),
          );
          return names.every((from) => names.every((to) => from === to || answered.get(`${from}>${to}`)));
        },
        30_000,
      );
    } finally {
      step.show(renderMatrix(names, reach, this.progress.options, nodeOf));
    }
    const pairs = names.length * (names.length - 1);
    const crossing = names.flatMap((from) => names.filter((to) => nodeOf[to] !== nodeOf[from])).length;
    step.note(`${pairs}/${pairs} pairs answered`);
    this.shown.push(
      `ping: all ${pairs} pod pairs answered (${crossing} across nodes, over routes learned over BGP)`,
    );
  }

  /**
   * Starts a TCP server on ${WEB_PORT} in every pod, checks everyone reaches everyone, applies the
   * policy, then probes until web refuses all but frontend — or fails showing what was probed.
   */
  private async applyPolicy(step: StepContext): Promise<void> {
    const cluster = this.cluster!;
    const names = this.podNames;
    const target = tcp(WEB_PORT);
    const nodeOf = Object.fromEntries(this.pods.map((pod) => [pod.name, pod.node]));
    const asReach =
      (matrix: Reachability): Reach =>
      (from, to) =>
        from === to ? undefined : matrix.get(from, to);
    this.servers = await startServers(cluster, names, { tcp: [WEB_PORT], udp: [] });

    const before = await probe(cluster, names, target);
    const everyone: Reach = (from, to) => (from === to ? undefined : true);
    const unreached = differences(names, asReach(before), everyone);
    if (unreached.length > 0) {
      throw new Error(
        `before any policy, TCP ${WEB_PORT} should be open between all pods: ${unreached.join('; ')}`,
      );
    }
    await this.ctl(['apply', '-f', '-'], POLICY_YAML);

    const want = expectedAfterPolicy(this.pods);
    let after = before;
    try {
      await waitFor(
        `the policy to be enforced (only frontend → web on TCP ${WEB_PORT})`,
        async () => {
          after = await probe(cluster, names, target);
          return differences(names, asReach(after), want).length === 0;
        },
        30_000,
      );
    } catch (error) {
      step.show(
        `TCP ${WEB_PORT} probed:\n${renderMatrix(names, asReach(after), this.progress.options, nodeOf)}`,
      );
      throw new Error(
        `${(error as Error).message}: network policy is not enforced as expected: ${differences(names, asReach(after), want).join('; ')}`,
      );
    }
    step.show(POLICY_YAML);
    step.show(
      `TCP ${WEB_PORT} after the policy:\n${renderMatrix(names, asReach(after), this.progress.options, nodeOf)}`,
    );
    const blocked = names.filter((from) => want(from, 'web') === false);
    step.note(`${blocked.join(', ')} → web blocked; frontend → web allowed`);
    this.shown.push(
      `NetworkPolicy web-from-frontend: frontend → web:${WEB_PORT} allowed, ${blocked.join(', ')} → web:${WEB_PORT} blocked, ` +
        `flows to the other pods still allowed`,
    );
    await this.stopServers();
  }

  private async refuseInvalid(step: StepContext): Promise<void> {
    const cluster = this.cluster!;
    const run = await cluster.exec(cluster.status().nodes[0]!.name, [
      MARGAYCTL,
      'apply',
      '-f',
      INVALID_SAMPLE,
    ]);
    if (run.code === 0)
      throw new Error('margayctl accepted e2e/samples/invalid.yaml, which has bad documents');
    const stored = await cluster.exec(cluster.status().nodes[0]!.name, [
      MARGAYCTL,
      'get',
      'ippool',
      'good-pool',
    ]);
    if (stored.code === 0) throw new Error('part of e2e/samples/invalid.yaml (good-pool) was stored');
    step.show(run.stderr.trim());
    step.note('nothing of it stored (good-pool absent)');
    this.shown.push('margayctl refused a file with bad documents whole, naming each problem');
  }
}
