// e2e/bench/datapath: pod-to-pod throughput (iperf3) and latency (ping) over margay's datapaths
// (issue #7) beside the same topology built by hand (the floor: the kernel's own cost): host to
// host over the underlay, routed (BGP mode), VXLAN, each of the pod paths also with 1,000
// policies' chains in place, and IPIP in a qemu VM (relative only).

import { requireCommand, requireRoot } from '@margay/testkit';
import { Command } from 'commander';
import { abortOnSignals, wholeNumber } from '../bench-cli';
import { cleanupNow } from '../bench-convergence/cleanup';
import { Cluster } from '../cluster';
import { buildFloor, FLOOR_VXLAN_DEVICE, type Floor, setFloorConntrack } from './floor';
import { IPIP_PATH, measureIpipInVm } from './ipip-vm';
import { MargayCluster, type PodPair } from './margay';
import { packetsThroughOurChains } from './policy';
import { choosePolicyStage, type PolicyStage } from './policy-stage';
import { formatTable, type Measurement } from './report';
import type { LatencySummary } from './stats';
import { IperfServer, iperfOnce, mustRunIn, pingOnce } from './tools';

interface Options {
  quick?: boolean;
  runs?: number;
  seconds?: number;
  pings?: number;
  vm: boolean;
  json?: boolean;
}

/** Where a path's traffic starts and ends. */
interface Endpoints {
  readonly client: string;
  readonly server: string;
  readonly serverIp: string;
}

interface Settings {
  readonly runs: number;
  readonly seconds: number;
  readonly pings: number;
  readonly intervalS: number;
}

const log = (line: string) => process.stderr.write(`${line}\n`);
/** The floor rows' note when the floor nodes run conntrack (the diagnostic rows). */
const FLOOR_CONNTRACK_NOTE = 'floor nodes accept RELATED,ESTABLISHED in INPUT/FORWARD/OUTPUT';

/** Rounds alternate which side goes first, so drift in the machine's load hits both alike. */
async function measurePath(
  path: string,
  margay: Endpoints,
  floor: Endpoints,
  settings: Settings,
  signal: AbortSignal,
  note?: string,
): Promise<Measurement[]> {
  const servers = [
    await IperfServer.start(margay.server, margay.serverIp, signal),
    await IperfServer.start(floor.server, floor.serverIp, signal),
  ];
  const bps = { margay: [] as number[], floor: [] as number[] };
  const latency = { margay: [] as LatencySummary[], floor: [] as LatencySummary[] };
  try {
    for (let round = 0; round < settings.runs; round++) {
      const order = round % 2 === 0 ? (['floor', 'margay'] as const) : (['margay', 'floor'] as const);
      for (const variant of order) {
        const at = variant === 'margay' ? margay : floor;
        bps[variant].push(await iperfOnce(at.client, at.serverIp, settings.seconds, signal));
        latency[variant].push(
          await pingOnce(at.client, at.serverIp, settings.pings, settings.intervalS, signal),
        );
        const last = latency[variant].at(-1)!;
        log(
          `${path} ${variant} run ${round + 1}: ${(bps[variant].at(-1)! / 1e9).toFixed(2)} Gbit/s, ping avg ${last.avgMs.toFixed(3)} ms p99 ${last.p99Ms.toFixed(3)} ms`,
        );
      }
    }
  } finally {
    for (const server of servers) await server.stop();
  }
  return [
    { path, variant: 'margay', throughputBps: bps.margay, latency: latency.margay, note },
    { path, variant: 'floor', throughputBps: bps.floor, latency: latency.floor },
  ];
}

const podEndpoints = (pods: PodPair): Endpoints => ({
  client: pods.a.netns,
  server: pods.b.netns,
  serverIp: pods.b.ip,
});
const floorPods = (floor: Floor): Endpoints => ({
  client: floor.nodes[0].podNetns,
  server: floor.nodes[1].podNetns,
  serverIp: floor.nodes[1].podIp,
});

/** TX packets of `device` in `netns`. */
async function txPackets(netns: string, device: string, signal: AbortSignal): Promise<number> {
  const [link] = JSON.parse(
    await mustRunIn(netns, ['ip', '-j', '-s', 'link', 'show', 'dev', device], signal),
  ) as {
    stats64: { tx: { packets: number } };
  }[];
  return link!.stats64.tx.packets;
}

