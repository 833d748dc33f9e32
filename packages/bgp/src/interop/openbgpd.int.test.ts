// Interop with OpenBGPD: eBGP and iBGP over IPv4 and IPv6.

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

test('eBGP over IPv6 on ::1', async () => {
  await pairAndExchange(started, startOpenbgpd, { anchorAs: 65001, ipv6: true, n: 53 });
});

test('iBGP over IPv6 on ::1: empty AS path, LOCAL_PREF carried', async () => {
  const { anchor: openbgpd } = await pairAndExchange(started, startOpenbgpd, {
    anchorAs: 65000,
    ipv6: true,
    n: 54,
  });
  expect(await openbgpd.waitForRoute('2001:db8:542::/48')).toMatchObject({ localPref: 100 });
});
