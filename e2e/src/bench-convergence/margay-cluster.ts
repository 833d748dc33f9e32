// The margay side of one convergence case: a real etcd, one margay node process per node
// (packages/node's bench/convergence-node: registration + BgpAgent + in-process speaker on its
// own loopback address, FIB changes stamped instead of written to the kernel), then one join
// after another, each timed from the joiner's "go" to the last node's FIB change.

import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { API_VERSION, type Resource, resourceKey, validateResource, writeResource } from '@margay/api';
import { EtcdDatastore } from '@margay/datastore';
import { EtcdServer, waitFor } from '@margay/testkit';
import { cpuSeconds, rssBytes, stopProcess, trackProcess } from './cleanup';
import { type ClusterPlan, type PlannedNode, POOL_CIDR, RR_CLUSTER_ID, RR_LABEL } from './plan';
import type { JoinMeasurement } from './report';

/** The child's protocol (see packages/node/src/bench/convergence-node.ts). */
type NodeMessage =
  | { type: 'ready'; block: string }
  | { type: 'started'; at: string }
  | { type: 'speaker'; at: string }
  | { type: 'peer'; address: string; state: string; at: string }
  | { type: 'route'; kind: 'added' | 'changed' | 'removed'; prefix: string; at: string }
  | { type: 'failed'; reason: string };

const CHILD = resolve(
  __dirname,
  '..',
  '..',
  '..',
  'packages',
  'node',
  'dist',
  'bench',
  'convergence-node.js',
);
const START_TIMEOUT_MS = 240_000;
const JOIN_TIMEOUT_MS = 60_000;
const LEAVE_TIMEOUT_MS = 20_000;

const seconds = (from: string, to: string) => Number(BigInt(to) - BigInt(from)) / 1e9;

class NodeChild {
  readonly process: ChildProcess;
  block: string | undefined;
  started: string | undefined;
  speaker: string | undefined;
  /** prefix → when it last became a best route; absent once removed. */
  readonly routes = new Map<string, string>();
  readonly established = new Map<string, string>();
  failure: string | undefined;

  constructor(
    readonly node: PlannedNode,
    etcdEndpoints: string[],
  ) {
    const settings = {
      etcdEndpoints,
      nodeName: node.name,
      ipv4Address: `${node.address}/8`,
      routeReflectorClusterID: node.routeReflector ? RR_CLUSTER_ID : undefined,
      labels: node.routeReflector ? { [RR_LABEL]: 'true' } : undefined,
    };
    this.process = trackProcess(fork(CHILD, [JSON.stringify(settings)], { stdio: 'inherit' }));
    this.process.on('message', (message: NodeMessage) => this.receive(message));
    this.process.once('exit', (code, signal) => {
      this.failure ??= code === 0 ? undefined : `node ${node.name} exited (${signal ?? `code ${code}`})`;
    });
  }

  private receive(message: NodeMessage): void {
    switch (message.type) {
      case 'ready':
        this.block = message.block;
        break;
      case 'started':
        this.started = message.at;
        break;
      case 'speaker':
        this.speaker = message.at;
        break;
      case 'peer':
        if (message.state === 'Established') this.established.set(message.address, message.at);
        break;
      case 'route':
        if (message.kind === 'removed') this.routes.delete(message.prefix);
        else if (message.kind === 'added') this.routes.set(message.prefix, message.at);
        break;
      case 'failed':
        this.failure = `node ${this.node.name}: ${message.reason}`;
        break;
    }
  }

  /** Throws the child's failure, so a wait ends at once instead of timing out. */
  check(): void {
    if (this.failure) throw new Error(this.failure);
  }

  go(): void {
    this.process.send({ type: 'go' });
  }

  rss(): number {
    return rssBytes(this.process.pid);
  }

  cpu(): number {
    return cpuSeconds(this.process.pid);
  }

  stop(): Promise<void> {
    return stopProcess(this.process);
  }
}

function resource(kind: string, name: string, spec: unknown, labels?: Record<string, string>): Resource {
  return validateResource(
    { apiVersion: API_VERSION, kind, metadata: { name, labels }, spec },
    'benchmark',
  ) as Resource;
}

