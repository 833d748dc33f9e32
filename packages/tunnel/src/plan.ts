// The commands that take the tunnel devices, addresses, ARP and FDB entries from what the kernel
// holds to what is desired. Pure. Routes are not here: the RouteTable diffs those. The plan has
// two phases around the route write: `setup` before it (a route needs its device), `teardown`
// after it (a device is removed only once no route of ours points at it).

import { IPIP_DEVICE, VXLAN_DEVICE } from './constants';
import type { KernelTunnelState, LinkState } from './kernel';
import type { IpipDeviceSpec, TunnelState, VxlanDeviceSpec } from './state';

export interface TunnelCommand {
  readonly argv: readonly string[];
  /** A failure whose stderr contains this reached the desired state anyway. */
  readonly tolerate?: string;
}

export interface TunnelPlan {
  readonly setup: readonly TunnelCommand[];
  readonly teardown: readonly TunnelCommand[];
}

export function planTunnelCommands(current: KernelTunnelState, desired: TunnelState): TunnelPlan {
  const setup: TunnelCommand[] = [];
  const teardown: TunnelCommand[] = [];
  if (desired.ipip) setup.push(...ipipSetup(current.ipip, desired.ipip));
  else teardown.push(...ipipTeardown(current.ipip));
  if (desired.vxlan) {
    const { commands, recreated } = vxlanDevice(current.vxlan, desired.vxlan);
    setup.push(...commands);
    // A new device starts without entries: every desired one is written.
    const kernel = recreated ? { neighbours: [], fdb: [] } : current;
    setup.push(...neighbourCommands(kernel.neighbours, desired.neighbours));
    setup.push(...fdbCommands(kernel.fdb, desired.fdb));
  } else if (current.vxlan) {
    // Its ARP and FDB entries go with it.
    teardown.push({ argv: ['ip', 'link', 'del', 'dev', VXLAN_DEVICE], tolerate: 'Cannot find device' });
  }
  return { setup, teardown };
}

function ipipSetup(current: LinkState | undefined, desired: IpipDeviceSpec): TunnelCommand[] {
  const commands: TunnelCommand[] = [];
  let link = current;
  if (link !== undefined && link.kind !== 'ipip') {
    commands.push({ argv: ['ip', 'link', 'del', 'dev', IPIP_DEVICE] });
    link = undefined;
  }
  if (link === undefined) {
    // Loading the ipip module creates tunl0 as its fallback device, so the add may find it there.
    commands.push({
      argv: ['ip', 'link', 'add', 'name', IPIP_DEVICE, 'type', 'ipip'],
      tolerate: 'File exists',
    });
  }
  if (link?.mtu !== desired.mtu) {
    commands.push({ argv: ['ip', 'link', 'set', 'dev', IPIP_DEVICE, 'mtu', String(desired.mtu)] });
  }
  commands.push(...addressCommands(IPIP_DEVICE, link?.addresses ?? [], desired.address));
  if (!link?.up) commands.push({ argv: ['ip', 'link', 'set', 'dev', IPIP_DEVICE, 'up'] });
  return commands;
}

/**
 * tunl0 may be the ipip module's fallback device, which the kernel never deletes (the delete
 * succeeds and does nothing), so it is also emptied and taken down: a down tunl0 without
 * addresses counts as gone.
 */
function ipipTeardown(current: LinkState | undefined): TunnelCommand[] {
  if (current === undefined || (!current.up && current.addresses.length === 0)) return [];
  const gone = 'Cannot find device';
  return [
    { argv: ['ip', 'addr', 'flush', 'dev', IPIP_DEVICE], tolerate: gone },
    { argv: ['ip', 'link', 'set', 'dev', IPIP_DEVICE, 'down'], tolerate: gone },
    { argv: ['ip', 'link', 'del', 'dev', IPIP_DEVICE], tolerate: gone },
  ];
}

