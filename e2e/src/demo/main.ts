// The demo's entry (scripts/demo runs it after scripts/setup): parses flags, runs the scenario with
// a progress display, and always tears the cluster down (on success unless --keep, on failure, on
// Ctrl-C and SIGTERM). On failure it names the step and shows the agents' log tails first.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Cluster } from '../cluster';
import { bold, indent, Progress, red, StepFailure } from './progress';
import { keepHints, renderSummary } from './report';
import { Demo } from './scenario';

export const USAGE = `Usage: scripts/demo [--nodes N] [--name NAME] [--keep]

Brings up a local margay cluster (nodes as network namespaces behind a router, etcd), starts
margay-node on every node (BGP full mesh), starts pods through the CNI plugin, shows the BGP
sessions and routes, pings every pod from every other, applies a Kubernetes NetworkPolicy that
blocks one flow and shows it blocked while others pass, then tears everything down.

Options:
  --nodes N      how many nodes (2-20, default 3)
  --name NAME    the cluster's name (default demo-<pid>)
  --keep         leave the cluster up and print the commands to explore it
  -h, --help     show this help
`;

export interface DemoFlags {
  readonly nodes: number;
  readonly name: string;
  readonly keep: boolean;
}

/** Flags → settings; throws naming the bad flag. Returns 'help' for --help. */
export function parseDemoFlags(argv: readonly string[], pid: number): DemoFlags | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      nodes: { type: 'string', default: '3' },
      name: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const nodes = Number(values.nodes);
  if (!/^\d+$/.test(values.nodes) || nodes < 2 || nodes > 20) {
    throw new Error(`--nodes ${JSON.stringify(values.nodes)} is not a whole number from 2 to 20`);
  }
  return { nodes, name: values.name ?? `demo-${pid}`, keep: values.keep };
}

const LOG_TAIL_LINES = 12;

/** The last lines of every started agent's log, for a failure report. */
function agentLogTails(cluster: Cluster): string {
  return cluster
    .status()
    .nodes.map((node) => {
      let text: string;
      try {
        text = readFileSync(cluster.agentLog(node.name), 'utf8');
      } catch {
        return undefined; // never started there
      }
      const tail = text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
      return `margay-node log of ${node.name} (e2e/cluster agent logs ${node.name} --name ${cluster.name}), last lines:\n${indent(tail, 2)}`;
    })
    .filter((section): section is string => section !== undefined)
    .join('\n\n');
}

async function main(argv: readonly string[]): Promise<number> {
  let flags: DemoFlags | 'help';
  try {
    flags = parseDemoFlags(argv, process.pid);
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (flags === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const live = process.stdout.isTTY === true;
  const style = { color: live && !process.env.NO_COLOR };
  const progress = new Progress(process.stdout, { ...style, live, columns: process.stdout.columns });
  const demo = new Demo({ nodes: flags.nodes, name: flags.name }, progress);
  const started = Date.now();
  const { name, keep } = flags;

  let tearingDown: Promise<void> | undefined;
  const teardown = () => {
    tearingDown ??= (async () => {
      await demo.stopServers().catch(() => undefined);
      await progress.step(
        `Tear down cluster ${name} (agents, pods, namespaces, etcd)`,
        () => Cluster.down(name),
        { afterAbandon: true },
      );
    })();
    return tearingDown;
  };

  // Ctrl-C or SIGTERM: whatever step runs is abandoned; the cluster goes, then the demo exits.
  const interrupt = (signal: NodeJS.Signals) => {
    if (tearingDown) return; // already on the way out
    progress.abandon(`interrupted by ${signal}`);
    progress.line(`\n${red(style, `${signal}: stopping`)}`);
    teardown()
      .catch((error: Error) =>
        progress.line(`teardown failed: ${error.message}; try e2e/cluster down --name ${name}`),
      )
      .finally(() => {
        progress.line(
          renderSummary(
            {
              steps: progress.records(),
              shown: demo.shown,
              totalMs: Date.now() - started,
              interrupted: signal,
            },
            style,
          ),
        );
        process.exit(130);
      });
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);

  progress.line(bold(style, `margay demo: ${flags.nodes} nodes, cluster ${name}`));
  let failure: unknown;
  try {
    await demo.run();
  } catch (error) {
    failure = error ?? new Error('unknown failure');
  }
  if (tearingDown) return new Promise(() => {}); // an interrupt took over; it exits
  let failedStep: string | undefined;
  if (failure !== undefined) {
    failedStep = failure instanceof StepFailure ? failure.step : 'setup';
    const cause = failure instanceof StepFailure ? failure.cause : (failure as Error);
    progress.line(`\n${red(style, `The step "${failedStep}" failed:`)}\n${indent(cause.message, 2)}\n`);
    if (demo.cluster) {
      const tails = agentLogTails(demo.cluster);
      if (tails) progress.line(`${tails}\n`);
    }
  }
  if (failedStep !== undefined || !keep) {
    try {
      await teardown();
    } catch (error) {
      progress.line(`teardown failed: ${(error as Error).message}; try e2e/cluster down --name ${name}`);
      failedStep ??= 'teardown';
    }
  }
  progress.line(
    renderSummary(
      { steps: progress.records(), shown: demo.shown, totalMs: Date.now() - started, failedStep },
      style,
    ),
  );
  if (failedStep === undefined && keep) {
    progress.line(keepHints(name, 'node-1', demo.pingHints()));
  }
  return failedStep === undefined ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`demo: ${error.stack ?? error.message}\n`);
      process.exit(1);
    },
  );
}
