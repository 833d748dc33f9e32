import { Command } from 'commander';
import { Cluster, DEFAULT_CLUSTER_NAME } from '../cluster';
import { formatSummary, nameOption, wholeNumber } from './shared';

export function upCommand(): Command {
  return new Command('up')
    .description('bring a cluster up: node namespaces on bridged subnets behind a router namespace, and etcd')
    .requiredOption('--nodes <count>', 'number of nodes, node-1..node-N (1-244)', wholeNumber)
    .option('--subnets <count>', 'number of node subnets, nodes spread round-robin (1-7)', wholeNumber, 1)
    .addOption(nameOption())
    .action(async (options: { nodes: number; subnets: number; name: string }) => {
      const cluster = await Cluster.up(options);
      const nameFlag = cluster.name === DEFAULT_CLUSTER_NAME ? '' : ` --name ${cluster.name}`;
      console.log(formatSummary(cluster.status()));
      console.log(`\nrun in a node:   e2e/cluster exec${nameFlag} node-1 -- ip addr`);
      console.log(`etcd from here:  eval "$(e2e/cluster env${nameFlag})"`);
      console.log(`bring it down:   e2e/cluster down${nameFlag}`);
    });
}
