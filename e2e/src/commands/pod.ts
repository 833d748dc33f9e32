import { Command, InvalidArgumentError, Option } from 'commander';
import { Cluster, exitStatus } from '../cluster';
import { parseLabels } from '../pods';
import { nameOption } from './shared';

/** `--labels k=v,...`, checked as it is parsed. */
export function labelsOption(): Option {
  return new Option('--labels <labels>', 'labels, e.g. app=web,tier=front').argParser((text: string) => {
    try {
      return parseLabels(text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  });
}

export function podCommand(): Command {
  const pod = new Command('pod').description('pods: network namespaces wired by margay-cni on a node');
  pod
    .command('add')
    .description('create a pod on a node through margay-cni and print its IP (needs an IPPool in etcd)')
    .argument('<node>', 'node name, e.g. node-1')
    .argument('<pod>', 'pod name (unique in the cluster)')
    .addOption(labelsOption())
    .option('--namespace <namespace>', 'Kubernetes namespace of the pod', 'default')
    .addOption(nameOption())
    .action(
      async (
        node: string,
        name: string,
        options: { labels?: Record<string, string>; namespace: string; name: string },
      ) => {
        const added = await Cluster.load(options.name).addPod(node, name, {
          labels: options.labels,
          namespace: options.namespace,
        });
        console.log(added.ip);
      },
    );
  pod
    .command('del')
    .description('delete a pod: margay-cni releases its address, then its namespace goes')
    .argument('<pod>', 'pod name')
    .addOption(nameOption())
    .action(async (name: string, options: { name: string }) => {
      await Cluster.load(options.name).deletePod(name);
    });
  pod
    .command('exec')
    .description("run a command in a pod's network namespace; its exit code is passed through")
    .argument('<pod>', 'pod name')
    .argument('<command...>', 'the command and its arguments, after --')
    .addOption(nameOption())
    .action((name: string, argv: string[], options: { name: string }) => {
      const child = Cluster.load(options.name).spawnInPod(name, argv, { stdio: 'inherit' });
      return new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code, signal) => {
          process.exitCode = exitStatus(code, signal);
          resolve();
        });
      });
    });
  pod
    .command('list')
    .description("the cluster's pods")
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(nameOption())
    .action((options: { output: 'text' | 'json'; name: string }) => {
      const pods = Cluster.load(options.name)
        .pods()
        .map(({ name, node, namespace, ip, netns, labels }) => ({
          name,
          node,
          namespace,
          ip,
          netns,
          labels,
        }));
      if (options.output === 'json') {
        console.log(JSON.stringify(pods, null, 2));
        return;
      }
      for (const p of pods) console.log(`${p.name}  ${p.node}  ${p.namespace}  ${p.ip}  ${p.netns}`);
    });
  return pod;
}
