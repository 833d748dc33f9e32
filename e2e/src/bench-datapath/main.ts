// e2e/bench/datapath: pod-to-pod throughput (iperf3) and back-to-back round trips (sockperf) over
// margay's datapaths (issue #7) beside the same topology built by hand twice (the floors: the
// kernel's own cost, bare and with conntrack on): host to host over the underlay, routed (BGP
// mode), VXLAN, each of the pod paths also with 1,000 policies' chains in place, and IPIP in a qemu
// VM (relative only). Each row gets a verdict against 5 % (verdict.ts).

import { availableParallelism } from 'node:os';
import { requireCommand, requireRoot } from '@margay/testkit';
import { Command } from 'commander';
import { abortOnSignals, wholeNumber } from '../bench-cli';
import { cleanupNow } from '../bench-convergence/cleanup';
import { Cluster } from '../cluster';
import { buildFloor, FLOOR_VXLAN_DEVICE, type Floor, type FloorMode } from './floor';
import { IPIP_PATH, measureIpipInVm } from './ipip-vm';
import { MargayCluster, type PodPair } from './margay';
import { packetsThroughOurChains } from './policy';
import { choosePolicyStage, type PolicyStage } from './policy-stage';
import { formatTable, METRICS, type Measurement, type Metric, type Round, type Variant } from './report';
import { roundOrder } from './schedule';
import { sockperfOnce, startSockperfServer } from './sockperf';
import { iperfOnce, mustRunIn, pingOnce, startIperfServer } from './tools';
import { minimumRounds } from './verdict';

const DEFAULT_RUNS = minimumRounds();
/** Twice as many: a band at 95 % then trims the two widest rounds on each side (verdict.ts). */
const DEFAULT_THROUGHPUT_RUNS = 2 * DEFAULT_RUNS;

