// Policy benchmark (issue #6): felix with policy, in a process of its own as in margay-node, run
// inside the network namespace whose real iptables and ipsets it programs (so its commands run
// there directly, as on a node; etcd is reached by its Unix socket), from a real etcd holding 200 local
// and 10,000 remote pods and 1,000 Kubernetes NetworkPolicies (--quick: a tenth). It prints:
//   - start → fully programmed (felix started → first full apply finished), for several starts,
//     each a fresh felix process (a cold JIT) on a fresh namespace, with the CPU each took;
//   - per etcd write (a policy change, a pod label change, a new remote pod), the time from the
//     write to the end of the apply that carried it (checked in the kernel afterwards), p50/p99,
//     and the bytes that apply wrote;
//   - the floor: after each start, the ruleset it programmed (ipset save + iptables-save) restored
//     into a fresh namespace; each start is compared with its own floor (the host's speed drifts).
// Needs root, etcd, iptables and ipset. Run `pnpm -s build` first; e2e/bench/policy runs it.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { NetworkNamespace } from '@margay/dataplane';
import { EtcdDatastore } from '@margay/datastore';
import { NODE_FLAGS } from '@margay/node';
import { EtcdServer, requireCommand, requireRoot } from '@margay/testkit';
import { processTreeCpuSeconds } from '../bench/children';
import { FelixChild, is } from './felix-child';
import { type AppliedReport, monotonicMs, type ProgrammedReport } from './protocol';
import { STEPS, type Step } from './recorder';
import {
  BENCH_NODE,
  CHANGE_KINDS,
  type Change,
  type ChangeKind,
  change,
  FULL_SCALE,
  initialDocuments,
  QUICK_SCALE,
  quantile,
  type Scale,
  type StoredDocument,
} from './workload';

const USAGE = `Usage: e2e/bench/policy [--quick] [--no-early] [--starts N] [--changes N] [--node-flags=FLAGS]

  --quick             a tenth of the scale (20 local, 1,000 remote pods, 100 policies, 30 changes)
  --no-early          felix writes nothing before in-sync (no early programming), for comparison
  --starts N          felix starts to measure, each a fresh process on a fresh namespace (default 3);
                      each followed by its floor; the changes run on the last one
  --changes N         etcd writes to time after the starts (default 200, --quick 30; 0: starts only)
  --node-flags=FLAGS  node/V8 flags for the felix process instead of margay-node's (NODE_FLAGS,
                      packages/node/src/runtime.ts), e.g. --node-flags="--max-semi-space-size=16";
                      --node-flags= for none
  -h, --help
`;
const WRITE_CONCURRENCY = 64;
const READY_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 600_000;
const CHANGE_TIMEOUT_MS = 30_000;
/** Pause after emptying and deleting a namespace, before the next measurement. */
const SETTLE_MS = 300;

interface ChangeResult {
  readonly kind: ChangeKind;
  readonly latencyMs: number;
  readonly bytes: number;
  /** Write → the apply began (watch delivery, debounce, calc). */
  readonly toApplyMs: number;
  readonly steps: Readonly<Record<Step, number>>;
}

interface Options {
  readonly scale: Scale;
  readonly early: boolean;
  readonly starts: number;
  readonly nodeFlags: readonly string[];
}

/** Bad command-line input: said with the usage, without a stack. */
class UsageError extends Error {}

function options(): Options | undefined {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      'no-early': { type: 'boolean' },
      starts: { type: 'string' },
      changes: { type: 'string' },
      'node-flags': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return undefined;
  }
  const starts = Number(values.starts ?? 3);
  if (!Number.isInteger(starts) || starts < 1)
    throw new UsageError(`--starts ${values.starts}: give a whole number ≥ 1`);
  const scale = values.quick ? QUICK_SCALE : FULL_SCALE;
  const changes = Number(values.changes ?? scale.changes);
  if (!Number.isInteger(changes) || changes < 0)
    throw new UsageError(`--changes ${values.changes}: give a whole number ≥ 0`);
  return {
    scale: { ...scale, changes },
    early: values['no-early'] !== true,
    starts,
    nodeFlags:
      values['node-flags'] === undefined
        ? NODE_FLAGS
        : values['node-flags'].split(/\s+/).filter((flag) => flag !== ''),
  };
}

