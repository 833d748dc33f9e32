// The node's IPv4 BGP address, found the ways Calico's IP_AUTODETECTION_METHOD offers. The result
// is in CIDR form: its prefix length is the node's subnet, which CrossSubnet decisions rely on.

import { BlockList, isIPv4 } from 'node:net';
import type { CommandRunner } from '@margay/dataplane';

export type AutodetectMethod =
  | { readonly kind: 'first-found' }
  | { readonly kind: 'interface'; readonly pattern: RegExp }
  | { readonly kind: 'can-reach'; readonly destination: string }
  | { readonly kind: 'cidr'; readonly cidrs: readonly string[] }
  | { readonly kind: 'explicit'; readonly address: string; readonly prefixLength: number | undefined };

/** Interfaces first-found and cidr= never pick: containers, our own devices, loopback, kube-proxy's dummy. */
const SKIPPED_INTERFACES = /^(docker|veth|cali|mg|tunl|lo$|kube-ipvs)/;

interface InterfaceAddress {
  readonly ifname: string;
  readonly address: string;
  readonly prefixLength: number;
}

/** Parses `first-found`, `interface=REGEX`, `can-reach=DEST`, `cidr=CIDR[,CIDR]` or `a.b.c.d[/nn]`. */
export function parseAutodetectMethod(text: string): AutodetectMethod {
  const where = `address autodetection method ${JSON.stringify(text)}`;
  const [name = '', ...rest] = text.split('=');
  const argument = rest.join('=');
  if (text === 'first-found') return { kind: 'first-found' };
  if (name === 'interface') {
    try {
      // Anchored, so that `interface=eth1` means eth1 and not veth1a.
      return { kind: 'interface', pattern: new RegExp(`^(?:${argument})$`) };
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`);
    }
  }
  if (name === 'can-reach') {
    if (!isIPv4(argument)) throw new Error(`${where}: can-reach needs an IPv4 address`);
    return { kind: 'can-reach', destination: argument };
  }
  if (name === 'cidr') {
    const cidrs = argument.split(',');
    const bad = cidrs.find((c) => parseIpv4Cidr(c) === undefined);
    if (bad !== undefined) throw new Error(`${where}: ${JSON.stringify(bad)} is not an IPv4 CIDR`);
    return { kind: 'cidr', cidrs };
  }
  const [address = '', prefix] = text.split('/');
  if (rest.length === 0 && isIPv4(address)) {
    const explicit = prefix === undefined ? undefined : parseIpv4Cidr(text);
    if (prefix !== undefined && explicit === undefined)
      throw new Error(`${where}: the prefix length must be 0-32`);
    return { kind: 'explicit', address, prefixLength: explicit?.prefixLength };
  }
  throw new Error(
    `${where}: use first-found, interface=REGEX, can-reach=IP, cidr=CIDR[,CIDR] or an IPv4 address`,
  );
}

/** Finds this host's address by `method` (see parseAutodetectMethod); returns it as `a.b.c.d/nn`. */
export async function autodetectIpv4(method: AutodetectMethod, runner: CommandRunner): Promise<string> {
  const addresses = await interfaceAddresses(runner);
  const found = await pick(method, addresses, runner);
  return `${found.address}/${found.prefixLength}`;
}

async function pick(
  method: AutodetectMethod,
  addresses: readonly InterfaceAddress[],
  runner: CommandRunner,
): Promise<InterfaceAddress> {
  const first = (what: string, test: (a: InterfaceAddress) => boolean) => {
    const found = addresses.find(test);
    if (found) return found;
    const seen = addresses.map((a) => `${a.ifname} ${a.address}/${a.prefixLength}`).join(', ') || 'none';
    throw new Error(`address autodetection (${what}): no match among the global IPv4 addresses (${seen})`);
  };
  switch (method.kind) {
    case 'first-found':
      return first('first-found', (a) => !SKIPPED_INTERFACES.test(a.ifname));
    case 'interface':
      return first(`interface=${method.pattern.source}`, (a) => method.pattern.test(a.ifname));
    case 'cidr': {
      const ranges = method.cidrs.map((c) => parseIpv4Cidr(c)!);
      const inRanges = (a: InterfaceAddress) => ranges.some((r) => r.list.check(a.address, 'ipv4'));
      return first(
        `cidr=${method.cidrs.join(',')}`,
        (a) => !SKIPPED_INTERFACES.test(a.ifname) && inRanges(a),
      );
    }
    case 'can-reach': {
      const source = await routeSource(method.destination, runner);
      return first(`can-reach=${method.destination} via source ${source}`, (a) => a.address === source);
    }
    case 'explicit': {
      const { address, prefixLength } = method;
      if (prefixLength !== undefined) return { ifname: '', address, prefixLength };
      // Without a prefix length, the interface that holds the address tells the subnet.
      return first(`explicit ${address}`, (a) => a.address === address);
    }
  }
}

/** Global-scope IPv4 addresses of every interface, in interface order. */
async function interfaceAddresses(runner: CommandRunner): Promise<InterfaceAddress[]> {
  const links = (await runJson(runner, ['ip', '-j', '-4', 'addr', 'show'])) as {
    ifname: string;
    addr_info?: { family: string; local: string; prefixlen: number; scope: string }[];
  }[];
  return links.flatMap((link) =>
    (link.addr_info ?? [])
      .filter((a) => a.family === 'inet' && a.scope === 'global')
      .map((a) => ({ ifname: link.ifname, address: a.local, prefixLength: a.prefixlen })),
  );
}

/** The source address the kernel would use towards `destination`. */
async function routeSource(destination: string, runner: CommandRunner): Promise<string> {
  const routes = (await runJson(runner, ['ip', '-j', 'route', 'get', destination])) as { prefsrc?: string }[];
  const source = routes[0]?.prefsrc;
  if (source === undefined)
    throw new Error(`address autodetection (can-reach=${destination}): no route names a source`);
  return source;
}

async function runJson(runner: CommandRunner, argv: readonly string[]): Promise<unknown> {
  const result = await runner.run(argv);
  if (result.code !== 0)
    throw new Error(`${argv.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  try {
    return JSON.parse(result.stdout);
  } catch (error) {
    throw new Error(`${argv.join(' ')} printed no JSON: ${(error as Error).message}`);
  }
}

function parseIpv4Cidr(text: string): { prefixLength: number; list: BlockList } | undefined {
  const [address = '', prefix = '', extra] = text.split('/');
  if (!isIPv4(address) || extra !== undefined || !/^\d{1,2}$/.test(prefix) || Number(prefix) > 32) {
    return undefined;
  }
  const list = new BlockList();
  list.addSubnet(address, Number(prefix), 'ipv4');
  return { prefixLength: Number(prefix), list };
}
