// The apply loop against the in-memory datastore and a recording BIRD: what reaches the file,
// when BIRD is asked to reload, and what the status key says when a step fails.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Resource,
  resourceKey,
  testBgpConfiguration,
  testNode,
  testPeer,
  testPool,
  writeResource,
} from '@margay/api';
import { MemoryDatastore } from '@margay/datastore';
import { makeTempDir, removeTempDir, waitFor } from '@margay/testkit';
import type { BirdControl } from './bird';
import { Confd, type ConfdOptions } from './confd';
import { defaultTemplateDir, loadTemplates } from './render';
import { readConfdStatus } from './status';

class RecordingBird implements BirdControl {
  readonly checked: string[] = [];
  reloads = 0;
  rejectWhen: RegExp | undefined;
  reloadError: string | undefined;
  async check(file: string): Promise<void> {
    const text = readFileSync(file, 'utf8');
    this.checked.push(text);
    if (this.rejectWhen?.test(text)) throw new Error(`${file}:1:1 rejected by the test`);
  }
  async reload(): Promise<void> {
    if (this.reloadError) throw new Error(this.reloadError);
    this.reloads++;
  }
}

const templates = loadTemplates(defaultTemplateDir());
let dir = '';
let store: MemoryDatastore;
let bird: RecordingBird;
const running: Confd[] = [];

beforeEach(async () => {
  dir = makeTempDir('confd-unit');
  store = new MemoryDatastore();
  bird = new RecordingBird();
  await write(testBgpConfiguration('default', {}));
  await write(testPool('pods', '10.244.0.0/16'));
  await write(testNode('n1', { ipv4Address: '10.0.0.1/24' }));
  await write(testNode('n2', { ipv4Address: '10.0.0.2/24' }));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.close()));
  await store.close();
  removeTempDir(dir);
});

const write = (resource: Resource) => writeResource(store, resource);

function options(over: Partial<ConfdOptions> = {}): ConfdOptions {
  return {
    store,
    nodeName: 'n1',
    configFile: join(dir, 'bird.cfg'),
    birdSocket: join(dir, 'bird.ctl'),
    templates,
    kernelRoutes: false,
    debounceMs: 5,
    bird,
    ...over,
  };
}

function start(over: Partial<ConfdOptions> = {}): Confd {
  const confd = Confd.start(options(over));
  running.push(confd);
  return confd;
}

const config = () => readFileSync(join(dir, 'bird.cfg'), 'utf8');

test('the first snapshot is rendered, checked, swapped in and reloaded; the status says which file', async () => {
  const confd = start();
  await waitFor('the first apply', () => confd.progress.applies >= 1, 5000);
  expect(confd.progress.last).toEqual({ outcome: 'applied' });
  expect(config()).toContain('protocol bgp Mesh_10_0_0_2 {');
  expect(bird.checked).toEqual([config()]);
  expect(bird.reloads).toBe(1);
  // Nothing staged is left behind.
  expect(readdirSync(dir)).toEqual(['bird.cfg']);
  const status = await readConfdStatus(store, 'n1');
  expect(status).toMatchObject({ node: 'n1', ok: true, config: { file: join(dir, 'bird.cfg') } });
  expect(status?.config?.sha256).toMatch(/^[0-9a-f]{64}$/);
});

test('a new peer in etcd reaches the file; a change that does not alter the output reloads nothing', async () => {
  const confd = start();
  await waitFor('the first apply', () => confd.progress.applies >= 1, 5000);
  await write(testPeer('tor', { peerIP: '10.0.0.254', asNumber: 65001 }));
  await waitFor('the peer in the file', () => config().includes('protocol bgp Global_10_0_0_254 {'), 5000);
  expect(bird.reloads).toBe(2);

  // A label nothing selects on: the rendered text is the same.
  const applies = confd.progress.applies;
  await write(testNode('n2', { ipv4Address: '10.0.0.2/24' }, { unrelated: 'yes' }));
  await waitFor('the next apply', () => confd.progress.applies > applies, 5000);
  expect(confd.progress.last).toEqual({ outcome: 'unchanged' });
  expect(bird.reloads).toBe(2);
  expect(bird.checked).toHaveLength(2);
});