async function main(): Promise<void> {
  const chosen = options();
  if (chosen === undefined) return;
  const { scale, starts } = chosen;
  requireRoot('the policy benchmark');
  for (const [command, pkg] of [
    ['etcd', 'etcd-server'],
    ['iptables', 'iptables'],
    ['ipset', 'ipset'],
  ] as const) {
    requireCommand(command, pkg);
  }
  console.log(
    `policy benchmark: ${scale.localEndpoints} local pods, ${scale.remoteEndpoints} remote pods, ` +
      `${scale.policies} policies, ${scale.changes} changes; ${starts} starts` +
      `; felix node flags: ${chosen.nodeFlags.length > 0 ? chosen.nodeFlags.join(' ') : 'none'}`,
  );

  // Its Unix socket reaches felix inside its namespace; the benchmark writes over loopback.
  const etcd = await EtcdServer.start({ unixSocket: true });
  const store = new EtcdDatastore({ endpoints: etcd.endpoints });
  const namespaces = new Set<NetworkNamespace>();
  let felix: FelixChild | undefined;
  const createNamespace = async (label: string) => {
    const netns = await NetworkNamespace.create(label);
    namespaces.add(netns);
    return netns;
  };
  // Between measurements: the kernel frees a deleted namespace's rules and sets in the background
  // (~50 ms of CPU for this ruleset, in the second after `ip netns del` returns), which would land
  // on the next start. Emptied first, the namespace goes quickly, and a pause lets the rest settle.
  const dismantleNamespace = async (netns: NetworkNamespace) => {
    run(netns.name, ['iptables-restore'], '*filter\nCOMMIT\n*nat\nCOMMIT\n');
    run(netns.name, ['ipset', 'destroy']);
    await deleteNamespace(netns);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  };
  const deleteNamespace = async (netns: NetworkNamespace) => {
    namespaces.delete(netns);
    await netns.delete().catch((error: Error) => console.error(`cleaning up: ${error.message}`));
  };
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await felix?.stop();
      await store.close();
      for (const netns of [...namespaces]) await deleteNamespace(netns);
      await etcd.stop();
    })());
  // Ctrl-C leaves no process, namespace or etcd behind either.
  const interrupted = (signal: NodeJS.Signals) => {
    console.error(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  // So does a reader that stops reading (`| head`): the next write fails with EPIPE.
  const outputClosed = () => void cleanUp().finally(() => process.exit(141));
  process.stdout.once('error', outputClosed);
  try {
    const written = monotonicMs();
    await writeAll(store, initialDocuments(scale));
    console.log(`stored ${countLabel(scale)} in etcd in ${ms(monotonicMs() - written)}`);

    const startTimes: number[] = [];
    const floors: Floor[] = [];
    let netns: NetworkNamespace | undefined;
    for (let n = 1; n <= starts; n++) {
      if (felix !== undefined && netns !== undefined) {
        await felix.stop();
        await dismantleNamespace(netns);
      }
      netns = await createNamespace('mgbench-pol');
      felix = new FelixChild(
        netns.name,
        { etcdEndpoints: [etcd.unixEndpoint!], nodeName: BENCH_NODE, earlyProgramming: chosen.early },
        chosen.nodeFlags,
      );
      await felix.take(is('ready'), READY_TIMEOUT_MS, 'the felix process to load');
      const etcdCpuBefore = processTreeCpuSeconds(etcd.processId);
      felix.send({ type: 'start' });
      const programmed = await felix.take(is('programmed'), START_TIMEOUT_MS, 'the first policy apply');
      const etcdCpuMs = Math.round((processTreeCpuSeconds(etcd.processId) - etcdCpuBefore) * 1000);
      startTimes.push(programmed.startMs);
      if (programmed.localEndpoints !== scale.localEndpoints) {
        throw new Error(
          `felix saw ${programmed.localEndpoints} local endpoints, expected ${scale.localEndpoints}`,
        );
      }
      printStart(n, programmed, etcdCpuMs, n === 1 ? kernelCounts(netns.name) : undefined);
      // The floor right after each start, so both see the same phase of a host whose speed drifts.
      const floorNetns = await createNamespace('mgbench-floor');
      const floor = restoreFloor(netns.name, floorNetns.name);
      await dismantleNamespace(floorNetns);
      floors.push(floor);
      const floorMs = floor.ipsetMs + floor.iptablesMs;
      console.log(
        `  floor right after: ${ms(floorMs)}; this start is ${(programmed.startMs / floorMs).toFixed(2)}× it`,
      );
    }
    if (felix === undefined || netns === undefined) throw new Error('no felix start was measured');

    const results: ChangeResult[] = [];
    for (let n = 0; n < scale.changes; n++)
      results.push(await measureChange(store, felix, netns.name, change(n, scale), n));
    if (results.length > 0) printChanges(results);

    const floorTimes = floors.map((floor) => floor.ipsetMs + floor.iptablesMs);
    const floor = floors[0]!;
    console.log(
      `floor: the programmed ruleset restored into a fresh namespace after each start: ipset restore ` +
        `${spread(floors.map((f) => f.ipsetMs))} ms (${kb(floor.ipsetBytes)}), iptables-restore ` +
        `${spread(floors.map((f) => f.iptablesMs))} ms (${kb(floor.iptablesBytes)}); together ${spread(floorTimes)} ms`,
    );
    const startMs = quantile(startTimes, 0.5);
    const floorMs = quantile(floorTimes, 0.5);
    // Each start over its own floor, then the median: the pairs share the host's speed of the moment.
    const ratio = quantile(
      startTimes.map((time, n) => time / floorTimes[n]!),
      0.5,
    );
    const p99 =
      results.length === 0
        ? undefined
        : quantile(
            results.map((r) => r.latencyMs),
            0.99,
          );
    console.log(
      'targets: ' +
        (p99 === undefined
          ? ''
          : `p99 per change ${ms(p99)} (target < 100 ms: ${p99 < 100 ? 'met' : 'MISSED'}); `) +
        `start ${ratio.toFixed(2)}× the restore floor, the median of the starts' ratios (medians ` +
        `${ms(startMs)} ÷ ${ms(floorMs)}; target ≤ 2×: ${ratio <= 2 ? 'met' : 'MISSED'})`,
    );
  } finally {
    await cleanUp();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    process.stdout.off('error', outputClosed);
  }
}

/** Writes `docs` with bounded concurrency. */
async function writeAll(store: EtcdDatastore, docs: readonly StoredDocument[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < docs.length) {
      const doc = docs[next++]!;
      await store.put(doc.key, doc.value);
    }
  };
  await Promise.all(Array.from({ length: WRITE_CONCURRENCY }, worker));
}

