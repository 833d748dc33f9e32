import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { Cluster } from '../cluster';
import { nameOption } from './shared';

interface Target {
  name: string;
  all?: boolean;
}

/** The nodes a command is for: the one named, or every node with --all (exactly one of the two). */
function targets(cluster: Cluster, node: string | undefined, options: Target): string[] {
  if (options.all && node) throw new Error(`give a node or --all, not both (got ${node} and --all)`);
  if (options.all) return cluster.status().nodes.map((n) => n.name);
  if (!node) throw new Error('give a node (e.g. node-1) or --all');
  cluster.node(node); // throws naming the cluster's nodes
  return [node];
}

export function agentCommand(): Command {
  const agent = new Command('agent').description('margay-node, the node agent, on the cluster nodes');
  agent
    .command('start')
    .description('start margay-node on a node (or every node) and wait until it is ready')
    .argument('[node]', 'node name, e.g. node-1')
    .option('--all', 'every node of the cluster')
    .option('--log-level <level>', 'margay-node --log-level (debug, info, warn, error)')
    .addOption(nameOption())
    .action(async (node: string | undefined, options: Target & { logLevel?: string }) => {
      const cluster = Cluster.load(options.name);
      const args = options.logLevel ? ['--log-level', options.logLevel] : [];
      const nodes = targets(cluster, node, options);
      await Promise.all(nodes.map((n) => cluster.startAgent(n, { args })));
      for (const n of nodes) console.log(`margay-node is ready on ${n} (log: ${cluster.agentLog(n)})`);
    });
  agent
    .command('stop')
    .description('stop margay-node on a node (or every node where it runs); routes stay in the kernel')
    .argument('[node]', 'node name, e.g. node-1')
    .option('--all', 'every node of the cluster')
    .addOption(
      new Option('--signal <signal>', 'signal to send (SIGKILL follows after 10 s)')
        .choices(['SIGTERM', 'SIGINT', 'SIGKILL'])
        .default('SIGTERM'),
    )
    .addOption(nameOption())
    .action(async (node: string | undefined, options: Target & { signal: NodeJS.Signals }) => {
      const cluster = Cluster.load(options.name);
      const running = new Set(cluster.runningAgents());
      const nodes = targets(cluster, node, options).filter((n) => !options.all || running.has(n));
      await Promise.all(nodes.map((n) => cluster.stopAgent(n, options.signal)));
      for (const n of nodes) console.log(`margay-node on ${n} has stopped`);
    });
  agent
    .command('logs')
    .description("print a node's margay-node log (JSON lines, every run appended)")
    .argument('<node>', 'node name, e.g. node-1')
    .addOption(nameOption())
    .action((node: string, options: { name: string }) => {
      const log = Cluster.load(options.name).agentLog(node);
      try {
        process.stdout.write(readFileSync(log, 'utf8'));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        throw new Error(`no log yet: margay-node was never started on ${node} (${log})`);
      }
    });
  return agent;
}
