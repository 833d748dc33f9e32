import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports';
import { isAlive } from './process';
import { makeTempDir, removeTempDir } from './tmp';

export interface EtcdTls {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

export interface EtcdServerOptions {
  /** Addresses to serve clients on (default 127.0.0.1). The first one is also used for peers. */
  hosts?: string[];
  /** Client port; a free one is picked by default. */
  clientPort?: number;
  /** Serve clients over TLS and require client certificates signed by `caCert`. */
  tls?: EtcdTls;
  /** Data directory; a fresh temporary one (removed by stop()) by default. */
  dataDir?: string;
  /** Run in its own session so it outlives this process (the harness CLI); default false. */
  detached?: boolean;
  /** How long to wait for "ready to serve" (default 20 s). */
  startTimeoutMs?: number;
  /**
   * Also serve clients on a Unix socket in the data directory (`unixEndpoint`): a socket file is
   * reachable from every network namespace of the host, a loopback address only from its own.
   */
  unixSocket?: boolean;
}

/** Everything needed to find (and stop) a running etcd again, e.g. from a state file. */
export interface EtcdServerInfo {
  pid: number;
  endpoints: string[];
  dataDir: string;
  logFile: string;
  ownsDataDir: boolean;
}

const live = new Set<number>();
process.once('exit', () => {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A real etcd process (Debian etcd-server) for tests and the e2e harness: free ports, its own
 * data dir, stopped and cleaned up by stop() (and killed if the test process exits first).
 */
export class EtcdServer {
  private pid = 0;

  private constructor(
    private readonly args: string[],
    readonly endpoints: string[],
    readonly dataDir: string,
    readonly logFile: string,
    private readonly ownsDataDir: boolean,
    private readonly detached: boolean,
    private readonly startTimeoutMs: number,
    /** The Unix socket endpoint (`unixSocket` option), for clients in other network namespaces. */
    readonly unixEndpoint: string | undefined,
  ) {}

  /**
   * Starts etcd and waits until it serves. A start that fails leaves nothing behind (its error
   * carries the log's tail); one that lost a race for a free port is retried on fresh ports.
   */
  static async start(options: EtcdServerOptions = {}): Promise<EtcdServer> {
    for (let attempt = 1; ; attempt++) {
      const server = await EtcdServer.prepare(options);
      try {
        await server.launch();
        return server;
      } catch (error) {
        await server.stop();
        const portRace =
          options.clientPort === undefined && /address already in use/.test((error as Error).message);
        if (!portRace || attempt === 3) throw error;
      }
    }
  }

  private static async prepare(options: EtcdServerOptions): Promise<EtcdServer> {
    const hosts = options.hosts ?? ['127.0.0.1'];
    const peerHost = hosts[0]!;
    const clientPort = options.clientPort ?? (await freePort(peerHost));
    const peerPort = await freePort(peerHost);
    const ownsDataDir = options.dataDir === undefined;
    const baseDir = options.dataDir ?? makeTempDir('etcd');
    const scheme = options.tls ? 'https' : 'http';
    const clientUrls = hosts.map((h) => `${scheme}://${h}:${clientPort}`);
    // etcd takes a Unix listen URL's host:port as a file name, relative to its working directory.
    const unixName = `localhost:${clientPort}`;
    const listenUrls = options.unixSocket ? [...clientUrls, `unix://${unixName}`] : clientUrls;
    const peerUrl = `http://${peerHost}:${peerPort}`;
    const args = [
      '--name',
      'margay-test',
      '--data-dir',
      join(baseDir, 'data'),
      '--logger',
      'zap',
      '--log-outputs',
      'stderr',
      '--listen-client-urls',
      listenUrls.join(','),
      '--advertise-client-urls',
      clientUrls.join(','),
      '--listen-peer-urls',
      peerUrl,
      '--initial-advertise-peer-urls',
      peerUrl,
      '--initial-cluster',
      `margay-test=${peerUrl}`,
      '--initial-cluster-state',
      'new',
    ];
    if (options.tls) {
      args.push(
        '--cert-file',
        options.tls.serverCert,
        '--key-file',
        options.tls.serverKey,
        '--trusted-ca-file',
        options.tls.caCert,
        '--client-cert-auth',
      );
    }
    return new EtcdServer(
      args,
      clientUrls,
      baseDir,
      join(baseDir, 'etcd.log'),
      ownsDataDir,
      options.detached ?? false,
      options.startTimeoutMs ?? 20_000,
      options.unixSocket ? `unix://${join(baseDir, unixName)}` : undefined,
    );
  }

  /** Stop a server started by another process, from its saved info. */
  static async stopByInfo(info: EtcdServerInfo): Promise<void> {
    await terminate(info.pid);
    if (info.ownsDataDir) removeTempDir(info.dataDir);
  }

  get info(): EtcdServerInfo {
    return {
      pid: this.pid,
      endpoints: this.endpoints,
      dataDir: this.dataDir,
      logFile: this.logFile,
      ownsDataDir: this.ownsDataDir,
    };
  }

  get processId(): number {
    return this.pid;
  }

  private async launch(): Promise<void> {
    const logOffset = existsSync(this.logFile) ? readFileSync(this.logFile).length : 0;
    const log = openSync(this.logFile, 'a');
    const child = spawn('etcd', this.args, {
      cwd: this.dataDir, // where a Unix listen URL puts its socket
      stdio: ['ignore', log, log],
      detached: this.detached,
    });
    closeSync(log);
    if (child.pid === undefined)
      throw new Error('could not start etcd: is Debian etcd-server installed? (scripts/setup)');
    this.pid = child.pid;
    if (this.detached) child.unref();
    else live.add(this.pid);
    let exited = false;
    child.once('exit', () => {
      exited = true;
      live.delete(child.pid!);
    });
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      const output = readFileSync(this.logFile, 'utf8').slice(logOffset);
      if (output.includes('ready to serve client requests') || output.includes('serving client traffic'))
        return;
      if (exited || !isAlive(this.pid)) {
        throw new Error(`etcd exited during start-up; its log ends with:\n${output.slice(-2000)}`);
      }
      if (Date.now() > deadline) {
        await terminate(this.pid);
        throw new Error(
          `etcd was not ready within ${this.startTimeoutMs} ms; its log ends with:\n${output.slice(-2000)}`,
        );
      }
      await sleep(50);
    }
  }

  /** SIGTERM (then SIGKILL), and the same ports and data come back: a real etcd restart. */
  async restart(): Promise<void> {
    await terminate(this.pid);
    await this.launch();
  }

  /** Stop without restarting; `resume()` brings it back on the same ports with the same data. */
  async pause(): Promise<void> {
    await terminate(this.pid);
  }

  async resume(): Promise<void> {
    await this.launch();
  }

  /** Stop it and remove its data dir if it made one. */
  async stop(): Promise<void> {
    await terminate(this.pid);
    live.delete(this.pid);
    if (this.ownsDataDir) removeTempDir(this.dataDir);
  }
}

async function terminate(pid: number): Promise<void> {
  if (!pid || !isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(20);
}
