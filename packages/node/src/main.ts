#!/usr/bin/env node
// margay-node: the node agent. Reads its settings from flags and Calico's environment variables
// (flags win), runs until SIGTERM/SIGINT and then stops keeping the kernel's forwarding state.
// Logs are JSON lines on stderr.

import { parseArgs } from 'node:util';
import {
  EXIT_ERROR,
  EXIT_OK,
  EXIT_USAGE,
  type Io,
  jsonLogger,
  LOG_LEVELS,
  type LogLevel,
  oneOf,
  parseHostPort,
  untilSignalled,
} from '@margay/bgp';
import { ProcessRunner } from '@margay/dataplane';
import { type Datastore, EtcdDatastore, etcdConfigFromEnv, SharedWatches } from '@margay/datastore';
import { DEFAULT_BIRD_RUN_DIR } from './bird-supervisor';
import { type NodeMode, NodeProcess, type NodeSettings } from './node-process';
import { nodeEnvironment } from './registration';
import { COMMAND_PRIORITY } from './runtime';

export { EXIT_ERROR, EXIT_OK, EXIT_USAGE };
/** Where margayctl node status looks by default. */
export const DEFAULT_BGP_API = '127.0.0.1:50151';

const USAGE = `Usage: margay-node [options]

Options:
      --node-name NAME        this node's name (env NODENAME, default the host name)
      --ip METHOD|ADDRESS     first-found, interface=REGEX, can-reach=IP, cidr=CIDR[,CIDR] or
                              a.b.c.d[/nn] (env IP, then IP_AUTODETECTION_METHOD; default first-found)
      --as NUMBER             this node's AS number (env AS)
      --route-reflector-cluster-id ID
                              make this node a route reflector (env ROUTE_REFLECTOR_CLUSTER_ID)
      --mode MODE             full (BGP, FIB and felix; default) or route-reflector (BGP only)
      --health-port PORT      /liveness and /readiness on 127.0.0.1 (default 9099, 0 = off)
      --metrics-port PORT     Prometheus /metrics (default 9091, 0 = off)
      --bgp-api HOST:PORT     the BGP speaker's gRPC API, read by margayctl node status
                              (default 127.0.0.1:50151, off = none)
      --policy on|off         enforce network policy in iptables and ipsets in full mode
                              (env MARGAY_POLICY, default on)
      --bgp-daemon margay|bird
                              the BGP daemon: margay's own speaker (default) or BIRD 2, configured
                              by margay-confd from etcd (env MARGAY_BGP_DAEMON)
      --bird-run-dir DIR      BIRD's configuration and control socket (bird.cfg, bird.ctl) with
                              --bgp-daemon bird (default ${DEFAULT_BIRD_RUN_DIR})
      --log-level LEVEL       debug, info (default), warn or error
  -h, --help                  show this help

The datastore is etcd: ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE.
Signals: SIGTERM and SIGINT shut down gracefully, keeping installed routes; SIGHUP is logged
(there is nothing to reload: the configuration lives in the datastore).
`;

const MODES = ['full', 'route-reflector'] as const satisfies readonly NodeMode[];

export interface NodeFlags {
  readonly settings: NodeSettings;
  readonly logLevel: LogLevel;
}

