// The benchmark's policies: POLICY_COUNT namespaced policies, every SELECT_EVERY-th selecting the
// benchmark's pods (with a rule their traffic does not match), and one more that allows it, last.
// When margay-node programs no policy, NodePolicyChains renders them with felix's renderer (the
// pure functions its policy manager uses) and writes them with the dataplane's Table and
// IpSetManager (the writers the policy manager uses).

import { type Rule as PolicyRule, type Resource, validateResource } from '@margay/api';
import {
  BackendDetector,
  type Chain,
  IpSetManager,
  ProcessRunner,
  type Rule,
  Table,
} from '@margay/dataplane';
import { DEFAULT_RENDERER, type EndpointModel, type PolicyModel } from '@margay/felix';
import { SOCKPERF_PORT } from './sockperf';
import { IPERF_PORT } from './tools';

export const POLICY_COUNT = 1000;
/** Every 20th policy selects the benchmark's pods: 50, plus the allowing one. */
export const SELECT_EVERY = 20;
export const BENCH_LABEL = { app: 'datapath-bench' } as const;
const NAMESPACE = 'default';

interface ValidatedRules {
  spec: { ingress?: PolicyRule[]; egress?: PolicyRule[] };
}

/** One benchmark policy as written in a NetworkPolicy (projectcalico.org/v3) document. */
export interface PolicySpec {
  readonly name: string;
  readonly selector: string;
  readonly ingress: readonly unknown[];
}

const BENCH_SELECTOR = `app == "${BENCH_LABEL.app}"`;

/**
 * POLICY_COUNT policies; every SELECT_EVERY-th selects the pods with a rule their traffic does not
 * match; then `bench-allow` (TCP to iperf3's and sockperf's ports, UDP to sockperf's, ICMP from
 * the pods), which sorts last.
 */
export function benchmarkPolicySpecs(count = POLICY_COUNT): PolicySpec[] {
  const specs: PolicySpec[] = [];
  for (let i = 0; i < count; i++) {
    specs.push({
      name: `bench-${i}`,
      selector: i % SELECT_EVERY === 0 ? BENCH_SELECTOR : `app == "other-${i}"`,
      ingress: [
        {
          action: 'Allow',
          protocol: 'TCP',
          source: { selector: `role == "client-${i}"` },
          destination: { ports: [10_000 + i] },
        },
      ],
    });
  }
  specs.push({
    name: 'bench-allow',
    selector: BENCH_SELECTOR,
    ingress: [
      {
        action: 'Allow',
        protocol: 'TCP',
        source: { selector: BENCH_SELECTOR },
        destination: { ports: [IPERF_PORT, SOCKPERF_PORT] },
      },
      {
        action: 'Allow',
        protocol: 'UDP',
        source: { selector: BENCH_SELECTOR },
        destination: { ports: [SOCKPERF_PORT] },
      },
      { action: 'Allow', protocol: 'ICMP', source: { selector: BENCH_SELECTOR } },
    ],
  });
  return specs;
}

/** How many of the specs select the benchmark's pods. */
export const selectingCount = (specs: readonly PolicySpec[]) =>
  specs.filter((s) => s.selector === BENCH_SELECTOR).length;

/** The validated resource; `order` keeps bench-allow last, as the renderer fallback orders it. */
export function policyResource(spec: PolicySpec, order: number): Resource {
  return validateResource(
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: { name: spec.name, namespace: NAMESPACE },
      spec: { order, selector: spec.selector, ingress: spec.ingress, types: ['Ingress'] },
    },
    `benchmark policy ${spec.name}`,
  );
}

export interface PolicySet {
  readonly policies: readonly PolicyModel[];
  /** Ids of the policies that select the benchmark's pods, in evaluation order. */
  readonly selecting: readonly string[];
  readonly profileChains: readonly Chain[];
}

/** The renderer fallback's models: what the calc graph would hand the renderer for these specs. */
export function benchmarkPolicies(specs: readonly PolicySpec[] = benchmarkPolicySpecs()): PolicySet {
  const policies: PolicyModel[] = [];
  const selecting: string[] = [];
  for (const [order, spec] of specs.entries()) {
    const resource = policyResource(spec, order) as unknown as ValidatedRules;
    const model: PolicyModel = {
      id: `${NAMESPACE}/${spec.name}`,
      namespace: NAMESPACE,
      ingress: resource.spec.ingress ?? [],
      egress: [],
    };
    policies.push(model);
    if (spec.selector === BENCH_SELECTOR) selecting.push(model.id);
  }
  const profile = validateResource(
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Profile',
      metadata: { name: 'kns.default' },
      spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
    },
    'benchmark profile',
  ) as unknown as ValidatedRules;
  const profileChains = DEFAULT_RENDERER.renderProfile({
    id: 'kns.default',
    ingress: profile.spec.ingress ?? [],
    egress: profile.spec.egress ?? [],
  }).chains;
  return { policies, selecting, profileChains };
}

