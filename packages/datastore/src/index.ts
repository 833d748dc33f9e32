export { EtcdDatastore } from './etcd';
export { type EtcdConfig, etcdConfigFromEnv } from './etcd-config';
export { MemoryDatastore } from './memory';
export * from './types';
