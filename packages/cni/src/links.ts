// A workload's plumbing, Calico style: a veth pair whose pod end holds the pod's /32 and a default
// route via 169.254.1.1, and whose host end answers ARP for that gateway (proxy ARP) and carries
// the host route `<ip>/32 dev mg… scope link`. Everything runs through a CommandRunner: `ip` on the
// host, and `ip` under `nsenter --net=<path>` in the pod (the runtime names the pod by path).

import { type CommandRunner, ROUTE_PROTO } from '@margay/dataplane';

/** The pod's gateway: never assigned anywhere; the host veth answers ARP for it. */
export const GATEWAY = '169.254.1.1';
/** Host veth MAC: never seen on the wire beyond this point-to-point link. */
export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';

export interface WorkloadLink {
  hostVeth: string;
  /** Path of the pod's network namespace. */
  netns: string;
  ifName: string;
  /** The pod's IPv4 address, without prefix length. */
  ip: string;
  podMac: string;
  mtu: number;
}

export class WorkloadLinks {
  constructor(private readonly runner: CommandRunner) {}

  /** Creates the veth pair and every address, route and setting; throws at the first failure. */
  async create(link: WorkloadLink): Promise<void> {
    const { hostVeth, netns, ifName, ip, podMac, mtu } = link;
    // The pod end is created inside the pod, so its name never collides with a host interface.
    await this.batch(undefined, [
      `link add ${hostVeth} mtu ${mtu} address ${HOST_VETH_MAC} type veth peer name ${ifName} mtu ${mtu} address ${podMac} netns ${netns}`,
      `link set ${hostVeth} up`,
      // felix's proto: felix adopts the route and reconciles it from the WorkloadEndpoint.
      `route add ${ip}/32 dev ${hostVeth} scope link proto ${ROUTE_PROTO.felix}`,
    ]);
    await this.check(
      this.runner.run([
        'sysctl',
        '-q',
        '-w',
        `net.ipv4.conf.${hostVeth}.proxy_arp=1`,
        `net.ipv4.neigh.${hostVeth}.proxy_delay=0`,
        `net.ipv4.conf.${hostVeth}.forwarding=1`,
      ]),
      `sysctl on ${hostVeth}`,
    );
    await this.batch(netns, [
      `addr add ${ip}/32 dev ${ifName}`,
      `link set ${ifName} up`,
      // The gateway is reachable on the link although no subnet covers it.
      `route add ${GATEWAY} dev ${ifName} scope link`,
      `route add default via ${GATEWAY} dev ${ifName}`,
    ]);
  }

  /** Deletes the veth pair (and with it the host route); false if it was already gone. */
  async remove(hostVeth: string): Promise<boolean> {
    const result = await this.runner.run(['ip', 'link', 'del', hostVeth]);
    if (result.code === 0) return true;
    if (/cannot find device/i.test(result.stderr)) return false;
    throw new Error(`ip link del ${hostVeth} failed: ${result.stderr.trim()}`);
  }

  /** What is missing or wrong about `link`, one sentence each; empty when all is in place. */
  async problems(link: Pick<WorkloadLink, 'hostVeth' | 'netns' | 'ifName' | 'ip'>): Promise<string[]> {
    const { hostVeth, netns, ifName, ip } = link;
    const problems: string[] = [];
    const host = (await this.json(['ip', '-j', 'link', 'show', 'dev', hostVeth]))?.[0];
    if (host === undefined) return [`host veth ${hostVeth} does not exist`];
    if (!stringList(host['flags']).includes('UP')) problems.push(`host veth ${hostVeth} is down`);
    if (host['address'] !== HOST_VETH_MAC) problems.push(`host veth ${hostVeth} has MAC ${host['address']}`);
    const route = (await this.json(['ip', '-j', 'route', 'show', 'exact', `${ip}/32`]))?.[0];
    if (route?.['dev'] !== hostVeth || route['scope'] !== 'link') {
      problems.push(`host route ${ip}/32 dev ${hostVeth} scope link is missing`);
    }
    const sysctls = await this.runner.run([
      'sysctl',
      '-n',
      `net.ipv4.conf.${hostVeth}.proxy_arp`,
      `net.ipv4.conf.${hostVeth}.forwarding`,
    ]);
    if (sysctls.stdout.split('\n').slice(0, 2).join(',') !== '1,1') {
      problems.push(`host veth ${hostVeth} needs proxy_arp=1 and forwarding=1`);
    }
    const pod = (await this.json(['ip', '-j', 'addr', 'show', 'dev', ifName], netns))?.[0];
    if (pod === undefined) return [...problems, `${ifName} does not exist in ${netns}`];
    const addresses = Array.isArray(pod['addr_info']) ? (pod['addr_info'] as Record<string, unknown>[]) : [];
    if (!addresses.some((a) => a['local'] === ip && a['prefixlen'] === 32)) {
      problems.push(`${ifName} in ${netns} lacks ${ip}/32`);
    }
    const defaultRoute = (await this.json(['ip', '-j', 'route', 'show', 'default'], netns))?.[0];
    if (defaultRoute?.['gateway'] !== GATEWAY || defaultRoute['dev'] !== ifName) {
      problems.push(`${netns} lacks its default route via ${GATEWAY} dev ${ifName}`);
    }
    return problems;
  }

  private batch(netns: string | undefined, lines: string[]): Promise<void> {
    const where = netns === undefined ? 'on the host' : `in ${netns}`;
    return this.check(this.runner.run(inNetns(netns, ['ip', '-batch', '-']), `${lines.join('\n')}\n`), where);
  }

  private async check(pending: Promise<{ code: number; stderr: string }>, what: string): Promise<void> {
    const result = await pending;
    if (result.code !== 0)
      throw new Error(`setting up the workload's link ${what} failed: ${result.stderr.trim()}`);
  }

  /** Parsed `ip -j` output; undefined when the object does not exist. */
  private async json(argv: string[], netns?: string): Promise<Record<string, unknown>[] | undefined> {
    const result = await this.runner.run(inNetns(netns, argv));
    if (result.code !== 0) return undefined;
    const parsed: unknown = JSON.parse(result.stdout.trim() || '[]');
    return Array.isArray(parsed) && parsed.length > 0 ? (parsed as Record<string, unknown>[]) : undefined;
  }
}

function inNetns(netns: string | undefined, argv: string[]): string[] {
  return netns === undefined ? argv : ['nsenter', `--net=${netns}`, ...argv];
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
