// What the demo prints besides step lines: reachability matrices, the summary, the --keep hints.
import { bold, dim, formatSeconds, green, red, type StepRecord, type Style, stepMark } from './progress';

/** Whether `from` reached `to`; undefined for a pair that was not probed (a pod and itself). */
export type Reach = (from: string, to: string) => boolean | undefined;

/**
 * Clients down, servers across: ✓ reached, ✗ not, · not probed (a pod and itself). `labels` adds a
 * column after the client's name (e.g. its node).
 */
export function renderMatrix(
  pods: readonly string[],
  reach: Reach,
  style: Style,
  labels: Readonly<Record<string, string>> = {},
): string {
  const rowName = (pod: string) => (labels[pod] ? `${pod} (${labels[pod]})` : pod);
  const first = Math.max('from \\ to'.length, ...pods.map((pod) => rowName(pod).length));
  const width = Math.max(...pods.map((pod) => pod.length));
  const cell = (text: string, shown: string) => shown + ' '.repeat(Math.max(0, width - text.length));
  const header = `${'from \\ to'.padEnd(first)}  ${pods.map((pod) => pod.padEnd(width)).join('  ')}`;
  const rows = pods.map((from) => {
    const cells = pods.map((to) => {
      const reached = reach(from, to);
      if (reached === undefined) return cell('·', dim(style, '·'));
      return reached ? cell('✓', green(style, '✓')) : cell('✗', red(style, '✗'));
    });
    return `${rowName(from).padEnd(first)}  ${cells.join('  ')}`.trimEnd();
  });
  return [header.trimEnd(), ...rows].join('\n');
}

/** Pairs (from, to) where `got` differs from `want`, as "a → b". */
export function differences(pods: readonly string[], got: Reach, want: Reach): string[] {
  return pods.flatMap((from) =>
    pods
      .filter((to) => to !== from && got(from, to) !== want(from, to))
      .map(
        (to) =>
          `${from} → ${to} (${got(from, to) ? 'reached' : 'blocked'}, expected ${want(from, to) ? 'reached' : 'blocked'})`,
      ),
  );
}

export interface SummaryInput {
  readonly steps: readonly StepRecord[];
  /** What the run showed, one sentence each. */
  readonly shown: readonly string[];
  readonly totalMs: number;
  /** The step that failed, if any. */
  readonly failedStep?: string | undefined;
  /** Set when the run was interrupted (Ctrl-C, SIGTERM). */
  readonly interrupted?: string | undefined;
}

/** The closing summary: outcome, every step with its time, what was shown. */
export function renderSummary(input: SummaryInput, style: Style): string {
  const outcome = input.interrupted
    ? red(style, `interrupted by ${input.interrupted}`)
    : input.failedStep
      ? red(style, `failed at "${input.failedStep}"`)
      : green(style, 'all steps passed');
  const width = Math.max(0, ...input.steps.map((step) => step.title.length));
  const lines = [
    bold(style, `Summary: ${outcome} in ${formatSeconds(input.totalMs)}`),
    '',
    'Steps:',
    ...input.steps.map(
      (step) =>
        `  ${stepMark(step.state, style)} ${step.title.padEnd(width)}  ${formatSeconds(step.ms).padStart(6)}`,
    ),
  ];
  if (input.shown.length > 0) lines.push('', 'Shown:', ...input.shown.map((fact) => `  - ${fact}`));
  return `${lines.join('\n')}\n`;
}

/** A ping to suggest once the demo is done, with what the policy makes of it. */
export interface PingHint {
  readonly from: string;
  readonly to: string;
  readonly ip: string;
  readonly note: string;
}

/** The commands to explore a cluster the demo left up (--keep). */
export function keepHints(cluster: string, firstNode: string, pings: readonly PingHint[]): string {
  return [
    `The cluster '${cluster}' stays up. Explore it with:`,
    `  e2e/cluster status --name ${cluster}`,
    `  e2e/cluster exec ${firstNode} --name ${cluster} -- bin/margayctl node status`,
    `  e2e/cluster exec ${firstNode} --name ${cluster} -- bin/margayctl bgp rib`,
    `  e2e/cluster exec ${firstNode} --name ${cluster} -- ip route`,
    `  e2e/cluster exec ${firstNode} --name ${cluster} -- iptables-save -t filter | grep mg-`,
    `  eval "$(e2e/cluster env --name ${cluster})"   # then, from the host:`,
    '  bin/margayctl get nodes -o wide',
    '  bin/margayctl get workloadendpoints -n shop',
    '  bin/margayctl get networkpolicies -A -o yaml',
    '  bin/margayctl ipam show --show-blocks',
    `  e2e/cluster pod list --name ${cluster}`,
    ...pings.map(
      (ping) =>
        `  e2e/cluster pod exec ${ping.from} --name ${cluster} -- ping -c 1 -W 1 ${ping.ip}   # ${ping.from} → ${ping.to}: ${ping.note}`,
    ),
    `  e2e/cluster agent logs ${firstNode} --name ${cluster}`,
    'Tear it down with:',
    `  e2e/cluster down --name ${cluster}`,
  ].join('\n');
}