/** The cluster-wide resources Calico's docs set up for a mesh, or for two reflectors with the mesh off. */
async function writeClusterResources(store: EtcdDatastore, plan: ClusterPlan): Promise<void> {
  const mesh = plan.topology === 'mesh';
  await writeResource(
    store,
    resource('BGPConfiguration', 'default', {
      asNumber: 64512,
      bindMode: 'NodeIP',
      listenPort: plan.port,
      nodeToNodeMeshEnabled: mesh,
    }),
  );
  await writeResource(store, resource('IPPool', 'bench', { cidr: POOL_CIDR, blockSize: 26 }));
  if (mesh) return;
  await writeResource(
    store,
    resource('BGPPeer', 'to-reflectors', { nodeSelector: 'all()', peerSelector: `${RR_LABEL} == 'true'` }),
  );
  await writeResource(
    store,
    resource('BGPPeer', 'reflectors-to-clients', {
      nodeSelector: `${RR_LABEL} == 'true'`,
      peerSelector: `!has(${RR_LABEL})`,
    }),
  );
}

export type CaseLog = (line: string) => void;

export async function runMargayCase(
  plan: ClusterPlan,
  signal: AbortSignal,
  log: CaseLog,
): Promise<JoinMeasurement[]> {
  if (!existsSync(CHILD))
    throw new Error(`the margay node process is not built (${CHILD} is missing): run pnpm -s build`);
  const etcd = await EtcdServer.start();
  const admin = new EtcdDatastore({ endpoints: etcd.endpoints });
  const children: NodeChild[] = [];
  const aborted = () => signal.throwIfAborted();
  try {
    await writeClusterResources(admin, plan);
    const existing = plan.existing.map((node) => new NodeChild(node, etcd.endpoints));
    children.push(...existing);
    /** True, or throws the first failure: waits end at once when a node dies or on Ctrl-C. */
    const allChecked = (nodes: NodeChild[]): true => {
      aborted();
      for (const n of nodes) n.check();
      return true;
    };
    await waitFor(
      'every node process ready',
      () => allChecked(existing) && existing.every((n) => n.block !== undefined),
      START_TIMEOUT_MS,
    );
    for (const n of existing) n.go();
    await waitFor(
      'the existing nodes to converge',
      () => {
        allChecked(existing);
        return existing.every((n) => existing.every((o) => o === n || n.routes.has(o.block!)));
      },
      START_TIMEOUT_MS,
    );
    log(`margay ${plan.topology} ${plan.size}: ${existing.length} nodes converged`);

    const results: JoinMeasurement[] = [];
    for (const [j, node] of plan.joiners.entries()) {
      const joiner = new NodeChild(node, etcd.endpoints);
      children.push(joiner);
      await waitFor(
        `joiner ${node.name} ready`,
        () => allChecked([...existing, joiner]) && joiner.block !== undefined,
        START_TIMEOUT_MS,
      );
      const block = joiner.block!;
      const cpuBefore = existing.reduce((sum, n) => sum + n.cpu(), 0);
      joiner.go();
      await waitFor(
        `every node to route ${node.name}'s block ${block}`,
        () =>
          allChecked([...existing, joiner]) && !!joiner.started && existing.every((n) => n.routes.has(block)),
        JOIN_TIMEOUT_MS,
      );
      const cpuUsed = existing.reduce((sum, n) => sum + n.cpu(), 0) - cpuBefore;
      const start = joiner.started!;
      const times = existing.map((n) => seconds(start, n.routes.get(block)!));
      const sessions = [...joiner.established.values()].map((at) => seconds(start, at));
      const measurement: JoinMeasurement = {
        target: 'margay',
        topology: plan.topology,
        size: plan.size,
        joinerOrder: plan.joinerOrder,
        join: j + 1,
        seconds: Math.max(...times),
        firstSeconds: Math.min(...times),
        speakerSeconds: joiner.speaker ? seconds(start, joiner.speaker) : undefined,
        joinerRssBytes: joiner.rss(),
        meanRssBytes: existing.reduce((sum, n) => sum + n.rss(), 0) / existing.length,
        meanCpuSeconds: cpuUsed / existing.length,
      };
      results.push(measurement);
      log(
        `margay ${plan.topology} ${plan.size} join ${j + 1}: ${measurement.seconds.toFixed(3)} s ` +
          `(speaker up ${measurement.speakerSeconds?.toFixed(3)} s, joiner's sessions established ` +
          `${sessions.length > 0 ? `${Math.min(...sessions).toFixed(3)}–${Math.max(...sessions).toFixed(3)}` : '—'} s)`,
      );
      await joiner.stop();
      await admin.delete(resourceKey('Node', node.name));
      try {
        await waitFor(
          `every node to drop ${block}`,
          () => existing.every((n) => !n.routes.has(block)),
          LEAVE_TIMEOUT_MS,
        );
      } catch (error) {
        log(`margay: ${(error as Error).message} (continuing)`);
      }
    }
    return results;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await admin.close();
    await etcd.stop();
  }
}
