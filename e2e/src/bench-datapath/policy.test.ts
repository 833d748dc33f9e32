import {
  BENCH_LABEL,
  benchmarkPolicies,
  benchmarkPolicySpecs,
  hasOurChains,
  ingressPolicyChains,
  POLICY_COUNT,
  packetsThroughOurChains,
  policyResource,
  SELECT_EVERY,
  selectingCount,
} from './policy';
import { SOCKPERF_PORT } from './sockperf';
import { IPERF_PORT } from './tools';

describe('benchmark policies', () => {
  const specs = benchmarkPolicySpecs();

  it('are POLICY_COUNT policies plus the allowing one, every SELECT_EVERY-th selecting the pods', () => {
    expect(specs).toHaveLength(POLICY_COUNT + 1);
    expect(selectingCount(specs)).toBe(POLICY_COUNT / SELECT_EVERY + 1);
    expect(specs.at(-1)!.name).toBe('bench-allow');
    expect(specs.at(-1)!.selector).toBe(`app == "${BENCH_LABEL.app}"`);
  });

  it('validate as NetworkPolicies, the allowing one ordered last', () => {
    const last = policyResource(specs.at(-1)!, specs.length - 1) as unknown as {
      kind: string;
      metadata: { namespace: string };
      spec: { order: number; ingress: { protocol?: string; destination?: { ports?: number[] } }[] };
    };
    expect(last.kind).toBe('NetworkPolicy');
    expect(last.metadata.namespace).toBe('default');
    expect(last.spec.order).toBe(POLICY_COUNT);
    expect(last.spec.ingress[0]!.destination!.ports).toEqual([IPERF_PORT, SOCKPERF_PORT]);
    expect(last.spec.ingress[1]).toMatchObject({ protocol: 'UDP', destination: { ports: [SOCKPERF_PORT] } });
  });

  it('render (renderer fallback) with the selecting ones in order, bench-allow last', () => {
    const set = benchmarkPolicies(benchmarkPolicySpecs(40));
    expect(set.policies).toHaveLength(41);
    expect(set.selecting).toEqual(['default/bench-0', 'default/bench-20', 'default/bench-allow']);
    expect(set.profileChains.length).toBeGreaterThan(0);
  });
});

describe('iptables-save readers', () => {
  const saved = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:mg-FORWARD - [0:0]
:mg-pi-default/bench-0 - [0:0]
:mg-pi-default/bench-allow - [0:0]
[7:700] -A FORWARD -m comment --comment "mg:x" -j mg-FORWARD
[5:500] -A mg-FORWARD -j ACCEPT
[9:900] -A INPUT -j ACCEPT
COMMIT
`;

  it('count our packets, our policy chains, and tell whether any chain is ours', () => {
    expect(packetsThroughOurChains(saved)).toBe(5);
    expect(ingressPolicyChains(saved)).toBe(2);
    expect(hasOurChains(saved)).toBe(true);
    expect(hasOurChains('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n')).toBe(false);
  });
});
