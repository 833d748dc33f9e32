import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { EtcdServer } from './etcd-server';

function etcdctl(endpoint: string, ...args: string[]): string {
  return execFileSync('etcdctl', ['--endpoints', endpoint, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ETCDCTL_API: '3' },
  }).trim();
}

test('starts a real etcd, keeps data across restart, and cleans up on stop', async () => {
  const etcd = await EtcdServer.start();
  try {
    const endpoint = etcd.endpoints[0]!;
    etcdctl(endpoint, 'put', '/k', 'v1');
    await etcd.restart();
    expect(etcdctl(endpoint, 'get', '--print-value-only', '/k')).toBe('v1');
  } finally {
    await etcd.stop();
  }
  expect(existsSync(etcd.dataDir)).toBe(false);
  expect(() => process.kill(etcd.processId, 0)).toThrow();
});
