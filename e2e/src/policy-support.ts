// Helpers for the network policy truth-table tests: a server on TCP and UDP ports in every pod,
// probes of every pair (one prober process per client pod, all its targets in parallel), the
// expected reachability written as data, and a readable diff between expected and probed.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeResource, encodeResource, isKind, resourcePrefix, validateResource } from '@margay/api';
import { requireRoot, waitFor } from '@margay/testkit';
import { Cluster, type ExecResult } from './cluster';
import { killAndWait } from './processes';
import { applyPool, withStore } from './routing-support';
import { freshClusterName } from './test-support';

export const MARGAYCTL = join(__dirname, '..', '..', 'bin', 'margayctl');

export type Protocol = 'tcp' | 'udp';
export interface Target {
  readonly protocol: Protocol;
  readonly port: number;
}
export const tcp = (port: number): Target => ({ protocol: 'tcp', port });
export const udp = (port: number): Target => ({ protocol: 'udp', port });
const targetName = (target: Target) => `${target.protocol}/${target.port}`;

/** Listens on every given port (TCP: accepts, UDP: echoes); prints `ready` once all listen. */
const SERVER = `
const net = require('node:net'), dgram = require('node:dgram');
const [tcpPorts, udpPorts] = JSON.parse(process.argv[1]);
let pending = tcpPorts.length + udpPorts.length;
const ready = () => { if (--pending === 0) console.log('ready'); };
// Probes close at once: a reset while writing is theirs, not a reason for the server to die.
for (const port of tcpPorts) net.createServer((s) => s.on('error', () => {}).end('ok')).listen(port, '0.0.0.0', ready);
for (const port of udpPorts) {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (m, from) => socket.send(m, from.port, from.address));
  socket.bind(port, '0.0.0.0', ready);
}`;

/** Probes [address, protocol, port] in parallel; prints a JSON array of booleans in the same order. */
const PROBER = `
const net = require('node:net'), dgram = require('node:dgram');
const [probes, timeoutMs] = JSON.parse(process.argv[1]);
const tcp = (host, port) => new Promise((resolve) => {
  const socket = net.connect({ host, port });
  const done = (ok) => { clearTimeout(timer); socket.destroy(); resolve(ok); };
  const timer = setTimeout(() => done(false), timeoutMs);
  socket.once('connect', () => done(true)).once('error', () => done(false));
});
const udp = (host, port) => new Promise((resolve) => {
  const socket = dgram.createSocket('udp4');
  const done = (ok) => { clearTimeout(timer); socket.close(); resolve(ok); };
  const timer = setTimeout(() => done(false), timeoutMs);
  socket.once('message', () => done(true)).once('error', () => done(false));
  socket.send('probe', port, host);
});
Promise.all(probes.map(([host, protocol, port]) => (protocol === 'tcp' ? tcp : udp)(host, port)))
  .then((results) => console.log(JSON.stringify(results)));`;

const PROBE_TIMEOUT_MS = 1000;

/** Starts the server in every pod; resolves once all listen. */
export async function startServers(
  cluster: Cluster,
  pods: readonly string[],
  ports: { tcp: number[]; udp: number[] },
): Promise<ChildProcess[]> {
  const servers = pods.map((pod) =>
    cluster.spawnInPod(pod, [process.execPath, '-e', SERVER, JSON.stringify([ports.tcp, ports.udp])]),
  );
  await Promise.all(
    servers.map(
      (server, index) =>
        new Promise<void>((resolve, reject) => {
          let output = '';
          server.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
            output += chunk;
            if (output.includes('ready')) resolve();
          });
          server.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
            output += chunk;
          });
          server.once('exit', (code) =>
            reject(new Error(`server in ${pods[index]} exited (${code}): ${output}`)),
          );
        }),
    ),
  );
  return servers;
}

export async function stopServers(servers: readonly ChildProcess[]): Promise<void> {
  await killAndWait(servers.flatMap((server) => (server.pid === undefined ? [] : [server.pid])));
}

/**
 * Which client reaches which server, for one target. Pods are named `<namespace>-<pod>` and shown
 * as `<namespace>/<pod>`; a pod always reaches itself (loopback never meets policy).
 */
export class Reachability {
  private readonly matrix = new Map<string, boolean>();

  constructor(
    readonly pods: readonly string[],
    everything: boolean,
  ) {
    for (const from of pods)
      for (const to of pods) this.matrix.set(`${from}>${to}`, from === to || everything);
  }

