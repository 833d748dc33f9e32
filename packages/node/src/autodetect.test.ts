import { RecordingRunner } from '@margay/dataplane';
import { autodetectIpv4, parseAutodetectMethod } from './autodetect';

/** `ip -j -4 addr show` of a host with docker, a pod veth, two NICs and kube-ipvs0. */
const ADDRESSES = JSON.stringify(
  [
    ['lo', '127.0.0.1', 8, 'host'],
    ['docker0', '172.17.0.1', 16, 'global'],
    ['veth12ab', '169.254.1.1', 32, 'global'],
    ['kube-ipvs0', '10.96.0.1', 32, 'global'],
    ['eth0', '192.168.1.20', 24, 'global'],
    ['eth1', '10.0.5.7', 16, 'global'],
  ].map(([ifname, local, prefixlen, scope]) => ({
    ifname,
    addr_info: [{ family: 'inet', local, prefixlen, scope }],
  })),
);

function hostRunner(): RecordingRunner {
  return new RecordingRunner(({ argv }) => {
    if (argv.join(' ') === 'ip -j -4 addr show') return { stdout: ADDRESSES };
    if (argv.slice(0, 4).join(' ') === 'ip -j route get') {
      return { stdout: JSON.stringify([{ dst: argv[4], dev: 'eth1', prefsrc: '10.0.5.7' }]) };
    }
    return { code: 1, stderr: `unexpected command ${argv.join(' ')}` };
  });
}

describe('autodetectIpv4', () => {
  it.each([
    ['first-found', '192.168.1.20/24'],
    ['interface=eth1', '10.0.5.7/16'],
    ['interface=^eth\\d$', '192.168.1.20/24'],
    ['can-reach=10.0.9.9', '10.0.5.7/16'],
    ['cidr=10.0.0.0/8', '10.0.5.7/16'],
    ['cidr=172.30.0.0/16,192.168.0.0/16', '192.168.1.20/24'],
    ['10.0.5.7', '10.0.5.7/16'],
    ['203.0.113.9/28', '203.0.113.9/28'],
  ])('%s → %s', async (method, expected) => {
    await expect(autodetectIpv4(parseAutodetectMethod(method), hostRunner())).resolves.toBe(expected);
  });

  it('asks the kernel for the route to the can-reach destination', async () => {
    const runner = hostRunner();
    await autodetectIpv4(parseAutodetectMethod('can-reach=10.0.9.9'), runner);
    expect(runner.commands.map((c) => c.argv.join(' '))).toEqual([
      'ip -j -4 addr show',
      'ip -j route get 10.0.9.9',
    ]);
  });

  it('says what it saw when nothing matches', async () => {
    await expect(autodetectIpv4(parseAutodetectMethod('cidr=10.9.0.0/16'), hostRunner())).rejects.toThrow(
      'address autodetection (cidr=10.9.0.0/16): no match among the global IPv4 addresses (docker0 172.17.0.1/16,',
    );
  });

  it('reports a failing ip command with its stderr', async () => {
    const runner = new RecordingRunner(() => ({ code: 255, stderr: 'Cannot open netlink socket' }));
    await expect(autodetectIpv4({ kind: 'first-found' }, runner)).rejects.toThrow(
      'ip -j -4 addr show failed (255): Cannot open netlink socket',
    );
  });
});

describe('parseAutodetectMethod', () => {
  it.each([
    ['interface=eth(', /interface=eth\(.*Invalid regular expression/],
    ['can-reach=example.com', /can-reach needs an IPv4 address/],
    ['cidr=10.0.0.0/8,10.0.0.0/33', /"10.0.0.0\/33" is not an IPv4 CIDR/],
    ['10.0.0.1/40', /the prefix length must be 0-32/],
    ['first_found', /use first-found, interface=REGEX/],
  ])('rejects %s', (text, message) => {
    expect(() => parseAutodetectMethod(text)).toThrow(message);
  });
});
