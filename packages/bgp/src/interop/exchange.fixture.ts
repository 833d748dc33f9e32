// The scenario every daemon goes through with margay-bgpd: the session comes up on both sides,
// routes go both ways (ours from the config file and from AddPath), and withdrawals follow.

import { type DaemonSpec, loopbackEndpoint, type RunningDaemon } from '@margay/anchors';
import { type Endpoint, ipv6Endpoint, Margay, neighbour } from './margay.fixture';

export interface Exchange {
  readonly anchor: RunningDaemon;
  /** Where the anchor listens (its address is its neighbour address in margay's config). */
  readonly anchorAt: Endpoint;
  readonly margay: Margay;
  /** Originated by margay's config file (`originate`). */
  readonly configPrefix: string;
  /** Originated through the API (AddPath), later withdrawn (DeletePath). */
  readonly apiPrefix: string;
  /** Originated by the anchor, later withdrawn there. */
  readonly anchorPrefix: string;
  /** Our routes' AS path as the anchor must see it. */
  readonly pathAtAnchor: number[];
  /** The anchor's route's AS path as margay must see it ("65001", "" inside the AS). */
  readonly pathAtMargay: string;
  readonly ourNextHop: string;
  readonly anchorNextHop: string;
}

export async function exchangeRoutes(x: Exchange): Promise<void> {
  const ours = x.margay.listen.address;
  await x.anchor.waitForPeer(ours);
  await x.margay.waitForPeer(x.anchorAt.address);

  expect(await x.margay.client.addPath(x.apiPrefix)).toBe(true);
  for (const prefix of [x.configPrefix, x.apiPrefix]) {
    expect(await x.anchor.waitForRoute(prefix)).toMatchObject({
      asPath: x.pathAtAnchor,
      nextHop: x.ourNextHop,
    });
  }
  expect(await x.margay.waitForRoute(x.anchorPrefix)).toMatchObject({
    best: true,
    asPath: x.pathAtMargay,
    nextHop: x.anchorNextHop,
    fromPeer: x.anchorAt.address,
  });

  expect(await x.margay.client.deletePath(x.apiPrefix)).toBe(true);
  await x.anchor.waitFor(
    async () => !(await x.anchor.routes()).some((r) => r.prefix === x.apiPrefix),
    `${x.apiPrefix} to be withdrawn`,
  );
  expect((await x.anchor.routes()).some((r) => r.prefix === x.configPrefix)).toBe(true);

  await x.anchor.withdraw(x.anchorPrefix);
  await x.margay.waitForNoRoute(x.anchorPrefix);
}

/** What a test started, stopped in reverse order (afterEach) whatever happened. */
export class Started {
  private readonly things: { stop(): Promise<void> }[] = [];

  async add<T extends { stop(): Promise<void> }>(starting: Promise<T>): Promise<T> {
    const thing = await starting;
    this.things.push(thing);
    return thing;
  }

  async stopAll(): Promise<void> {
    for (const thing of this.things.splice(0).reverse()) await thing.stop();
  }
}

export interface PairSpec {
  /** The anchor's AS (65000, margay's AS, makes the session iBGP). */
  readonly anchorAs: number;
  readonly ipv6?: boolean;
  /** Keeps each test's prefixes apart: 10.<n>.x.0/24 or 2001:db8:<n>x::/48. */
  readonly n: number;
}

/** Starts an anchor and margay-bgpd peering with each other and runs exchangeRoutes. */
export async function pairAndExchange(
  started: Started,
  start: (spec: DaemonSpec) => Promise<RunningDaemon>,
  { anchorAs, ipv6 = false, n }: PairSpec,
): Promise<{ anchor: RunningDaemon; anchorAt: Endpoint; margay: Margay }> {
  const endpoint = ipv6 ? ipv6Endpoint : loopbackEndpoint;
  const [anchorAt, ours] = [await endpoint(), await endpoint()];
  const prefix = (i: number) => (ipv6 ? `2001:db8:${n}${i}::/48` : `10.${n}.${i}.0/24`);
  const [anchorNextHop, ourNextHop] = ipv6
    ? ['2001:db8::1', '2001:db8::2']
    : ['198.51.100.1', '198.51.100.2'];
  const anchor = await started.add(
    start({
      routerId: '10.0.0.1',
      asNumber: anchorAs,
      listen: anchorAt,
      peers: [{ address: ours.address, port: ours.port, asNumber: 65000 }],
      originate: [{ prefix: prefix(1), nextHop: anchorNextHop }],
    }),
  );
  const margay = await started.add(
    Margay.start(
      {
        peers: [neighbour(anchorAt, anchorAs, { families: [ipv6 ? 'ipv6' : 'ipv4'] })],
        originate: [prefix(2)],
        nextHop: ipv6 ? { ipv6: ourNextHop } : { ipv4: ourNextHop },
      },
      ours,
    ),
  );
  const ibgp = anchorAs === 65000;
  await exchangeRoutes({
    anchor,
    anchorAt,
    margay,
    configPrefix: prefix(2),
    apiPrefix: prefix(3),
    anchorPrefix: prefix(1),
    pathAtAnchor: ibgp ? [] : [65000],
    pathAtMargay: ibgp ? '' : String(anchorAs),
    ourNextHop,
    anchorNextHop,
  });
  return { anchor, anchorAt, margay };
}
