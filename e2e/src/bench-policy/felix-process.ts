// The felix under test: started by the policy benchmark (main.ts, through felix-child.ts) inside
// the network namespace it programs, with its settings as JSON in argv[2]. Its commands run
// directly, as felix's do on a node. On `start` it starts felix with policy against etcd and reports the first full apply with the CPU it took; on `expect` it reports the
// apply that carries a change the benchmark is about to write; on `stop` it stops and exits.
import { resourceKey } from '@margay/api';
import { ProcessRunner } from '@margay/dataplane';
import { EtcdDatastore } from '@margay/datastore';
import { Felix } from '@margay/felix';
import { COMMAND_PRIORITY } from '@margay/node';
import { startCpuMeter } from './cpu';
import {
  type AppliedReport,
  type BenchMessage,
  type Expectation,
  type FelixProcessMessage,
  type FelixProcessSettings,
  monotonicMs,
} from './protocol';
import { type AppliedBatch, ApplyRecorder } from './recorder';

function tell(message: FelixProcessMessage): void {
  process.send?.(message);
}

const dportPattern = (port: number) => new RegExp(`--dports? (\\S*,)?${port}(,|\\s|$)`, 'm');

async function main(): Promise<void> {
  const settings = JSON.parse(process.argv[2] ?? '{}') as FelixProcessSettings;
  const store = new EtcdDatastore({ endpoints: [...settings.etcdEndpoints] });
  const recorder = new ApplyRecorder();
  let inSyncAt: number | undefined;
  const felix = new Felix({
    datastore: store,
    nodeName: settings.nodeName,
    // As margay-node runs its commands.
    runner: new ProcessRunner({ priority: COMMAND_PRIORITY }),
    policy: {
      dataplane: (runner) => recorder.dataplane(runner),
      earlyProgramming: settings.earlyProgramming,
    },
    // Failed applies are retried; saying so is what tells a slow start from a broken one.
    log: {
      // Felix says when every policy input has listed: where the listing ends and the apply begins.
      info: (message) => {
        if (message.startsWith('felix policy in sync')) inSyncAt ??= monotonicMs();
      },
      warn: (message) => console.error(`felix: ${message.slice(0, 2000)}`),
    },
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await felix.stop();
      await store.close();
    })());

  const start = async () => {
    const firstApply = recorder.next(() => true);
    const cpu = startCpuMeter();
    const started = monotonicMs();
    await felix.start();
    const first = await firstApply;
    const used = cpu.read();
    const stats = felix.policyStats();
    tell({
      type: 'programmed',
      startMs: first.finishedAt - started,
      inSyncMs: (inSyncAt ?? Number.NaN) - started,
      beforeApplyMs: first.startedAt - started,
      steps: first.steps,
      bytesWritten: first.bytesWritten,
      early: recorder.early.map((early) => ({
        startedMs: early.startedAt - started,
        finishedMs: early.finishedAt - started,
        ipsetMs: early.ipsetMs,
        filterMs: early.filterMs,
        bytesWritten: early.bytesWritten,
      })),
      localEndpoints: stats?.localEndpoints ?? 0,
      activePolicies: stats?.activePolicies ?? 0,
      cpu: used,
    });
  };

  const expect = ({ id, port, member }: Expectation) => {
    const carries = (batch: AppliedBatch) =>
      port !== undefined
        ? batch.hasRule(dportPattern(port))
        : member !== undefined && batch.setOf(member) !== undefined;
    void recorder.next(carries).then((batch) => {
      const set = member === undefined ? undefined : batch.setOf(member);
      const report: AppliedReport = {
        type: 'applied',
        id,
        startedAt: batch.startedAt,
        finishedAt: batch.finishedAt,
        bytesWritten: batch.bytesWritten,
        steps: batch.steps,
        ...(set !== undefined && { set }),
      };
      tell(report);
    });
    tell({ type: 'expecting', id });
  };

  const fail = (error: unknown) => {
    tell({ type: 'failed', reason: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    void stop().finally(() => process.exit(1));
  };
  process.on('message', (message: BenchMessage) => {
    if (message.type === 'start') start().catch(fail);
    else if (message.type === 'expect') expect(message);
    else if (message.type === 'stop') void stop().then(() => process.exit(0), fail);
  });
  // The benchmark is gone: nothing left to measure.
  process.on('disconnect', () => void stop().finally(() => process.exit(0)));
  // margay-node registers its node in etcd before it starts felix: felix starts on a connection
  // already open, so the benchmark opens it before the start too.
  await store.get(resourceKey('Node', settings.nodeName));
  tell({ type: 'ready' });
}

main().catch((error: Error) => {
  tell({ type: 'failed', reason: error.stack ?? error.message });
  process.exit(1);
});
