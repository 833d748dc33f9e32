import { RecordingRunner } from './command';
import { parsePrefix } from './prefix';
import { RouteTable } from './route-table';

const BATCH = ['ip', '-force', '-batch', '-'];
const own = 'proto 196 table 254';

/** A fake kernel: `ip -j route show` answers with the given JSON per family. */
function kernelWith(v4: object[] = [], v6: object[] = []): RecordingRunner {
  return new RecordingRunner(({ argv }) =>
    argv.includes('show') ? { stdout: JSON.stringify(argv.includes('-4') ? v4 : v6) } : {},
  );
}

describe('RouteTable writes', () => {
  test('adds of every route shape go out as one batch of replace lines', async () => {
    const runner = new RecordingRunner();
    const table = new RouteTable({ runner, proto: 196 });
    table.set({ dst: '10.1.0.0/24', type: 'unicast', via: '10.99.0.2' });
    table.set({
      dst: '10.2.0.0/24',
      type: 'unicast',
      via: '10.77.0.1',
      dev: 'tunl0',
      onlink: true,
      mtu: 1440,
    });
    table.set({ dst: '10.0.1.5', type: 'link', dev: 'cali1234' });
    table.set({ dst: '10.0.1.0/26', type: 'blackhole', metric: 20 });
    table.set({ dst: '2001:DB8:0:0::/64', type: 'unicast', via: 'fe80::1', dev: 'eth0' });
    expect(await table.flush()).toEqual({ lines: 5, failures: [] });
    expect(runner.commands.map((c) => c.argv)).toEqual([BATCH]);
    expect(runner.batches()).toEqual([
      [
        `route replace 10.1.0.0/24 via 10.99.0.2 ${own} metric 0`,
        `route replace 10.2.0.0/24 via 10.77.0.1 dev tunl0 onlink ${own} metric 0 mtu 1440`,
        `route replace 10.0.1.5/32 dev cali1234 scope link ${own} metric 0`,
        `route replace blackhole 10.0.1.0/26 ${own} metric 20`,
        `route replace 2001:db8::/64 via fe80::1 dev eth0 ${own} metric 1024`,
        '',
      ].join('\n'),
    ]);
  });

  test('changes replace in place, a metric change deletes the old route, deletes remove', async () => {
    const runner = new RecordingRunner();
    const table = new RouteTable({ runner, proto: 196, table: 100 });
    table.set({ dst: '10.1.0.0/24', type: 'unicast', via: '10.99.0.2' });
    table.set({ dst: '10.2.0.0/24', type: 'blackhole' });
    table.set({ dst: '10.3.0.0/24', type: 'blackhole' });
    await table.flush();
    table.set({ dst: '10.1.0.0/24', type: 'unicast', via: '10.99.0.3' });
    table.set({ dst: '10.2.0.0/24', type: 'blackhole', metric: 7 });
    table.delete('10.3.0.0/24');
    await table.flush();
    expect(runner.batches()[1]).toBe(
      [
        'route replace 10.1.0.0/24 via 10.99.0.3 proto 196 table 100 metric 0',
        'route del 10.2.0.0/24 proto 196 table 100 metric 0',
        'route replace blackhole 10.2.0.0/24 proto 196 table 100 metric 7',
        'route del 10.3.0.0/24 proto 196 table 100 metric 0',
        '',
      ].join('\n'),
    );
  });

  test('updates are coalesced: only the last state of a prefix is written, no-ops write nothing', async () => {
    const runner = new RecordingRunner();
    const table = new RouteTable({ runner, proto: 196 });
    for (let n = 2; n < 100; n++) table.set({ dst: '10.1.0.0/24', type: 'unicast', via: `10.99.0.${n}` });
    table.set({ dst: '10.2.0.0/24', type: 'blackhole' });
    table.delete('10.2.0.0/24');
    await table.flush();
    expect(runner.batches()).toEqual([`route replace 10.1.0.0/24 via 10.99.0.99 ${own} metric 0\n`]);
    table.set({ dst: '10.1.0.0/24', type: 'unicast', via: '10.99.0.99' });
    expect(await table.flush()).toEqual({ lines: 0, failures: [] });
    expect(runner.commands).toHaveLength(1);
  });

  test('reconcile reads only its own proto and table, adopts matching routes and deletes the rest', async () => {
    const runner = kernelWith(
      [
        { dst: '10.1.0.0/24', gateway: '10.99.0.2', dev: 'veth0', flags: [] },
        { dst: '10.5.0.0/24', gateway: '10.99.0.2', dev: 'veth0', flags: [] },
        { dst: 'default', gateway: '10.99.0.1', dev: 'veth0', metric: 50, flags: [] },
      ],
      [{ type: 'blackhole', dst: '2001:db8::/64', dev: 'lo', metric: 1024, flags: [] }],
    );
    const table = new RouteTable({ runner, proto: 196 });
    table.set({ dst: '10.1.0.0/24', type: 'unicast', via: '10.99.0.2' });
    table.set({ dst: '2001:db8::/64', type: 'blackhole' });
    table.set({ dst: '10.9.0.0/24', type: 'link', dev: 'veth0' });
    expect(await table.reconcile()).toEqual({ lines: 3, failures: [] });
    expect(runner.commands.slice(0, 2).map((c) => c.argv.join(' '))).toEqual([
      'ip -j -4 route show table 254 proto 196',
      'ip -j -6 route show table 254 proto 196',
    ]);
    expect(runner.batches()).toEqual([
      [
        `route replace 10.9.0.0/24 dev veth0 scope link ${own} metric 0`,
        `route del 10.5.0.0/24 ${own} metric 0`,
        `route del 0.0.0.0/0 ${own} metric 50`,
        '',
      ].join('\n'),
    ]);
  });

  test('a table that does not exist yet holds none of our routes', async () => {
    const runner = new RecordingRunner(({ argv }) =>
      argv.includes('show') ? { code: 2, stdout: '[', stderr: 'Error: ipv4: FIB table does not exist.' } : {},
    );
    const table = new RouteTable({ runner, proto: 196, table: 1000 });
    expect(await table.reconcile()).toEqual({ lines: 0, failures: [] });
  });

  test('a failed read is an error naming the command', async () => {
    const runner = new RecordingRunner(() => ({
      code: 1,
      stderr: 'RTNETLINK answers: Operation not permitted',
    }));
    await expect(new RouteTable({ runner, proto: 196 }).reconcile()).rejects.toThrow(
      'ip -j -4 route show table 254 proto 196 failed (1): RTNETLINK answers: Operation not permitted',
    );
  });
});

