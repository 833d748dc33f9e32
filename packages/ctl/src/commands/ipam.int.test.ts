import { EtcdDatastore } from '@margay/datastore';
import { Ipam } from '@margay/ipam';
import { EtcdServer } from '@margay/testkit';
import { runCli } from '../testing';

const POOL = `
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: { name: pods }
spec: { cidr: 10.9.0.0/28, blockSize: 29 }
`;

test('margayctl ipam against a real etcd: show, show --ip, release, check, gc', async () => {
  const etcd = await EtcdServer.start();
  const store = new EtcdDatastore({ endpoints: etcd.endpoints });
  try {
    const ctl = (argv: string[], stdin?: string) =>
      runCli(argv, { stdin, env: { ETCD_ENDPOINTS: etcd.endpoints.join(',') } });
    expect(await ctl(['apply', '-f', '-'], POOL)).toMatchObject({ code: 0 });
    const ipam = new Ipam(store);
    const first = await ipam.assign({ handle: 'pod-a', node: 'node-1', attributes: { pod: 'a' } });
    await ipam.assign({ handle: 'pod-b', node: 'node-1' });

    expect((await ctl(['ipam', 'show', '--show-blocks'])).stdout).toBe(
      'GROUPING   CIDR          IPS TOTAL   IPS IN USE   IPS FREE\n' +
        'IP Pool    10.9.0.0/28   16          2 (13%)      14 (88%)\n' +
        'Block      10.9.0.0/29   8           2 (25%)      6 (75%)\n',
    );
    expect((await ctl(['ipam', 'show', '--ip', first.ip])).stdout).toBe(
      `IP ${first.ip} is in use\nHandle ID: pod-a\nAttributes:\n  pod: a\n`,
    );
    expect(await ctl(['ipam', 'release', '--ip', first.ip])).toMatchObject({ code: 0 });
    expect((await ctl(['ipam', 'show', '--ip', first.ip])).stdout).toBe(`IP ${first.ip} is not assigned\n`);
    expect(await ctl(['ipam', 'check'])).toEqual({
      code: 0,
      stderr: '',
      stdout: 'Checked 1 allocated addresses: no problems found.\n',
    });
    // No WorkloadEndpoint uses pod-b's address and no Node resource exists for node-1.
    const second = await ipam.lookupHandle('pod-b');
    expect(
      await ipam.assign({
        handle: 'k8s-pod-network.c1',
        node: 'node-1',
        attributes: { node: 'node-1', namespace: 'ns', pod: 'gone', containerID: 'c1' },
      }),
    ).toMatchObject({ borrowed: false });
    expect((await ctl(['ipam', 'gc'])).stdout).toMatch(
      /^Freed 10\.9\.0\.\d+ \(handle k8s-pod-network\.c1, block 10\.9\.0\.0\/29\): no WorkloadEndpoint uses it\nReleased 1 block\(s\) of deleted node node-1\n$/,
    );
    expect(await ipam.lookupHandle('pod-b')).toEqual(second);
    expect((await ctl(['ipam', 'show', '--show-borrowed'])).stdout).toBe(
      'IP   BORROWING-NODE   BLOCK   BLOCK OWNER   TYPE   ALLOCATED-TO\n',
    );
  } finally {
    await store.close();
    await etcd.stop();
  }
});
