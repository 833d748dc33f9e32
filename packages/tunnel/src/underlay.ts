// Finding the underlay: the interface holding the node's own address, whose MTU bounds the
// tunnels' and which carries VXLAN packets and CrossSubnet routes.

import type { CommandRunner } from '@margay/dataplane';
import type { Underlay } from './state';

interface ShownAddress {
  readonly ifname?: string;
  readonly mtu?: number;
  readonly addr_info?: readonly { family?: string; local?: string }[];
}

/** The interface holding `address`, or undefined if none does. */
export async function findUnderlay(runner: CommandRunner, address: string): Promise<Underlay | undefined> {
  const argv = ['ip', '-j', '-4', 'addr', 'show'];
  const result = await runner.run(argv);
  if (result.code !== 0)
    throw new Error(`${argv.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  const links = JSON.parse(result.stdout || '[]') as ShownAddress[];
  const link = links.find((l) => l.addr_info?.some((a) => a.family === 'inet' && a.local === address));
  return link?.ifname === undefined || link.mtu === undefined
    ? undefined
    : { device: link.ifname, mtu: link.mtu };
}
