// `margayctl node status` for a node whose BGP daemon is BIRD: the protocols BIRD reports on its
// control socket (`birdc show protocols all`, parsed as calicoctl parses `show protocols`) and
// margay-confd's status key, which says whether BIRD runs what etcd holds and, if not, why.

import { execFile } from 'node:child_process';
import { statusKeys } from '@margay/api';
import type { Datastore } from '@margay/datastore';
import { CommandError } from '../errors';
import { renderTable } from '../table';
import type { Format } from './bgp';

/** Where margay-node keeps BIRD's control socket unless told otherwise (its --bird-run-dir default). */
export const DEFAULT_BIRD_SOCKET = '/var/run/margay/bird/bird.ctl';

/** margay-confd's status key (see @margay/confd's status.ts). */
export const confdStatusKey = statusKeys.confd;

export interface BirdPeer {
  /** BIRD's protocol name, e.g. Mesh_10_0_0_2. */
  readonly protocol: string;
  readonly address: string;
  /** The description margay-confd gave the protocol: node-to-node mesh, global, node specific ... */
  readonly type: string;
  /** BIRD's protocol state: up, start, down ... */
  readonly state: string;
  readonly since: string;
  /** BIRD's info column: the BGP state and, when down, why. */
  readonly info: string;
}

export interface ConfdReport {
  readonly ok: boolean;
  readonly stage?: string;
  readonly error?: string;
  readonly time?: string;
  readonly config?: { readonly file: string; readonly sha256: string; readonly since: string };
}

/**
 * The BGP protocols of `birdc show protocols all`: a row `Name Proto Table State Since Info`,
 * then indented details (Description, Neighbor address) until a blank line.
 */
export function parseBirdProtocols(output: string): BirdPeer[] {
  const peers: BirdPeer[] = [];
  for (const block of output.split(/\n\s*\n/)) {
    const lines = block.split('\n');
    const rowIndex = lines.findIndex((line) => /^\S+\s+BGP\s/.test(line));
    if (rowIndex < 0) continue;
    const row = /^(\S+)\s+BGP\s+\S+\s+(\S+)\s+(\S+)\s*(.*)$/.exec(lines[rowIndex]!);
    if (!row) continue;
    const detail = (label: string) =>
      lines
        .slice(rowIndex + 1)
        .map((line) => new RegExp(`^\\s+${label}:\\s+(.*)$`).exec(line)?.[1]?.trim())
        .find((value) => value !== undefined);
    const [, protocol, state, since, info] = row as unknown as [string, string, string, string, string];
    peers.push({
      protocol,
      address: detail('Neighbor address') ?? '',
      type: detail('Description') ?? 'BGP',
      state,
      since,
      info: info.trim().replace(/\s{2,}/g, ' '),
    });
  }
  return peers;
}

/** birdc's answer; a BIRD that does not answer is a CommandError with a hint. */
export function askBird(socket: string, command: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('birdc', ['-s', socket, ...command], { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error && !stdout.includes(' ready.')) {
        const said = `${stderr}${stdout}`.trim() || error.message;
        reject(
          new CommandError([
            `cannot reach BIRD on ${socket}: ${said}`,
            'is margay-node running with --bgp-daemon bird? (its socket is <--bird-run-dir>/bird.ctl)',
          ]),
        );
      } else {
        resolve(stdout);
      }
    });
  });
}

export async function readConfdReport(store: Datastore, nodeName: string): Promise<ConfdReport | undefined> {
  const kv = await store.get(confdStatusKey(nodeName));
  if (!kv) return undefined;
  try {
    return JSON.parse(kv.value) as ConfdReport;
  } catch {
    return { ok: false, error: `${confdStatusKey(nodeName)} holds no JSON` };
  }
}

/** The calicoctl layout, with a line on margay-confd's last render before the peer tables. */
export function renderBirdNodeStatus(
  nodeName: string,
  peers: BirdPeer[],
  confd: ConfdReport | undefined,
  format: Format,
): string {
  if (format === 'json')
    return `${JSON.stringify({ daemon: 'bird', node: nodeName, confd, peers }, null, 2)}\n`;
  const families = [
    { name: 'IPv4', peers: peers.filter((p) => !p.address.includes(':')) },
    { name: 'IPv6', peers: peers.filter((p) => p.address.includes(':')) },
  ];
  const sections = families.map(({ name, peers: ofFamily }) => {
    const body = ofFamily.length === 0 ? `No ${name} peers found.\n` : peerTable(ofFamily, format === 'wide');
    return `${name} BGP status\n${body}`;
  });
  return `margay-node is running with BIRD as its BGP daemon.\n\n${confdLine(nodeName, confd)}\n${sections.join('\n')}`;
}

function confdLine(nodeName: string, confd: ConfdReport | undefined): string {
  if (!confd) return `margay-confd: no status for node ${nodeName} yet\n`;
  const running = confd.config
    ? `BIRD runs ${confd.config.file} (sha256 ${confd.config.sha256.slice(0, 12)}, since ${confd.config.since})`
    : 'BIRD has no configuration from margay-confd';
  if (confd.ok) return `margay-confd: ok; ${running}\n`;
  return (
    `margay-confd: ERROR at ${confd.stage ?? 'unknown stage'}: ${confd.error ?? 'no reason given'}\n` +
    `  the last change in etcd is not in BIRD; ${running}\n`
  );
}

function peerTable(peers: BirdPeer[], wide: boolean): string {
  const headers = ['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'];
  if (wide) headers.push('PROTOCOL');
  const rows = [...peers]
    .sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }))
    .map((p) => {
      const row = [p.address, p.type, p.state, p.since, p.info];
      if (wide) row.push(p.protocol);
      return row;
    });
  return renderTable(headers, rows);
}
