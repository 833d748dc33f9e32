// Policy benchmark (issue #6): felix with policy, in-process, programming a network namespace's
// real iptables and ipsets from a real etcd holding 200 local and 10,000 remote pods and 1,000
// Kubernetes NetworkPolicies (--quick: a tenth). It prints:
//   - start → fully programmed (felix started → first apply finished), with the kernel's counts;
//   - per etcd write (a policy change, a pod label change, a new remote pod), the time from the
//     write to the end of the apply that carried it (checked in the kernel afterwards), p50/p99,
//     and the bytes that apply wrote;
//   - the floor: the final ruleset (ipset save + iptables-save) restored into a fresh namespace.
// Needs root, etcd, iptables and ipset. Run `pnpm -s build` first; e2e/bench/policy runs it.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { NetworkNamespace } from '@margay/dataplane';
import { EtcdDatastore } from '@margay/datastore';
import { Felix } from '@margay/felix';
import { EtcdServer, requireCommand, requireRoot } from '@margay/testkit';
import { ApplyRecorder, type EarlyApply, STEPS, type Step } from './recorder';
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

const USAGE = `Usage: e2e/bench/policy [--quick] [--no-early]

  --quick     a tenth of the scale (20 local, 1,000 remote pods, 100 policies, 30 changes)
  --no-early  felix writes nothing before in-sync (no early programming), for comparison
  -h, --help
`;
const WRITE_CONCURRENCY = 64;
const START_TIMEOUT_MS = 600_000;
const CHANGE_TIMEOUT_MS = 30_000;

interface ChangeResult {
  readonly kind: ChangeKind;
  readonly latencyMs: number;
  readonly bytes: number;
  /** Write → the apply began (watch delivery, debounce, calc). */
  readonly toApplyMs: number;
  readonly steps: Readonly<Record<Step, number>>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      'no-early': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  requireRoot('the policy benchmark');
  for (const [command, pkg] of [
    ['etcd', 'etcd-server'],
    ['iptables', 'iptables'],
    ['ipset', 'ipset'],
  ] as const) {
    requireCommand(command, pkg);
  }
  const scale = values.quick ? QUICK_SCALE : FULL_SCALE;
  console.log(
    `policy benchmark: ${scale.localEndpoints} local pods, ${scale.remoteEndpoints} remote pods, ` +
      `${scale.policies} policies, ${scale.changes} changes`,
  );

