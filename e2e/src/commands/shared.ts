// Pieces every subcommand uses: the --name option and the human summary of a cluster.
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CLUSTER_NAME } from '../cluster';
import type { ClusterStatus } from '../state';

export function nameOption(): Option {
  return new Option('--name <name>', 'cluster name').default(DEFAULT_CLUSTER_NAME);
}

export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number.');
  return Number(value);
}

export function formatSummary(status: ClusterStatus): string {
  const { etcd, router, subnets, nodes } = status;
  const gateway = new Map(subnets.map((s) => [s.index, s.gateway]));
  const rows = [
    ['etcd', etcd.endpoints.join(','), `nodes use ${etcd.nodeEndpoints.join(',')}, pid ${etcd.pid}`],
    ['router', router.netns, router.addresses.join(' ')],
    ...nodes.map((n) => [
      n.name,
      n.netns,
      `${n.address} on subnet ${n.subnet}, gateway ${gateway.get(n.subnet)}`,
    ]),
  ];
  const width = (column: number) => Math.max(...rows.map((row) => row[column]!.length));
  const lines = rows.map(([a, b, c]) => `  ${a!.padEnd(width(0))}  ${b!.padEnd(width(1))}  ${c}`);
  return [`cluster '${status.name}' (slot ${status.slot})`, ...lines].join('\n');
}
