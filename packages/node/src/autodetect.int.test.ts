// Autodetection against a real kernel: a namespace whose two interfaces sit in different subnets.

import { NetworkNamespace } from '@margay/dataplane';
import { requireCommand, requireRoot } from '@margay/testkit';
import { autodetectIpv4, parseAutodetectMethod } from './autodetect';

describe('autodetectIpv4 in a network namespace', () => {
  let netns: NetworkNamespace | undefined;

  beforeAll(async () => {
    requireRoot('address autodetection in a network namespace');
    requireCommand('ip', 'iproute2');
    netns = await NetworkNamespace.create('mg-autodetect');
    // A veth pair with both ends inside: two interfaces, two subnets, no traffic leaves. The
    // kernel numbers the peer end first, so nic-a comes first in interface order.
    await netns.ip('link', 'add', 'nic-b', 'type', 'veth', 'peer', 'name', 'nic-a');
    await netns.ip('addr', 'add', '10.71.1.2/24', 'dev', 'nic-a');
    await netns.ip('addr', 'add', '10.72.2.2/25', 'dev', 'nic-b');
    await netns.ip('link', 'set', 'nic-a', 'up');
    await netns.ip('link', 'set', 'nic-b', 'up');
  });

  afterAll(async () => {
    await netns?.delete();
  });

  it.each([
    ['first-found', '10.71.1.2/24'],
    ['interface=nic-b', '10.72.2.2/25'],
    ['cidr=10.72.0.0/16', '10.72.2.2/25'],
    ['can-reach=10.72.2.100', '10.72.2.2/25'],
    ['10.71.1.2', '10.71.1.2/24'],
  ])('%s → %s', async (method, expected) => {
    await expect(autodetectIpv4(parseAutodetectMethod(method), netns!.runner)).resolves.toBe(expected);
  });
});
