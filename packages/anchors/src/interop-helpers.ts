import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from '@margay/testkit';
import type { RunningDaemon } from './daemon';
import { loopbackEndpoint } from './endpoint';
import type { DaemonSpec } from './spec';

// Shared by the *.int.test.ts files: two specs that peer with each other, and leftover checks.

export interface PairOptions {
  asNumbers?: [number, number];
  ipv6?: boolean;
}

/** Specs for daemons A and B peering with each other on fresh loopback endpoints, nothing originated yet. */
export async function peeringSpecs(options: PairOptions = {}): Promise<[DaemonSpec, DaemonSpec]> {
  const [asA, asB] = options.asNumbers ?? [65001, 65002];
  const [a, b] = options.ipv6
    ? [
        { address: '::1', port: await freePort('::1') },
        { address: '::1', port: await freePort('::1') },
      ]
    : [await loopbackEndpoint(), await loopbackEndpoint()];
  return [
    {
      routerId: '10.255.0.1',
      asNumber: asA,
      listen: a,
      peers: [{ address: b.address, port: b.port, asNumber: asB }],
    },
    {
      routerId: '10.255.0.2',
      asNumber: asB,
      listen: b,
      peers: [{ address: a.address, port: a.port, asNumber: asA }],
    },
  ];
}

/** Stops every daemon, then checks that no process of theirs and none of their dirs is left. */
export async function stopAll(daemons: RunningDaemon[]): Promise<void> {
  const seen = daemons.map((daemon) => ({ name: daemon.name, pid: daemon.pid, dir: daemon.dir }));
  await Promise.all(daemons.map((daemon) => daemon.stop()));
  for (const { name, pid, dir } of seen) {
    const left = [pid > 0 ? pgrep('-g', String(pid)) : '', pgrep('-f', dir)].filter(Boolean).join(' ');
    if (left) throw new Error(`${name} left processes behind: ${left}`);
    if (existsSync(dir)) throw new Error(`${name} left its dir behind: ${dir}`);
  }
}

function pgrep(...args: string[]): string {
  try {
    return execFileSync('pgrep', args, { encoding: 'utf8' }).trim();
  } catch {
    return ''; // pgrep exits 1 when nothing matches
  }
}