/** One write; waits for the apply that carries it, then checks the kernel has it. */
async function measureChange(
  store: EtcdDatastore,
  felix: FelixChild,
  netns: string,
  wanted: Change,
  id: number,
): Promise<ChangeResult> {
  const { port, member } = wanted;
  felix.send({
    type: 'expect',
    id,
    ...(port !== undefined && { port }),
    ...(member !== undefined && { member }),
  });
  await felix.take(
    (m): m is Extract<typeof m, { type: 'expecting' }> => m.type === 'expecting' && m.id === id,
    CHANGE_TIMEOUT_MS,
    `felix to expect change ${id}`,
  );
  const writtenAt = monotonicMs();
  await store.put(wanted.document.key, wanted.document.value);
  const applied = await felix.take(
    (m): m is AppliedReport => m.type === 'applied' && m.id === id,
    CHANGE_TIMEOUT_MS,
    `the apply of a ${wanted.kind} change`,
  );
  // The kernel check, outside the timing: the apply said it wrote it; the kernel must agree.
  if (port !== undefined) {
    const saved = run(netns, ['iptables-save', '-t', 'filter']);
    if (!dportPattern(port).test(saved)) throw new Error(`port ${port} is not in the kernel's filter table`);
  } else if (member !== undefined) {
    const set = applied.set ?? '(none)';
    const test = spawnSync('ip', ['netns', 'exec', netns, 'ipset', 'test', set, member], {
      encoding: 'utf8',
    });
    if (test.status !== 0) throw new Error(`${member} is not in the kernel's set ${set}: ${test.stderr}`);
  }
  return {
    kind: wanted.kind,
    latencyMs: applied.finishedAt - writtenAt,
    bytes: applied.bytesWritten,
    toApplyMs: applied.startedAt - writtenAt,
    steps: applied.steps,
  };
}

/** One start: its time, where it went, its early applies and the CPU it took. */
function printStart(
  n: number,
  report: ProgrammedReport,
  etcdCpuMs: number,
  kernel: ReturnType<typeof kernelCounts> | undefined,
): void {
  console.log(
    `start ${n}: ${ms(report.startMs)} → fully programmed (${report.activePolicies} policies in use, ` +
      `${kb(report.bytesWritten)} written by the full apply)`,
  );
  if (kernel !== undefined) {
    console.log(
      `  in the kernel: ${kernel.rules} filter+nat rules, ${kernel.sets} ipsets, ${kernel.members} set members`,
    );
  }
  console.log(
    `  started → in sync (listed, decoded, calculated) ${ms(report.inSyncMs)} → full apply begins ` +
      `${ms(report.beforeApplyMs)}; ` +
      STEPS.map((step) => `${step} ${ms(report.steps[step])}`).join(', '),
  );
  const { early } = report;
  if (early.length === 0) console.log('  early applies: none');
  else {
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    console.log(
      `  early applies (sets, policy and endpoint chains, before in-sync): ${early.length}, from ` +
        `${ms(early[0]!.startedMs)} to ${ms(early.at(-1)!.finishedMs)} after start; filter restores ` +
        `${early.map((e) => e.filterMs.toFixed(0)).join(' + ')} ms, ipset restores ` +
        `${ms(sum(early.map((e) => e.ipsetMs)))}, ${kb(sum(early.map((e) => e.bytesWritten)))} written`,
    );
  }
  const { cpu } = report;
  console.log(
    `  CPU: felix main thread ${cpu.mainThread} ms, felix other threads (JIT, GC) ${cpu.otherThreads} ms, ` +
      `the commands felix ran ${cpu.commands} ms, etcd ${etcdCpuMs} ms`,
  );
}

