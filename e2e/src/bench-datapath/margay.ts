// margay's side: a two-node harness cluster (one subnet, the router knows no pod routes) with
// margay-node on both nodes in BGP mode (full mesh, pool with ipipMode and vxlanMode Never); later
// the pool is flipped live to vxlanMode Always and a second pair of pods is added (margay-cni gives
// them the VXLAN MTU, as a new pod would get).

import { randomBytes } from 'node:crypto';
import { encodeResource, type Resource, resourceKey, validateResource } from '@margay/api';
import { EtcdDatastore } from '@margay/datastore';
import { waitFor } from '@margay/testkit';
import { Cluster } from '../cluster';
import type { PodInfo } from '../pods';
import { BENCH_LABEL, type LocalPod } from './policy';
import { mustRunIn } from './tools';

export const POOL_CIDR = '10.244.0.0/16';
export const NODES = ['node-1', 'node-2'] as const;
const ROUTES_TIMEOUT_MS = 60_000;
/** etcd allows 128 operations per transaction by default. */
const TXN_OPS = 100;

export interface PodPair {
  readonly a: PodInfo;
  readonly b: PodInfo;
  readonly mtu: number;
}

export class MargayCluster {
  private constructor(
    readonly cluster: Cluster,
    private readonly store: EtcdDatastore,
  ) {}

  static freshName(): string {
    return `datapath-${randomBytes(3).toString('hex')}`;
  }

  /** Brings the cluster up (the caller tears it down with Cluster.down(name), also on failure). */
  static async up(name: string, log: (line: string) => void): Promise<MargayCluster> {
    const cluster = await Cluster.up({ nodes: NODES.length, name, subnets: 1 });
    const store = new EtcdDatastore({ endpoints: cluster.status().etcd.endpoints });
    const margay = new MargayCluster(cluster, store);
    await margay.writePool('Never');
    await margay.write(
      resource('Profile', 'kns.default', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }),
    );
    await Promise.all(NODES.map((node) => cluster.startAgent(node)));
    log(`margay: cluster ${name} up, agents ready`);
    return margay;
  }

  nodeNetns(node: (typeof NODES)[number]): string {
    return this.cluster.node(node).netns;
  }

  nodeAddress(node: (typeof NODES)[number]): string {
    return this.cluster.node(node).address.split('/')[0]!;
  }

  writePool(vxlanMode: 'Never' | 'Always'): Promise<void> {
    return this.write(
      resource('IPPool', 'pods', { cidr: POOL_CIDR, blockSize: 26, ipipMode: 'Never', vxlanMode }),
    );
  }

  /** A pod on each node, reachable from the other; its MTU as margay-cni set it. */
  async addPods(label: string, signal: AbortSignal): Promise<PodPair> {
    const a = await this.cluster.addPod('node-1', `${label}-a`, { labels: { ...BENCH_LABEL } });
    const b = await this.cluster.addPod('node-2', `${label}-b`, { labels: { ...BENCH_LABEL } });
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      await waitFor(
        `margay pod ${from.name} to reach ${to.name} (${to.ip})`,
        async () => {
          signal.throwIfAborted();
          return (await this.cluster.execInPod(from.name, ['ping', '-c', '1', '-W', '1', to.ip])).code === 0;
        },
        ROUTES_TIMEOUT_MS,
      );
    }
    const [link] = JSON.parse(
      await mustRunIn(a.netns, ['ip', '-j', 'link', 'show', 'dev', 'eth0'], signal),
    ) as {
      mtu: number;
    }[];
    return { a, b, mtu: link!.mtu };
  }

  /** Waits until node-1 routes `pod`'s address through vxlan.margay. */
  async waitForVxlanRoute(pod: PodInfo, signal: AbortSignal): Promise<void> {
    await waitFor(
      `node-1 to route ${pod.ip} through vxlan.margay`,
      async () => {
        signal.throwIfAborted();
        const route = await mustRunIn(this.nodeNetns('node-1'), ['ip', 'route', 'get', pod.ip], signal);
        return route.includes('dev vxlan.margay');
      },
      ROUTES_TIMEOUT_MS,
    );
  }

  /** The pod's route on its node tells the host-side veth margay-cni made. */
  async localPod(pod: PodInfo, signal: AbortSignal): Promise<LocalPod> {
    const netns = this.cluster.node(pod.node).netns;
    const [route] = JSON.parse(
      await mustRunIn(netns, ['ip', '-j', 'route', 'show', 'exact', `${pod.ip}/32`], signal),
    ) as { dev?: string }[];
    if (!route?.dev) throw new Error(`no /32 route to pod ${pod.name} (${pod.ip}) on ${pod.node}`);
    return { ip: pod.ip, hostVeth: route.dev };
  }

  /** Writes (or deletes) the policies in etcd, 100 keys per transaction. */
  async putPolicies(resources: readonly Resource[]): Promise<void> {
    for (let i = 0; i < resources.length; i += TXN_OPS)
      await this.store.txn(
        [],
        resources.slice(i, i + TXN_OPS).map((r) => ({
          op: 'put' as const,
          key: resourceKey(r.kind, r.metadata.name, r.metadata.namespace),
          value: encodeResource(r),
        })),
      );
  }

  async deletePolicies(resources: readonly Resource[]): Promise<void> {
    for (let i = 0; i < resources.length; i += TXN_OPS)
      await this.store.txn(
        [],
        resources.slice(i, i + TXN_OPS).map((r) => ({
          op: 'delete' as const,
          key: resourceKey(r.kind, r.metadata.name, r.metadata.namespace),
        })),
      );
  }

  iptablesSave(node: (typeof NODES)[number], signal: AbortSignal): Promise<string> {
    return mustRunIn(this.nodeNetns(node), ['iptables-save', '-c', '-t', 'filter'], signal);
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  private async write(r: Resource): Promise<void> {
    await this.store.put(resourceKey(r.kind, r.metadata.name), encodeResource(r));
  }
}

function resource(kind: string, name: string, spec: object): Resource {
  return validateResource(
    { apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec },
    'datapath bench',
  );
}
