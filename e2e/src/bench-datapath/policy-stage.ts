// Puts the benchmark's 1,001 policies in place on margay's nodes, and takes them away again, one
// of two ways: through etcd when margay-node's felix programs policy (its chains are in the
// nodes' filter tables once the agents are up), else by rendering them with felix's renderer and
// writing them with the dataplane's Table and IpSetManager (see policy.ts). `how` says which.

import { waitFor } from '@margay/testkit';
import { type MargayCluster, NODES, POOL_CIDR, type PodPair } from './margay';
import {
  benchmarkPolicies,
  benchmarkPolicySpecs,
  hasOurChains,
  ingressPolicyChains,
  NodePolicyChains,
  policyResource,
  selectingCount,
} from './policy';

const PROGRAM_TIMEOUT_MS = 180_000;

export interface PolicyStage {
  /** For the table's note. */
  readonly how: string;
  /** True when margay-node's own policy manager programs the chains. */
  readonly byAgent: boolean;
  apply(pairs: readonly PodPair[], signal: AbortSignal): Promise<void>;
  remove(signal: AbortSignal): Promise<void>;
}

export async function choosePolicyStage(margay: MargayCluster, signal: AbortSignal): Promise<PolicyStage> {
  const programs = hasOurChains(await margay.iptablesSave('node-1', signal));
  return programs ? new ManagerStage(margay) : new RendererStage(margay);
}

/** Both nodes declare `wanted(count)` policy ingress chains. */
async function waitForChains(
  margay: MargayCluster,
  what: string,
  wanted: (count: number) => boolean,
  signal: AbortSignal,
): Promise<void> {
  await waitFor(
    what,
    async () => {
      signal.throwIfAborted();
      for (const node of NODES)
        if (!wanted(ingressPolicyChains(await margay.iptablesSave(node, signal)))) return false;
      return true;
    },
    PROGRAM_TIMEOUT_MS,
  );
}

class ManagerStage implements PolicyStage {
  readonly byAgent = true;
  private readonly specs = benchmarkPolicySpecs();
  private readonly resources = this.specs.map((spec, order) => policyResource(spec, order));
  readonly how =
    `${this.specs.length} NetworkPolicies in etcd (${selectingCount(this.specs)} select the pods), programmed by margay-node's policy manager`;

  constructor(private readonly margay: MargayCluster) {}

  async apply(_pairs: readonly PodPair[], signal: AbortSignal): Promise<void> {
    await this.margay.putPolicies(this.resources);
    const selecting = selectingCount(this.specs);
    await waitForChains(
      this.margay,
      `margay-node's felix to program the ${selecting} policies selecting the pods on both nodes`,
      (count) => count >= selecting,
      signal,
    );
  }

  async remove(signal: AbortSignal): Promise<void> {
    await this.margay.deletePolicies(this.resources);
    await waitForChains(
      this.margay,
      "margay-node's felix to remove the policies",
      (count) => count === 0,
      signal,
    );
  }
}

class RendererStage implements PolicyStage {
  readonly byAgent = false;
  private readonly set = benchmarkPolicies();
  private readonly chains: NodePolicyChains[];
  readonly how =
    `${this.set.policies.length} policies (${this.set.selecting.length} select the pods) rendered by felix's renderer and written by Table/IpSetManager (margay-node programs no policy)`;

  constructor(private readonly margay: MargayCluster) {
    this.chains = NODES.map((node) => new NodePolicyChains(margay.nodeNetns(node)));
  }

  async apply(pairs: readonly PodPair[], signal: AbortSignal): Promise<void> {
    const pods = pairs.flatMap((p) => [p.a, p.b]);
    for (const [i, node] of NODES.entries()) {
      const local = await Promise.all(
        pods.filter((p) => p.node === node).map((p) => this.margay.localPod(p, signal)),
      );
      await this.chains[i]!.load(
        this.set,
        local,
        pods.map((p) => p.ip),
        [POOL_CIDR],
      );
    }
  }

  async remove(): Promise<void> {
    for (const chains of this.chains) await chains.unload();
  }
}
