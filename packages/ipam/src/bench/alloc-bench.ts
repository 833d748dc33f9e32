// Address allocations per second against a real etcd: first one node alone, then NODES nodes at
// once, each with its own Ipam and etcd connection as separate hosts would have, assigning one
// address after another. Counts the transactions that conflicted and were retried. Informative only:
//   pnpm -s build && node packages/ipam/dist/bench/alloc-bench.js

import { EtcdDatastore } from '@margay/datastore';
import { EtcdServer } from '@margay/testkit';
import { Ipam } from '../ipam';
import { putPool } from '../testing';

const NODES = 10;
const PER_NODE = 200;

interface Run {
  allocations: number;
  seconds: number;
  retries: number;
}

async function allocate(endpoints: string[], nodes: number, run: number): Promise<Run> {
  let retries = 0;
  const logger = {
    debug: (message: string) => {
      if (message.includes('retrying')) retries++;
    },
    info: () => {},
  };
  const stores = Array.from({ length: nodes }, () => new EtcdDatastore({ endpoints }));
  try {
    const start = process.hrtime.bigint();
    await Promise.all(
      stores.map(async (store, n) => {
        const ipam = new Ipam(store, { logger });
        for (let i = 0; i < PER_NODE; i++) {
          await ipam.assign({ handle: `bench-${run}-${n}-${i}`, node: `node-${run}-${n}` });
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { allocations: nodes * PER_NODE, seconds, retries };
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
}

function report(what: string, run: Run): void {
  const rate = Math.round(run.allocations / run.seconds);
  console.log(
    `${what}: ${run.allocations} allocations in ${run.seconds.toFixed(2)} s = ${rate}/s, ${run.retries} conflicting transactions retried`,
  );
}

async function main(): Promise<void> {
  const etcd = await EtcdServer.start();
  const store = new EtcdDatastore({ endpoints: etcd.endpoints });
  try {
    await putPool(store, 'bench', { cidr: '10.100.0.0/16', blockSize: 26 });
    report('1 node', await allocate(etcd.endpoints, 1, 1));
    report(`${NODES} nodes at once`, await allocate(etcd.endpoints, NODES, 2));
    const check = await new Ipam(store).check();
    if (!check.clean) throw new Error(`IPAM state is inconsistent after the run: ${JSON.stringify(check)}`);
  } finally {
    await store.close();
    await etcd.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
