// IPIP, relative only: this kernel has no ipip module, so the row runs inside a qemu VM (software
// emulation, one vCPU) on the two-node topology of @margay/testkit. Rounds alternate the floor
// (hand-written tunl0 commands) and margay (the tunnel manager's planned commands for each node),
// clearing tunl0 in between; each round pings pod to pod and pushes a bulk TCP transfer (busybox
// dd | nc, timed with /proc/uptime). Absolute figures under emulation mean nothing: only the ratio.

import {
  handWrittenIpipScript,
  inNs,
  ipBatch,
  runInVm,
  shellInNs,
  TWO_NODES,
  twoNodeBaseScript,
  UNDERLAY_DEVICE,
  UNDERLAY_MTU,
} from '@margay/testkit';
import { calculateTunnelState, commandsAsScript, plannedCommands } from '@margay/tunnel';
import type { Measurement, Round, Variant } from './report';
import { parsePingOutput, summarizePing } from './stats';

export const IPIP_PATH = 'IPIP pod→pod (qemu VM, relative only)';
const BULK_PORT = 5201;

async function managerScript(): Promise<string> {
  const parts: string[] = [];
  for (const node of TWO_NODES) {
    const calculation = calculateTunnelState({
      nodeName: node.ns,
      pools: [{ name: 'pods', cidr: '10.244.0.0/16', ipipMode: 'Always', vxlanMode: 'Never' }],
      nodes: TWO_NODES.map((n) => ({
        name: n.ns,
        ipv4Address: `${n.underlayIp}/24`,
        ipipTunnelAddr: n.tunnelIp,
      })),
      affinities: TWO_NODES.map((n) => ({ node: n.ns, cidr: n.block })),
      underlay: { device: UNDERLAY_DEVICE, mtu: UNDERLAY_MTU },
    });
    if (!calculation.ready) throw new Error(`${node.ns}: tunnel state not ready: ${calculation.reason}`);
    if (calculation.problems.length > 0) throw new Error(`${node.ns}: ${calculation.problems.join('; ')}`);
    parts.push(shellInNs(node.ns, [commandsAsScript(await plannedCommands(calculation.state))]));
  }
  return parts.join('\n');
}

const clearTunnels = () =>
  TWO_NODES.map((node) =>
    ipBatch(['route flush proto 79', 'addr flush dev tunl0', 'link set tunl0 down'], node.ns),
  ).join('\n');

function measureScript(pings: number, intervalS: number, bulkBytes: number): string {
  const [a, b] = TWO_NODES;
  const blocks = Math.max(1, Math.round(bulkBytes / 65_536));
  return [
    `${inNs(a.podNs, `ping -c ${pings} -i ${intervalS} -W 5 ${b.podIp}`)} || true`,
    `${inNs(b.podNs, `nc -l -p ${BULK_PORT}`)} > /dev/null & server=$!`,
    'sleep 0.3',
    "t0=$(cut -d' ' -f1 /proc/uptime)",
    `${inNs(a.podNs, `sh -c "dd if=/dev/zero bs=65536 count=${blocks} 2>/dev/null | timeout 120 nc ${b.podIp} ${BULK_PORT}"`)} || echo "bulk failed $?"`,
    'wait $server || true',
    "t1=$(cut -d' ' -f1 /proc/uptime)",
    `echo "bulk ${blocks * 65_536} $t0 $t1"`,
  ].join('\n');
}

export interface IpipOptions {
  readonly rounds: number;
  readonly pings: number;
  readonly intervalS: number;
  readonly bulkBytes: number;
}

/**
 * Parses the sections the VM script printed (`@@ipip <variant> <round>@@` … `bulk <bytes> <t0>
 * <t1>`): per variant and round, the mean ping (ms) and the bulk transfer's bit/s (absent when it
 * failed).
 */
export function parseIpipOutput(output: string): Measurement[] {
  const found = new Map<Variant, Round[]>();
  const sections = output.split(/^@@ipip (floor|margay) (\d+)@@$/m);
  for (let i = 1; i + 2 < sections.length; i += 3) {
    const variant = sections[i] as Variant;
    const round = Number(sections[i + 1]);
    const text = sections[i + 2]!;
    const rounds = found.get(variant) ?? [];
    found.set(variant, rounds);
    if (round !== rounds.length + 1)
      throw new Error(`the VM output has ${variant} round ${round} after ${rounds.length} rounds`);
    const figures: Round = { ping: summarizePing(parsePingOutput(text)).avgMs };
    const bulk = /^bulk (\d+) ([\d.]+) ([\d.]+)$/m.exec(text);
    if (bulk && !/^bulk failed/m.test(text)) {
      const seconds = Number(bulk[3]) - Number(bulk[2]);
      if (seconds > 0) figures.throughput = (Number(bulk[1]) * 8) / seconds;
    }
    rounds.push(figures);
  }
  if (!found.has('floor') || !found.has('margay'))
    throw new Error(`the VM output lacks a floor or margay section:\n${output.slice(-1500)}`);
  return (['margay', 'floor'] as const).map((variant) => ({
    path: IPIP_PATH,
    variant,
    rounds: found.get(variant)!,
    note:
      variant === 'margay'
        ? 'tunnel manager planned commands vs hand-written tunl0; 1 vCPU under TCG'
        : undefined,
  }));
}

export async function measureIpipInVm(
  options: IpipOptions,
  log: (line: string) => void,
): Promise<Measurement[]> {
  const margay = await managerScript();
  const lines = [twoNodeBaseScript()];
  for (let round = 1; round <= options.rounds; round++) {
    // Alternate which side goes first, as on the host.
    const order = round % 2 === 1 ? (['floor', 'margay'] as const) : (['margay', 'floor'] as const);
    for (const variant of order) {
      lines.push(
        `echo "@@ipip ${variant} ${round}@@"`,
        variant === 'floor' ? handWrittenIpipScript() : margay,
        measureScript(options.pings, options.intervalS, options.bulkBytes),
        clearTunnels(),
      );
    }
  }
  const result = await runInVm({ script: `${lines.join('\n')}\n`, timeoutMs: 600_000 });
  log(`ipip: VM boot ${result.bootMs} ms, script ${result.scriptMs} ms`);
  if (result.code !== 0)
    throw new Error(`the IPIP VM script exited ${result.code}:\n${result.output.slice(-2000)}`);
  return parseIpipOutput(result.output);
}
