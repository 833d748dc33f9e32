// e2e/bench/convergence: how long until every node routes a joining node's pod block (issue #5),
// margay vs BIRD 2 with Calico's mesh template in the same run, control-plane only on loopback.

import { randomInt } from 'node:crypto';
import { requireCommand, requireRoot } from '@margay/testkit';
import { Command, InvalidArgumentError, Option } from 'commander';
import { abortOnSignals, listOf, wholeNumber } from '../bench-cli';
import { runBirdCase } from './bird-cluster';
import { cleanupNow } from './cleanup';
import { runMargayCase } from './margay-cluster';
import { JOINER_ORDERS, type JoinerOrder, MAX_SIZE, planCluster, TOPOLOGIES, type Topology } from './plan';
import { DEFINITION, formatTable, type JoinMeasurement, TARGETS, type Target } from './report';

function sizes(text: string): number[] {
  return text.split(',').map((part) => {
    const value = Number(part.trim());
    if (!/^\d+$/.test(part.trim()) || value < 3 || value > MAX_SIZE)
      throw new InvalidArgumentError(`"${part}" is not a cluster size in 3..${MAX_SIZE}`);
    return value;
  });
}

interface Options {
  sizes?: number[];
  topologies: Topology[];
  targets: Target[];
  joins?: number;
  joiner: JoinerOrder;
  quick?: boolean;
  json?: boolean;
}

async function main(): Promise<void> {
  const program = new Command('convergence')
    .description(
      `Times how long a joining node's pod block takes to reach every other node, margay vs BIRD 2 (Calico's template).\n\n${DEFINITION}`,
    )
    .option('--sizes <list>', 'cluster sizes during a join, joiner included (default 10,30; quick 5)', sizes)
    .option(
      '--topologies <list>',
      'mesh and/or rr (2 route reflectors, mesh off)',
      listOf('topology', TOPOLOGIES),
      [...TOPOLOGIES],
    )
    .option('--targets <list>', 'margay and/or bird', listOf('target', TARGETS), [...TARGETS])
    .option('--joins <n>', 'joins per case (default 5; quick 2)', wholeNumber(1, 50))
    .addOption(
      new Option(
        '--joiner <order>',
        'joiner addresses above the others (it connects) or below (they connect to it)',
      )
        .choices(JOINER_ORDERS)
        .default('above'),
    )
    .option('--quick', 'one small cluster, 2 joins: a smoke run')
    .addOption(new Option('--json', 'print the measurements as JSON'))
    .parse();
  const options = program.opts<Options>();
  requireRoot('the BIRD anchor (network namespace, kernel tables)');
  requireCommand('etcd', 'etcd-server');
  requireCommand('bird', 'bird2');

  const aborted = abortOnSignals();

  const clusterSizes = options.sizes ?? (options.quick ? [5] : [10, 30]);
  const joins = options.joins ?? (options.quick ? 2 : 5);
  const subnet = `127.${randomInt(1, 255)}.${randomInt(1, 255)}`;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const results: JoinMeasurement[] = [];
  for (const topology of options.topologies) {
    for (const size of clusterSizes) {
      // Port 179 is privileged and may be taken on the host; every node listens on its own address anyway.
      const plan = planCluster(topology, size, joins, subnet, 17_900 + randomInt(0, 1000), options.joiner);
      for (const target of options.targets) {
        log(`${topology}, ${size} nodes, joiner ${options.joiner}: ${target} …`);
        const run = target === 'margay' ? runMargayCase : runBirdCase;
        results.push(...(await run(plan, aborted, log)));
      }
    }
  }
  if (options.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else process.stdout.write(`${DEFINITION}\n\n${formatTable(results)}\n`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`convergence: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(cleanupNow);
