#!/usr/bin/env node
// margay-node: the node agent. Reads its settings from flags and Calico's environment variables
// (flags win), runs until SIGTERM/SIGINT and then stops keeping the kernel's forwarding state.
// Logs are JSON lines on stderr.

import { parseArgs } from 'node:util';
import { jsonLogger, type LogLevel } from '@margay/bgp';
import { ProcessRunner } from '@margay/dataplane';
import { EtcdDatastore, etcdConfigFromEnv } from '@margay/datastore';
import { type NodeMode, NodeProcess, type NodeSettings } from './node-process';
import { nodeEnvironment } from './registration';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

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
      --log-level LEVEL       debug, info (default), warn or error
  -h, --help                  show this help

The datastore is etcd: ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE.
Signals: SIGTERM and SIGINT shut down gracefully, keeping installed routes; SIGHUP is logged
(there is nothing to reload: the configuration lives in the datastore).
`;

const MODES: readonly string[] = ['full', 'route-reflector'] satisfies NodeMode[];
const LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error'] satisfies LogLevel[];

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
      mode: oneOf('--mode', values.mode, MODES) as NodeMode,
      healthPort: port('--health-port', values['health-port']),
      metricsPort: port('--metrics-port', values['metrics-port']),
    },
    logLevel: oneOf('--log-level', values['log-level'], LEVELS) as LogLevel,
  };
}

function definedOnly(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => !!entry[1]));
}

function oneOf(flag: string, value: string, allowed: readonly string[]): string {
  if (!allowed.includes(value)) {
    throw new Error(`${flag} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  }
  return value;
}

function port(flag: string, value: string): number {
  const number = Number(value);
  if (!/^\d{1,5}$/.test(value) || number > 65_535) {
    throw new Error(`${flag} ${JSON.stringify(value)} is not a port (0-65535, 0 = off)`);
  }
  return number;
}

interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
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
  let store: EtcdDatastore;
  try {
    store = new EtcdDatastore(etcdConfigFromEnv(env));
  } catch (error) {
    logger.error('bad datastore settings', { error: (error as Error).message });
    return EXIT_USAGE;
  }
  let node: NodeProcess;
  try {
    node = await NodeProcess.start({ settings: flags.settings, store, runner: new ProcessRunner(), logger });
  } catch (error) {
    logger.error('start-up failed', { error: (error as Error).message });
    await store.close();
    return EXIT_ERROR;
  }
  return new Promise((resolve) => {
    const hangup = () => logger.info('SIGHUP: nothing to reload, the configuration lives in the datastore');
    const shutdown = (signal: NodeJS.Signals) => {
      logger.info('shutting down, keeping installed routes', { signal });
      process.off('SIGHUP', hangup);
      process.off('SIGTERM', shutdown);
      process.off('SIGINT', shutdown);
      node
        .stop()
        .finally(() => store.close())
        .then(
          () => resolve(EXIT_OK),
          (error: Error) => {
            logger.error('shutdown failed', { error: error.message });
            resolve(EXIT_ERROR);
          },
        );
    };
    process.on('SIGHUP', hangup);
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  });
}

if (require.main === module) {
  main(process.argv.slice(2), process, process.env).then((code) => process.exit(code));
}