/** Flags over environment; throws naming the bad flag or variable. Returns 'help' for --help. */
export function parseNodeFlags(argv: readonly string[], env: NodeJS.ProcessEnv): NodeFlags | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      'node-name': { type: 'string' },
      ip: { type: 'string' },
      as: { type: 'string' },
      'route-reflector-cluster-id': { type: 'string' },
      mode: { type: 'string', default: 'full' },
      'health-port': { type: 'string', default: '9099' },
      'metrics-port': { type: 'string', default: '9091' },
      'bgp-api': { type: 'string', default: DEFAULT_BGP_API },
      policy: { type: 'string' },
      'bgp-daemon': { type: 'string' },
      'bird-run-dir': { type: 'string', default: DEFAULT_BIRD_RUN_DIR },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const overrides = {
    NODENAME: values['node-name'],
    IP: values.ip,
    AS: values.as,
    ROUTE_REFLECTOR_CLUSTER_ID: values['route-reflector-cluster-id'],
  };
  const node = nodeEnvironment({ ...env, ...definedOnly(overrides) });
  return {
    settings: {
      nodeName: node.name,
      addressMethod: node.addressMethod,
      asNumber: node.asNumber,
      routeReflectorClusterID: node.routeReflectorClusterID,
      mode: oneOf('--mode', values.mode, MODES),
      healthPort: port('--health-port', values['health-port']),
      metricsPort: port('--metrics-port', values['metrics-port']),
      bgpApi: bgpApi(values['bgp-api']),
      policy: policyFlag(values.policy, env.MARGAY_POLICY),
      ...(bgpDaemon(values['bgp-daemon'], env.MARGAY_BGP_DAEMON) === 'bird' && {
        bird: { runDir: values['bird-run-dir'] },
      }),
    },
    logLevel: oneOf('--log-level', values['log-level'], LOG_LEVELS),
  };
}

function definedOnly(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => !!entry[1]));
}

/** The API address, or undefined for `off`. */
function bgpApi(value: string): string | undefined {
  if (value === 'off') return undefined;
  if (!parseHostPort(value)) {
    throw new Error(`--bgp-api ${JSON.stringify(value)} is not HOST:PORT (e.g. 127.0.0.1:50151) or off`);
  }
  return value;
}

/** `--bgp-daemon` over MARGAY_BGP_DAEMON; margay's own speaker unless one of them says bird. */
function bgpDaemon(flag: string | undefined, fromEnv: string | undefined): string {
  if (flag !== undefined) return oneOf('--bgp-daemon', flag, ['margay', 'bird']);
  if (fromEnv !== undefined && fromEnv !== '') return oneOf('MARGAY_BGP_DAEMON', fromEnv, ['margay', 'bird']);
  return 'margay';
}

/** `--policy` over MARGAY_POLICY; on unless one of them says off. */
function policyFlag(flag: string | undefined, fromEnv: string | undefined): boolean {
  if (flag !== undefined) return oneOf('--policy', flag, ['on', 'off']) === 'on';
  if (fromEnv !== undefined && fromEnv !== '') return oneOf('MARGAY_POLICY', fromEnv, ['on', 'off']) === 'on';
  return true;
}

function port(flag: string, value: string): number {
  const number = Number(value);
  if (!/^\d{1,5}$/.test(value) || number > 65_535) {
    throw new Error(`${flag} ${JSON.stringify(value)} is not a port (0-65535, 0 = off)`);
  }
  return number;
}

/** Runs the node; resolves with the exit code after SIGTERM/SIGINT, or at once for --help and failures. */
export async function main(argv: readonly string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  let flags: NodeFlags | 'help';
  try {
    flags = parseNodeFlags(argv, env);
  } catch (error) {
    io.stderr.write(`margay-node: ${(error as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (flags === 'help') {
    io.stdout.write(USAGE);
    return EXIT_OK;
  }
  const logger = jsonLogger(io.stderr, flags.logLevel);
  let store: Datastore;
  try {
    // The BGP agent, felix and the tunnel manager watch some of the same prefixes: one watch each.
    store = new SharedWatches(new EtcdDatastore(etcdConfigFromEnv(env)));
  } catch (error) {
    logger.error('bad datastore settings', { error: (error as Error).message });
    return EXIT_USAGE;
  }
  let node: NodeProcess;
  try {
    const runner = new ProcessRunner({ priority: COMMAND_PRIORITY });
    node = await NodeProcess.start({ settings: flags.settings, store, runner, logger });
  } catch (error) {
    logger.error('start-up failed', { error: (error as Error).message });
    await store.close();
    return EXIT_ERROR;
  }
  return untilSignalled({
    logger,
    shuttingDown: 'shutting down, keeping installed routes',
    stop: () => node.stop().finally(() => store.close()),
    onHangup: () => logger.info('SIGHUP: nothing to reload, the configuration lives in the datastore'),
  });
}

if (require.main === module) {
  main(process.argv.slice(2), process, process.env).then((code) => process.exit(code));
}
