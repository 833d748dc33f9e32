import { Command } from 'commander';
import { Cluster } from '../cluster';
import { labelsOption } from './pod';
import { nameOption } from './shared';

export function nsCommand(): Command {
  const ns = new Command('ns').description(
    'Kubernetes namespaces, recorded as Calico does (Profile kns.<name>)',
  );
  ns.command('add')
    .description('record a namespace and its labels as the Profile kns.<name> in etcd')
    .argument('<namespace>', 'namespace name')
    .addOption(labelsOption())
    .addOption(nameOption())
    .action(async (namespace: string, options: { labels?: Record<string, string>; name: string }) => {
      await Cluster.load(options.name).addNamespace(namespace, options.labels);
      console.log(`namespace '${namespace}' recorded as Profile kns.${namespace}`);
    });
  return ns;
}
