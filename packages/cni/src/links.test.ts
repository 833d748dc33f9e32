import { RecordingRunner } from '@margay/dataplane';
import { WorkloadLinks } from './links';

const LINK = {
  hostVeth: 'mgc440f455693',
  netns: '/run/netns/pod-1',
  ifName: 'eth0',
  ip: '10.77.0.5',
  podMac: '0a:58:0a:4d:00:05',
  mtu: 1440,
};

describe('WorkloadLinks', () => {
  it('creates the veth, host route, sysctls and pod side with exactly these commands', async () => {
    const runner = new RecordingRunner();
    await new WorkloadLinks(runner).create(LINK);
    expect(runner.commands).toEqual([
      {
        argv: ['ip', '-batch', '-'],
        input:
          'link add mgc440f455693 mtu 1440 address ee:ee:ee:ee:ee:ee type veth peer name eth0 mtu 1440 address 0a:58:0a:4d:00:05 netns /run/netns/pod-1\n' +
          'link set mgc440f455693 up\n' +
          'route add 10.77.0.5/32 dev mgc440f455693 scope link proto 78\n',
      },
      {
        argv: [
          'sysctl',
          '-q',
          '-w',
          'net.ipv4.conf.mgc440f455693.proxy_arp=1',
          'net.ipv4.neigh.mgc440f455693.proxy_delay=0',
          'net.ipv4.conf.mgc440f455693.forwarding=1',
        ],
        input: '',
      },
      {
        argv: ['nsenter', '--net=/run/netns/pod-1', 'ip', '-batch', '-'],
        input:
          'addr add 10.77.0.5/32 dev eth0\n' +
          'link set eth0 up\n' +
          'route add 169.254.1.1 dev eth0 scope link\n' +
          'route add default via 169.254.1.1 dev eth0\n',
      },
    ]);
  });

  it('stops at the first failing step and says where it failed', async () => {
    const runner = new RecordingRunner((command) =>
      command.argv[0] === 'sysctl' ? { code: 255, stderr: 'sysctl: permission denied' } : {},
    );
    await expect(new WorkloadLinks(runner).create(LINK)).rejects.toThrow(
      "setting up the workload's link sysctl on mgc440f455693 failed: sysctl: permission denied",
    );
    expect(runner.commands).toHaveLength(2);
  });

  it('removes a veth, tolerating one that is already gone', async () => {
    const gone = new RecordingRunner(() => ({ code: 1, stderr: 'Cannot find device "mgc440f455693"' }));
    expect(await new WorkloadLinks(gone).remove('mgc440f455693')).toBe(false);
    expect(gone.commands.map((c) => c.argv)).toEqual([['ip', 'link', 'del', 'mgc440f455693']]);
    expect(await new WorkloadLinks(new RecordingRunner()).remove('mgc440f455693')).toBe(true);
    const broken = new RecordingRunner(() => ({ code: 2, stderr: 'Operation not permitted' }));
    await expect(new WorkloadLinks(broken).remove('mgc440f455693')).rejects.toThrow(
      'Operation not permitted',
    );
  });

  it('reports each missing piece', async () => {
    // Everything exists except the pod's default route, and the host veth is down.
    const runner = new RecordingRunner(({ argv }) => {
      const line = argv.join(' ');
      if (line.endsWith('link show dev mgc440f455693'))
        return { stdout: '[{"flags":["BROADCAST"],"address":"ee:ee:ee:ee:ee:ee"}]' };
      if (line.includes('route show exact')) return { stdout: '[{"dev":"mgc440f455693","scope":"link"}]' };
      if (argv[0] === 'sysctl') return { stdout: '1\n1\n' };
      if (line.includes('addr show dev eth0'))
        return { stdout: '[{"addr_info":[{"local":"10.77.0.5","prefixlen":32}]}]' };
      return { stdout: '[]' };
    });
    expect(await new WorkloadLinks(runner).problems(LINK)).toEqual([
      'host veth mgc440f455693 is down',
      '/run/netns/pod-1 lacks its default route via 169.254.1.1 dev eth0',
    ]);
  });
});
