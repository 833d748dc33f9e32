import { Command } from 'commander';
import { Cluster, exitStatus } from '../cluster';
import { nameOption } from './shared';

export function execCommand(): Command {
  return new Command('exec')
    .description("run a command in a node's network namespace, with ETCD_ENDPOINTS and MARGAY_NODE_NAME set")
    .argument('<node>', 'node name, e.g. node-1')
    .argument('<command...>', 'the command and its arguments, after --')
    .addOption(nameOption())
    .action((node: string, argv: string[], options: { name: string }) => {
      const child = Cluster.load(options.name).spawn(node, argv, { stdio: 'inherit' });
      return new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code, signal) => {
          process.exitCode = exitStatus(code, signal);
          resolve();
        });
      });
    });
}
