import { NetworkNamespace } from '@margay/dataplane';
import { requireCommand, requireRoot } from '@margay/testkit';
import { KernelFib } from './kernel-fib';
import { fibFeed, PEER_A, PEER_B } from './rib.fixture';

const ours = async (netns: NetworkNamespace): Promise<string> =>
  (await netns.ip('-4', 'route', 'show', 'proto', '77')) +
  (await netns.ip('-6', 'route', 'show', 'proto', '77'));

/** Lets the fib's flush timer fire and its write finish. */
const settle = (fib: KernelFib) =>
  new Promise((resolve) => setTimeout(resolve, 0)).then(() => fib.reconcile());

describe('KernelFib on a real kernel', () => {
  let netns: NetworkNamespace | undefined;

  beforeAll(async () => {
    requireRoot('KernelFib integration tests');
    requireCommand('ip', 'iproute2');
    netns = await NetworkNamespace.create('mg-fib');
    await netns.ip('link', 'add', 'mg-a', 'type', 'veth', 'peer', 'name', 'mg-b');
    await netns.ip('addr', 'add', '10.99.0.1/24', 'dev', 'mg-a');
    await netns.ip('addr', 'add', '2001:db8:99::1/64', 'dev', 'mg-a', 'nodad');
    await netns.ip('link', 'set', 'mg-a', 'up');
    await netns.ip('link', 'set', 'mg-b', 'up');
  });

  afterAll(async () => {
    await netns?.delete();
  });

  test('installs best paths, removes withdrawn ones, close(true) keeps and close(false) removes', async () => {
    const ns = netns!;
    const feed = fibFeed();
    const fib = new KernelFib({ runner: ns.runner });
    feed.announce(PEER_A, ['10.1.0.0/24', '10.2.0.0/24'], '10.99.0.2');
    feed.announce(PEER_B, ['10.3.0.0/24'], '10.99.0.3');
    feed.announce(PEER_A, ['2001:db8:1::/64'], '2001:db8:99::2');
    for (const batch of feed.batches.splice(0)) fib.apply(batch);
    await settle(fib);
    expect(await ours(ns)).toBe(
      '10.1.0.0/24 via 10.99.0.2 dev mg-a \n10.2.0.0/24 via 10.99.0.2 dev mg-a \n10.3.0.0/24 via 10.99.0.3 dev mg-a \n' +
        '2001:db8:1::/64 via 2001:db8:99::2 dev mg-a metric 1024 pref medium\n',
    );

    feed.withdraw(PEER_A, ['10.2.0.0/24']);
    for (const batch of feed.batches.splice(0)) fib.apply(batch);
    await settle(fib);
    expect(await ours(ns)).not.toContain('10.2.0.0/24');
    await fib.close(true);
    const kept = await ours(ns);
    expect(kept).toContain('10.1.0.0/24 via 10.99.0.2');

    // A restarted daemon adopts what it still has and cleans up the rest on its first write.
    const successor = new KernelFib({ runner: ns.runner });
    const best = feed.rib.best('10.3.0.0/24')!;
    successor.apply([{ kind: 'added', prefix: best.prefix, best }]);
    await settle(successor);
    expect(await ours(ns)).toBe('10.3.0.0/24 via 10.99.0.3 dev mg-a \n');
    await successor.close(false);
    expect(await ours(ns)).toBe('');
  });
});
