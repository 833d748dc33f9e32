// e2e/bench/bgp-throughput: the bgperf-style benchmark of issue #3. For each case and target, in
// one run: tester → daemon under test → monitor(s) on loopback, timed and RSS-sampled; printed
// as one table per case (or JSON).

import { Command } from 'commander';
import { abortOnSignals, listOf, wholeNumber } from '../bench-cli';
import {
  CASES,
  type CaseName,
  caseSettings,
  DEFAULT_ROUTES,
  DEFAULT_RR_CLIENTS,
  GOBGP_MAX_DELIVERIES,
} from './cases';
import { nodeFlagSet } from './node-flags';
import { formatTable } from './report';
import { type Measurement, measure } from './runner';
import { TARGETS, type TargetName } from './targets';
import { MAX_ROUTES } from './workload';

interface Options {
  case?: CaseName[];
  routes?: number;
  targets: TargetName[];
  rrClients: number;
  margayFlags: string[];
  json?: boolean;
}

async function main(): Promise<void> {
  const program = new Command('bgp-throughput')
    .description(
      `Times how long each daemon takes to pass N IPv4 /32s from a tester peer to monitor peers, with the CPU time it used, its idle RSS (sessions up, no routes), its peak RSS and the growth above idle per route.
The relay target forwards bytes without BGP work: it is the harness's own ceiling.
margay runs through bin/margay-bgpd, with that launcher's V8 flags unless --margay-flags replaces them.
GoBGP's routes are capped at ${GOBGP_MAX_DELIVERIES.toLocaleString('en-US')} ÷ monitor sessions.`,
    )
    .option(
      '--case <list>',
      `comma-separated cases (${CASES.join(', ')}; default: all)`,
      listOf('case', CASES),
    )
    .option('--routes <n>', 'routes per case (default: 1,000,000; rr 100,000)', wholeNumber(1, MAX_ROUTES))
    .option('--targets <list>', 'comma-separated targets', listOf('target', TARGETS), [...TARGETS])
    .option('--rr-clients <n>', 'monitor sessions in the rr case', wholeNumber(1, 240), DEFAULT_RR_CLIENTS)
    .option(
      '--margay-flags <flags>',
      "run margay once per flag set given (repeatable), each replacing its launcher's V8 flags; '' for none",
      nodeFlagSet,
      [],
    )
    .option('--json', 'print the measurements as JSON')
    .parse();
  const options = program.opts<Options>();

  const aborted = abortOnSignals();

  const results: Measurement[] = [];
  for (const name of options.case ?? CASES) {
    const settings = caseSettings(name, options.routes ?? DEFAULT_ROUTES[name], options.rrClients);
    const measured: Measurement[] = [];
    for (const target of options.targets) {
      const flagSets =
        target === 'margay' && options.margayFlags.length > 0 ? options.margayFlags : [undefined];
      for (const flags of flagSets) {
        process.stderr.write(
          `${name}: ${target}${flags === undefined ? '' : ` [${flags || 'no flags'}]`} …\n`,
        );
        measured.push(await measure(target, settings, aborted, flags));
      }
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