  /** Sets from → to; `from`/`to` may be a pod, or a namespace prefix like `x-` for all its pods. */
  expect(from: string, to: string, reachable: boolean): this {
    for (const client of this.select(from)) {
      for (const server of this.select(to))
        if (client !== server) this.matrix.set(`${client}>${server}`, reachable);
    }
    return this;
  }

  /** Every client → `to`. */
  expectIngress(to: string, reachable: boolean): this {
    return this.expect('*', to, reachable);
  }

  /** `from` → every server. */
  expectEgress(from: string, reachable: boolean): this {
    return this.expect(from, '*', reachable);
  }

  get(from: string, to: string): boolean {
    return this.matrix.get(`${from}>${to}`) ?? false;
  }

  set(from: string, to: string, reachable: boolean): void {
    this.matrix.set(`${from}>${to}`, reachable);
  }

  equals(other: Reachability): boolean {
    return this.pods.every((from) => this.pods.every((to) => this.get(from, to) === other.get(from, to)));
  }

  /** The matrix, clients down and servers across: `.` reachable, `X` not, `!` where `other` differs. */
  format(other?: Reachability): string {
    const label = (pod: string) => pod.replace('-', '/');
    const width = Math.max(...this.pods.map((pod) => label(pod).length));
    const header = `${' '.repeat(width)} ${this.pods.map((pod) => label(pod).padStart(width)).join(' ')}`;
    const rows = this.pods.map((from) => {
      const cells = this.pods.map((to) => {
        const mark = this.get(from, to) ? '.' : 'X';
        return (
          other !== undefined && other.get(from, to) !== this.get(from, to) ? `!${mark}` : mark
        ).padStart(width);
      });
      return `${label(from).padEnd(width)} ${cells.join(' ')}`;
    });
    return [header, ...rows].join('\n');
  }

  private select(pattern: string): readonly string[] {
    if (pattern === '*') return this.pods;
    if (pattern.endsWith('-')) return this.pods.filter((pod) => pod.startsWith(pattern));
    if (!this.pods.includes(pattern))
      throw new Error(`unknown pod ${pattern} (pods: ${this.pods.join(', ')})`);
    return [pattern];
  }
}

/** Probes every client → every server on `target` (one prober per client, all in parallel). */
export async function probe(
  cluster: Cluster,
  pods: readonly string[],
  target: Target,
): Promise<Reachability> {
  const probed = new Reachability(pods, false);
  await Promise.all(
    pods.map(async (from) => {
      const servers = pods.filter((to) => to !== from);
      const probes = servers.map((to) => [cluster.pod(to).ip, target.protocol, target.port]);
      const run = await cluster.execInPod(from, [
        process.execPath,
        '-e',
        PROBER,
        JSON.stringify([probes, PROBE_TIMEOUT_MS]),
      ]);
      if (run.code !== 0) throw new Error(`prober in ${from} failed (${run.code}): ${run.stderr}`);
      const results = JSON.parse(run.stdout) as boolean[];
      for (const [index, to] of servers.entries()) probed.set(from, to, results[index] === true);
      probed.set(from, from, true);
    }),
  );
  return probed;
}

/**
 * Probes until every target's matrix is as expected (policy takes a moment to be programmed), or
 * fails after `timeoutMs` showing, per target that differs, the probed matrix with `!` on the
 * cells that are not as expected.
 */
