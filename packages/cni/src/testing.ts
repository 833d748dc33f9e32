// A node for tests and the benchmark: a network namespace playing the node, linked to the host by a
// veth pair whose host end serves a real etcd (holding the IP pools), and the bundled plugin run in
// the node the way a container runtime runs it. The link is also the node's default route, which
// proxy ARP needs in order to answer for the pods' gateway.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { encodeResource, resourceKey, validateResource } from '@margay/api';
import { NetworkNamespace, ProcessRunner } from '@margay/dataplane';
import { EtcdDatastore } from '@margay/datastore';
import { EtcdServer, makeTempDir, removeTempDir } from '@margay/testkit';

export const NETWORK = 'k8s-pod-network';
export const NODE_NAME = 'node-1';

export interface Invocation {
  containerId?: string;
  netns?: string;
  ifName?: string;
  args?: string;
}

export interface PluginRun {
  code: number | null;
  /** The JSON on stdout, if any. */
  output: Record<string, unknown> | undefined;
  stderr: string;
}

export class TestNode {
  private constructor(
    readonly etcd: EtcdServer,
    readonly store: EtcdDatastore,
    readonly netns: NetworkNamespace,
    private readonly dir: string,
  ) {}

  /** Everything is cleaned up again if a step fails. */
  static async start(pools: Record<string, { cidr: string; blockSize: number }>): Promise<TestNode> {
    const dir = makeTempDir('cni');
    const cleanups: (() => Promise<unknown>)[] = [async () => removeTempDir(dir)];
    try {
      const bundled = spawnSync(process.execPath, [join(__dirname, '..', 'bundle.js'), dir], {
        encoding: 'utf8',
      });
      if (bundled.status !== 0) throw new Error(`bundling margay-cni failed: ${bundled.stderr}`);
      const netns = await NetworkNamespace.create('mg-node');
      cleanups.push(() => netns.delete());
      const hostAddress = await linkToHost(netns);
      const etcd = await EtcdServer.start({ hosts: [hostAddress] });
      cleanups.push(() => etcd.stop());
      const store = new EtcdDatastore({ endpoints: etcd.endpoints });
      cleanups.push(() => store.close());
      for (const [name, spec] of Object.entries(pools)) {
        const pool = validateResource({
          apiVersion: 'margay.io/v1',
          kind: 'IPPool',
          metadata: { name },
          spec,
        });
        await store.put(resourceKey('IPPool', name), encodeResource(pool));
      }
      return new TestNode(etcd, store, netns, dir);
    } catch (error) {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
      throw error;
    }
  }

  config(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      cniVersion: '1.1.0',
      name: NETWORK,
      type: 'margay',
      etcd_endpoints: this.etcd.endpoints.join(','),
      nodename: NODE_NAME,
      mtu: 1400,
      ipam: { type: 'margay-ipam' },
      ...extra,
    };
  }

  /** Runs the bundled plugin inside the node namespace with CNI_* set and `stdin` piped in. */
  run(command: string, invocation: Invocation, stdin: string | object = this.config()): Promise<PluginRun> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      CNI_COMMAND: command,
      CNI_PATH: '/opt/cni/bin',
    };
    if (invocation.containerId !== undefined) env['CNI_CONTAINERID'] = invocation.containerId;
    if (invocation.netns !== undefined) env['CNI_NETNS'] = invocation.netns;
    env['CNI_IFNAME'] = invocation.ifName ?? 'eth0';
    if (invocation.args !== undefined) env['CNI_ARGS'] = invocation.args;
    const plugin = join(this.dir, 'bundle', 'margay-cni.js');
    const child = spawn('ip', ['netns', 'exec', this.netns.name, process.execPath, plugin], { env });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.end(typeof stdin === 'string' ? stdin : JSON.stringify(stdin));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        const text = Buffer.concat(stdout).toString('utf8').trim();
        resolve({
          code,
          output: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
          stderr: Buffer.concat(stderr).toString('utf8'),
        });
      });
    });
  }

  /** The host-side workload veths on the node. */
  async workloadLinks(): Promise<string[]> {
    const links = JSON.parse(await this.netns.ip('-j', 'link', 'show')) as { ifname: string }[];
    return links.map((link) => link.ifname).filter((name) => name.startsWith('mg'));
  }

  async stop(): Promise<void> {
    await this.store.close();
    await this.etcd.stop();
    await this.netns.delete(); // takes the host end of the link with it
    removeTempDir(this.dir);
  }
}

/**
 * A veth pair from the host into `netns`, on a random /30 of the benchmarking range 198.18.0.0/15
 * so that concurrent runs do not collide; returns the host end's address.
 */
async function linkToHost(netns: NetworkNamespace): Promise<string> {
  const base = 0xc6120000 + randomBytes(2).readUInt16BE() * 4;
  const address = (offset: number) =>
    [24, 16, 8, 0].map((shift) => ((base + offset) >>> shift) & 255).join('.');
  const hostEnd = `mgn${randomBytes(5).toString('hex')}`;
  for (const args of [
    ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', netns.name],
    ['addr', 'add', `${address(1)}/30`, 'dev', hostEnd],
    ['link', 'set', hostEnd, 'up'],
  ]) {
    const result = await new ProcessRunner().run(['ip', ...args]);
    if (result.code !== 0) throw new Error(`ip ${args.join(' ')} failed: ${result.stderr.trim()}`);
  }
  await netns.ip('addr', 'add', `${address(2)}/30`, 'dev', 'uplink');
  await netns.ip('link', 'set', 'uplink', 'up');
  await netns.ip('route', 'add', 'default', 'via', address(1), 'dev', 'uplink');
  return address(1);
}
