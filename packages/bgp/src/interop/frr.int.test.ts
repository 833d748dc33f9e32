// Interop with FRR's bgpd: eBGP and iBGP over IPv4 and IPv6, and margayctl reporting the session.

import { startFrr } from '@margay/anchors';
import { requireCommand, requireRoot } from '@margay/testkit';
import { pairAndExchange, Started } from './exchange.fixture';

jest.setTimeout(30_000);

const started = new Started();

beforeAll(() => {
  requireRoot('FRR interop');
  requireCommand('vtysh', 'frr');
});

afterEach(() => started.stopAll());

test('eBGP over IPv4, and margayctl shows the session Established', async () => {
  const { anchorAt, margay } = await pairAndExchange(started, startFrr, { anchorAs: 65001, n: 41 });
  expect(await margay.margayctlPeerRow(anchorAt.address)).toMatch(/eBGP\s+up\s+\S+\s+Established/);
});

test('iBGP over IPv4', async () => {
  const { anchor: frr } = await pairAndExchange(started, startFrr, { anchorAs: 65000, n: 42 });
  expect(await frr.waitForRoute('10.42.2.0/24')).toMatchObject({ localPref: 100 });
});

test('eBGP over IPv6 on ::1', async () => {
  await pairAndExchange(started, startFrr, { anchorAs: 65001, ipv6: true, n: 43 });
});

test('iBGP over IPv6 on ::1: empty AS path, LOCAL_PREF carried', async () => {
  const { anchor: frr } = await pairAndExchange(started, startFrr, { anchorAs: 65000, ipv6: true, n: 44 });
  expect(await frr.waitForRoute('2001:db8:442::/48')).toMatchObject({ localPref: 100 });
});
