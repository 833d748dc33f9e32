import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { requireCommand, requireRoot } from '@margay/testkit';
import { startBird2 } from './bird';
import type { RunningDaemon } from './daemon';
import { startGobgp } from './gobgp';
import { peeringSpecs, stopAll } from './interop-helpers';

const started: RunningDaemon[] = [];

beforeAll(() => {
  requireRoot('BIRD/GoBGP interop');
  requireCommand('bird', 'bird2');
  requireCommand('gobgpd', 'gobgpd');
});

afterAll(() => stopAll(started));

test('BIRD 2 and GoBGP establish an IPv4 eBGP session and learn, change and re-learn each other’s prefixes', async () => {
  const [birdSpec, gobgpSpec] = await peeringSpecs();
  // GoBGP treats a loopback NEXT_HOP as withdrawn, so routes carry documentation-range next hops.
  birdSpec.originate = [{ prefix: '10.201.1.0/24', nextHop: '198.51.100.1' }];
  gobgpSpec.originate = [{ prefix: '10.201.2.0/24', nextHop: '198.51.100.2' }];
  const bird = await startBird2(birdSpec);
  started.push(bird);
  const gobgp = await startGobgp(gobgpSpec);
  started.push(gobgp);

  await bird.waitForPeer(gobgpSpec.listen.address);
  await gobgp.waitForPeer(birdSpec.listen.address);
  expect(await gobgp.waitForRoute('10.201.1.0/24')).toMatchObject({
    nextHop: '198.51.100.1',
    asPath: [65001],
  });
  expect(await bird.waitForRoute('10.201.2.0/24')).toMatchObject({
    nextHop: '198.51.100.2',
    asPath: [65002],
  });
  expect((await bird.routes()).map((r) => r.prefix)).toEqual(['10.201.2.0/24']); // own routes are not listed

  await gobgp.announce({ prefix: '10.201.3.0/24', nextHop: '198.51.100.2' });
  await bird.waitForRoute('10.201.3.0/24');
  await gobgp.withdraw('10.201.2.0/24');
  await bird.waitFor(
    async () => !(await bird.routes()).some((r) => r.prefix === '10.201.2.0/24'),
    'withdrawal',
  );
  await bird.announce({ prefix: '10.201.4.0/24', nextHop: '198.51.100.1' });
  await gobgp.waitForRoute('10.201.4.0/24');

  // After a restart GoBGP has its run-time routes back and BIRD re-learns them.
  const oldPid = gobgp.pid;
  await gobgp.restart();
  expect(gobgp.pid).not.toBe(oldPid);
  await bird.waitForPeer(gobgpSpec.listen.address);
  await bird.waitForRoute('10.201.3.0/24');
  expect(bird.rssBytes()).toBeGreaterThan(1024 * 1024);
  expect(gobgp.rssBytes()).toBeGreaterThan(1024 * 1024);
});

test('BIRD 2 and GoBGP exchange IPv6 prefixes over an IPv6 session', async () => {
  const [birdSpec, gobgpSpec] = await peeringSpecs({ ipv6: true });
  birdSpec.originate = [{ prefix: '2001:db8:201::/48', nextHop: '2001:db8::1' }];
  gobgpSpec.originate = [{ prefix: '2001:db8:202::/48', nextHop: '2001:db8::2' }];
  const bird = await startBird2(birdSpec);
  started.push(bird);
  const gobgp = await startGobgp(gobgpSpec);
  started.push(gobgp);

  await bird.waitForPeer('::1');
  expect(await gobgp.waitForRoute('2001:db8:201::/48')).toMatchObject({
    nextHop: '2001:db8::1',
    asPath: [65001],
  });
  expect(await bird.waitForRoute('2001:db8:202::/48')).toMatchObject({
    nextHop: '2001:db8::2',
    asPath: [65002],
  });
  expect(await gobgp.peers()).toEqual([{ address: '::1', state: 'Established' }]);
});

test('inside a network namespace both run on port 179 and are controlled from outside it', async () => {
  const netns = `margay-anchors-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', netns]);
  try {
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const bird = await startBird2(
      {
        routerId: '10.255.2.1',
        asNumber: 65001,
        listen: { address: '127.0.0.2', port: 179 },
        peers: [{ address: '127.0.0.3', asNumber: 65002 }],
        originate: [{ prefix: '10.208.1.0/24', nextHop: '198.51.100.1' }],
      },
      { netns },
    );
    started.push(bird);
    const gobgp = await startGobgp(
      {
        routerId: '10.255.2.2',
        asNumber: 65002,
        listen: { address: '127.0.0.3', port: 179 },
        peers: [{ address: '127.0.0.2', asNumber: 65001 }],
      },
      { netns },
    );
    started.push(gobgp);
    expect(await gobgp.waitForRoute('10.208.1.0/24')).toMatchObject({ asPath: [65001] });
    // The daemon's own network namespace, not ours.
    expect(readlinkSync(`/proc/${bird.pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
    await stopAll([bird, gobgp]);
  } finally {
    execFileSync('ip', ['netns', 'del', netns]);
  }
});
