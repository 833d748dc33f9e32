import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '@margay/testkit';
import { Cluster } from './cluster';
import { clusterDir } from './state';
import { freshClusterName } from './test-support';

test('up refuses to run without root, before touching anything', async () => {
  const name = freshClusterName('not-root');
  const getuid = jest.spyOn(process, 'getuid').mockReturnValue(1000);
  try {
    await expect(Cluster.up({ nodes: 1, name })).rejects.toThrow(
      'the e2e cluster harness needs root: it creates network namespaces, veths and routes',
    );
    expect(existsSync(clusterDir(name))).toBe(false);
  } finally {
    getuid.mockRestore();
    await Cluster.down(name); // had the check failed, a cluster would be up
  }
});

describe('with a state dir of its own', () => {
  let root: string;
  const saved = process.env['MARGAY_E2E_STATE_DIR'];
  beforeEach(() => {
    root = makeTempDir('e2e-state');
    process.env['MARGAY_E2E_STATE_DIR'] = root;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['MARGAY_E2E_STATE_DIR'];
    else process.env['MARGAY_E2E_STATE_DIR'] = saved;
    removeTempDir(root);
  });

  test('down never removes a directory holding files the harness did not put there', async () => {
    mkdirSync(join(root, 'notes'));
    writeFileSync(join(root, 'notes', 'todo.txt'), 'keep me');
    await expect(Cluster.down('notes')).rejects.toThrow(
      `${join(root, 'notes')} holds files the e2e harness did not put there; not touching it`,
    );
    expect(existsSync(join(root, 'notes', 'todo.txt'))).toBe(true);
  });

  test('a damaged state file is named in the error', () => {
    mkdirSync(join(root, 'broken'));
    writeFileSync(join(root, 'broken', 'state.json'), '{"name": "broken", ');
    expect(() => Cluster.load('broken')).toThrow(`${join(root, 'broken', 'state.json')} is not valid JSON`);
    writeFileSync(join(root, 'broken', 'state.json'), '{"name": "broken", "slot": 1}');
    expect(() => Cluster.load('broken')).toThrow(
      `${join(root, 'broken', 'state.json')} is not the state of cluster 'broken'`,
    );
  });
});
