// One node of e2e/bench/convergence (control-plane only): forked by the benchmark with its
// settings as JSON in argv[2]. It loads everything and claims its IPAM block before saying
// "ready", so the clock measures the node, not Node.js start-up. On "go" it does what
// margay-node does on start (start the BGP agent, register the Node resource once its speaker
// listens: listenThenRegister) with a FIB sink that stamps every best-path change instead of
// writing to the kernel.
// Times are process.hrtime.bigint() (CLOCK_MONOTONIC, one clock for every process), as strings.

import type { BestChange, BgpServer, FibSink } from '@margay/bgp';
import { EtcdDatastore } from '@margay/datastore';
import { Ipam } from '@margay/ipam';
import type { BgpAgent } from '../bgp-agent';
import { listenThenRegister } from '../listen-then-register';

export interface ConvergenceNodeSettings {
  readonly etcdEndpoints: string[];
  readonly nodeName: string;
  /** CIDR form, e.g. `127.9.8.100/8`. */
  readonly ipv4Address: string;
  readonly routeReflectorClusterID?: string;
  readonly labels?: Record<string, string>;
}

export type ConvergenceNodeMessage =
  | { type: 'ready'; block: string }
  | { type: 'started'; at: string }
  | { type: 'speaker'; at: string }
  | { type: 'peer'; address: string; state: string; at: string }
  | { type: 'route'; kind: BestChange['kind']; prefix: string; at: string }
  | { type: 'failed'; reason: string };

export type ConvergenceRunnerMessage = { type: 'go' } | { type: 'stop' };

const now = () => process.hrtime.bigint().toString();
const tell = (message: ConvergenceNodeMessage) => process.send?.(message);

/** Stamps best-path changes as they reach the FIB, which is where the kernel would get them. */
const stampingFib: FibSink = {
  apply(changes) {
    const at = now();
    for (const change of changes) tell({ type: 'route', kind: change.kind, prefix: change.prefix, at });
  },
  close: async () => {},
};

async function main(): Promise<void> {
  const settings = JSON.parse(process.argv[2] ?? '{}') as ConvergenceNodeSettings;
  const store = new EtcdDatastore({ endpoints: settings.etcdEndpoints });
  const { block } = await new Ipam(store).assign({
    handle: `bench-${settings.nodeName}`,
    node: settings.nodeName,
  });
  let agent: BgpAgent | undefined;
  let going = false;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await agent?.close();
    await store.close();
    process.exit(0);
  };
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('message', (message: ConvergenceRunnerMessage) => {
    if (message.type === 'stop') void stop();
    if (message.type !== 'go' || going) return;
    going = true;
    tell({ type: 'started', at: now() });
    void (async () => {
      const started = listenThenRegister({
        store,
        registration: {
          name: settings.nodeName,
          ipv4Address: settings.ipv4Address,
          routeReflectorClusterID: settings.routeReflectorClusterID,
          labels: settings.labels,
        },
        agent: { fib: stampingFib, onSpeaker: reportSpeaker },
      });
      agent = (await started).agent;
      if (!agent.server) throw new Error('registered without a BGP speaker');
    })().catch(fail);
  });
  tell({ type: 'ready', block });
}

/** The agent starts its speaker after its first snapshot: report that moment and its sessions. */
function reportSpeaker(server: BgpServer): void {
  tell({ type: 'speaker', at: now() });
  server.onEvent((event) => {
    if (event.type === 'peer')
      tell({ type: 'peer', address: event.address, state: String(event.to), at: now() });
  });
}

function fail(error: unknown): void {
  tell({ type: 'failed', reason: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

if (require.main === module) main().catch(fail);