test('a configuration BIRD rejects leaves the previous file, BIRD unreloaded, and the error in the status', async () => {
  const confd = start();
  await waitFor('the first apply', () => confd.progress.applies >= 1, 5000);
  const good = config();
  bird.rejectWhen = /Global_10_0_0_254/;
  await write(testPeer('tor', { peerIP: '10.0.0.254', asNumber: 65001 }));
  await waitFor('a failed apply', () => confd.progress.last?.outcome === 'failed', 5000);
  expect(config()).toBe(good);
  expect(bird.reloads).toBe(1);
  expect(readdirSync(dir)).toEqual(['bird.cfg']);
  const status = await readConfdStatus(store, 'n1');
  expect(status).toMatchObject({ ok: false, stage: 'check' });
  expect(status?.error).toContain('rejected by the test');

  // Removing the bad input brings the status back to ok without touching BIRD.
  await store.delete(resourceKey('BGPPeer', 'tor'));
  await waitFor('the status to recover', async () => (await readConfdStatus(store, 'n1'))?.ok === true, 5000);
  expect(bird.reloads).toBe(1);
});

test('a render error (a missing secret) is reported with the resource and field', async () => {
  const confd = start();
  await waitFor('the first apply', () => confd.progress.applies >= 1, 5000);
  await write(
    testPeer('tor', {
      peerIP: '10.0.0.254',
      asNumber: 65001,
      password: { secretKeyRef: { name: 'bgp', key: 'tor' } },
    }),
  );
  await waitFor('a failed apply', () => confd.progress.last?.outcome === 'failed', 5000);
  expect(await readConfdStatus(store, 'n1')).toMatchObject({
    ok: false,
    stage: 'render',
    error: 'BGPPeer tor spec.password: secret bgp has no key tor',
  });
});

test('passwords come from DIR/<secret>/<key>, without the trailing newline', async () => {
  const secrets = join(dir, 'secrets');
  require('node:fs').mkdirSync(join(secrets, 'bgp'), { recursive: true });
  writeFileSync(join(secrets, 'bgp', 'tor'), 's3cret\n');
  await write(
    testPeer('tor', {
      peerIP: '10.0.0.254',
      asNumber: 65001,
      password: { secretKeyRef: { name: 'bgp', key: 'tor' } },
    }),
  );
  const result = await Confd.once(options({ secretsDir: secrets, configFile: join(dir, 'out.cfg') }));
  expect(result).toEqual({ outcome: 'applied' });
  expect(readFileSync(join(dir, 'out.cfg'), 'utf8')).toContain('  password "s3cret";\n');
});

test('once without a socket writes the file and reloads nothing; a failed reload is retried', async () => {
  expect(await Confd.once(options({ birdSocket: undefined }))).toEqual({ outcome: 'applied' });
  expect(existsSync(join(dir, 'bird.cfg'))).toBe(true);
  expect(bird.reloads).toBe(0);
  // The same text again: nothing to do.
  expect(await Confd.once(options({ birdSocket: undefined }))).toEqual({ outcome: 'unchanged' });

  bird.reloadError = 'BIRD is not running';
  const confd = start({ configFile: join(dir, 'other.cfg') });
  await waitFor('a failed reload', () => confd.progress.last?.stage === 'reload', 5000);
  expect(await readConfdStatus(store, 'n1')).toMatchObject({
    ok: false,
    stage: 'reload',
    error: 'BIRD is not running',
  });
  bird.reloadError = undefined;
  await write(testNode('n2', { ipv4Address: '10.0.0.2/24' }, { touch: '1' }));
  await waitFor('the reload retried', () => bird.reloads === 1, 5000);
  expect(confd.progress.last).toEqual({ outcome: 'applied' });
});
