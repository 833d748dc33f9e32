import { Command } from 'commander';
import { Cluster } from '../cluster';
import { nameOption } from './shared';

export function envCommand(): Command {
  return new Command('env')
    .description('print the shell environment for using the cluster from the host: eval "$(e2e/cluster env)"')
    .addOption(nameOption())
    .action((options: { name: string }) => {
      const { etcd } = Cluster.load(options.name).status();
      console.log(`export ETCD_ENDPOINTS=${etcd.endpoints.join(',')}`);
    });
}