/** Runs `measure` and fails unless both sides' VXLAN devices on the client's node sent packets. */
async function throughVxlan(
  margay: MargayCluster,
  floor: Floor,
  signal: AbortSignal,
  measure: () => Promise<Measurement[]>,
): Promise<Measurement[]> {
  const devices = [
    [margay.nodeNetns('node-1'), 'vxlan.margay'],
    [floor.nodes[0].netns, FLOOR_VXLAN_DEVICE],
  ] as const;
  const before = await Promise.all(devices.map(([netns, dev]) => txPackets(netns, dev, signal)));
  const measured = await measure();
  for (const [i, [netns, dev]] of devices.entries()) {
    const sent = (await txPackets(netns, dev, signal)) - before[i]!;
    if (sent <= 0)
      throw new Error(`${dev} in ${netns} sent nothing: the VXLAN rows did not go through the tunnel`);
  }
  return measured;
}

/** Packets node-2's policy chains counted: the "+ policy" rows must measure the rules. */
async function policyPackets(margay: MargayCluster, signal: AbortSignal): Promise<number> {
  return packetsThroughOurChains(await margay.iptablesSave('node-2', signal));
}

async function run(options: Options, signal: AbortSignal): Promise<Measurement[]> {
  const settings: Settings = {
    runs: options.runs ?? (options.quick ? 1 : 3),
    seconds: options.seconds ?? (options.quick ? 2 : 5),
    pings: options.pings ?? (options.quick ? 50 : 200),
    intervalS: 0.01,
  };
  const results: Measurement[] = [];
  const name = MargayCluster.freshName();
  const floors: Floor[] = [];
  let margay: MargayCluster | undefined;
  /** Measures `path` with the policies in place, checking that node-2's chains saw its packets. */
  const withPolicy = async (stage: PolicyStage, path: string, margayAt: Endpoints, floorAt: Endpoints) => {
    const before = await policyPackets(margay!, signal);
    const measured = await measurePath(path, margayAt, floorAt, settings, signal);
    const packets = (await policyPackets(margay!, signal)) - before;
    if (packets <= 0)
      throw new Error(`${path}: node-2's policy chains counted no packets: the traffic bypassed them`);
    return measured.map((m) =>
      m.variant === 'margay' ? { ...m, note: `${stage.how}; ${packets} packets through node-2's chains` } : m,
    );
  };
  try {
    margay = await MargayCluster.up(name, log);
    const stage = await choosePolicyStage(margay, signal);
    log(`policy: ${stage.how}`);
    // With the policy manager running, even the rows without policies pass felix's base chains.
    const baseNote = stage.byAgent ? "felix's base chains in place (the profile allows all)" : undefined;
    const routedPods = await margay.addPods('routed', signal);
    const routedFloor = buildFloor('routed', routedPods.mtu);
    floors.push(routedFloor);
    log(`floor: routed namespaces ${routedFloor.router} … up`);

    const [floorA, floorB] = routedFloor.nodes;
    results.push(
      ...(await measurePath(
        'host→host (underlay)',
        {
          client: margay.nodeNetns('node-1'),
          server: margay.nodeNetns('node-2'),
          serverIp: margay.nodeAddress('node-2'),
        },
        { client: floorA.netns, server: floorB.netns, serverIp: floorB.address },
        settings,
        signal,
        `agents running on both sides${baseNote ? `; ${baseNote}` : ''}`,
      )),
    );
    results.push(
      ...(await measurePath(
        'routed pod→pod (BGP)',
        podEndpoints(routedPods),
        floorPods(routedFloor),
        settings,
        signal,
        baseNote,
      )),
    );
    await stage.apply([routedPods], signal);
    results.push(
      ...(await withPolicy(
        stage,
        'routed pod→pod (BGP) + policy',
        podEndpoints(routedPods),
        floorPods(routedFloor),
      )),
    );
    await stage.remove(signal);
    // Diagnostic: how much of the gap is conntrack itself (margay as in the row without policies).
    setFloorConntrack(routedFloor, true);
    results.push(
      ...(
        await measurePath(
          'routed pod→pod (BGP) vs floor + conntrack',
          podEndpoints(routedPods),
          floorPods(routedFloor),
          settings,
          signal,
          baseNote,
        )
      ).map((m) => (m.variant === 'floor' ? { ...m, note: FLOOR_CONNTRACK_NOTE } : m)),
    );
    setFloorConntrack(routedFloor, false);

    await margay.writePool('Always');
    await margay.waitForVxlanRoute(routedPods.b, signal);
    const vxlanPods = await margay.addPods('vxlan', signal);
    await margay.waitForVxlanRoute(vxlanPods.b, signal);
    const vxlanFloor = buildFloor('vxlan', vxlanPods.mtu);
    floors.push(vxlanFloor);
    log(`floor: vxlan namespaces ${vxlanFloor.router} … up (pod MTU ${vxlanPods.mtu})`);
    results.push(
      ...(await throughVxlan(margay, vxlanFloor, signal, () =>
        measurePath(
          'VXLAN pod→pod',
          podEndpoints(vxlanPods),
          floorPods(vxlanFloor),
          settings,
          signal,
          baseNote,
        ),
      )),
    );
    // Diagnostic, as for routed: the VXLAN floor with conntrack switched on.
    setFloorConntrack(vxlanFloor, true);
    results.push(
      ...(
        await throughVxlan(margay, vxlanFloor, signal, () =>
          measurePath(
            'VXLAN pod→pod vs floor + conntrack',
            podEndpoints(vxlanPods),
            floorPods(vxlanFloor),
            settings,
            signal,
            baseNote,
          ),
        )
      ).map((m) => (m.variant === 'floor' ? { ...m, note: FLOOR_CONNTRACK_NOTE } : m)),
    );
    setFloorConntrack(vxlanFloor, false);
    await stage.apply([routedPods, vxlanPods], signal);
    results.push(
      ...(await throughVxlan(margay, vxlanFloor, signal, () =>
        withPolicy(stage, 'VXLAN pod→pod + policy', podEndpoints(vxlanPods), floorPods(vxlanFloor)),
      )),
    );
  } finally {
    await margay?.close().catch(() => undefined);
    for (const floor of floors) floor.remove();
    log(`tearing down cluster ${name} …`);
    await Cluster.down(name).catch((error: Error) =>
      log(`cluster ${name} teardown failed: ${error.message}; sweep with: e2e/cluster down --name ${name}`),
    );
  }

  if (!options.vm) {
    log(`!!! ${IPIP_PATH}: skipped (--no-vm)`);
  } else {
    signal.throwIfAborted();
    results.push(
      ...(await measureIpipInVm(
        {
          rounds: options.quick ? 1 : settings.runs,
          pings: options.quick ? 50 : settings.pings,
          intervalS: 0.01,
          bulkBytes: options.quick ? 16 * 2 ** 20 : 64 * 2 ** 20,
        },
        log,
      )),
    );
  }
  return results;
}

