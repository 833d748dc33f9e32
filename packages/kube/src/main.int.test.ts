import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeResource, resourceKey } from '@margay/api';
import { EtcdDatastore } from '@margay/datastore';
import { EtcdServer, makeTempDir, removeTempDir, requireCommand, waitFor } from '@margay/testkit';
import { EXIT_OK, EXIT_USAGE, runKubeControllers, USAGE } from './main';
import { FakeKubeApiServer } from './testing/api-server';
import { kubeNamespace } from './testing/fixtures';

test('runs with a kubeconfig file and etcd from the environment until aborted', async () => {
  requireCommand('etcd', 'etcd-server');
  const etcd = await EtcdServer.start();
  const api = await FakeKubeApiServer.start();
  const dir = await makeTempDir('margay-kube-');
  const store = new EtcdDatastore({ endpoints: etcd.endpoints });
  const lines: string[] = [];
  const stop = new AbortController();
  let running: Promise<number> | undefined;
  const logger = {
    debug: () => {},
    info: (message: string) => lines.push(message),
    warn: (message: string, fields?: unknown) => lines.push(message + JSON.stringify(fields)),
    error: (message: string, fields?: unknown) => lines.push(message + JSON.stringify(fields)),
  };
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'tester', user: {} }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'tester' } }],
        'current-context': 'fake',
      }),
    );
    api.create('namespaces', kubeNamespace('from-cli'));
    running = runKubeControllers({
      argv: ['--kubeconfig', kubeconfig],
      env: { ETCD_ENDPOINTS: etcd.endpoints.join(',') },
      signal: stop.signal,
      logger,
    });
    const key = resourceKey('Profile', 'kns.from-cli');
    await waitFor('the profile', async () => (await store.get(key)) !== undefined);
    expect(decodeResource((await store.get(key))!.value).metadata.name).toBe('kns.from-cli');
    stop.abort();
    expect(await running).toBe(EXIT_OK);
    expect(lines).not.toContainEqual(expect.stringMatching(/failed/));
    expect(lines).toContain('margay-kube-controllers stopped');
    await store.delete(key);
  } finally {
    stop.abort();
    await running;
    await store.close();
    await api.close();
    await etcd.stop();
    await removeTempDir(dir);
  }
}, 60_000);

test('usage errors name the flag', async () => {
  const printed: string[] = [];
  const code = await runKubeControllers({
    argv: ['--kube-config', 'x'],
    signal: new AbortController().signal,
    print: (text) => printed.push(text),
  });
  expect(code).toBe(EXIT_USAGE);
  expect(printed.join('')).toMatch(/--kube-config/);
  expect(printed.join('')).toContain(USAGE);
});
