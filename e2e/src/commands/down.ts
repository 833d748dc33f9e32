import { Command, Option } from 'commander';
import { Cluster } from '../cluster';
import { nameOption } from './shared';

export function downCommand(): Command {
  return new Command('down')
    .description('bring a cluster down (even a half-built one); does nothing if it is not up')
    .addOption(nameOption())
    .addOption(
      new Option(
        '--all',
        'every cluster, and whatever crashed runs left behind (namespaces, links, etcds)',
      ).conflicts('name'),
    )
    .action(async (options: { name: string; all?: boolean }) => {
      if (options.all) {
        await Cluster.downAll();
        console.log('every e2e cluster is down');
      } else {
        await Cluster.down(options.name);
        console.log(`cluster '${options.name}' is down`);
      }
    });
}
