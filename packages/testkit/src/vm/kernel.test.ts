import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '../tmp';
import { findCloudKernel, moduleLoadOrder, moduleName } from './kernel';

const MODULES_DEP = [
  'kernel/net/ipv4/ip_tunnel.ko:',
  'kernel/net/ipv4/ipip.ko: kernel/net/ipv4/tunnel4.ko kernel/net/ipv4/ip_tunnel.ko',
  'kernel/net/ipv4/tunnel4.ko:',
  'kernel/net/ipv4/netfilter/iptable_filter.ko: kernel/net/ipv4/netfilter/ip_tables.ko kernel/net/netfilter/x_tables.ko',
  'kernel/net/ipv4/netfilter/ip_tables.ko: kernel/net/netfilter/x_tables.ko',
  'kernel/net/netfilter/x_tables.ko:',
  'kernel/drivers/net/veth.ko:',
  '',
].join('\n');

describe('moduleLoadOrder', () => {
  it('puts every dependency before the module that needs it, each module once', () => {
    const order = moduleLoadOrder(MODULES_DEP, ['ipip', 'iptable_filter', 'veth', 'ip_tunnel']).map(
      moduleName,
    );
    expect(order).toEqual([
      'tunnel4',
      'ip_tunnel',
      'ipip',
      'x_tables',
      'ip_tables',
      'iptable_filter',
      'veth',
    ]);
  });

  it('names a module the kernel does not have', () => {
    expect(() => moduleLoadOrder(MODULES_DEP, ['nosuch'])).toThrow(
      /kernel module 'nosuch' is not in modules.dep/,
    );
  });
});

describe('findCloudKernel', () => {
  let dir = '';
  beforeEach(() => {
    dir = makeTempDir('vm-kernel');
    mkdirSync(join(dir, 'boot'));
  });
  afterEach(() => removeTempDir(dir));

  it('says which package to install when no cloud kernel is there', () => {
    writeFileSync(join(dir, 'boot', 'vmlinuz-6.1.0-9-amd64'), '');
    expect(() => findCloudKernel(join(dir, 'boot'), join(dir, 'modules'))).toThrow(
      /no Debian cloud kernel .* apt-get install linux-image-cloud-amd64/,
    );
  });

  it('picks the newest cloud kernel by version and needs its module tree', () => {
    for (const version of ['6.1.0-9-cloud-amd64', '6.1.0-56-cloud-amd64', '6.1.0-10-cloud-amd64']) {
      writeFileSync(join(dir, 'boot', `vmlinuz-${version}`), '');
    }
    expect(() => findCloudKernel(join(dir, 'boot'), join(dir, 'modules'))).toThrow(
      /kernel 6\.1\.0-56-cloud-amd64 has no module tree/,
    );
    mkdirSync(join(dir, 'modules', '6.1.0-56-cloud-amd64'), { recursive: true });
    writeFileSync(join(dir, 'modules', '6.1.0-56-cloud-amd64', 'modules.dep'), MODULES_DEP);
    expect(findCloudKernel(join(dir, 'boot'), join(dir, 'modules'))).toEqual({
      version: '6.1.0-56-cloud-amd64',
      image: join(dir, 'boot', 'vmlinuz-6.1.0-56-cloud-amd64'),
      modulesDir: join(dir, 'modules', '6.1.0-56-cloud-amd64'),
    });
  });
});
