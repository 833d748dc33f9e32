#!/usr/bin/env node
// margay-bgpd: runs margay's BGP speaker from a configuration file until SIGTERM/SIGINT;
// SIGHUP reloads the file. Logs are JSON lines on stderr.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jsonLogger } from '@margay/log';
import { loadConfig } from '../config/load';
import { ConfigError, type LogLevel } from '../config/schema';
import type * as KernelFibModule from '../fib/kernel-fib';
import { Daemon } from '../server/daemon';
import { EXIT_ERROR, EXIT_OK, EXIT_USAGE, type Io, LOG_LEVELS, oneOf, untilSignalled } from './daemon-cli';

export { EXIT_ERROR, EXIT_OK, EXIT_USAGE };

const USAGE = `Usage: margay-bgpd --config FILE [--log-level LEVEL] [--check]

Options:
  -c, --config FILE      configuration file (YAML), required
      --log-level LEVEL  debug, info, warn or error (overrides the file's logLevel)
      --check            validate the configuration file and exit
  -h, --help             show this help
  -V, --version          show the version

Signals: SIGHUP reloads the configuration; SIGTERM and SIGINT shut down gracefully.
`;

type Parsed = { config: string; logLevel: LogLevel | undefined; check: boolean } | { exit: number };

function parse(argv: string[], io: Io): Parsed {
  let values: ReturnType<typeof parseOptions>['values'];
  try {
    values = parseOptions(argv).values;
  } catch (error) {
    io.stderr.write(`margay-bgpd: ${(error as Error).message}\n${USAGE}`);
    return { exit: EXIT_USAGE };
  }
  if (values.help) {
    io.stdout.write(USAGE);
    return { exit: EXIT_OK };
  }
  if (values.version) {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    io.stdout.write(`margay-bgpd ${pkg.version}\n`);
    return { exit: EXIT_OK };
  }
  if (values.config === undefined) {
    io.stderr.write(`margay-bgpd: --config FILE is required\n${USAGE}`);
    return { exit: EXIT_USAGE };
  }
  const level = values['log-level'];
  let logLevel: LogLevel | undefined;
  try {
    logLevel = level === undefined ? undefined : oneOf('--log-level', level, LOG_LEVELS);
  } catch (error) {
    io.stderr.write(`margay-bgpd: ${(error as Error).message}\n`);
    return { exit: EXIT_USAGE };
  }
  return { config: values.config, logLevel, check: values.check === true };
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string', short: 'c' },
      'log-level': { type: 'string' },
      check: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' },
    },
  });
}

/**
 * The kernel FIB and with it @margay/dataplane (iptables, ipsets, namespaces), loaded only when the
 * configuration enables `fib`: a daemon without it need not hold that code.
 */
export function loadKernelFib(): typeof KernelFibModule {
  return require('../fib/kernel-fib') as typeof KernelFibModule;
}

/**
 * Runs the daemon. Resolves with the exit code once it is over: at once for --help, --version,
 * --check and start-up failures, after SIGTERM/SIGINT otherwise.
 */
export async function main(argv: string[], io: Io): Promise<number> {
  const parsed = parse(argv, io);
  if ('exit' in parsed) return parsed.exit;
  if (parsed.check) {
    try {
      await loadConfig(parsed.config);
      io.stdout.write(`${parsed.config}: configuration is valid\n`);
      return EXIT_OK;
    } catch (error) {
      io.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
      return EXIT_USAGE;
    }
  }
  const logger = jsonLogger(io.stderr, parsed.logLevel ?? 'info');
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({
      configFile: parsed.config,
      logger,
      fib: (config) =>
        new (loadKernelFib().KernelFib)({ table: config.fib.table, proto: config.fib.protocol, logger }),
      onConfig: (config) => {
        logger.level = parsed.logLevel ?? config.logLevel;
      },
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      logger.error('bad configuration', { file: parsed.config, problems: error.problems });
      return EXIT_USAGE;
    }
    logger.error('start-up failed', { error: (error as Error).message });
    return EXIT_ERROR;
  }
  return untilSignalled({
    logger,
    shuttingDown: 'shutting down',
    stop: () => daemon.stop(),
    onHangup: () => {
      logger.info('SIGHUP: reloading', { file: parsed.config });
      void daemon.reload();
    },
  });
}

if (require.main === module) {
  main(process.argv.slice(2), process).then((code) => process.exit(code));
}