describe('RouteTable errors', () => {
  test('a failed line is reported with its text and retried on the next flush; the others stick', async () => {
    const runner = new RecordingRunner(({ input }) =>
      input.includes('10.2.0.0')
        ? { code: 1, stderr: 'Error: Nexthop has invalid gateway.\nCommand failed -:2\n' }
        : {},
    );
    const table = new RouteTable({ runner, proto: 196 });
    table.set({ dst: '10.1.0.0/24', type: 'unicast', via: '10.99.0.2' });
    table.set({ dst: '10.2.0.0/24', type: 'unicast', via: '10.98.0.2' });
    table.set({ dst: '10.3.0.0/24', type: 'unicast', via: '10.99.0.2' });
    expect(await table.flush()).toEqual({
      lines: 3,
      failures: [
        {
          dst: '10.2.0.0/24',
          line: `route replace 10.2.0.0/24 via 10.98.0.2 ${own} metric 0`,
          error: 'Error: Nexthop has invalid gateway.',
        },
      ],
    });
    runner.respond = () => ({});
    expect(await table.flush()).toEqual({ lines: 1, failures: [] });
    expect(runner.batches()[1]).toBe(`route replace 10.2.0.0/24 via 10.98.0.2 ${own} metric 0\n`);
  });

  test('deleting a route that is already gone counts as done', async () => {
    const runner = new RecordingRunner();
    const table = new RouteTable({ runner, proto: 196 });
    table.set({ dst: '10.1.0.0/24', type: 'blackhole' });
    await table.flush();
    runner.respond = () => ({ code: 1, stderr: 'RTNETLINK answers: No such process\nCommand failed -:1\n' });
    table.delete('10.1.0.0/24');
    expect((await table.flush()).failures).toEqual([]);
    expect(await table.flush()).toEqual({ lines: 0, failures: [] });
  });

  test('when ip fails without naming lines, every line is failed and retried', async () => {
    const runner = new RecordingRunner(() => ({ code: 255, stderr: 'Object "route" is unknown' }));
    const table = new RouteTable({ runner, proto: 196 });
    table.set({ dst: '10.1.0.0/24', type: 'blackhole' });
    table.set({ dst: '10.2.0.0/24', type: 'blackhole' });
    const result = await table.flush();
    expect(result.failures.map((f) => [f.dst, f.error])).toEqual([
      ['10.1.0.0/24', 'Object "route" is unknown'],
      ['10.2.0.0/24', 'Object "route" is unknown'],
    ]);
    runner.respond = () => ({});
    expect((await table.flush()).lines).toBe(2);
  });

  test.each([
    [{ dst: '10.1.0.1/24', type: 'blackhole' }, "'10.1.0.1/24' has host bits set beyond /24"],
    [{ dst: '10.1.0.0/33', type: 'blackhole' }, 'invalid prefix length (0-32)'],
    [{ dst: 'ten', type: 'blackhole' }, "'ten' is not an IP prefix"],
    [{ dst: '10.1.0.0/24', type: 'unicast', via: '2001:db8::1' }, 'gateway 2001:db8::1 is not IPv4'],
    [{ dst: '10.1.0.0/24', type: 'unicast', via: '10.0.0.1', onlink: true }, 'onlink needs a device'],
    [{ dst: '2001:db8::/64', type: 'unicast', via: 'fe80::1' }, 'link-local gateway fe80::1 needs a device'],
    [{ dst: '10.1.0.0/24', type: 'link', dev: 'bad name' }, "'bad name' is not a valid device name"],
    [{ dst: '10.1.0.0/24', type: 'blackhole', metric: -1 }, 'metric -1 is not an integer'],
    [{ dst: '10.1.0.0/24', type: 'blackhole', mtu: 9 }, 'mtu 9 is not an integer in 68-65535'],
  ] as const)('rejects %j, changing nothing', async (route, message) => {
    const runner = new RecordingRunner();
    const table = new RouteTable({ runner, proto: 196 });
    expect(() => table.set(route)).toThrow(message);
    expect(await table.flush()).toEqual({ lines: 0, failures: [] });
    expect(table.routes().size).toBe(0);
  });

  test('rejects a proto the kernel owns', () => {
    expect(() => new RouteTable({ runner: new RecordingRunner(), proto: 4 })).toThrow('5-255');
  });
});

describe('parsePrefix', () => {
  test.each([
    ['2001:DB8:0:0:0:0:0:0/32', '2001:db8::/32'],
    ['2001:db8:0:1:0:0:1:0/128', '2001:db8:0:1::1:0/128'],
    ['::/0', '::/0'],
    ['192.0.2.7', '192.0.2.7/32'],
  ])('%s is %s', (input, text) => {
    expect(parsePrefix(input, 'test').text).toBe(text);
  });
});
