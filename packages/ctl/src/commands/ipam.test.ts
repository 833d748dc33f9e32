import { resourceKey } from '@margay/api';
import { MemoryDatastore } from '@margay/datastore';
import { Ipam, ipamKeys } from '@margay/ipam';
import { runCli, sharedView } from '../testing';
import { renderUsage } from './ipam';

const POOLS = `
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: { name: pool-v4 }
spec: { cidr: 10.1.0.0/24, blockSize: 26 }
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: { name: pool-v6 }
spec: { cidr: 'fd00::/120', blockSize: 122 }
`;

describe('margayctl ipam', () => {
  let store: MemoryDatastore;
  let ipam: Ipam;
  const ctl = (...argv: string[]) => runCli(argv, { openDatastore: () => sharedView(store) });

  beforeEach(async () => {
    store = new MemoryDatastore();
    ipam = new Ipam(store);
    expect(
      await runCli(['apply', '-f', '-'], { stdin: POOLS, openDatastore: () => sharedView(store) }),
    ).toMatchObject({ code: 0 });
  });

  const assign = (handle: string, node: string, family: 4 | 6 = 4) =>
    ipam.assign({ handle, node, family, attributes: { node, pod: handle } });

  test('show: one row per pool, and per block with --show-blocks, with calicoctl-style shares', async () => {
    for (const handle of ['a', 'b', 'c']) await assign(handle, 'node-1');
    await assign('d', 'node-2');

    expect(await ctl('ipam', 'show')).toEqual({
      code: 0,
      stderr: '',
      stdout:
        'GROUPING   CIDR          IPS TOTAL   IPS IN USE   IPS FREE\n' +
        'IP Pool    10.1.0.0/24   256         4 (2%)       252 (98%)\n' +
        'IP Pool    fd00::/120    256         0 (0%)       256 (100%)\n',
    });
    const blocks = await ctl('ipam', 'show', '--show-blocks');
    expect(blocks.stdout.split('\n')).toEqual([
      'GROUPING   CIDR           IPS TOTAL   IPS IN USE   IPS FREE',
      'IP Pool    10.1.0.0/24    256         4 (2%)       252 (98%)',
      'Block      10.1.0.0/26    64          3 (5%)       61 (95%)',
      'Block      10.1.0.64/26   64          1 (2%)       63 (98%)',
      'IP Pool    fd00::/120     256         0 (0%)       256 (100%)',
      '',
    ]);
  });

  test('a share below 1% shows as <1%, never as an unused 0%', () => {
    const pool = { pool: 'big', cidr: '10.0.0.0/16', total: 65536, inUse: 1, free: 65535, blocks: [] };
    expect(renderUsage([pool], false).split('\n')[1]).toBe(
      'IP Pool    10.0.0.0/16   65536       1 (<1%)      65535 (100%)',
    );
  });

  test('show --ip: the holder and its attributes, or not assigned (IPv4 and IPv6)', async () => {
    const v4 = await assign('web-1', 'node-1');
    const v6 = await assign('web-6', 'node-1', 6);

    expect((await ctl('ipam', 'show', '--ip', v4.ip)).stdout).toBe(
      `IP ${v4.ip} is in use\nHandle ID: web-1\nAttributes:\n  node: node-1\n  pod: web-1\n`,
    );
    expect((await ctl('ipam', 'show', '--ip', v6.ip)).stdout).toContain('Handle ID: web-6\n');
    expect(v6.ip).toMatch(/^fd00::/);
    for (const free of ['10.1.0.63', 'fd00::3f', '192.0.2.1']) {
      expect(await ctl('ipam', 'show', '--ip', free)).toEqual({
        code: 0,
        stderr: '',
        stdout: `IP ${free} is not assigned\n`,
      });
    }
  });

  test('show --show-borrowed: calicoctl columns, one row per borrowed address', async () => {
    expect((await ctl('ipam', 'show', '--show-borrowed')).stdout).toBe(
      'IP   BORROWING-NODE   BLOCK   BLOCK OWNER   TYPE   ALLOCATED-TO\n',
    );
    // A pool of one block: node-1 claims it, node-2 can only borrow.
    const tiny =
      'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: { name: tiny }\nspec: { cidr: 10.2.0.0/26 }\n';
    expect(
      await runCli(['apply', '-f', '-'], { stdin: tiny, openDatastore: () => sharedView(store) }),
    ).toMatchObject({ code: 0 });
    await ipam.assign({ handle: 'own', node: 'node-1', pools: ['tiny'], attributes: { node: 'node-1' } });
    const pod = await ipam.assign({
      handle: 'k8s-pod-network.c1',
      node: 'node-2',
      pools: ['tiny'],
      attributes: { node: 'node-2', namespace: 'shop', pod: 'cart', containerID: 'c1' },
    });
    const tunnel = await ipam.assign({
      handle: 'ipip-tunnel-addr-node-2',
      node: 'node-2',
      use: 'Tunnel',
      pools: ['tiny'],
      attributes: { node: 'node-2', type: 'ipipTunnelAddress' },
    });
    expect([pod, tunnel].map((a) => [a.ip, a.borrowed])).toEqual([
      ['10.2.0.1', true],
      ['10.2.0.2', true],
    ]);

    expect((await ctl('ipam', 'show', '--show-borrowed')).stdout.split('\n')).toEqual([
      'IP         BORROWING-NODE   BLOCK         BLOCK OWNER   TYPE                ALLOCATED-TO',
      '10.2.0.1   node-2           10.2.0.0/26   node-1        pod                 shop/cart',
      '10.2.0.2   node-2           10.2.0.0/26   node-1        ipipTunnelAddress   ipip-tunnel-addr-node-2',
      '',
    ]);
  });

  test("gc: frees leaked addresses and deleted nodes' blocks; --dry-run only tells", async () => {
    await store.put(
      resourceKey('Node', 'node-1'),
      JSON.stringify({ apiVersion: 'margay.io/v1', kind: 'Node', metadata: { name: 'node-1' }, spec: {} }),
    );
    const leaked = await ipam.assign({
      handle: 'k8s-pod-network.c1',
      node: 'node-1',
      attributes: { node: 'node-1', namespace: 'shop', pod: 'cart', containerID: 'c1' },
    });
    // No pod or tunnel attributes: GC has no owner to ask about and keeps it.
    await ipam.assign({ handle: 'kept', node: 'node-gone', attributes: { node: 'node-gone' } });
    const before = await store.list(ipamKeys.root);

    expect(await ctl('ipam', 'gc', '--dry-run')).toEqual({
      code: 0,
      stderr: '',
      stdout:
        `Would free ${leaked.ip} (handle k8s-pod-network.c1, block 10.1.0.0/26): no WorkloadEndpoint uses it\n` +
        'Would release 1 block(s) of deleted node node-gone\n',
    });
    expect(await store.list(ipamKeys.root)).toEqual(before);

    expect((await ctl('ipam', 'gc')).stdout).toBe(
      `Freed ${leaked.ip} (handle k8s-pod-network.c1, block 10.1.0.0/26): no WorkloadEndpoint uses it\n` +
        'Released 1 block(s) of deleted node node-gone\n',
    );
    expect(await ipam.lookupIp(leaked.ip)).toBeUndefined();
    expect((await ipam.lookupHandle('kept')).length).toBe(1);
    expect((await ctl('ipam', 'gc')).stdout).toBe('No leaked addresses or blocks of deleted nodes found.\n');
  });

  test('show: bad flags are usage errors', async () => {
    const bad = await ctl('ipam', 'show', '--ip', '10.1.0.300');
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toContain('--ip "10.1.0.300" is not an IP address');
    const both = await ctl('ipam', 'show', '--ip', '10.1.0.1', '--show-blocks');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('cannot be used with');
    for (const flags of [
      ['--ip', '10.1.0.1', '--show-borrowed'],
      ['--show-blocks', '--show-borrowed'],
      ['--ip', 'fe80::1%eth0'],
    ]) {
      expect((await ctl('ipam', 'show', ...flags)).code).toBe(2);
    }
  });

  test('check: clean, then a leaked address makes it exit 1 with a list', async () => {
    const held = await assign('web-1', 'node-1');
    await assign('web-2', 'node-1');
    expect(await ctl('ipam', 'check')).toEqual({
      code: 0,
      stderr: '',
      stdout: 'Checked 2 allocated addresses: no problems found.\n',
    });

    await store.delete(ipamKeys.handle('web-1'));
    const broken = await ctl('ipam', 'check');
    expect(broken.code).toBe(1);
    expect(broken.stderr.split('\n')).toEqual([
      `leaked: ${held.ip} in block 10.1.0.0/26 is held by handle web-1, which has no handle record`,
      'IPAM check: 1 problems among 2 allocated addresses',
      '',
    ]);
  });

  test('release --ip frees the address; an unallocated or invalid one is an error that changes nothing', async () => {
    const a = await assign('web-1', 'node-1');
    const b = await assign('web-2', 'node-1');

    expect(await ctl('ipam', 'release', '--ip', a.ip)).toEqual({
      code: 0,
      stderr: '',
      stdout: `Released IP ${a.ip}\n`,
    });
    expect(await ipam.lookupHandle('web-1')).toEqual([]);
    expect(await ipam.lookupHandle('web-2')).toEqual([b.ip]);

    const before = await store.list(ipamKeys.root);
    const again = await ctl('ipam', 'release', '--ip', a.ip);
    expect(again).toMatchObject({ code: 1, stdout: '' });
    expect(again.stderr).toBe(`IP ${a.ip} is not allocated; nothing was released\n`);
    expect((await ctl('ipam', 'release', '--ip', 'ten')).code).toBe(2);
    expect((await ctl('ipam', 'release')).code).toBe(2);
    expect(await store.list(ipamKeys.root)).toEqual(before);
  });
});
