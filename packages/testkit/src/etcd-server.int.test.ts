import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('a start that fails leaves no data dir behind and names the cause', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const busyPort = (holder.address() as AddressInfo).port;
  try {
    await expect(EtcdServer.start({ clientPort: busyPort })).rejects.toThrow(/address already in use/);
  } finally {
    holder.close();
  }
  // Other tests may start etcds meanwhile: look for a data dir whose log names this port.
  const leftBehind = readdirSync(tmpdir())
    .filter((name) => name.startsWith('margay-etcd-'))
    .filter((name) => {
      const log = join(tmpdir(), name, 'etcd.log');
      return existsSync(log) && readFileSync(log, 'utf8').includes(`127.0.0.1:${busyPort}`);
    });
  expect(leftBehind).toEqual([]);
});

test('serves clients on a Unix socket too, reachable from another network namespace', async () => {
  const etcd = await EtcdServer.start({ unixSocket: true });
  const netns = `mgtk-${process.pid}-${Date.now() % 100000}`;
  execFileSync('ip', ['netns', 'add', netns]);
  try {
    const endpoint = etcd.unixEndpoint!;
    expect(endpoint).toBe(`unix://${join(etcd.dataDir, 'localhost:')}${new URL(etcd.endpoints[0]!).port}`);
    etcdctl(etcd.endpoints[0]!, 'put', '/k', 'over tcp');
    // The namespace has no route to the host's loopback; the socket file is still there.
    const value = execFileSync(
      'ip',
      ['netns', 'exec', netns, 'etcdctl', '--endpoints', endpoint, 'get', '--print-value-only', '/k'],
      { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } },
    ).trim();
    expect(value).toBe('over tcp');
  } finally {
    execFileSync('ip', ['netns', 'del', netns]);
    await etcd.stop();
  }
  expect(existsSync(etcd.dataDir)).toBe(false);
});
