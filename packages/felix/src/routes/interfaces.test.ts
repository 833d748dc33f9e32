import { RecordingRunner } from '@margay/dataplane';
import { readUpInterfaces } from './interfaces';

describe('readUpInterfaces', () => {
  test('lists the interfaces that are administratively up', async () => {
    const links = [
      { ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'] },
      { ifname: 'mgweb', flags: ['BROADCAST', 'MULTICAST', 'UP'] },
      { ifname: 'mgdown', flags: ['BROADCAST', 'MULTICAST'] },
    ];
    const runner = new RecordingRunner(() => ({ stdout: JSON.stringify(links) }));
    expect([...(await readUpInterfaces(runner))]).toEqual(['lo', 'mgweb']);
    expect(runner.commands.map((c) => c.argv.join(' '))).toEqual(['ip -j link show']);
  });

  test('a failing ip is an error naming the command', async () => {
    const runner = new RecordingRunner(() => ({ code: 255, stderr: 'Cannot open netlink socket' }));
    await expect(readUpInterfaces(runner)).rejects.toThrow(
      'ip -j link show failed (255): Cannot open netlink socket',
    );
  });
});
