// IPIP on a real kernel: this host's kernel has no ipip module, so the proof boots Debian's cloud
// kernel under qemu (@margay/testkit runInVm). Inside it, two node namespaces joined by a veth
// underlay each get exactly the commands the tunnel manager plans for its node, and a pod on one
// pings a pod on the other. Counters on the underlay show the echoes crossed it as IP protocol 4.

import type { EncapsulationMode } from '@margay/api';
import {
  parseCounters,
  pingAndCountScript,
  runInVm,
  shellInNs,
  TWO_NODES,
  twoNodeBaseScript,
  UNDERLAY_DEVICE,
  UNDERLAY_MTU,
  type VmTopologyNode,
} from '@margay/testkit';
import { calculateTunnelState } from './calculate';
import { commandsAsScript, plannedCommands } from './dataplane';
import type { TunnelInputs } from './state';

const VM_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 180_000;
const PINGS = 3;

function inputsFor(self: VmTopologyNode, ipipMode: EncapsulationMode): TunnelInputs {
  return {
    nodeName: self.ns,
    pools: [{ name: 'default-ipv4-ippool', cidr: '10.244.0.0/16', ipipMode, vxlanMode: 'Never' }],
    nodes: TWO_NODES.map((node) => ({
      name: node.ns,
      ipv4Address: `${node.underlayIp}/24`,
      ipipTunnelAddr: node.tunnelIp,
    })),
    affinities: TWO_NODES.map((node) => ({ node: node.ns, cidr: node.block })),
    underlay: { device: UNDERLAY_DEVICE, mtu: UNDERLAY_MTU },
  };
}

/** Each node's planned commands, run by a shell inside that node's namespace. */
async function managerScript(ipipMode: EncapsulationMode): Promise<string> {
  const parts: string[] = ['set -e'];
  for (const node of TWO_NODES) {
    const calculation = calculateTunnelState(inputsFor(node, ipipMode));
    if (!calculation.ready) throw new Error(`${node.ns}: tunnel state not ready: ${calculation.reason}`);
    expect(calculation.problems).toEqual([]);
    const commands = await plannedCommands(calculation.state);
    parts.push(
      `echo "--- tunnel manager commands for ${node.ns}"`,
      shellInNs(node.ns, ['set -x', commandsAsScript(commands)]),
    );
  }
  return `${parts.join('\n')}\n`;
}

describe('IPIP from the tunnel manager on a real kernel (qemu VM)', () => {
  it(
    'Always: pods on two nodes ping each other over tunl0, encapsulated (protocol 4) on the underlay',
    async () => {
      const result = await runInVm({
        script: [twoNodeBaseScript(), await managerScript('Always'), pingAndCountScript(PINGS)].join('\n'),
        timeoutMs: VM_TIMEOUT_MS,
      });
      console.log(
        `ipip (tunnel manager) in VM: boot-to-script ${result.bootMs} ms, script ${result.scriptMs} ms, total ${result.totalMs} ms`,
      );
      expect({ code: result.code, output: result.output }).toMatchObject({ code: 0 });
      expect(result.output).toContain(`${PINGS} packets transmitted, ${PINGS} packets received`);
      // The manager's device settings hold: the MTU is the underlay's minus 20.
      expect(result.output).toMatch(new RegExp(`tunl0@NONE: <[^>]*UP[^>]*> mtu ${UNDERLAY_MTU - 20}`));
      const [a, b] = TWO_NODES;
      expect(result.output).toContain(`${b.block} via ${b.underlayIp} dev tunl0 proto 79 onlink`);
      expect(result.output).toContain(`${a.block} via ${a.underlayIp} dev tunl0 proto 79 onlink`);
      const counters = parseCounters(result.output);
      for (const node of TWO_NODES) {
        expect(counters.get(`${node.ns} tunl0.tx_packets`)).toBeGreaterThanOrEqual(PINGS);
        expect(counters.get(`${node.ns} tunl0.rx_packets`)).toBeGreaterThanOrEqual(PINGS);
        expect(counters.get(`${node.ns} ipip-out`)).toBeGreaterThanOrEqual(PINGS);
        expect(counters.get(`${node.ns} ipip-in`)).toBeGreaterThanOrEqual(PINGS);
        expect(counters.get(`${node.ns} plain-in`)).toBe(0);
        expect(counters.get(`${node.ns} plain-out`)).toBe(0);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'CrossSubnet: nodes in one subnet get plain routes, so the same ping crosses the underlay unencapsulated',
    async () => {
      const result = await runInVm({
        script: [twoNodeBaseScript(), await managerScript('CrossSubnet'), pingAndCountScript(PINGS)].join(
          '\n',
        ),
        timeoutMs: VM_TIMEOUT_MS,
      });
      expect({ code: result.code, output: result.output }).toMatchObject({ code: 0 });
      const counters = parseCounters(result.output);
      for (const node of TWO_NODES) {
        expect(counters.get(`${node.ns} ipip-out`)).toBe(0);
        expect(counters.get(`${node.ns} ipip-in`)).toBe(0);
        expect(counters.get(`${node.ns} tunl0.tx_packets`)).toBe(0);
        expect(counters.get(`${node.ns} plain-out`)).toBeGreaterThanOrEqual(PINGS);
        expect(counters.get(`${node.ns} plain-in`)).toBeGreaterThanOrEqual(PINGS);
      }
    },
    TEST_TIMEOUT_MS,
  );
});
