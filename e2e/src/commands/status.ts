import { Command, Option } from 'commander';
import { Cluster } from '../cluster';
import { formatSummary, nameOption } from './shared';

export function statusCommand(): Command {
  return new Command('status')
    .description("show a cluster's etcd, router, subnets and nodes")
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(nameOption())
    .action((options: { output: 'text' | 'json'; name: string }) => {
      const status = Cluster.load(options.name).status();
      console.log(options.output === 'json' ? JSON.stringify(status, null, 2) : formatSummary(status));
    });
}
