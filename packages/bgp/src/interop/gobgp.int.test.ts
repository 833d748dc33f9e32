// Interop with GoBGP: eBGP and iBGP over IPv4, eBGP over IPv6, and margayctl reporting the session.

import { startGobgp } from '@margay/anchors';
import { requireCommand, requireRoot } from '@margay/testkit';
import { pairAndExchange, Started } from './exchange.fixture';

jest.setTimeout(30_000);

const started = new Started();

beforeAll(() => {
  requireRoot('GoBGP interop');
  requireCommand('gobgpd', 'gobgpd');
});

afterEach(() => started.stopAll());

test('eBGP over IPv4, and margayctl shows the session Established', async () => {
  const { anchorAt, margay } = await pairAndExchange(started, startGobgp, { anchorAs: 65001, n: 31 });
  expect(await margay.margayctlPeerRow(anchorAt.address)).toMatch(/eBGP\s+up\s+\S+\s+Established/);
});

test('iBGP over IPv4', async () => {
  const { anchor: gobgp } = await pairAndExchange(started, startGobgp, { anchorAs: 65000, n: 32 });
  expect(await gobgp.waitForRoute('10.32.2.0/24')).toMatchObject({ localPref: 100 });
});

test('eBGP over IPv6 on ::1', async () => {
  await pairAndExchange(started, startGobgp, { anchorAs: 65001, ipv6: true, n: 33 });
});
