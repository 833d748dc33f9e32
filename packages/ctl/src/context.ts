import { type Datastore, type EtcdConfig, etcdConfigFromEnv } from '@margay/datastore';
import type { Command } from 'commander';

/** Where a run reads and writes: the real process streams in cli.ts, captured ones in tests. */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
}

export type OpenDatastore = (config: EtcdConfig) => Datastore;

/** The etcd connection flags, shared by every command that talks to the datastore. */
export interface ConnectionOptions {
  etcdEndpoints?: string;
  etcdCaCertFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
}

/** What a command module gets to do its job. */
export interface CommandContext {
  io: CliIo;
  /** Connect as the flags (falling back to the environment) say, run `use`, then disconnect. */
  withDatastore<T>(options: ConnectionOptions, use: (store: Datastore) => Promise<T>): Promise<T>;
}

/** A command module: adds its command(s) to the program. */
export type RegisterCommand = (program: Command, context: CommandContext) => void;

export function addConnectionOptions(command: Command): Command {
  return command
    .option(
      '--etcd-endpoints <urls>',
      'comma-separated etcd URLs (default: $ETCD_ENDPOINTS or http://127.0.0.1:2379)',
    )
    .option('--etcd-ca-cert-file <file>', 'CA certificate to verify etcd (default: $ETCD_CA_CERT_FILE)')
    .option('--etcd-cert-file <file>', 'client certificate for etcd (default: $ETCD_CERT_FILE)')
    .option('--etcd-key-file <file>', 'client key for etcd (default: $ETCD_KEY_FILE)');
}

/** `-f/--filename`, repeatable; the values arrive as `options.filename: string[]`. */
export function addFilenameOption(command: Command): Command {
  return command.option(
    '-f, --filename <file>',
    'YAML or JSON file of resources, - for stdin (repeatable)',
    (value: string, previous: string[]) => [...previous, value],
    [],
  );
}

export function makeContext(io: CliIo, openDatastore: OpenDatastore): CommandContext {
  return {
    io,
    async withDatastore(options, use) {
      const store = openDatastore(etcdConfig(options, io.env));
      try {
        return await use(store);
      } finally {
        await store.close();
      }
    },
  };
}

/** Flags win over the environment; the datastore package owns the parsing and the defaults. */
function etcdConfig(options: ConnectionOptions, env: CliIo['env']): EtcdConfig {
  return etcdConfigFromEnv({
    ...env,
    ETCD_ENDPOINTS: options.etcdEndpoints ?? env.ETCD_ENDPOINTS,
    ETCD_CA_CERT_FILE: options.etcdCaCertFile ?? env.ETCD_CA_CERT_FILE,
    ETCD_CERT_FILE: options.etcdCertFile ?? env.ETCD_CERT_FILE,
    ETCD_KEY_FILE: options.etcdKeyFile ?? env.ETCD_KEY_FILE,
  });
}
