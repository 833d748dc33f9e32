// Which interfaces can carry a workload route: the kernel refuses a link route through an
// interface that is missing or administratively down, and removes the routes of one that goes.

import type { CommandRunner } from '@margay/dataplane';

interface ShownLink {
  readonly ifname?: string;
  readonly flags?: readonly string[];
}

/** Names of the interfaces that exist and are up, from `ip -j link show`. */
export async function readUpInterfaces(runner: CommandRunner): Promise<Set<string>> {
  const argv = ['ip', '-j', 'link', 'show'];
  const result = await runner.run(argv);
  if (result.code !== 0)
    throw new Error(`${argv.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return parseUpInterfaces(result.stdout);
}

export function parseUpInterfaces(json: string): Set<string> {
  const links = JSON.parse(json) as ShownLink[];
  // `ip` prints "name@peer" only in its text form; the JSON name is the bare one.
  return new Set(
    links.flatMap((link) => (link.ifname !== undefined && link.flags?.includes('UP') ? [link.ifname] : [])),
  );
}
