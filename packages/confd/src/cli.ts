#!/usr/bin/env node
// margay-confd: renders BIRD's configuration from etcd and keeps BIRD on it. Runs until
// SIGTERM/SIGINT (or renders once with --once). Logs are JSON lines on stderr.

import { hostname } from 'node:os';
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
  untilSignalled,
} from '@margay/bgp';
import { EtcdDatastore, etcdConfigFromEnv } from '@margay/datastore';
import { Confd, type ConfdOptions } from './confd';
import { defaultTemplateDir, loadTemplates, MAIN_TEMPLATE } from './render';

export { EXIT_ERROR, EXIT_OK, EXIT_USAGE };

const USAGE = `Usage: margay-confd --config-file PATH [options]

Renders BIRD 2's configuration for this node from etcd (nodes, BGP peers, BGP configuration,
IP pools, this node's blocks), checks it with \`bird -p\`, swaps it in atomically and has BIRD
reload it (\`birdc configure\`). A configuration that fails keeps BIRD on the previous one; the
reason is logged and written to /margay/status/v1/confd/<node>.

Options:
      --node-name NAME      this node's name (env NODENAME, default the host name)
      --config-file PATH    the file BIRD reads (bird -c PATH)
      --bird-socket PATH    BIRD's control socket (bird -s PATH); without it BIRD is not reloaded
      --templates DIR       templates to render (default: the shipped ones; copy them to change
                            them). ${MAIN_TEMPLATE} is rendered and includes the others
      --secrets-dir DIR     BGP passwords as DIR/<secret name>/<key> (a mounted secret volume)
      --kernel-routes on|off
                            export learned cluster routes to the kernel (default on)
      --once                render and apply once, then exit (status 1 if that failed)
      --log-level LEVEL     debug, info (default), warn or error
  -h, --help                show this help

The datastore is etcd: ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE.
`;

export interface ConfdFlags {
  readonly nodeName: string;
  readonly configFile: string;
  readonly birdSocket: string | undefined;
  readonly templates: string;
  readonly secretsDir: string | undefined;
  readonly kernelRoutes: boolean;
  readonly once: boolean;
  readonly logLevel: LogLevel;
}

/** Throws naming the bad flag; returns 'help' for --help. */
export function parseConfdFlags(argv: readonly string[], env: NodeJS.ProcessEnv): ConfdFlags | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      'node-name': { type: 'string' },
      'config-file': { type: 'string' },
      'bird-socket': { type: 'string' },
      templates: { type: 'string' },
      'secrets-dir': { type: 'string' },
      'kernel-routes': { type: 'string', default: 'on' },
      once: { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const configFile = values['config-file'];
  if (!configFile) throw new Error('--config-file is required');
  const kernelRoutes = oneOf('--kernel-routes', values['kernel-routes'], ['on', 'off']);
  const logLevel = oneOf('--log-level', values['log-level'], LOG_LEVELS);
  const nodeName = values['node-name'] || env['NODENAME'] || hostname();
  return {
    nodeName,
    configFile,
    birdSocket: values['bird-socket'],
    templates: values.templates ?? defaultTemplateDir(),
    secretsDir: values['secrets-dir'],
    kernelRoutes: kernelRoutes === 'on',
    once: values.once,
    logLevel,
  };
}

/** Resolves with the exit code: after SIGTERM/SIGINT, after --once, or at once for --help and bad flags. */
export async function main(argv: readonly string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  let flags: ConfdFlags | 'help';
  try {
    flags = parseConfdFlags(argv, env);
  } catch (error) {
    io.stderr.write(`margay-confd: ${(error as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (flags === 'help') {
    io.stdout.write(USAGE);
    return EXIT_OK;
  }
  const logger = jsonLogger(io.stderr, flags.logLevel);
  let options: Omit<ConfdOptions, 'store'>;
  let store: EtcdDatastore;
  try {
    options = {
      nodeName: flags.nodeName,
      configFile: flags.configFile,
      birdSocket: flags.birdSocket,
      templates: loadTemplates(flags.templates),
      secretsDir: flags.secretsDir,
      kernelRoutes: flags.kernelRoutes,
      logger,
    };
    store = new EtcdDatastore(etcdConfigFromEnv(env));
  } catch (error) {
    logger.error('bad settings', { error: (error as Error).message });
    return EXIT_USAGE;
  }
  if (flags.once) {
    try {
      const result = await Confd.once({ ...options, store });
      return result.outcome === 'failed' ? EXIT_ERROR : EXIT_OK;
    } catch (error) {
      logger.error('reading the datastore failed', { error: (error as Error).message });
      return EXIT_ERROR;
    } finally {
      await store.close();
    }
  }
  const confd = Confd.start({ ...options, store });
  logger.info('watching the datastore', { node: flags.nodeName, configFile: flags.configFile });
  return untilSignalled({
    logger,
    shuttingDown: 'shutting down; BIRD keeps running on its current configuration',
    stop: () => confd.close().finally(() => store.close()),
  });
}

if (require.main === module) {
  main(process.argv.slice(2), process, process.env).then((code) => process.exit(code));
}