function vxlanDevice(
  current: LinkState | undefined,
  desired: VxlanDeviceSpec,
): { commands: TunnelCommand[]; recreated: boolean } {
  const commands: TunnelCommand[] = [];
  let link = current;
  // VNI, port, local address and parent cannot be changed on a live device: Calico recreates it too.
  if (
    link !== undefined &&
    (link.kind !== 'vxlan' ||
      link.vni !== desired.vni ||
      link.port !== desired.port ||
      link.local !== desired.local ||
      link.parent !== desired.parent)
  ) {
    commands.push({ argv: ['ip', 'link', 'del', 'dev', VXLAN_DEVICE] });
    link = undefined;
  }
  if (link === undefined) {
    const { name, mac, mtu, vni, local, parent, port } = desired;
    commands.push({
      argv: [
        ...['ip', 'link', 'add', 'name', name, 'address', mac, 'mtu', String(mtu), 'type', 'vxlan'],
        ...['id', String(vni), 'local', local, 'dev', parent, 'dstport', String(port), 'nolearning'],
      ],
    });
  } else {
    if (link.mac !== desired.mac)
      commands.push({ argv: ['ip', 'link', 'set', 'dev', VXLAN_DEVICE, 'address', desired.mac] });
    if (link.mtu !== desired.mtu)
      commands.push({ argv: ['ip', 'link', 'set', 'dev', VXLAN_DEVICE, 'mtu', String(desired.mtu)] });
  }
  commands.push(...addressCommands(VXLAN_DEVICE, link?.addresses ?? [], desired.address));
  if (!link?.up) commands.push({ argv: ['ip', 'link', 'set', 'dev', VXLAN_DEVICE, 'up'] });
  return { commands, recreated: current !== undefined && link === undefined };
}

/** Makes `<address>/32` the only IPv4 address of the device (none if undefined). */
function addressCommands(
  device: string,
  current: readonly string[],
  address: string | undefined,
): TunnelCommand[] {
  const wanted = address === undefined ? undefined : `${address}/32`;
  const commands: TunnelCommand[] = current
    .filter((cidr) => cidr !== wanted)
    .map((cidr) => ({ argv: ['ip', 'addr', 'del', cidr, 'dev', device], tolerate: 'Cannot assign' }));
  if (wanted !== undefined && !current.includes(wanted)) {
    commands.push({ argv: ['ip', 'addr', 'add', wanted, 'dev', device], tolerate: 'File exists' });
  }
  return commands;
}

function neighbourCommands(
  current: TunnelState['neighbours'],
  desired: TunnelState['neighbours'],
): TunnelCommand[] {
  const wanted = new Map(desired.map((n) => [n.ip, n.mac]));
  const held = new Map(current.map((n) => [n.ip, n.mac]));
  const commands: TunnelCommand[] = [];
  for (const [ip] of held) {
    if (!wanted.has(ip)) {
      commands.push({ argv: ['ip', 'neigh', 'del', ip, 'dev', VXLAN_DEVICE], tolerate: 'No such file' });
    }
  }
  for (const [ip, mac] of wanted) {
    if (held.get(ip) !== mac) {
      commands.push({
        argv: ['ip', 'neigh', 'replace', ip, 'lladdr', mac, 'dev', VXLAN_DEVICE, 'nud', 'permanent'],
      });
    }
  }
  return commands;
}

function fdbCommands(current: TunnelState['fdb'], desired: TunnelState['fdb']): TunnelCommand[] {
  const wanted = new Set(desired.map((e) => `${e.mac} ${e.dst}`));
  const held = new Set(current.map((e) => `${e.mac} ${e.dst}`));
  const commands: TunnelCommand[] = [];
  for (const entry of current) {
    if (!wanted.has(`${entry.mac} ${entry.dst}`)) {
      commands.push({
        argv: ['bridge', 'fdb', 'del', entry.mac, 'dev', VXLAN_DEVICE, 'dst', entry.dst, 'self'],
        tolerate: 'No such file',
      });
    }
  }
  for (const entry of desired) {
    if (!held.has(`${entry.mac} ${entry.dst}`)) {
      commands.push({
        argv: [
          'bridge',
          'fdb',
          'replace',
          entry.mac,
          'dev',
          VXLAN_DEVICE,
          'dst',
          entry.dst,
          'self',
          'permanent',
        ],
      });
    }
  }
  return commands;
}