interface Options {
  quick?: boolean;
  runs?: number;
  throughputRuns?: number;
  seconds?: number;
  rttSeconds?: number;
  tcpRtt?: boolean;
  rttCpu?: number;
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
  /** Rounds of the round-trip figures. */
  readonly runs: number;
  /** Rounds of throughput: short iperf3 runs, more of them (its spread is wider). */
  readonly throughputRuns: number;
  /** iperf3 seconds per run. */
  readonly seconds: number;
  /** sockperf seconds per run (≥ 2: sockperf keeps the last seconds − 0.45 s). */
  readonly rttSeconds: number;
  readonly tcpRtt: boolean;
  /** Echoes of the 10 ms ping per run; 0: not measured. */
  readonly pings: number;
  /** The CPU sockperf's client and server share (see sockperf.ts). */
  readonly rttCpu: number;
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const SIDES = ['margay', 'floor', 'floor+ct'] as const satisfies readonly Variant[];
/** The note of the conntrack floor. */
const FLOOR_CONNTRACK_NOTE =
  'the floor plus one --ctstate RELATED,ESTABLISHED -j ACCEPT per hook (INPUT/FORWARD/OUTPUT)';

/** The servers one side needs for the figures measured. */
async function startServers(
  at: Endpoints,
  settings: Settings,
  signal: AbortSignal,
): Promise<{ stop(): Promise<void> }> {
  const servers: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    for (const server of servers) await server.stop();
  };
  try {
    servers.push(await startIperfServer(at.server, at.serverIp, signal));
    servers.push(await startSockperfServer(at.server, at.serverIp, 'udp', settings.rttCpu, signal));
    if (settings.tcpRtt)
      servers.push(await startSockperfServer(at.server, at.serverIp, 'tcp', settings.rttCpu, signal));
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}

const format = (metric: Metric, value: number) =>
  `${(value * METRICS[metric].scale).toFixed(METRICS[metric].digits)} ${METRICS[metric].unit}`;

/**
 * Each round measures one figure on every side back to back, then the next figure; the sides'
 * order changes from round to round (roundOrder), so drift in the machine's load hits all alike.
 */
async function measurePath(
  path: string,
  sides: Record<(typeof SIDES)[number], Endpoints>,
  settings: Settings,
  signal: AbortSignal,
  notes: Partial<Record<Variant, string>> = {},
): Promise<Measurement[]> {
  const servers: { stop(): Promise<void> }[] = [];
  const rounds = new Map<Variant, Round[]>(SIDES.map((side) => [side, []]));
  /** Each figure with how many rounds measure it. */
  const figures: [Metric, number, (at: Endpoints) => Promise<number>][] = [
    [
      'throughput',
      settings.throughputRuns,
      (at) => iperfOnce(at.client, at.serverIp, settings.seconds, signal),
    ],
    [
      'udpRtt',
      settings.runs,
      async (at) =>
        (await sockperfOnce(at.client, at.serverIp, 'udp', settings.rttSeconds, settings.rttCpu, signal))
          .p25Us,
    ],
  ];
  if (settings.tcpRtt)
    figures.push([
      'tcpRtt',
      settings.runs,
      async (at) =>
        (await sockperfOnce(at.client, at.serverIp, 'tcp', settings.rttSeconds, settings.rttCpu, signal))
          .p25Us,
    ]);
  if (settings.pings > 0)
    figures.push([
      'ping',
      settings.runs,
      async (at) => (await pingOnce(at.client, at.serverIp, settings.pings, 0.01, signal)).avgMs,
    ]);
  const totalRounds = Math.max(...figures.map(([, rounds]) => rounds));
  try {
    for (const side of SIDES) servers.push(await startServers(sides[side], settings, signal));
    for (let round = 0; round < totalRounds; round++) {
      const order = roundOrder(SIDES, round);
      const figuresOf = new Map<Variant, Round>(SIDES.map((side) => [side, {}]));
      for (const [metric, roundsOfFigure, measure] of figures) {
        if (round >= roundsOfFigure) continue;
        for (const side of order) {
          const value = await measure(sides[side]);
          figuresOf.get(side)![metric] = value;
          log(`${path} round ${round + 1} ${side}: ${METRICS[metric].label} ${format(metric, value)}`);
        }
      }
      for (const side of SIDES) rounds.get(side)!.push(figuresOf.get(side)!);
    }
  } finally {
    for (const server of servers) await server.stop();
  }
  return SIDES.map((side) => ({ path, variant: side, rounds: rounds.get(side)!, note: notes[side] }));
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
const floorHosts = (floor: Floor): Endpoints => ({
  client: floor.nodes[0].netns,
  server: floor.nodes[1].netns,
  serverIp: floor.nodes[1].address,
});

/** A path's hand-built floors: bare and with conntrack. */
interface Floors {
  readonly bare: Floor;
  readonly conntrack: Floor;
}

/** TX packets of `device` in `netns`. */
async function txPackets(netns: string, device: string, signal: AbortSignal): Promise<number> {
  const [link] = JSON.parse(
    await mustRunIn(netns, ['ip', '-j', '-s', 'link', 'show', 'dev', device], signal),
  ) as {
    stats64: { tx: { packets: number } };
  }[];
  return link!.stats64.tx.packets;
}

/** Runs `measure` and fails unless every side's VXLAN device on the client's node sent packets. */
async function throughVxlan(
  margay: MargayCluster,
  floors: Floors,
  signal: AbortSignal,
  measure: () => Promise<Measurement[]>,
): Promise<Measurement[]> {
  const devices = [
    [margay.nodeNetns('node-1'), 'vxlan.margay'],
    [floors.bare.nodes[0].netns, FLOOR_VXLAN_DEVICE],
    [floors.conntrack.nodes[0].netns, FLOOR_VXLAN_DEVICE],
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
    runs: options.runs ?? (options.quick ? 1 : DEFAULT_RUNS),
    throughputRuns: options.throughputRuns ?? (options.quick ? 1 : DEFAULT_THROUGHPUT_RUNS),
    seconds: options.seconds ?? 1,
    rttSeconds: options.rttSeconds ?? 2,
    tcpRtt: options.tcpRtt ?? false,
    pings: options.pings ?? 0,
    rttCpu: options.rttCpu ?? availableParallelism() - 1,
  };
  const results: Measurement[] = [];
  const name = MargayCluster.freshName();
  const built: Floor[] = [];
  const buildFloors = (mode: FloorMode, mtu: number): Floors => {
    const bare = buildFloor(mode, mtu);
    built.push(bare);
    const conntrack = buildFloor(mode, mtu, true);
    built.push(conntrack);
    log(
      `floor: ${mode} namespaces ${bare.router} (bare), ${conntrack.router} (conntrack) … up (pod MTU ${mtu})`,
    );
    return { bare, conntrack };
  };
  const sidesOf = (margayAt: Endpoints, floors: Floors, at: (floor: Floor) => Endpoints) => ({
    margay: margayAt,
    floor: at(floors.bare),
    'floor+ct': at(floors.conntrack),
  });
  let margay: MargayCluster | undefined;
  /** Measures `path` with the policies in place, checking that node-2's chains saw its packets. */
  const withPolicy = async (stage: PolicyStage, path: string, margayAt: Endpoints, floors: Floors) => {
    const before = await policyPackets(margay!, signal);
    const measured = await measurePath(path, sidesOf(margayAt, floors, floorPods), settings, signal, {
      'floor+ct': FLOOR_CONNTRACK_NOTE,
    });
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
    const notes = { margay: baseNote, 'floor+ct': FLOOR_CONNTRACK_NOTE };
    const routedPods = await margay.addPods('routed', signal);
    const routed = buildFloors('routed', routedPods.mtu);

    results.push(
      ...(await measurePath(
        'host→host (underlay)',
        sidesOf(
          {
            client: margay.nodeNetns('node-1'),
            server: margay.nodeNetns('node-2'),
            serverIp: margay.nodeAddress('node-2'),
          },
          routed,
          floorHosts,
        ),
        settings,
        signal,
        { ...notes, margay: `agents running on both sides${baseNote ? `; ${baseNote}` : ''}` },
      )),
    );
    results.push(
      ...(await measurePath(
        'routed pod→pod (BGP)',
        sidesOf(podEndpoints(routedPods), routed, floorPods),
        settings,
        signal,
        notes,
      )),
    );
    await stage.apply([routedPods], signal);
    results.push(
      ...(await withPolicy(stage, 'routed pod→pod (BGP) + policy', podEndpoints(routedPods), routed)),
    );
    await stage.remove(signal);

    await margay.writePool('Always');
    await margay.waitForVxlanRoute(routedPods.b, signal);
    const vxlanPods = await margay.addPods('vxlan', signal);
    await margay.waitForVxlanRoute(vxlanPods.b, signal);
    const vxlan = buildFloors('vxlan', vxlanPods.mtu);
    results.push(
      ...(await throughVxlan(margay, vxlan, signal, () =>
        measurePath(
          'VXLAN pod→pod',
          sidesOf(podEndpoints(vxlanPods), vxlan, floorPods),
          settings,
          signal,
          notes,
        ),
      )),
    );
    await stage.apply([routedPods, vxlanPods], signal);
    results.push(
      ...(await throughVxlan(margay, vxlan, signal, () =>
        withPolicy(stage, 'VXLAN pod→pod + policy', podEndpoints(vxlanPods), vxlan),
      )),
    );
  } finally {
    await margay?.close().catch(() => undefined);
    for (const floor of built) floor.remove();
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
          pings: options.quick ? 50 : 200,
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
      'Pod-to-pod throughput (iperf3) and back-to-back round trips (sockperf) over margay (routed, VXLAN, +1,000 policies; IPIP in a VM) beside hand-built floors with and without conntrack, with a verdict against 5 %.',
    )
    .option('--quick', 'one round per path: a smoke run, no verdicts')
    .option(
      '--runs <n>',
      `interleaved rounds of round trips per path (default ${DEFAULT_RUNS}, the fewest that give a 95 % band; quick 1)`,
      wholeNumber(1, 40),
    )
    .option(
      '--throughput-runs <n>',
      `interleaved rounds of throughput per path (default ${DEFAULT_THROUGHPUT_RUNS}; quick 1)`,
      wholeNumber(1, 60),
    )
    .option('--seconds <n>', 'seconds per iperf3 run (default 1)', wholeNumber(1, 60))
    .option(
      '--rtt-seconds <n>',
      'seconds per sockperf run (default 2; it waits 2 s more)',
      wholeNumber(2, 60),
    )
    .option(
      '--rtt-cpu <n>',
      "the CPU sockperf's client and server are pinned to (default: the last)",
      wholeNumber(0, availableParallelism() - 1),
    )
    .option('--tcp-rtt', 'also measure TCP round trips back to back (adds ~4 s per side and round)')
    .option('--pings <n>', 'also ping every 10 ms, n echoes per run (default: off)', wholeNumber(10, 10_000))
    .option('--no-vm', 'skip the IPIP row (it boots a qemu VM)')
    .option('--json', 'print the measurements as JSON')
    .parse();
  const options = program.opts<Options>();
  requireRoot('the datapath benchmark (network namespaces, veths, iptables)');
  requireCommand('iperf3', 'iperf3');
  requireCommand('sockperf', 'sockperf');
  requireCommand('ss', 'iproute2');
  requireCommand('taskset', 'util-linux');
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
