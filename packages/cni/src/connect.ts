// The real parts behind the plugin: etcd, IPAM on it, and `ip` on this host.

import { ProcessRunner } from '@margay/dataplane';
import { type Datastore, EtcdDatastore, etcdConfigFromEnv } from '@margay/datastore';
import { Ipam } from '@margay/ipam';
import type { NetworkConfig } from './config';
import { CniError, ERROR_CODES } from './errors';
import { WorkloadLinks } from './links';
import type { Log } from './log';

export interface NodeParts {
  store: Datastore;
  ipam: Ipam;
  links: WorkloadLinks;
  close(): Promise<void>;
}

export function connect(config: NetworkConfig, env: NodeJS.ProcessEnv, log: Log): NodeParts {
  let store: EtcdDatastore;
  try {
    store = new EtcdDatastore(config.etcd ?? etcdConfigFromEnv(env));
  } catch (error) {
    throw new CniError(ERROR_CODES.invalidNetworkConfig, `network config: ${(error as Error).message}`);
  }
  const ipam = new Ipam(store, { logger: { debug: (m) => log('debug', m), info: (m) => log('info', m) } });
  return { store, ipam, links: new WorkloadLinks(new ProcessRunner()), close: () => store.close() };
}
