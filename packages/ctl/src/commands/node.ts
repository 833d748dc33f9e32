import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ApiPeer, BgpApiError } from '@margay/bgp';
import {
  addConnectionOptions,
  type CommandContext,
  type ConnectionOptions,
  type RegisterCommand,
} from '../context';
import { renderTable } from '../table';
import { checkFormat, FORMATS, type Format, formatSince, withClient } from './bgp';
import {
  askBird,
  DEFAULT_BIRD_SOCKET,
  parseBirdProtocols,
  readConfdReport,
  renderBirdNodeStatus,
} from './bird-status';

/** Where margay-node serves its speaker's API unless told otherwise (its --bgp-api default). */
export const DEFAULT_NODE_BGP_API = '127.0.0.1:50151';

interface StatusOptions extends ConnectionOptions {
  bgpApi: string;
  output: string;
  birdSocket?: string;
  nodeName?: string;
}

/**
 * `node status`: this node's BGP peers as its margay-node sees them, the counterpart of
 * `calicoctl node status`. Calico asks BIRD's control socket; margay asks the speaker's gRPC API,
 * whose peer descriptions carry the peer types (node-to-node mesh, global, node specific, ...).
 * A node run with --bgp-daemon bird is asked on BIRD's socket, as Calico does, and the status of
 * its margay-confd (from etcd) says whether BIRD runs what etcd holds.
 */
export const registerNodeCommand: RegisterCommand = (program, context) => {
  const node = program.command('node').description('this node: margay-node and its BGP sessions');
  const status = node
    .command('status')
    .description("this node's BGP peers: address, type, state, since, info (like calicoctl node status)")
    .option('--bgp-api <host:port>', "address of margay-node's BGP API", DEFAULT_NODE_BGP_API)
    .option(
      '--bird-socket <path>',
      `BIRD's control socket, for a node run with --bgp-daemon bird (default: ${DEFAULT_BIRD_SOCKET} if it exists)`,
    )
    .option(
      '--node-name <name>',
      'whose margay-confd status to show with BIRD (default: $NODENAME or the host name)',
    )
    .option('-o, --output <format>', `output format: ${FORMATS.join(', ')}`, 'table');
  addConnectionOptions(status).action(async (options: StatusOptions) => {
    const format = checkFormat(options.output);
    const birdSocket =
      options.birdSocket ?? (existsSync(DEFAULT_BIRD_SOCKET) ? DEFAULT_BIRD_SOCKET : undefined);
    if (birdSocket !== undefined) {
      context.io.stdout.write(await birdNodeStatus(context, options, birdSocket, format));
      return;
    }
    const peers = await withClient(options.bgpApi, (client) => client.listPeers(), notRunningHint);
    context.io.stdout.write(renderNodeStatus(peers, format, Date.now()));
  });
};

/** BIRD's protocols from its socket and margay-confd's status from etcd. */
async function birdNodeStatus(
  context: CommandContext,
  options: StatusOptions,
  socket: string,
  format: Format,
): Promise<string> {
  const nodeName = options.nodeName ?? context.io.env.NODENAME ?? hostname();
  const peers = parseBirdProtocols(await askBird(socket, ['show', 'protocols', 'all']));
  const confd = await context.withDatastore(options, (store) => readConfdReport(store, nodeName));
  return renderBirdNodeStatus(nodeName, peers, confd, format);
}

function notRunningHint(error: BgpApiError): string | undefined {
  return /cannot reach/.test(error.message)
    ? 'is margay-node running on this host? (it serves the API with --bgp-api, default 127.0.0.1:50151)'
    : undefined;
}

/** The calicoctl layout: a running line, then one table per address family. */
export function renderNodeStatus(peers: ApiPeer[], format: Format, nowMs: number): string {
  if (format === 'json') return `${JSON.stringify(peers, null, 2)}\n`;
  const wide = format === 'wide';
  const families = [
    { name: 'IPv4', peers: peers.filter((p) => !p.address.includes(':')) },
    { name: 'IPv6', peers: peers.filter((p) => p.address.includes(':')) },
  ];
  const sections = families.map(({ name, peers: ofFamily }) => {
    const body = ofFamily.length === 0 ? `No ${name} peers found.\n` : peerTable(ofFamily, wide, nowMs);
    return `${name} BGP status\n${body}`;
  });
  return `margay-node is running.\n\n${sections.join('\n')}`;
}

function peerTable(peers: ApiPeer[], wide: boolean, nowMs: number): string {
  const headers = ['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'];
  if (wide) headers.push('AS', 'ROUTES (RCVD/ACCEPTED/SENT)');
  const sorted = [...peers].sort((a, b) => compareAddresses(a.address, b.address));
  const rows = sorted.map((p) => {
    // Like BIRD's protocol table: state up/start, info the session state or why it is down.
    const up = p.state === 'Established';
    const row = [
      p.address,
      p.description || p.type,
      up ? 'up' : 'start',
      formatSince(p.sinceUnixMs, nowMs),
      up ? 'Established' : p.lastError ? `${p.state}: ${p.lastError}` : p.state,
    ];
    if (wide) {
      row.push(String(p.asNumber), `${p.prefixesReceived}/${p.prefixesAccepted}/${p.prefixesAdvertised}`);
    }
    return row;
  });
  return renderTable(headers, rows);
}

/** Numeric order for IPv4 (10.0.0.9 before 10.0.0.10), text order otherwise. */
function compareAddresses(a: string, b: string): number {
  const key = (address: string) =>
    address.includes(':')
      ? address
      : address
          .split('.')
          .map((o) => o.padStart(3, '0'))
          .join('.');
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}
