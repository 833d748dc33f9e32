// IPv6 eBGP across a real link, the way nodes peer in a cluster: margay-bgpd on one end of a veth,
// the anchor (BIRD 2, BIRD 1.6's bird6) in a network namespace on the other, a single-hop session
// between global addresses. On such a session BIRD puts its link-local address after the global
// one in MP_REACH_NLRI (a 32-octet next hop, RFC 2545 §3); margay must take the route with the
// global next hop, and BIRD must accept margay's 16-octet next hop on the shared subnet.
// Passed on unchanged to an iBGP peer elsewhere (FRR), the next hop loses its link-local part.

import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  bird1Dir,
  type DaemonSpec,
  type RunningDaemon,
  startBird1,
  startBird2,
  startFrr,
} from '@margay/anchors';
import { freePort, requireCommand, requireRoot, waitFor } from '@margay/testkit';
import { exchangeRoutes, Started } from './exchange.fixture';
import { Margay, neighbour } from './margay.fixture';

jest.setTimeout(60_000);

const run = promisify(execFile);
const started = new Started();

/** A namespace joined to ours by a veth pair, with a fresh /64 of 2001:db8::/32 on the link. */
class Link {
  readonly subnet = `2001:db8:${randomInt(0x100, 0xffff).toString(16)}:${randomInt(1, 0xffff).toString(16)}`;
  readonly ours = `${this.subnet}::1`;
  readonly theirs = `${this.subnet}::2`;
  private readonly tag = randomBytes(4).toString('hex');
  readonly netns = `m6l-${this.tag}`;
  readonly ourEnd = `m6a${this.tag}`;
  private readonly theirEnd = `m6b${this.tag}`;

  static async create(): Promise<Link> {
    const link = new Link();
    try {
      await link.setUp();
      return link;
    } catch (error) {
      await link.stop();
      throw error;
    }
  }

  private async setUp(): Promise<void> {
    await run('ip', ['netns', 'add', this.netns]);
    await this.inNetns('ip', 'link', 'set', 'lo', 'up');
    await run('ip', ['link', 'add', this.ourEnd, 'type', 'veth', 'peer', 'name', this.theirEnd]);
    await run('ip', ['link', 'set', this.theirEnd, 'netns', this.netns]);
    // No duplicate address detection: the addresses (link-local ones too) are usable at once.
    await run('sysctl', ['-qw', `net.ipv6.conf.${this.ourEnd}.accept_dad=0`]);
    await this.inNetns('sysctl', '-qw', `net.ipv6.conf.${this.theirEnd}.accept_dad=0`);
    await run('ip', ['addr', 'add', `${this.ours}/64`, 'dev', this.ourEnd, 'nodad']);
    await this.inNetns('ip', 'addr', 'add', `${this.theirs}/64`, 'dev', this.theirEnd, 'nodad');
    await run('ip', ['link', 'set', this.ourEnd, 'up']);
    await this.inNetns('ip', 'link', 'set', this.theirEnd, 'up');
  }

  /** The anchor's link-local address, once the kernel has made it. */
  async theirLinkLocal(): Promise<string | undefined> {
    const { stdout } = await this.inNetns(
      'ip',
      '-6',
      '-o',
      'addr',
      'show',
      'dev',
      this.theirEnd,
      'scope',
      'link',
    );
    return /inet6 (fe80::[0-9a-f:]+)\//.exec(stdout)?.[1];
  }

  inNetns(...command: string[]): Promise<{ stdout: string }> {
    return run('ip', ['netns', 'exec', this.netns, ...command]);
  }

  /** Deleting the namespace deletes its veth end, and with it ours. */
  async stop(): Promise<void> {
    await run('ip', ['netns', 'delete', this.netns]).catch(() => undefined);
    await run('ip', ['link', 'delete', this.ourEnd]).catch(() => undefined);
  }
}

/** A fresh IPv6 address on our `lo` (a ULA /128), removed by stop(). */
async function loopbackAddress(): Promise<{ address: string; stop(): Promise<void> }> {
  const address = `fd00:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::9`;
  await run('ip', ['addr', 'add', `${address}/128`, 'dev', 'lo', 'nodad']);
  return {
    address,
    stop: async () => {
      await run('ip', ['addr', 'del', `${address}/128`, 'dev', 'lo']).catch(() => undefined);
    },
  };
}

