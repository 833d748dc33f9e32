import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { requireRoot } from '@margay/testkit';
import { bird1Dir, startBird1, startBird2 } from './bird';
import type { RunningDaemon } from './daemon';
import { peeringSpecs, stopAll } from './interop-helpers';

const started: RunningDaemon[] = [];

beforeAll(() => {
  requireRoot('BIRD 1.6 interop');
  if (!existsSync(join(bird1Dir(), 'bird')))
    throw new Error(`BIRD 1.6 is not unpacked in ${bird1Dir()}: run scripts/setup-bird1 (as root)`);
});

afterAll(() => stopAll(started));

test('BIRD 1.6 (passive, like one side of a Calico mesh) and BIRD 2 exchange prefixes', async () => {
  const [bird1Spec, bird2Spec] = await peeringSpecs({ asNumbers: [64512, 64512] });
  bird1Spec.peers[0]!.passive = true;
  bird1Spec.originate = [{ prefix: '10.206.1.0/26', nextHop: '198.51.100.6' }];
  bird2Spec.originate = ['10.206.2.0/26'];
  const bird1 = await startBird1(bird1Spec);
  started.push(bird1);
  const bird2 = await startBird2(bird2Spec);
  started.push(bird2);

  expect(await bird1.waitForPeer(bird2Spec.listen.address)).toMatchObject({ state: 'Established' });
  // iBGP: empty AS path, LOCAL_PREF present, the originator's next hop.
  expect(await bird2.waitForRoute('10.206.1.0/26')).toMatchObject({
    nextHop: '198.51.100.6',
    asPath: [],
    localPref: 100,
  });
  expect(await bird1.waitForRoute('10.206.2.0/26')).toMatchObject({
    nextHop: bird2Spec.listen.address,
    asPath: [],
  });

  await bird1.announce('10.206.3.0/26');
  await bird2.waitForRoute('10.206.3.0/26');
  await bird1.restart();
  await bird2.waitForPeer(bird1Spec.listen.address);
  await bird2.waitForRoute('10.206.3.0/26');
});
