import { isAlive } from '../process';
import {
  findCloudKernel,
  handWrittenIpipScript,
  parseCounters,
  pingAndCountScript,
  plainRoutesScript,
  runInVm,
  TWO_NODES,
  twoNodeBaseScript,
  type VmRunResult,
} from '.';

// Software emulation on a shared 2-core machine: generous limits that only stop a stuck VM.
const VM_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 180_000;
const PINGS = 3;

function figures(what: string, result: VmRunResult): void {
  console.log(
    `${what}: boot-to-script ${result.bootMs} ms (guest uptime ${result.guestUptimeAtStart} s), ` +
      `script ${result.scriptMs} ms, total ${result.totalMs} ms`,
  );
}

describe('runInVm (qemu, Debian cloud kernel)', () => {
  it(
    'boots the cloud kernel and returns the script output and exit code',
    async () => {
      const kernel = findCloudKernel();
      const result = await runInVm({
        script: 'uname -r\necho to-stdout\necho to-stderr >&2\nexit 7\n',
        timeoutMs: VM_TIMEOUT_MS,
      });
      figures('boot', result);
      expect(result.code).toBe(7);
      expect(result.output).toBe(`${kernel.version}\nto-stdout\nto-stderr\n`);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'creates an ipip device, which this host kernel cannot',
    async () => {
      const result = await runInVm({
        script:
          'ip link add mgy-ipip type ipip local 198.18.0.1 remote 198.18.0.2\nip -d link show mgy-ipip\n',
        timeoutMs: VM_TIMEOUT_MS,
      });
      figures('ipip device', result);
      expect(result.code).toBe(0);
      expect(result.output).toMatch(/link\/ipip 198\.18\.0\.1 peer 198\.18\.0\.2/);
      expect(result.output).toMatch(/\bipip any remote 198\.18\.0\.2 local 198\.18\.0\.1\b/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'carries a pod-to-pod ping over tunl0 between two nodes, encapsulated (protocol 4) on the underlay',
    async () => {
      const result = await runInVm({
        script: [twoNodeBaseScript(), handWrittenIpipScript(), pingAndCountScript(PINGS)].join('\n'),
        timeoutMs: VM_TIMEOUT_MS,
      });
      figures('ipip two nodes', result);
      expect({ code: result.code, output: result.output }).toMatchObject({ code: 0 });
      expect(result.output).toContain(`${PINGS} packets transmitted, ${PINGS} packets received`);
      const counters = parseCounters(result.output);
      const [a, b] = TWO_NODES;
      // Requests a→b and replies b→a each cross both tunl0 devices and the underlay as IPIP.
      for (const node of [a, b]) {
        expect(counters.get(`${node.ns} tunl0.tx_packets`)).toBeGreaterThanOrEqual(PINGS);
        expect(counters.get(`${node.ns} tunl0.rx_packets`)).toBeGreaterThanOrEqual(PINGS);
        expect(counters.get(`${node.ns} ipip-out`)).toBeGreaterThanOrEqual(PINGS);
        expect(counters.get(`${node.ns} ipip-in`)).toBeGreaterThanOrEqual(PINGS);
        // Nothing from the pods crossed the underlay unencapsulated.
        expect(counters.get(`${node.ns} plain-in`)).toBe(0);
        expect(counters.get(`${node.ns} plain-out`)).toBe(0);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'control: with plain routes the same counters show no IPIP and the pod traffic in the clear',
    async () => {
      const result = await runInVm({
        script: [twoNodeBaseScript(), plainRoutesScript(), pingAndCountScript(PINGS)].join('\n'),
        timeoutMs: VM_TIMEOUT_MS,
      });
      figures('plain two nodes', result);
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

  it(
    'kills the VM by pid when the script outlives the time limit, and says so',
    async () => {
      let pid = 0;
      await expect(
        runInVm({
          script: 'sleep 600\n',
          timeoutMs: 1_500,
          onSpawn: (spawned) => {
            pid = spawned;
          },
        }),
      ).rejects.toThrow(/VM did not finish within 1500 ms \(qemu killed\)/);
      expect(pid).toBeGreaterThan(0);
      expect(isAlive(pid)).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );
});