beforeAll(() => {
  requireRoot('IPv6 interop across a link');
  requireCommand('bird', 'bird2');
  requireCommand('vtysh', 'frr');
  if (!existsSync(join(bird1Dir(), 'bird6')))
    throw new Error(`BIRD 1.6's bird6 is missing from ${bird1Dir()}: run scripts/setup-bird1`);
});

afterEach(() => started.stopAll());

async function exchangeAcrossLink(
  start: (spec: DaemonSpec, options: { netns: string }) => Promise<RunningDaemon>,
  n: number,
  moreMargayPeers: Record<string, unknown>[] = [],
): Promise<{ link: Link; anchor: RunningDaemon; margay: Margay }> {
  const link = await started.add(Link.create());
  // BIRD picks the link-local address it sends from the interface: it must exist first.
  await waitFor(
    'the link-local address of the anchor end',
    async () => (await link.theirLinkLocal()) !== undefined,
  );
  const anchorAt = { address: link.theirs, port: 179 };
  const ours = { address: link.ours, port: await freePort(link.ours) };
  const prefix = (i: number) => `2001:db8:${n}${i}::/48`;
  const anchor = await started.add(
    start(
      {
        routerId: '10.0.0.1',
        asNumber: 65001,
        listen: anchorAt,
        // Single hop: BIRD sends its own global and link-local address as the next hop.
        peers: [{ address: ours.address, port: ours.port, asNumber: 65000, multihop: false }],
        originate: [prefix(1)],
      },
      { netns: link.netns },
    ),
  );
  const margay = await started.add(
    Margay.start(
      {
        peers: [neighbour(anchorAt, 65001, { families: ['ipv6'] }), ...moreMargayPeers],
        originate: [prefix(2)],
        nextHop: { ipv6: link.ours },
      },
      ours,
    ),
  );
  await exchangeRoutes({
    anchor,
    anchorAt,
    margay,
    configPrefix: prefix(2),
    apiPrefix: prefix(3),
    anchorPrefix: prefix(1),
    pathAtAnchor: [65000],
    pathAtMargay: '65001',
    ourNextHop: link.ours,
    anchorNextHop: link.theirs,
  });
  return { link, anchor, margay };
}

test('BIRD 2 across a veth: single-hop eBGP over IPv6 with a link-local next hop', async () => {
  await exchangeAcrossLink(startBird2, 71);
});

test('BIRD 1.6 (bird6) across a veth: single-hop eBGP over IPv6 with a link-local next hop', async () => {
  await exchangeAcrossLink(startBird1, 72);
});

test("passed on to an iBGP peer off the link, BIRD's route keeps its global next hop but not the link-local", async () => {
  // FRR on an address of our loopback: off the link, reached from ::1.
  const offLink = await started.add(loopbackAddress());
  const frrAt = { address: offLink.address, port: await freePort(offLink.address) };
  const frr = await started.add(
    startFrr({
      routerId: '10.0.0.3',
      asNumber: 65000,
      listen: frrAt,
      peers: [{ address: '::1', asNumber: 65000, passive: true }],
    }),
  );
  const {
    link,
    anchor: bird,
    margay,
  } = await exchangeAcrossLink(startBird2, 73, [
    neighbour(frrAt, 65000, { families: ['ipv6'], localAddress: '::1' }),
  ]);
  // The exchange withdrew BIRD's first route: a new one, with BIRD's own (link-local too) next hop.
  await bird.announce('2001:db8:734::/48');
  await margay.waitForRoute('2001:db8:734::/48');
  // FRR withdraws a route whose link-local next hop is not on a link it shares with the sender.
  const route = await frr.waitForRoute('2001:db8:734::/48');
  expect(route).toMatchObject({ nextHop: link.theirs, asPath: [65001] });
  const { stdout } = await run('vtysh', [
    '--vty_socket',
    frr.dir,
    '-c',
    'show bgp ipv6 unicast 2001:db8:734::/48 json',
  ]);
  const paths = (JSON.parse(stdout) as { paths?: { nexthops?: { ip: string; scope?: string }[] }[] }).paths;
  expect(paths?.flatMap((path) => path.nexthops ?? [])).toEqual([
    expect.objectContaining({ ip: link.theirs, scope: 'global' }),
  ]);
});
