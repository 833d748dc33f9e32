// ADD and DEL latency of the bundled plugin, run as a runtime runs it (one process per call), for
// 200 pods on one node against a real etcd. Prints p50/p99 of each; informative only. Needs root:
//   pnpm -s build && node packages/cni/dist/bench/add-del-bench.js

import { NetworkNamespace } from '@margay/dataplane';
import { TestNode } from '../testing';

const PODS = 200;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function timed(operation: () => Promise<{ code: number | null; stderr: string }>): Promise<number> {
  const start = process.hrtime.bigint();
  const run = await operation();
  if (run.code !== 0) throw new Error(`plugin failed (${run.code}): ${run.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function report(what: string, samples: number[]): void {
  const sorted = [...samples].sort((a, b) => a - b);
  console.log(
    `${what}: p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms`,
  );
}

async function main(): Promise<void> {
  const node = await TestNode.start({ bench: { cidr: '10.88.0.0/22', blockSize: 26 } });
  const pods: NetworkNamespace[] = [];
  try {
    for (let i = 0; i < PODS; i++) pods.push(await NetworkNamespace.create('mg-bench'));
    const invocation = (i: number) => ({
      containerId: `bench${i}`,
      netns: `/run/netns/${pods[i]!.name}`,
      args: `K8S_POD_NAMESPACE=bench;K8S_POD_NAME=pod-${i}`,
    });
    const adds: number[] = [];
    for (let i = 0; i < PODS; i++) adds.push(await timed(() => node.run('ADD', invocation(i))));
    const dels: number[] = [];
    for (let i = 0; i < PODS; i++) dels.push(await timed(() => node.run('DEL', invocation(i))));
    console.log(`${PODS} pods on one node, one plugin process per call:`);
    report('ADD', adds);
    report('DEL', dels);
  } finally {
    for (const pod of pods) await pod.delete().catch(() => {});
    await node.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
