export { makeTestCertificates, type TestCertificates } from './certs';
export { EtcdServer, type EtcdServerInfo, type EtcdServerOptions, type EtcdTls } from './etcd-server';
export { freePort } from './ports';
export { isAlive } from './process';
export { requireCommand, requireRoot } from './root';
export { makeTempDir, removeTempDir } from './tmp';
export * from './vm';
export { waitFor } from './wait';
