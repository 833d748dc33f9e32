import { type ApiPeer, type ApiRibEntry, BgpApiClient, BgpApiError } from '@margay/bgp';
import type { Command } from 'commander';
import type { RegisterCommand } from '../context';
import { CommandError, UsageError } from '../errors';
import { renderTable } from '../table';

export const FORMATS = ['table', 'wide', 'json'] as const;
export type Format = (typeof FORMATS)[number];

interface BgpOptions {
  bgpApi: string;
  output: string;
}

/** How long to wait for margay-bgpd before saying it is unreachable. */
const API_TIMEOUT_MS = 3000;

/**
 * `bgp peers` and `bgp rib`: what the local margay-bgpd knows; `bgp refresh`: ask a peer to
 * re-send its routes. All through margay-bgpd's gRPC API.
 */
export const registerBgpCommand: RegisterCommand = (program, context) => {
  const bgp = program.command('bgp').description('the local margay-bgpd: peers, routes, route refresh');
  const withApi = (command: Command) =>
    command.option('--bgp-api <host:port>', 'address of the margay-bgpd API', '127.0.0.1:50151');
  const withOptions = (command: Command) =>
    withApi(command).option('-o, --output <format>', `output format: ${FORMATS.join(', ')}`, 'table');
  withOptions(
    bgp.command('peers').description('BGP peers and session states (like calicoctl node status)'),
  ).action(async (options: BgpOptions) => {
    const format = checkFormat(options.output);
    const peers = await withClient(options.bgpApi, (client) => client.listPeers());
    context.io.stdout.write(renderPeers(peers, format, Date.now()));
  });
  withOptions(bgp.command('rib').description('routes in the BGP table, best marked'))
    .option('--family <family>', 'only ipv4 or ipv6 routes')
    .option('--prefix <prefix>', 'only this prefix')
    .action(async (options: BgpOptions & { family?: string; prefix?: string }) => {
      const format = checkFormat(options.output);
      const filter = { family: checkFamily(options.family), prefix: options.prefix };
      const routes = await withClient(options.bgpApi, (client) => client.listRib(filter));
      context.io.stdout.write(renderRib(routes, format));
    });
  withApi(bgp.command('refresh').description('ask a BGP peer to send its routes again (soft reset in)'))
    .argument('<peer>', "the peer's address")
    .option('--family <family>', 'only ipv4 or ipv6 routes (default: every family of the session)')
    .action(async (peer: string, options: { bgpApi: string; family?: string }) => {
      const family = checkFamily(options.family);
      const families = await withClient(options.bgpApi, (client) => client.refreshPeer(peer, family));
      context.io.stdout.write(`asked ${peer} to re-send its routes (${families.join(', ')})\n`);
    });
};

function checkFamily(family: string | undefined): 'ipv4' | 'ipv6' | undefined {
  if (family !== undefined && family !== 'ipv4' && family !== 'ipv6') {
    throw new UsageError(`--family ${JSON.stringify(family)} is not ipv4 or ipv6`);
  }
  return family;
}

export function checkFormat(output: string): Format {
  if (!(FORMATS as readonly string[]).includes(output)) {
    throw new UsageError(`-o ${JSON.stringify(output)} is not one of ${FORMATS.join(', ')}`);
  }
  return output as Format;
}

/** Runs `use` with a client of the API at `address`; API failures become a CommandError (+ `hint`). */
export async function withClient<T>(
  address: string,
  use: (client: BgpApiClient) => Promise<T>,
  hint?: (error: BgpApiError) => string | undefined,
): Promise<T> {
  const client = new BgpApiClient(address, { timeoutMs: API_TIMEOUT_MS });
  try {
    return await use(client);
  } catch (error) {
    if (error instanceof BgpApiError) {
      const advice = hint?.(error);
      throw new CommandError(advice ? [error.message, advice] : [error.message]);
    }
    throw error;
  } finally {
    client.close();
  }
}

/** "2h3m", "5m10s", "42s": how long ago `sinceMs` was. */
export function formatSince(sinceMs: number, nowMs: number): string {
  const total = Math.max(0, Math.floor((nowMs - sinceMs) / 1000));
  const [d, h, m, s] = [
    Math.floor(total / 86400),
    Math.floor(total / 3600) % 24,
    Math.floor(total / 60) % 60,
    total % 60,
  ];
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

export function renderPeers(peers: ApiPeer[], format: Format, nowMs: number): string {
  if (format === 'json') return `${JSON.stringify(peers, null, 2)}\n`;
  const wide = format === 'wide';
  const headers = ['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'];
  if (wide) headers.push('AS', 'PREFIXES (RCVD/ACCEPTED/SENT)', 'MESSAGES (IN/OUT)');
  const rows = peers.map((p) => {
    const info = p.state === 'Established' ? 'Established' : p.lastError || p.state;
    const row = [
      p.address,
      // What the configuration calls the peer (mesh, global, ...), else what the session is.
      p.description || p.type,
      p.state === 'Established' ? 'up' : 'start',
      formatSince(p.sinceUnixMs, nowMs),
      info,
    ];
    if (wide) {
      row.push(
        String(p.asNumber),
        `${p.prefixesReceived}/${p.prefixesAccepted}/${p.prefixesAdvertised}`,
        `${p.messagesIn}/${p.messagesOut}`,
      );
    }
    return row;
  });
  return renderTable(headers, rows);
}

export function renderRib(routes: ApiRibEntry[], format: Format): string {
  if (format === 'json') return `${JSON.stringify(routes, null, 2)}\n`;
  const wide = format === 'wide';
  const headers = ['PREFIX', 'NEXT HOP', 'AS PATH', 'FROM', 'BEST'];
  if (wide) headers.push('LOCAL PREF', 'MED', 'ORIGIN', 'COMMUNITIES');
  const rows = routes.map((r) => {
    const row = [r.prefix, r.nextHop, r.asPath || '-', r.fromPeer, r.best ? '*' : ''];
    if (wide) {
      row.push(
        r.localPref === undefined ? '-' : String(r.localPref),
        r.med === undefined ? '-' : String(r.med),
        r.origin,
        r.communities.join(',') || '-',
      );
    }
    return row;
  });
  return renderTable(headers, rows);
}
