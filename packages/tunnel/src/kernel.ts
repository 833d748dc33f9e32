// Reading the tunnel state the kernel holds: the two devices (kind, parameters, MTU, MAC, up,
// IPv4 addresses), and the permanent ARP and FDB entries on the VXLAN device. Everything read
// here is ours by name: nothing else on a margay node owns tunl0 or vxlan.margay.

import type { CommandRunner } from '@margay/dataplane';
import { IPIP_DEVICE, VXLAN_DEVICE } from './constants';
import type { FdbEntry, NeighbourEntry } from './state';

export interface LinkState {
  readonly kind: string | undefined;
  readonly up: boolean;
  readonly mtu: number;
  readonly mac: string | undefined;
  /** IPv4 addresses in CIDR form. */
  readonly addresses: readonly string[];
  /** VXLAN parameters, when the device is one. */
  readonly vni?: number;
  readonly port?: number;
  readonly local?: string;
  readonly parent?: string;
}

export interface KernelTunnelState {
  readonly ipip: LinkState | undefined;
  readonly vxlan: LinkState | undefined;
  /** Permanent ARP entries on the VXLAN device. */
  readonly neighbours: readonly NeighbourEntry[];
  /** FDB entries with a remote on the VXLAN device. */
  readonly fdb: readonly FdbEntry[];
}

export const EMPTY_KERNEL_STATE: KernelTunnelState = {
  ipip: undefined,
  vxlan: undefined,
  neighbours: [],
  fdb: [],
};

export async function readKernelTunnelState(runner: CommandRunner): Promise<KernelTunnelState> {
  const [ipip, vxlan] = await Promise.all([readLink(runner, IPIP_DEVICE), readLink(runner, VXLAN_DEVICE)]);
  if (vxlan === undefined) return { ipip, vxlan, neighbours: [], fdb: [] };
  const [neighbours, fdb] = await Promise.all([readNeighbours(runner), readFdb(runner)]);
  return { ipip, vxlan, neighbours, fdb };
}

interface ShownLink {
  readonly flags?: readonly string[];
  readonly mtu?: number;
  readonly address?: string;
  readonly linkinfo?: {
    readonly info_kind?: string;
    readonly info_data?: { id?: number; port?: number; local?: string; link?: string };
  };
  readonly addr_info?: readonly { family?: string; local?: string; prefixlen?: number }[];
}

async function readLink(runner: CommandRunner, name: string): Promise<LinkState | undefined> {
  const stdout = await query(runner, ['ip', '-j', '-d', 'addr', 'show', 'dev', name], 'does not exist');
  if (stdout === undefined) return undefined;
  const [link] = parseJson<ShownLink[]>(stdout, name);
  if (link === undefined) return undefined;
  const data = link.linkinfo?.info_data;
  return {
    kind: link.linkinfo?.info_kind,
    up: link.flags?.includes('UP') ?? false,
    mtu: link.mtu ?? 0,
    mac: link.address?.toLowerCase(),
    addresses: (link.addr_info ?? [])
      .filter((a) => a.family === 'inet' && a.local !== undefined)
      .map((a) => `${a.local}/${a.prefixlen ?? 32}`),
    ...(data?.id !== undefined && { vni: data.id }),
    ...(data?.port !== undefined && { port: data.port }),
    ...(data?.local !== undefined && { local: data.local }),
    ...(data?.link !== undefined && { parent: data.link }),
  };
}

async function readNeighbours(runner: CommandRunner): Promise<NeighbourEntry[]> {
  const argv = ['ip', '-j', '-4', 'neigh', 'show', 'dev', VXLAN_DEVICE, 'nud', 'permanent'];
  const shown = parseJson<{ dst?: string; lladdr?: string }[]>((await query(runner, argv)) ?? '[]', 'neigh');
  return shown.flatMap((n) =>
    n.dst !== undefined && n.lladdr !== undefined ? [{ ip: n.dst, mac: n.lladdr.toLowerCase() }] : [],
  );
}

async function readFdb(runner: CommandRunner): Promise<FdbEntry[]> {
  const argv = ['bridge', '-j', 'fdb', 'show', 'dev', VXLAN_DEVICE];
  const shown = parseJson<{ mac?: string; dst?: string }[]>((await query(runner, argv)) ?? '[]', 'fdb');
  // Entries without a remote (the device's own multicast MACs) are the kernel's, not ours.
  return shown.flatMap((e) =>
    e.mac !== undefined && e.dst !== undefined ? [{ mac: e.mac.toLowerCase(), dst: e.dst }] : [],
  );
}

/** stdout of a read; undefined if it failed with `absent` in stderr; throws on any other failure. */
async function query(runner: CommandRunner, argv: string[], absent?: string): Promise<string | undefined> {
  const result = await runner.run(argv);
  if (result.code === 0) return result.stdout;
  if (absent !== undefined && result.stderr.includes(absent)) return undefined;
  throw new Error(`${argv.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
}

function parseJson<T>(text: string, what: string): T {
  if (text.trim() === '') return [] as T;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`cannot parse the kernel's ${what} listing: ${(error as Error).message}`);
  }
}