async function main(): Promise<void> {
  const program = new Command('datapath')
    .description(
      'Pod-to-pod iperf3 throughput and ping latency over margay (routed, VXLAN, +1,000 policies; IPIP in a VM) beside hand-built floors.',
    )
    .option('--quick', 'one short run per path (2 s iperf3, 50 pings): a smoke run')
    .option('--runs <n>', 'iperf3 + ping rounds per path and side (default 3; quick 1)', wholeNumber(1, 20))
    .option('--seconds <n>', 'seconds per iperf3 run (default 5; quick 2)', wholeNumber(1, 60))
    .option(
      '--pings <n>',
      'echoes per ping run, 10 ms apart (default 200; quick 50)',
      wholeNumber(10, 10_000),
    )
    .option('--no-vm', 'skip the IPIP row (it boots a qemu VM)')
    .option('--json', 'print the measurements as JSON')
    .parse();
  const options = program.opts<Options>();
  requireRoot('the datapath benchmark (network namespaces, veths, iptables)');
  requireCommand('iperf3', 'iperf3');
  requireCommand('ping', 'iputils-ping');
  requireCommand('etcd', 'etcd-server');
  requireCommand('iptables-restore', 'iptables');
  requireCommand('ipset', 'ipset');

  const results = await run(options, abortOnSignals());
  if (options.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else process.stdout.write(`${formatTable(results)}\n`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`datapath: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(cleanupNow);
