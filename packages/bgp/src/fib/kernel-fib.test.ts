import { RecordingRunner } from '@margay/dataplane';
import { silentLogger } from '@margay/log';
import { Afi, Origin } from '../packet/constants';
import { prefixList } from '../packet/prefixes';
import { KernelFib } from './kernel-fib';
import { fibFeed, PEER_A, PEER_B } from './rib.fixture';

const SHOW_AND_BATCH = (runner: RecordingRunner) => runner.commands.map((c) => c.argv.join(' '));
const own = 'proto 77 table 254';

/** Resolves once every pending timer and write has run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('KernelFib', () => {
  test('the first write reconciles; later bursts are flushed as one batch each', async () => {
    const runner = new RecordingRunner();
    const fib = new KernelFib({ runner });
    const feed = fibFeed();
    feed.announce(PEER_A, ['10.1.0.0/24', '10.2.0.0/24'], '10.99.0.2');
    feed.announce(PEER_A, ['2001:db8:1::/64'], '2001:db8:99::2');
    for (const batch of feed.batches.splice(0)) fib.apply(batch);
    await settle();
    expect(SHOW_AND_BATCH(runner)).toEqual([
      'ip -j -4 route show table 254 proto 77',
      'ip -j -6 route show table 254 proto 77',
      'ip -force -batch -',
    ]);
    expect(runner.batches()[0]).toBe(
      [
        `route replace 10.1.0.0/24 via 10.99.0.2 ${own} metric 0`,
        `route replace 10.2.0.0/24 via 10.99.0.2 ${own} metric 0`,
        `route replace 2001:db8:1::/64 via 2001:db8:99::2 ${own} metric 1024`,
        '',
      ].join('\n'),
    );

    // A withdrawal and a new prefix from the other peer.
    feed.withdraw(PEER_A, ['10.2.0.0/24']);
    feed.announce(PEER_B, ['10.3.0.0/24'], '10.99.0.3');
    for (const batch of feed.batches.splice(0)) fib.apply(batch);
    await settle();
    expect(runner.batches()[1]).toBe(
      [
        `route del 10.2.0.0/24 ${own} metric 0`,
        `route replace 10.3.0.0/24 via 10.99.0.3 ${own} metric 0`,
        '',
      ].join('\n'),
    );
    await fib.close(true);
    expect(runner.batches()).toHaveLength(2);
  });

  test('locally originated best paths are not installed, and replace a learned one', async () => {
    const runner = new RecordingRunner();
    const fib = new KernelFib({ runner, proto: 201, table: 100, device: 'tunl0', onlink: true, metric: 20 });
    const feed = fibFeed();
    feed.announce(PEER_A, ['10.1.0.0/24'], '10.99.0.2');
    fib.apply(feed.batches.splice(0).flat());
    await settle();
    feed.rib.originate(prefixList(Afi.Ipv4, ['10.1.0.0/24', '10.9.0.0/24']), { origin: Origin.Igp });
    feed.rib.flush();
    fib.apply(feed.batches.splice(0).flat());
    await settle();
    expect(runner.batches()).toEqual([
      'route replace 10.1.0.0/24 via 10.99.0.2 dev tunl0 onlink proto 201 table 100 metric 20\n',
      'route del 10.1.0.0/24 proto 201 table 100 metric 20\n',
    ]);
    await fib.close(true);
  });

  test('close(false) removes everything of its proto; apply after close is an error', async () => {
    const runner = new RecordingRunner(({ argv }) =>
      argv.includes('show') && argv.includes('-4')
        ? { stdout: JSON.stringify([{ dst: '10.1.0.0/24', gateway: '10.99.0.2', dev: 'veth0', flags: [] }]) }
        : {},
    );
    const fib = new KernelFib({ runner });
    await fib.close(false);
    expect(runner.batches()).toEqual([`route del 10.1.0.0/24 ${own} metric 0\n`]);
    expect(() => fib.apply([])).toThrow('KernelFib is closed');
  });

  test("keepStaleUntilSwept: a previous run's routes stay until sweepStale(), which removes those not sent again", async () => {
    const leftovers = [
      { dst: '10.1.0.0/24', gateway: '10.99.0.2', dev: 'veth0', flags: [] },
      { dst: '10.2.0.0/24', gateway: '10.99.0.2', dev: 'veth0', flags: [] },
    ];
    const runner = new RecordingRunner(({ argv }) =>
      argv.includes('show') && argv.includes('-4') ? { stdout: JSON.stringify(leftovers) } : {},
    );
    const fib = new KernelFib({ runner, keepStaleUntilSwept: true });
    const feed = fibFeed();
    feed.announce(PEER_A, ['10.1.0.0/24', '10.3.0.0/24'], '10.99.0.2');
    fib.apply(feed.batches.splice(0).flat());
    await fib.reconcile(); // a periodic resync before the sweep must not be the sweep
    await settle();
    // Written without reading the kernel: nothing is deleted yet.
    expect(SHOW_AND_BATCH(runner).filter((c) => c.includes('show'))).toEqual([]);
    expect(runner.batches()).toHaveLength(1);
    expect(runner.batches()[0]!.trim().split('\n').sort()).toEqual([
      `route replace 10.1.0.0/24 via 10.99.0.2 ${own} metric 0`,
      `route replace 10.3.0.0/24 via 10.99.0.2 ${own} metric 0`,
    ]);

    leftovers.push({ dst: '10.3.0.0/24', gateway: '10.99.0.2', dev: 'veth0', flags: [] }); // as written
    await fib.sweepStale();
    expect(runner.batches()[1]).toBe(`route del 10.2.0.0/24 ${own} metric 0\n`);
    await fib.sweepStale();
    expect(runner.batches()).toHaveLength(2);
    await fib.close(true);
  });

  test('refused routes are logged with their line, and do not stop the others', async () => {
    const warnings: unknown[] = [];
    const logger = {
      ...silentLogger,
      warn: (message: string, fields?: object) => warnings.push({ message, ...fields }),
    };
    const runner = new RecordingRunner(({ argv }) =>
      argv.includes('-batch')
        ? { code: 1, stderr: 'Error: Nexthop has invalid gateway.\nCommand failed -:1\n' }
        : {},
    );
    const fib = new KernelFib({ runner, logger });
    const feed = fibFeed();
    feed.announce(PEER_A, ['10.1.0.0/24', '10.2.0.0/24'], '10.99.0.2');
    fib.apply(feed.batches.splice(0).flat());
    await settle();
    expect(warnings).toEqual([
      {
        message: 'kernel refused a route',
        line: `route replace 10.1.0.0/24 via 10.99.0.2 ${own} metric 0`,
        error: 'Error: Nexthop has invalid gateway.',
      },
    ]);
    await fib.close(true);
    // The refused route was retried on close.
    expect(runner.batches()[1]).toBe(`route replace 10.1.0.0/24 via 10.99.0.2 ${own} metric 0\n`);
  });

  test('onlink without a device is rejected', () => {
    expect(() => new KernelFib({ runner: new RecordingRunner(), onlink: true })).toThrow(
      'onlink needs a device',
    );
  });
});