const dportPattern = (port: number) => new RegExp(`--dports? (\\S*,)?${port}(,|\\s|$)`, 'm');

function printChanges(results: readonly ChangeResult[]): void {
  console.log('write → in the kernel, per change kind:');
  console.log('  kind      count   p50 ms   p99 ms   max ms   bytes p50   bytes max');
  for (const kind of [...CHANGE_KINDS, 'all'] as const) {
    const some = results.filter((r) => kind === 'all' || r.kind === kind);
    if (some.length === 0) continue;
    const latency = some.map((r) => r.latencyMs);
    const bytes = some.map((r) => r.bytes);
    console.log(
      `  ${kind.padEnd(8)} ${String(some.length).padStart(6)} ${fixed(quantile(latency, 0.5))} ${fixed(
        quantile(latency, 0.99),
      )} ${fixed(Math.max(...latency))} ${String(quantile(bytes, 0.5)).padStart(11)} ${String(Math.max(...bytes)).padStart(11)}`,
    );
  }
  console.log('where the time goes (p50 / p99 ms, all changes):');
  const parts: [string, number[]][] = [
    ['write → apply starts (watch, debounce, calc)', results.map((r) => r.toApplyMs)],
    ...STEPS.map((step): [string, number[]] => [step, results.map((r) => r.steps[step])]),
  ];
  for (const [label, values] of parts) {
    console.log(`  ${label.padEnd(46)} ${fixed(quantile(values, 0.5))} ${fixed(quantile(values, 0.99))}`);
  }
}

interface Floor {
  ipsetMs: number;
  ipsetBytes: number;
  iptablesMs: number;
  iptablesBytes: number;
}

/** Dumps the programmed sets and tables, and times restoring them into an empty namespace. */
function restoreFloor(source: string, target: string): Floor {
  const sets = run(source, ['ipset', 'save']);
  const tables = ['filter', 'nat'].map((table) => run(source, ['iptables-save', '-t', table])).join('');
  const time = (argv: string[], input: string) => {
    const started = monotonicMs();
    const result = spawnSync('ip', ['netns', 'exec', target, ...argv], { input, encoding: 'utf8' });
    const elapsed = monotonicMs() - started;
    if (result.status !== 0) throw new Error(`${argv.join(' ')} failed in ${target}: ${result.stderr}`);
    return elapsed;
  };
  const ipsetMs = time(['ipset', 'restore'], sets);
  const iptablesMs = time(['iptables-restore'], tables);
  return { ipsetMs, ipsetBytes: sets.length, iptablesMs, iptablesBytes: tables.length };
}

function kernelCounts(netns: string): { rules: number; sets: number; members: number } {
  const tables = ['filter', 'nat'].map((table) => run(netns, ['iptables-save', '-t', table])).join('');
  const sets = run(netns, ['ipset', 'save']).split('\n');
  return {
    rules: tables.split('\n').filter((line) => line.startsWith('-A ')).length,
    sets: sets.filter((line) => line.startsWith('create ')).length,
    members: sets.filter((line) => line.startsWith('add ')).length,
  };
}

function run(netns: string, argv: string[], input?: string): string {
  const result = spawnSync('ip', ['netns', 'exec', netns, ...argv], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    ...(input !== undefined && { input }),
  });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} in ${netns} failed: ${result.stderr}`);
  return result.stdout;
}

const countLabel = (scale: Scale) =>
  `${scale.localEndpoints + scale.remoteEndpoints} pods and ${scale.policies} policies`;
const ms = (value: number) => `${value.toFixed(1)} ms`;
const fixed = (value: number) => value.toFixed(1).padStart(8);
/** Median (min–max) of some milliseconds. */
const spread = (values: readonly number[]) =>
  `${quantile(values, 0.5).toFixed(1)} (${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)})`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

main().catch((error: Error & { code?: string }) => {
  if (error instanceof UsageError || error.code?.startsWith('ERR_PARSE_ARGS') === true) {
    console.error(`e2e/bench/policy: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  console.error(`policy benchmark failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
