#!/usr/bin/env node
// margay-confd: renders BIRD's configuration from etcd and keeps BIRD on it. Runs until
// SIGTERM/SIGINT (or renders once with --once). Logs are JSON lines on stderr.

import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { jsonLogger, type LogLevel } from '@margay/bgp';
import { EtcdDatastore, etcdConfigFromEnv } from '@margay/datastore';
import { Confd, type ConfdOptions } from './confd';
import { defaultTemplateDir, loadTemplates, MAIN_TEMPLATE } from './render';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

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

const LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error'] satisfies LogLevel[];

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
  const kernelRoutes = values['kernel-routes'];
  if (kernelRoutes !== 'on' && kernelRoutes !== 'off') {
    throw new Error(`--kernel-routes ${JSON.stringify(kernelRoutes)} is not on or off`);
  }
  const logLevel = values['log-level'];
  if (!LEVELS.includes(logLevel)) {
    throw new Error(`--log-level ${JSON.stringify(logLevel)} is not one of ${LEVELS.join(', ')}`);
  }
  const nodeName = values['node-name'] || env['NODENAME'] || hostname();
  return {
    nodeName,
    configFile,
    birdSocket: values['bird-socket'],
    templates: values.templates ?? defaultTemplateDir(),
    secretsDir: values['secrets-dir'],
    kernelRoutes: kernelRoutes === 'on',
    once: values.once,
    logLevel: logLevel as LogLevel,
  };
}

interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
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
  return new Promise((resolve) => {
    const shutdown = (signal: NodeJS.Signals) => {
      logger.info('shutting down; BIRD keeps running on its current configuration', { signal });
      process.off('SIGTERM', shutdown);
      process.off('SIGINT', shutdown);
      confd
        .close()
        .finally(() => store.close())
        .then(
          () => resolve(EXIT_OK),
          (error: Error) => {
            logger.error('shutdown failed', { error: error.message });
            resolve(EXIT_ERROR);
          },
        );
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
  });
}

if (require.main === module) {
  main(process.argv.slice(2), process, process.env).then((code) => process.exit(code));
}
