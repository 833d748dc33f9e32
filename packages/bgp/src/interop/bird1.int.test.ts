// Interop with BIRD 1.6 (the base of Calico's BIRD fork): eBGP and iBGP over IPv4.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bird1Dir, startBird1 } from '@margay/anchors';
import { requireRoot } from '@margay/testkit';
import { pairAndExchange, Started } from './exchange.fixture';

jest.setTimeout(30_000);

const started = new Started();

beforeAll(() => {
  requireRoot('BIRD 1.6 interop');
  if (!existsSync(join(bird1Dir(), 'bird')))
    throw new Error(`BIRD 1.6 is missing from ${bird1Dir()}: run scripts/setup-bird1`);
});

afterEach(() => started.stopAll());

test('eBGP over IPv4', async () => {
  await pairAndExchange(started, startBird1, { anchorAs: 65001, n: 61 });
});

test('iBGP over IPv4', async () => {
  const { anchor: bird } = await pairAndExchange(started, startBird1, { anchorAs: 65000, n: 62 });
  expect(await bird.waitForRoute('10.62.2.0/24')).toMatchObject({ localPref: 100 });
});
