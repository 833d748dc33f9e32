// Helpers for this package's tests: resources written the way margayctl and margay-node store them,
// and a small fake kernel that remembers the tunnel devices and routes written to it.

import { type EncapsulationMode, resourceKey } from '@margay/api';
import { type RecordedCommand, RecordingRunner } from '@margay/dataplane';
import type { Datastore } from '@margay/datastore';

export async function putPool(
  store: Datastore,
  name: string,
  cidr: string,
  modes: { ipipMode?: EncapsulationMode; vxlanMode?: EncapsulationMode },
): Promise<void> {
  const doc = {
    apiVersion: 'margay.io/v1',
    kind: 'IPPool',
    metadata: { name },
    spec: { cidr, blockSize: 26, ...modes },
  };
  await store.put(resourceKey('IPPool', name), JSON.stringify(doc));
}

export async function putNode(store: Datastore, name: string, ipv4Address: string): Promise<void> {
  const doc = {
    apiVersion: 'margay.io/v1',
    kind: 'Node',
    metadata: { name },
    spec: { bgp: { ipv4Address } },
  };
  await store.put(resourceKey('Node', name), JSON.stringify(doc));
}

/**
 * A kernel with one underlay interface `eth0` holding `address`: it answers the reads the tunnel
 * manager makes from what was written (devices added and deleted, their addresses, routes of ours).
 */
export class FakeKernel {
  readonly runner: RecordingRunner;
  readonly devices = new Map<string, { kind: string; addresses: string[]; up: boolean }>();
  routes: { dst: string; gateway?: string; dev?: string; flags: string[] }[] = [];

  constructor(address: string) {
    this.runner = new RecordingRunner((command) => this.answer(command, address));
  }

  /** Every write so far, one string each (the route batch as its lines). */
  writes(): string[] {
    return this.runner.commands
      .filter((c) => c.argv[1] !== '-j')
      .map((c) =>
        c.argv.includes('-batch') ? `batch: ${c.input.trim().split('\n').join(' | ')}` : c.argv.join(' '),
      );
  }

  private answer(command: RecordedCommand, address: string) {
    const argv = command.argv.join(' ');
    if (argv === 'ip -j -4 addr show') {
      return {
        stdout: JSON.stringify([
          { ifname: 'eth0', mtu: 1500, addr_info: [{ family: 'inet', local: address }] },
        ]),
      };
    }
    const show = /^ip -j -d addr show dev (\S+)$/.exec(argv);
    if (show) {
      const device = this.devices.get(show[1]!);
      if (!device) return { code: 1, stderr: `Device "${show[1]}" does not exist.` };
      const shown = {
        ifname: show[1],
        flags: device.up ? ['UP'] : [],
        mtu: 1450,
        address: '66:00:00:00:00:0a',
        linkinfo: { info_kind: device.kind },
        addr_info: device.addresses.map((cidr) => ({
          family: 'inet',
          local: cidr.split('/')[0],
          prefixlen: 32,
        })),
      };
      return { stdout: JSON.stringify([shown]) };
    }
    if (argv.startsWith('ip -j -4 route show')) {
      return { stdout: JSON.stringify(this.routes) };
    }
    if (command.argv[1] === '-j' || argv.startsWith('bridge -j')) return { stdout: '[]' };
    const add = /^ip link add name (\S+) .*type (\S+)/.exec(argv);
    if (add) this.devices.set(add[1]!, { kind: add[2]!, addresses: [], up: false });
    const del = /^ip link del dev (\S+)$/.exec(argv);
    if (del) this.devices.delete(del[1]!);
    const addr = /^ip addr add (\S+) dev (\S+)$/.exec(argv);
    if (addr) this.devices.get(addr[2]!)?.addresses.push(addr[1]!);
    const up = /^ip link set dev (\S+) up$/.exec(argv);
    if (up) {
      const device = this.devices.get(up[1]!);
      if (device) device.up = true;
    }
    if (command.argv.includes('-batch')) {
      for (const line of command.input.trim().split('\n')) {
        const words = line.split(' ');
        const [, verb, dst] = words;
        const after = (word: string) => (words.includes(word) ? words[words.indexOf(word) + 1] : undefined);
        this.routes = this.routes.filter((route) => route.dst !== dst);
        if (verb === 'replace' && dst !== undefined) {
          const flags = words.includes('onlink') ? ['onlink'] : [];
          this.routes.push({
            dst,
            ...(after('via') && { gateway: after('via') }),
            ...(after('dev') && { dev: after('dev') }),
            flags,
          });
        }
      }
    }
    return {};
  }
}