export interface LocalPod {
  readonly ip: string;
  /** The host-side veth margay-cni made. */
  readonly hostVeth: string;
}

/** One node's policy dataplane (filter and nat Tables, ipsets) in its namespace. */
export class NodePolicyChains {
  private readonly filter: Table;
  private readonly nat: Table;
  private readonly ipSets: IpSetManager;
  private written: {
    filter: string[];
    nat: string[];
    hooks: Map<'filter' | 'nat', string[]>;
    sets: string[];
  } = {
    filter: [],
    nat: [],
    hooks: new Map(),
    sets: [],
  };

  constructor(readonly netns: string) {
    const runner = new ProcessRunner({ netns });
    const detector = new BackendDetector({ runner }); // as felix: one detection for both tables
    this.filter = new Table({ runner, name: 'filter', detector });
    this.nat = new Table({ runner, name: 'nat', detector });
    this.ipSets = new IpSetManager({ runner });
  }

  /** Renders everything for the node's `local` pods; `benchIps` are the members of the bench selector's set. */
  async load(
    set: PolicySet,
    local: readonly LocalPod[],
    benchIps: readonly string[],
    pools: string[],
  ): Promise<number> {
    const r = DEFAULT_RENDERER;
    const endpoints: EndpointModel[] = local.map((pod) => ({
      interfaceName: pod.hostVeth,
      tiers: [{ name: 'default', ingressPolicies: set.selecting, egressPolicies: [] }],
      profileIds: ['kns.default'],
      addresses: [`${pod.ip}/32`],
    }));
    const filter: Chain[] = [...set.profileChains];
    const sets = new Map<string, { spec: ReturnType<typeof r.ipSetSpecFor>; members: readonly string[] }>();
    for (const model of set.policies) {
      const rendered = r.renderPolicy(model);
      filter.push(...rendered.chains);
      for (const ref of rendered.ipSets) {
        const spec = r.ipSetSpecFor(ref);
        const members = ref.kind === 'selector' && ref.selector.includes(BENCH_LABEL.app) ? benchIps : [];
        sets.set(spec.name, { spec, members });
      }
    }
    for (const endpoint of endpoints) filter.push(...r.renderEndpoint(endpoint));
    filter.push(...r.renderDispatch(endpoints));
    const statics = r.renderStatic({ pools, natOutgoingPools: [] });
    filter.push(...statics.filter.chains);
    for (const { spec, members } of statics.ipSets) sets.set(spec.name, { spec, members });

    for (const { spec, members } of sets.values()) this.ipSets.replaceMembers(spec, members);
    await this.ipSets.applyUpdates();
    this.filter.updateChains(filter);
    this.nat.updateChains(statics.nat.chains);
    const hooks = new Map<'filter' | 'nat', string[]>([
      ['filter', statics.filter.hooks.map((h) => h.kernelChain)],
      ['nat', statics.nat.hooks.map((h) => h.kernelChain)],
    ]);
    for (const hook of statics.filter.hooks) this.filter.setHooks(hook.kernelChain, hook.rules as Rule[]);
    for (const hook of statics.nat.hooks) this.nat.setHooks(hook.kernelChain, hook.rules as Rule[]);
    await this.filter.apply();
    await this.nat.apply();
    this.written = {
      filter: filter.map((c) => c.name),
      nat: statics.nat.chains.map((c) => c.name),
      hooks,
      sets: [...sets.keys()],
    };
    return filter.reduce((sum, chain) => sum + chain.rules.length, 0);
  }

  /** Removes every hook, chain and set load() wrote. */
  async unload(): Promise<void> {
    for (const chain of this.written.hooks.get('filter') ?? []) this.filter.setHooks(chain, []);
    for (const chain of this.written.hooks.get('nat') ?? []) this.nat.setHooks(chain, []);
    this.filter.removeChains(this.written.filter);
    this.nat.removeChains(this.written.nat);
    await this.filter.apply();
    await this.nat.apply();
    for (const name of this.written.sets) this.ipSets.removeSet(name);
    await this.ipSets.applyDeletions();
    this.written = { filter: [], nat: [], hooks: new Map(), sets: [] };
  }
}

/** Whether margay-node's felix programs policy: its chains (`:mg-…`) are in `iptables-save`. */
export function hasOurChains(iptablesSave: string): boolean {
  return /^:mg-/m.test(iptablesSave);
}

/** Policy ingress chains (`:mg-pi-…`) declared in `iptables-save` output. */
export function ingressPolicyChains(iptablesSave: string): number {
  return iptablesSave.match(/^:mg-pi-/gm)?.length ?? 0;
}

/** Packets counted by the rules of our chains (`-A mg-…`) in `iptables-save -c` output. */
export function packetsThroughOurChains(iptablesSave: string): number {
  let packets = 0;
  for (const match of iptablesSave.matchAll(/^\[(\d+):\d+\] -A mg-/gm)) packets += Number(match[1]);
  return packets;
}
