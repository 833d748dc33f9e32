// e2e/bench/bgp-throughput: the bgperf-style benchmark of issue #3. For each case and target, in
// one run: tester → daemon under test → monitor(s) on loopback, timed and RSS-sampled; printed
// as one table per case (or JSON).

import { Command, Option } from 'commander';
import { abortOnSignals, listOf, wholeNumber } from '../bench-cli';
import {
  CASES,
  type CaseName,
  caseSettings,
  DEFAULT_ROUTES,
  DEFAULT_RR_CLIENTS,
  GOBGP_MAX_DELIVERIES,
} from './cases';
import { formatTable } from './report';
import { type Measurement, measure } from './runner';
import { TARGETS, type TargetName } from './targets';
import { MAX_ROUTES } from './workload';

interface Options {
  case?: CaseName;
  routes?: number;
  targets: TargetName[];
  rrClients: number;
  json?: boolean;
}

async function main(): Promise<void> {
  const program = new Command('bgp-throughput')
    .description(
      `Times how long each daemon takes to pass N IPv4 /32s from a tester peer to monitor peers, with its peak RSS.
The relay target forwards bytes without BGP work: it is the harness's own ceiling.
GoBGP's routes are capped at ${GOBGP_MAX_DELIVERIES.toLocaleString('en-US')} ÷ monitor sessions.`,
    )
    .addOption(new Option('--case <name>', 'run one case (default: all)').choices(CASES))
    .option('--routes <n>', 'routes per case (default: 1,000,000; rr 100,000)', wholeNumber(1, MAX_ROUTES))
    .option('--targets <list>', 'comma-separated targets', listOf('target', TARGETS), [...TARGETS])
    .option('--rr-clients <n>', 'monitor sessions in the rr case', wholeNumber(1, 240), DEFAULT_RR_CLIENTS)
    .option('--json', 'print the measurements as JSON')
    .parse();
  const options = program.opts<Options>();

  const aborted = abortOnSignals();

  const results: Measurement[] = [];
  for (const name of options.case ? [options.case] : CASES) {
    const settings = caseSettings(name, options.routes ?? DEFAULT_ROUTES[name], options.rrClients);
    const measured: Measurement[] = [];
    for (const target of options.targets) {
      process.stderr.write(`${name}: ${target} …\n`);
      measured.push(await measure(target, settings, aborted));
    }
    results.push(...measured);
    if (!options.json) {
      const title = `${name}: ${settings.routes.toLocaleString('en-US')} routes, ${settings.perUpdate} per UPDATE, ${settings.monitors} monitor session(s)`;
      process.stdout.write(`${formatTable(title, measured)}\n\n`);
    }
  }
  if (options.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bgp-throughput: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
