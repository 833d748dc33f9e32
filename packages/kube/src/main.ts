// margay-kube-controllers: keeps margay's datastore in step with Kubernetes (NetworkPolicies,
// Namespaces, Pods, Nodes) until SIGTERM/SIGINT or the given signal, then stops gracefully.
// Logs are JSON lines on stderr.

import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { EtcdDatastore, etcdConfigFromEnv } from '@margay/datastore';
import { jsonLogger, type Logger } from '@margay/log';
import { KubeSync } from './kube-sync';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export const USAGE = `Usage: margay-kube-controllers [options]

Syncs Kubernetes into margay's datastore: NetworkPolicies (as knp.default.<name>), Namespaces
(as Profiles kns.<name>), Pod labels (onto their WorkloadEndpoints) and Nodes (labels; a deleted
node's Node, endpoints and IPAM blocks are released).

Options:
      --kubeconfig FILE   kubeconfig to use (default: KUBECONFIG, ~/.kube/config, or the
                          in-cluster service account)
      --debug             log debug lines too
  -h, --help              show this help

The datastore is etcd: ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE.
`;

export interface RunOptions {
  argv: string[];
  env?: NodeJS.ProcessEnv;
  /** Stops the controllers when aborted (the CLI wires SIGTERM and SIGINT to it). */
  signal: AbortSignal;
  logger?: Logger;
  /** Where usage and argument errors go. */
  print?: (text: string) => void;
}

export async function runKubeControllers(options: RunOptions): Promise<number> {
  const print = options.print ?? ((text: string) => process.stderr.write(text));
  let values: { kubeconfig?: string; debug?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: options.argv,
      options: {
        kubeconfig: { type: 'string' },
        debug: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    print(`margay-kube-controllers: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    print(USAGE);
    return EXIT_OK;
  }
  const log = options.logger ?? jsonLogger(process.stderr, values.debug === true ? 'debug' : 'info');
  const kubeConfig = new KubeConfig();
  let store: EtcdDatastore;
  try {
    if (values.kubeconfig !== undefined) kubeConfig.loadFromFile(values.kubeconfig);
    else kubeConfig.loadFromDefault();
    if (kubeConfig.getCurrentCluster() === null) throw new Error('the kubeconfig names no current cluster');
    store = new EtcdDatastore(etcdConfigFromEnv(options.env ?? process.env));
  } catch (error) {
    log.error('cannot start', { error: (error as Error).message, kubeconfig: values.kubeconfig });
    return EXIT_ERROR;
  }
  if (options.signal.aborted) {
    await store.close();
    return EXIT_OK;
  }
  const server = kubeConfig.getCurrentCluster()?.server;
  log.info('margay-kube-controllers starting', { server });
  const sync = await KubeSync.start({ kubeConfig, store, logger: log });
  // The signal may have fired while the informers were starting.
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    else options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  log.info('margay-kube-controllers stopping');
  await sync.stop();
  await store.close();
  log.info('margay-kube-controllers stopped');
  return EXIT_OK;
}
