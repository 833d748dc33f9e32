// Helpers for the routing e2e tests: an IPPool, pings and TCP between pods, routes by proto, and a
// long-running ping whose loss is counted.
import type { ChildProcess } from 'node:child_process';
import { encodeResource, resourceKey, validateResource } from '@margay/api';
import { ROUTE_PROTO } from '@margay/dataplane';
import { EtcdDatastore } from '@margay/datastore';
import { waitFor } from '@margay/testkit';
import type { Cluster } from './cluster';
import { ip } from './ip';

/** rtnetlink protocol numbers of margay's routes: the BGP speaker's FIB, felix's routes, tunnels. */
export const PROTO = ROUTE_PROTO;

/** Stores an IPPool (no encapsulation: the nodes share a subnet). */
export async function applyPool(cluster: Cluster, cidr: string, blockSize: number): Promise<void> {
  const pool = validateResource({
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name: 'pods' },
    spec: { cidr, blockSize, ipipMode: 'Never', vxlanMode: 'Never' },
  });
  await withStore(cluster, (store) => store.put(resourceKey('IPPool', 'pods'), encodeResource(pool)));
}

export async function withStore<T>(cluster: Cluster, use: (store: EtcdDatastore) => Promise<T>): Promise<T> {
  const store = new EtcdDatastore({ endpoints: cluster.status().etcd.endpoints });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** One ping from pod `from` to pod `to`'s address; true if answered. */
export async function pings(cluster: Cluster, from: string, to: string): Promise<boolean> {
  const run = await cluster.execInPod(from, ['ping', '-c', '1', '-W', '1', cluster.pod(to).ip]);
  return run.code === 0;
}

/** Waits until `from` reaches `to` (routes take a moment to spread), failing with both pods named. */
export function waitForPing(cluster: Cluster, from: string, to: string, timeoutMs = 20_000): Promise<void> {
  return waitFor(
    `pod ${from} to reach ${to} (${cluster.pod(to).ip})`,
    () => pings(cluster, from, to),
    timeoutMs,
  );
}

/** Destinations of the node's routes with rtnetlink protocol `proto`. */
export function routesOf(cluster: Cluster, node: string, proto: number): string[] {
  const shown = JSON.parse(ip('-n', cluster.node(node).netns, '-j', 'route', 'show', 'proto', String(proto)));
  return (shown as { dst: string }[]).map((route) => route.dst).sort();
}

/** The /N block a pod's address was given from, as `ip route` shows it. */
export function blockOf(address: string, blockSize: number): string {
  const value = address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const base = value - (value % 2 ** (32 - blockSize));
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(base / 2 ** shift) % 256);
  return `${octets.join('.')}/${blockSize}`;
}

/** A TCP server in a pod that answers every connection with `greeting` and closes it. */
export async function startTcpServer(cluster: Cluster, pod: string, port: number, greeting: string) {
  const script = `require('node:net').createServer((s) => s.end(${JSON.stringify(greeting)}))
    .listen(${port}, '0.0.0.0', () => console.log('listening'));`;
  const child = cluster.spawnInPod(pod, [process.execPath, '-e', script]);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  await waitFor(`the TCP server in pod ${pod} to listen`, () => {
    if (child.exitCode !== null) throw new Error(`it exited: ${output}`);
    return output.includes('listening');
  });
  return child;
}

/** Connects from pod `from` to `address:port` and returns what the server sent. */
export async function tcpFetch(
  cluster: Cluster,
  from: string,
  address: string,
  port: number,
): Promise<string> {
  const script = `const s = require('node:net').connect(${port}, ${JSON.stringify(address)});
    let got = ''; s.setEncoding('utf8'); s.on('data', (d) => { got += d; });
    s.on('end', () => { process.stdout.write(got); process.exit(0); });
    s.on('error', (e) => { console.error(e.message); process.exit(1); });
    s.setTimeout(3000, () => { console.error('timed out'); process.exit(1); });`;
  const run = await cluster.execInPod(from, [process.execPath, '-e', script]);
  if (run.code !== 0) throw new Error(`TCP from ${from} to ${address}:${port} failed: ${run.stderr.trim()}`);
  return run.stdout;
}

export interface PingCount {
  /** Echo replies received. */
  received: number;
  /** Sequence numbers up to the last answered one that got no reply: lost packets. */
  lost: number[];
}

/**
 * A ping from a pod every 50 ms until `stop()`, which interrupts it and reports the replies. Loss
 * is counted as gaps before the last reply, so the one request in flight at the interrupt is not.
 */
export function continuousPing(cluster: Cluster, from: string, to: string) {
  const child: ChildProcess = cluster.spawnInPod(from, ['ping', '-i', '0.05', '-W', '1', cluster.pod(to).ip]);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const ended = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    /** Replies so far. */
    replies(): number {
      return output.match(/icmp_seq=\d+ ttl=/g)?.length ?? 0;
    },
    async stop(): Promise<PingCount> {
      child.kill('SIGINT');
      await ended;
      const answered = new Set([...output.matchAll(/icmp_seq=(\d+) ttl=/g)].map((m) => Number(m[1])));
      const last = Math.max(0, ...answered);
      const lost: number[] = [];
      for (let seq = 1; seq <= last; seq++) if (!answered.has(seq)) lost.push(seq);
      return { received: answered.size, lost };
    },
  };
}

/** margay-node's Prometheus figures on a node, by metric line (name with labels). */
export async function agentMetrics(cluster: Cluster, node: string): Promise<Map<string, number>> {
  const script = `require('node:http').get('http://127.0.0.1:9091/metrics', (r) => {
    let body = ''; r.setEncoding('utf8'); r.on('data', (d) => { body += d; });
    r.on('end', () => process.stdout.write(body)); }).on('error', (e) => { console.error(e.message); process.exit(1); });`;
  const run = await cluster.exec(node, [process.execPath, '-e', script]);
  if (run.code !== 0) throw new Error(`metrics of ${node}: ${run.stderr.trim()}`);
  const metrics = new Map<string, number>();
  for (const line of run.stdout.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    metrics.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return metrics;
}

/** How many BGP peers the node's speaker has configured, whatever their state. */
export async function configuredPeers(cluster: Cluster, node: string): Promise<number> {
  const metrics = await agentMetrics(cluster, node);
  return [...metrics]
    .filter(([name]) => name.startsWith('margay_bgp_peers{'))
    .reduce((sum, [, n]) => sum + n, 0);
}

/** How many of the node's BGP sessions are established. */
export async function establishedPeers(cluster: Cluster, node: string): Promise<number> {
  return (await agentMetrics(cluster, node)).get('margay_bgp_peers{state="Established"}') ?? 0;
}
