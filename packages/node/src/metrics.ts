// Prometheus metrics in the text exposition format (version 0.0.4), written by hand: a few gauges
// do not need a client library.

import { createServer, type Server } from 'node:http';
import { FsmState } from '@margay/bgp';
import { listen } from './health';

export interface MetricsSample {
  /** BGP sessions per FSM state; states not given count 0. */
  readonly bgpPeers: Readonly<Partial<Record<FsmState, number>>>;
  /** Best routes in the speaker's Loc-RIB. */
  readonly bgpRoutes: number;
  /** Kernel routes felix has programmed; undefined when felix does not run (route-reflector mode). */
  readonly felixRoutes: number | undefined;
  /** The policy manager's and calc graph's counters; undefined when felix enforces no policy. */
  readonly felixPolicy?: FelixPolicyCounters | undefined;
  readonly datastoreInSync: boolean;
  readonly uptimeSeconds: number;
  readonly residentMemoryBytes: number;
}

export interface FelixPolicyCounters {
  readonly applies: number;
  readonly failures: number;
  readonly lastApplyDurationMs: number;
  readonly lastBytesWritten: number;
  readonly totalBytesWritten: number;
  readonly lastChainsChanged: number;
  readonly localEndpoints: number;
  readonly activePolicies: number;
  readonly activeProfiles: number;
  readonly ipSets: number;
}

/** The sample as a /metrics page. */
export function metricsText(sample: MetricsSample): string {
  const lines: string[] = [];
  const gauge = (name: string, help: string, values: readonly (readonly [string, number])[]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of values) lines.push(`${name}${labels} ${value}`);
  };
  gauge(
    'margay_bgp_peers',
    'BGP sessions by FSM state.',
    Object.values(FsmState).map((state) => [`{state="${state}"}`, sample.bgpPeers[state] ?? 0]),
  );
  gauge('margay_bgp_routes', 'Best routes in the BGP Loc-RIB.', [['', sample.bgpRoutes]]);
  if (sample.felixRoutes !== undefined) {
    gauge('margay_felix_routes', 'Kernel routes programmed by felix.', [['', sample.felixRoutes]]);
  }
  const policy = sample.felixPolicy;
  if (policy !== undefined) {
    const counter = (name: string, help: string, value: number) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);
    };
    counter('margay_felix_policy_applies_total', 'Policy applies that completed.', policy.applies);
    counter('margay_felix_policy_apply_failures_total', 'Policy applies that failed.', policy.failures);
    counter(
      'margay_felix_policy_bytes_written_total',
      'Bytes written to iptables-restore and ipset restore.',
      policy.totalBytesWritten,
    );
    gauge('margay_felix_policy_last_apply_seconds', 'Duration of the last policy apply.', [
      ['', policy.lastApplyDurationMs / 1000],
    ]);
    gauge('margay_felix_policy_last_apply_bytes', 'Bytes written by the last policy apply.', [
      ['', policy.lastBytesWritten],
    ]);
    gauge('margay_felix_policy_last_apply_chains', 'Chains changed by the last policy apply.', [
      ['', policy.lastChainsChanged],
    ]);
    gauge('margay_felix_policy_local_endpoints', 'Local endpoints policy applies to.', [
      ['', policy.localEndpoints],
    ]);
    gauge('margay_felix_policy_active_policies', 'Policies in use on this node.', [
      ['', policy.activePolicies],
    ]);
    gauge('margay_felix_policy_active_profiles', 'Profiles in use on this node.', [
      ['', policy.activeProfiles],
    ]);
    gauge('margay_felix_policy_ipsets', 'IP sets programmed by policy.', [['', policy.ipSets]]);
  }
  gauge('margay_datastore_in_sync', '1 once the datastore snapshot is complete.', [
    ['', sample.datastoreInSync ? 1 : 0],
  ]);
  gauge('margay_uptime_seconds', 'Seconds since margay-node started.', [['', sample.uptimeSeconds]]);
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', [
    ['', sample.residentMemoryBytes],
  ]);
  return `${lines.join('\n')}\n`;
}

/** Serves GET /metrics on host:port; resolves once listening. */
export function serveMetrics(
  host: string,
  port: number,
  sample: () => Promise<MetricsSample>,
): Promise<Server> {
  return listen(
    host,
    port,
    createServer((request, response) => {
      if (new URL(request.url ?? '/', 'http://node').pathname !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: use /metrics\n');
        return;
      }
      sample().then(
        (value) =>
          response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metricsText(value)),
        (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
      );
    }),
  );
}