export async function expectReachability(
  cluster: Cluster,
  expected: ReadonlyArray<readonly [Target, Reachability]>,
  timeoutMs = 20_000,
): Promise<void> {
  let mismatches: string[] = [];
  try {
    await waitFor(
      'the probed reachability to match the expected one',
      async () => {
        const probed = await Promise.all(expected.map(([target, want]) => probe(cluster, want.pods, target)));
        mismatches = expected.flatMap(([target, want], index) => {
          const got = probed[index]!;
          return got.equals(want)
            ? []
            : [
                `${targetName(target)} probed ('!' = not as expected):\n${got.format(want)}\nexpected:\n${want.format()}`,
              ];
        });
        return mismatches.length === 0;
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${mismatches.join('\n\n')}`);
  }
}

/** `margayctl <verb> -f -` with `yaml` on stdin, run on node-1 (ETCD_ENDPOINTS is the node's view). */
export function margayctl(cluster: Cluster, args: readonly string[], input = ''): Promise<ExecResult> {
  return cluster.exec('node-1', [MARGAYCTL, ...args], { input });
}

export async function applyYaml(cluster: Cluster, yaml: string): Promise<void> {
  const run = await margayctl(cluster, ['apply', '-f', '-'], yaml);
  if (run.code !== 0) throw new Error(`margayctl apply failed (${run.code}): ${run.stderr}${run.stdout}`);
}

export async function deleteYaml(cluster: Cluster, yaml: string): Promise<void> {
  const run = await margayctl(cluster, ['delete', '-f', '-'], yaml);
  if (run.code !== 0) throw new Error(`margayctl delete failed (${run.code}): ${run.stderr}${run.stdout}`);
}

/** Rewrites the pod's WorkloadEndpoint (as the Kubernetes controller would on a pod update). */
export async function updatePodEndpoint(
  cluster: Cluster,
  podName: string,
  change: (endpoint: {
    metadata: { labels?: Record<string, string> };
    spec: Record<string, unknown>;
  }) => void,
): Promise<void> {
  const pod = cluster.pod(podName);
  await withStore(cluster, async (store) => {
    const { items } = await store.list(resourcePrefix('WorkloadEndpoint', pod.namespace));
    const found = items.find((item) => {
      const resource = decodeResource(item.value);
      return isKind(resource, 'WorkloadEndpoint') && resource.spec.pod === podName;
    });
    if (found === undefined) throw new Error(`no WorkloadEndpoint of pod ${podName} in ${pod.namespace}`);
    const endpoint = JSON.parse(found.value);
    change(endpoint);
    await store.put(found.key, encodeResource(validateResource(endpoint)), {
      prevRevision: found.modRevision,
    });
  });
}

/** The upstream suite's layout: namespaces x, y, z (label ns=<name>), pods a, b, c (label pod=<name>). */
export const NAMESPACES = ['x', 'y', 'z'] as const;
export const POD_NAMES = ['a', 'b', 'c'] as const;
export const PODS: readonly string[] = NAMESPACES.flatMap((ns) => POD_NAMES.map((pod) => `${ns}-${pod}`));
export const SERVED = { tcp: [80, 81], udp: [80, 81] };

/** Creates the namespaces and pods (spread round-robin over the nodes) and their servers. */
export async function createPolicyWorkloads(
  cluster: Cluster,
  nodes: readonly string[],
): Promise<ChildProcess[]> {
  for (const ns of NAMESPACES) await cluster.addNamespace(ns, { ns });
  for (const [index, name] of PODS.entries()) {
    const [ns, pod] = name.split('-') as [string, string];
    await cluster.addPod(nodes[index % nodes.length]!, name, { namespace: ns, labels: { pod } });
  }
  return startServers(cluster, PODS, SERVED);
}

/** Deletes every NetworkPolicy and GlobalNetworkPolicy, whatever wrote it. */
export async function deleteAllPolicies(cluster: Cluster): Promise<void> {
  await withStore(cluster, async (store) => {
    for (const kind of ['NetworkPolicy', 'GlobalNetworkPolicy'] as const) {
      const { items } = await store.list(resourcePrefix(kind));
      for (const item of items) await store.delete(item.key);
    }
  });
}

/** Everyone reaches everyone: what every scenario starts from. */
export const allReachable = () => new Reachability(PODS, true);

export const POLICY_NODES = ['node-1', 'node-2', 'node-3'];
/** What the agents and probes run: built by `pnpm -s build` and the cni bundle. */
const BUILT = [
  'packages/cni/dist/bundle/margay-cni.js',
  'packages/node/dist/main.js',
  'packages/ctl/dist/cli.js',
];

/**
 * One 3-node cluster per test file, with agents, the pods of `createPolicyWorkloads` and their
 * servers; every test starts from no policy, once the kernel says so too. `onUp` receives the
 * cluster and the servers once they all run.
 */
export function usePolicyCluster(
  prefix: string,
  onUp: (cluster: Cluster, servers: readonly ChildProcess[]) => void,
): void {
  const name = freshClusterName(prefix);
  let cluster: Cluster | undefined;
  let servers: ChildProcess[] = [];
  beforeAll(async () => {
    requireRoot('the network policy e2e tests');
    for (const file of BUILT) {
      const path = join(__dirname, '..', '..', file);
      if (!existsSync(path)) throw new Error(`${path} is missing: run pnpm -s build (and the cni bundle)`);
    }
    cluster = await Cluster.up({ nodes: POLICY_NODES.length, name });
    await applyPool(cluster, '10.244.0.0/16', 26);
    await Promise.all(POLICY_NODES.map((node) => cluster!.startAgent(node)));
    servers = await createPolicyWorkloads(cluster, POLICY_NODES);
    onUp(cluster, servers);
  });
  afterAll(async () => {
    await stopServers(servers);
    await Cluster.down(name);
  });
  beforeEach(async () => {
    await deleteAllPolicies(cluster!);
    await expectReachability(cluster!, [[tcp(80), allReachable()]]);
  });
}
