// margay-bgpd as the interop tests run it: the built daemon (bin/margay-bgpd) as a child process
// with its own config file and gRPC API, so that "restart" can be a real kill and the anchors
// see exactly what an operator's daemon would send.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loopbackEndpoint } from '@margay/anchors';
import { freePort, makeTempDir, removeTempDir } from '@margay/testkit';
import { BgpApiClient } from '../api/client';
import type { ApiPeer, ApiRibEntry } from '../api/messages';
import { until } from '../server/speaker.fixture';

const REPO = join(__dirname, '..', '..', '..', '..');
const MARGAY_BGPD = join(REPO, 'bin', 'margay-bgpd');
const MARGAYCTL = join(REPO, 'bin', 'margayctl');
const BUILT = [
  join(REPO, 'packages', 'bgp', 'dist', 'cli', 'main.js'),
  join(REPO, 'packages', 'ctl', 'dist', 'cli.js'),
];

export type Endpoint = { address: string; port: number };

/** One neighbour in margay-bgpd's config; fast reconnects and open policies unless overridden. */
export function neighbour(at: Endpoint, asNumber: number, extra: Record<string, unknown> = {}) {
  return {
    address: at.address,
    port: at.port,
    asNumber,
    connectRetryTime: 1,
    idleHoldTime: 1,
    import: 'all',
    export: 'all',
    ...extra,
  };
}

/** A fresh IPv6 loopback endpoint (every daemon of an IPv6 test shares ::1, on its own port). */
export async function ipv6Endpoint(): Promise<Endpoint> {
  return { address: '::1', port: await freePort('::1') };
}

export class Margay {
  readonly client: BgpApiClient;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private config: Record<string, unknown> = {};

  private constructor(
    readonly listen: Endpoint,
    private readonly dir: string,
    private readonly apiAddress: string,
  ) {
    this.client = new BgpApiClient(apiAddress);
  }

  /**
   * Writes `config` (margay-bgpd's file format; listen, routerId, api and the peers' localAddress
   * are filled in) and starts the daemon. `listen` defaults to a fresh loopback endpoint.
   */
  static async start(config: Record<string, unknown>, listen?: Endpoint): Promise<Margay> {
    for (const file of BUILT)
      if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm -s build first`);
    const at = listen ?? (await loopbackEndpoint());
    const apiHost = at.address.includes(':') ? '127.0.0.1' : at.address;
    let apiPort = await freePort(apiHost);
    // Two asks on one address can get the same port (neither was bound yet); the daemon needs both.
    while (apiHost === at.address && apiPort === at.port) apiPort = await freePort(apiHost);
    const api = `${apiHost}:${apiPort}`;
    const margay = new Margay(at, makeTempDir('margay-interop'), api);
    const routerId = at.address.includes(':') ? '10.255.255.1' : at.address;
    // Sessions start from the listen address: OpenBGPD refuses connections from any other.
    const peers = ((config['peers'] ?? []) as Record<string, unknown>[]).map((peer) => ({
      localAddress: at.address,
      ...peer,
    }));
    margay.writeConfig({ asNumber: 65000, routerId, listen: at, api, ...config, peers });
    try {
      await margay.launch();
    } catch (error) {
      await margay.stop();
      throw error;
    }
    return margay;
  }

  get configFile(): string {
    return join(this.dir, 'margay-bgpd.yaml');
  }

  get logFile(): string {
    return join(this.dir, 'margay-bgpd.log');
  }

  /** Rewrites the config file with `changes` applied (read on the next start). */
  writeConfig(changes: Record<string, unknown>): void {
    this.config = { ...this.config, ...changes };
    // JSON is YAML: the file is what an operator could have written.
    writeFileSync(this.configFile, JSON.stringify(this.config, null, 2));
  }

  /** SIGKILL: gone without a NOTIFICATION, as in a crash or a graceful restart. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    this.child = null;
  }

  /** Starts the daemon again with the same config file (after kill()). */
  async restart(): Promise<void> {
    await this.launch();
  }

  /** SIGTERM (Cease to every peer), then removes the config and logs. */
  async stop(): Promise<void> {
    this.client.close();
    if (this.child) {
      this.child.kill('SIGTERM');
      await this.exited;
      this.child = null;
    }
    removeTempDir(this.dir);
  }

  async routes(prefix: string): Promise<ApiRibEntry[]> {
    return this.client.listRib({ prefix });
  }

  /** Waits until the RIB holds a path for `prefix` that `accept` likes; returns that path. */
  async waitForRoute(prefix: string, accept: (r: ApiRibEntry) => boolean = () => true): Promise<ApiRibEntry> {
    let found: ApiRibEntry | undefined;
    await until(async () => {
      found = (await this.routes(prefix)).find(accept);
      return found !== undefined;
    }, `a route to ${prefix} in margay-bgpd's RIB (log: ${this.logFile})`);
    return found!;
  }

  async waitForNoRoute(prefix: string): Promise<void> {
    await until(async () => (await this.routes(prefix)).length === 0, `${prefix} to leave margay's RIB`);
  }

  async peer(address: string): Promise<ApiPeer | undefined> {
    return (await this.client.listPeers()).find((p) => p.address === address);
  }

  async waitForPeer(address: string, state = 'Established'): Promise<ApiPeer> {
    let found: ApiPeer | undefined;
    await until(async () => {
      found = await this.peer(address);
      return found?.state === state;
    }, `margay's session with ${address} to be ${state} (log: ${this.logFile})`);
    return found!;
  }

  /** `margayctl bgp peers` against this daemon: the row for `address`. */
  async margayctlPeerRow(address: string): Promise<string | undefined> {
    const { stdout } = await promisify(execFile)(MARGAYCTL, ['bgp', 'peers', '--bgp-api', this.apiAddress]);
    return stdout.split('\n').find((line) => line.startsWith(address));
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  private async launch(): Promise<void> {
    const log = openSync(this.logFile, 'a');
    const child = spawn(MARGAY_BGPD, ['--config', this.configFile, '--log-level', 'debug'], {
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.child = child;
    let failure: string | undefined;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        failure = `margay-bgpd exited (${signal ?? `code ${code}`}); log:\n${this.log().slice(-2000)}`;
        resolve();
      });
    });
    await until(() => {
      if (failure) throw new Error(failure);
      return this.client.waitForReady().then(
        () => true,
        () => false,
      );
    }, 'margay-bgpd to answer on its API');
  }
}
