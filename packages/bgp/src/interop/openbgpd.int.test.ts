// Interop with OpenBGPD: eBGP and iBGP over IPv4.

import { startOpenbgpd } from '@margay/anchors';
import { requireCommand, requireRoot } from '@margay/testkit';
import { pairAndExchange, Started } from './exchange.fixture';

jest.setTimeout(30_000);

const started = new Started();

beforeAll(() => {
  requireRoot('OpenBGPD interop');
  requireCommand('bgpctl', 'openbgpd');
});

afterEach(() => started.stopAll());

test('eBGP over IPv4', async () => {
  await pairAndExchange(started, startOpenbgpd, { anchorAs: 65001, n: 51 });
});

test('iBGP over IPv4', async () => {
  const { anchor: openbgpd } = await pairAndExchange(started, startOpenbgpd, { anchorAs: 65000, n: 52 });
  expect(await openbgpd.waitForRoute('10.52.2.0/24')).toMatchObject({ localPref: 100 });
});
