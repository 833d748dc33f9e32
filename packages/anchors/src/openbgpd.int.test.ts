import { requireCommand, requireRoot } from '@margay/testkit';
import { startBird2 } from './bird';
import type { RunningDaemon } from './daemon';
import { peeringSpecs, stopAll } from './interop-helpers';
import { startOpenbgpd } from './openbgpd';

const started: RunningDaemon[] = [];

beforeAll(() => {
  requireRoot('OpenBGPD interop');
  requireCommand('bird', 'bird2');
  requireCommand('bgpctl', 'openbgpd');
});

afterAll(() => stopAll(started));

test('OpenBGPD and BIRD 2 exchange prefixes over eBGP, and OpenBGPD reloads new networks', async () => {
  const [openbgpdSpec, birdSpec] = await peeringSpecs({ asNumbers: [65004, 65001] });
  openbgpdSpec.originate = [{ prefix: '10.205.1.0/24', nextHop: '198.51.100.4' }];
  birdSpec.originate = [{ prefix: '10.205.9.0/24', nextHop: '198.51.100.1' }];
  const openbgpd = await startOpenbgpd(openbgpdSpec);
  started.push(openbgpd);
  const bird = await startBird2(birdSpec);
  started.push(bird);

  expect(await openbgpd.waitForPeer(birdSpec.listen.address)).toMatchObject({ state: 'Established' });
  expect(await bird.waitForRoute('10.205.1.0/24')).toMatchObject({
    nextHop: '198.51.100.4',
    asPath: [65004],
  });
  expect(await openbgpd.waitForRoute('10.205.9.0/24')).toMatchObject({
    nextHop: '198.51.100.1',
    asPath: [65001],
    localPref: 100,
  });
  expect((await openbgpd.routes()).map((r) => r.prefix)).toEqual(['10.205.9.0/24']);

  await openbgpd.announce({ prefix: '10.205.2.0/24', nextHop: '198.51.100.4' });
  await bird.waitForRoute('10.205.2.0/24');
  await openbgpd.withdraw('10.205.1.0/24');
  await bird.waitFor(
    async () => !(await bird.routes()).some((r) => r.prefix === '10.205.1.0/24'),
    'withdrawal',
  );
  // The engines OpenBGPD forks count too.
  expect(openbgpd.rssBytes()).toBeGreaterThan(1024 * 1024);
});