  const etcd = await EtcdServer.start();
  const netns = await NetworkNamespace.create('mgbench-pol');
  const floorNetns = await NetworkNamespace.create('mgbench-floor');
  const store = new EtcdDatastore({ endpoints: etcd.endpoints });
  let felix: Felix | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await felix?.stop();
      await store.close();
      await netns.delete().catch(() => undefined);
      await floorNetns.delete().catch(() => undefined);
      await etcd.stop();
    })());
  // Ctrl-C leaves no namespace or etcd behind either.
  const interrupted = (signal: NodeJS.Signals) => {
    console.error(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const written = performance.now();
    await writeAll(store, initialDocuments(scale));
    console.log(`stored ${countLabel(scale)} in etcd in ${ms(performance.now() - written)}`);

    const recorder = new ApplyRecorder();
    felix = new Felix({
      datastore: store,
      nodeName: BENCH_NODE,
      runner: netns.runner,
      policy: {
        dataplane: (runner) => recorder.dataplane(runner),
        earlyProgramming: values['no-early'] !== true,
      },
      // Failed applies are retried; saying so is what tells a slow start from a broken one.
      log: { info: () => {}, warn: (message) => console.error(`felix: ${message.slice(0, 2000)}`) },
    });
    const firstApply = recorder.next(() => true);
    const started = performance.now();
    await felix.start();
    const first = await withTimeout(firstApply, START_TIMEOUT_MS, 'the first policy apply');
    const startMs = first.finishedAt - started;
    const stats = felix.policyStats();
    const kernel = kernelCounts(netns.name);
    console.log(
      `start → fully programmed: ${ms(startMs)} (${stats?.localEndpoints} local endpoints, ` +
        `${stats?.activePolicies} policies in use, ${kernel.rules} filter+nat rules, ${kernel.sets} ipsets, ` +
        `${kernel.members} set members; ${kb(first.bytesWritten)} written)`,
    );
    console.log(
      `  of which: started → first apply begins (list, decode, calc, render) ${ms(first.startedAt - started)}; ` +
        STEPS.map((step) => `${step} ${ms(first.steps[step])}`).join(', '),
    );
    printEarly(recorder.early, started);
    if (stats?.localEndpoints !== scale.localEndpoints) {
      throw new Error(`felix saw ${stats?.localEndpoints} local endpoints, expected ${scale.localEndpoints}`);
    }

    const results: ChangeResult[] = [];
    for (let n = 0; n < scale.changes; n++)
      results.push(await measureChange(store, recorder, netns.name, change(n, scale)));
    printChanges(results);

    const floor = restoreFloor(netns.name, floorNetns.name);
    console.log(
      `floor: the final ruleset restored into a fresh namespace: ipset restore ${ms(floor.ipsetMs)} ` +
        `(${kb(floor.ipsetBytes)}), iptables-restore ${ms(floor.iptablesMs)} (${kb(floor.iptablesBytes)}); ` +
        `together ${ms(floor.ipsetMs + floor.iptablesMs)}`,
    );
    const ratio = startMs / (floor.ipsetMs + floor.iptablesMs);
    const p99 = quantile(
      results.map((r) => r.latencyMs),
      0.99,
    );
    console.log(
      `targets: p99 per change ${ms(p99)} (target < 100 ms: ${p99 < 100 ? 'met' : 'MISSED'}); ` +
        `start ${ratio.toFixed(2)}× the restore floor (target ≤ 2×: ${ratio <= 2 ? 'met' : 'MISSED'})`,
    );
  } finally {
    await cleanUp();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
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
  recorder: ApplyRecorder,
  netns: string,
  wanted: Change,
): Promise<ChangeResult> {
  const { port, member } = wanted;
  const carries = (batch: Parameters<Parameters<ApplyRecorder['next']>[0]>[0]) =>
    port !== undefined
      ? batch.ruleTexts.some((text) => dportPattern(port).test(text))
      : member !== undefined && batch.addedMembers.has(member);
  const applied = recorder.next(carries);
  const writtenAt = performance.now();
  await store.put(wanted.document.key, wanted.document.value);
  const batch = await withTimeout(applied, CHANGE_TIMEOUT_MS, `the apply of a ${wanted.kind} change`);
  const latencyMs = batch.finishedAt - writtenAt;
  // The kernel check, outside the timing: the apply said it wrote it; the kernel must agree.
  if (port !== undefined) {
    const saved = run(netns, ['iptables-save', '-t', 'filter']);
    if (!dportPattern(port).test(saved)) throw new Error(`port ${port} is not in the kernel's filter table`);
  } else if (member !== undefined) {
    const set = batch.addedMembers.get(member)!;
    const test = spawnSync('ip', ['netns', 'exec', netns, 'ipset', 'test', set, member], {
      encoding: 'utf8',
    });
    if (test.status !== 0) throw new Error(`${member} is not in the kernel's set ${set}: ${test.stderr}`);
  }
  return {
    kind: wanted.kind,
    latencyMs,
    bytes: batch.bytesWritten,
    toApplyMs: batch.startedAt - writtenAt,
    steps: batch.steps,
  };
}

/** The early applies before the first full one (felix on a fresh kernel), if there were any. */
function printEarly(early: readonly EarlyApply[], started: number): void {
  if (early.length === 0) {
    console.log('  early applies: none');
    return;
  }
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  console.log(
    `  early applies (sets, policy and endpoint chains, before in-sync): ${early.length}, from ` +
      `${ms(early[0]!.startedAt - started)} to ${ms(early.at(-1)!.finishedAt - started)} after start; ` +
      `filter restores ${early.map((e) => e.filterMs.toFixed(0)).join(' + ')} ms, ipset restores ` +
      `${ms(sum(early.map((e) => e.ipsetMs)))}, ${kb(sum(early.map((e) => e.bytesWritten)))} written`,
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
    const started = performance.now();
    const result = spawnSync('ip', ['netns', 'exec', target, ...argv], { input, encoding: 'utf8' });
    const elapsed = performance.now() - started;
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

function run(netns: string, argv: string[]): string {
  const result = spawnSync('ip', ['netns', 'exec', netns, ...argv], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} in ${netns} failed: ${result.stderr}`);
  return result.stdout;
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const countLabel = (scale: Scale) =>
  `${scale.localEndpoints + scale.remoteEndpoints} pods and ${scale.policies} policies`;
const ms = (value: number) => `${value.toFixed(1)} ms`;
const fixed = (value: number) => value.toFixed(1).padStart(8);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

main().catch((error: Error) => {
  console.error(`policy benchmark failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
