export { EtcdDatastore } from './etcd';
export { type EtcdConfig, etcdConfigFromEnv } from './etcd-config';
export { MemoryDatastore } from './memory';
export { PrefixMirror, type PrefixMirrorOptions } from './prefix-mirror';
export { SharedWatches } from './shared-watches';
export * from './types';
