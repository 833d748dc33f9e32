// Interop with BIRD 1.6 (the base of Calico's BIRD fork): eBGP and iBGP over IPv4, and over IPv6 with
// bird6, the separate daemon BIRD 1.6 runs for IPv6 (see ipv6-link.int.test.ts for a link-local next hop).

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

test('eBGP over IPv6 on ::1 (bird6)', async () => {
  await pairAndExchange(started, startBird1, { anchorAs: 65001, ipv6: true, n: 63 });
});

test('iBGP over IPv6 on ::1 (bird6): empty AS path, LOCAL_PREF carried', async () => {
  const { anchor: bird } = await pairAndExchange(started, startBird1, { anchorAs: 65000, ipv6: true, n: 64 });
  expect(await bird.waitForRoute('2001:db8:642::/48')).toMatchObject({ localPref: 100 });
});
