// margay-bgpd in one object: the configuration file, the speaker and its management API, with
// reload (SIGHUP) and shutdown (SIGTERM) as methods so that tests drive them without signals.

import type { Logger } from '@margay/log';
import type * as ApiService from '../api/service';
import type { ApiServer } from '../api/service';
import { loadConfig } from '../config/load';
import { ConfigError, type DaemonConfig, parseHostPort } from '../config/schema';
import type { FibSink } from './fib-sink';
import { BgpServer, type ReloadResult } from './server';

export interface DaemonOptions {
  readonly configFile: string;
  readonly logger: Logger;
  /** Makes the FIB sink when the configuration enables it. */
  readonly fib?: (config: DaemonConfig) => FibSink;
  /** Called with each newly loaded configuration (e.g. to apply its log level). */
  readonly onConfig?: (config: DaemonConfig) => void;
}

export class Daemon {
  private constructor(
    readonly server: BgpServer,
    readonly api: ApiServer | null,
    private readonly options: DaemonOptions,
  ) {}

  /** Loads the file and starts; a bad file throws a ConfigError. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const config = await loadConfig(options.configFile);
    options.onConfig?.(config);
    const fib = config.fib.enabled ? options.fib?.(config) : undefined;
    const server = await BgpServer.start(config, { logger: options.logger, fib });
    let api: ApiServer | null = null;
    try {
      if (config.api) api = await loadApi().startApiServer(server, apiAddress(config.api), options.logger);
    } catch (error) {
      await server.close();
      throw error;
    }
    return new Daemon(server, api, options);
  }

  /** Re-reads the file; a bad file or a change needing a restart is logged and changes nothing. */
  async reload(): Promise<ReloadResult | null> {
    const log = this.options.logger;
    try {
      const config = await loadConfig(this.options.configFile);
      const result = this.server.reload(config);
      this.options.onConfig?.(config);
      return result;
    } catch (error) {
      const problems = error instanceof ConfigError ? error.problems : [(error as Error).message];
      log.error('reload rejected; configuration unchanged', { file: this.options.configFile, problems });
      return null;
    }
  }

  async stop(): Promise<void> {
    await this.api?.close();
    await this.server.close();
  }
}

/**
 * The API module, loaded on first use: gRPC and the protobuf loader add about 10 MB to the
 * daemon's RSS, which a daemon run without an API (a benchmark, a test) need not pay.
 */
function loadApi(): typeof ApiService {
  return require('../api/service') as typeof ApiService;
}

/** "host:port" as gRPC wants it (IPv6 hosts in brackets). */
function apiAddress(text: string): string {
  const { host, port } = parseHostPort(text)!;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
