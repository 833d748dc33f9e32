import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@margay/testkit';
import {
  type AddressFamily,
  checkRoute,
  checkSpec,
  type DaemonSpec,
  normalizeRoute,
  type OriginatedRoute,
  SpecError,
} from './spec';

export type DaemonName = 'bird2' | 'bird1' | 'gobgp' | 'frr' | 'openbgpd' | 'exabgp';

/** RFC 4271 FSM states; every daemon's own wording is mapped onto these. */
export type SessionState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export interface PeerStatus {
  address: string;
  state: SessionState;
}

/** A route the daemon learned from a BGP neighbour (its own originated routes are left out). */
export interface RouteEntry {
  prefix: string;
  nextHop?: string;
  asPath: number[];
  communities?: string[];
  localPref?: number;
  med?: number;
  /** Route reflection attributes (RFC 4456), where the daemon reports them (BIRD, GoBGP). */
  originatorId?: string;
  clusterList?: string[];
}

export interface LaunchOptions {
  /** Run the daemon (and its control commands) inside this network namespace, via `ip netns exec`. */
  netns?: string;
  /** How long start-up may take before it counts as failed (default 20 s). */
  startTimeoutMs?: number;
}

export interface RunningDaemon {
  readonly name: DaemonName;
  /** The daemon's current process id (it changes on restart); also its process group. */
  readonly pid: number;
  /** Temporary directory with config, control socket and logs; removed by stop(). */
  readonly dir: string;
  readonly configFile: string;
  readonly logFile: string;
  peers(): Promise<PeerStatus[]>;
  routes(): Promise<RouteEntry[]>;
  /** Originate a prefix at run time (kept across restart()). */
  announce(route: string | OriginatedRoute): Promise<void>;
  withdraw(prefix: string): Promise<void>;
  /** Polls `probe` until it returns something other than undefined/false; the error names `what`. */
  waitFor<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs?: number): Promise<T>;
  waitForPeer(address: string, state?: SessionState, timeoutMs?: number): Promise<PeerStatus>;
  waitForRoute(prefix: string, timeoutMs?: number): Promise<RouteEntry>;
  /** Resident memory of the daemon's whole process group, in bytes. */
  rssBytes(): number;
  /** Stop and start again with the same config, addresses and originated routes. */
  restart(): Promise<void>;
  /** Kill the daemon's process group and remove its directory. */
  stop(): Promise<void>;
}

// Daemons are process-group leaders; if the test process exits without stop(), take them down too.
const live = new Map<number, string>();
process.once('exit', () => {
  for (const [pid, dir] of live) {
    signalGroup(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Shared life cycle: config file, foreground process in its own group, readiness, stop/restart. */
export abstract class Daemon<Route extends OriginatedRoute = OriginatedRoute> implements RunningDaemon {
  readonly dir: string;
  readonly configFile: string;
  readonly logFile: string;
  protected readonly family: AddressFamily;
  /** The originated routes, by prefix: config renderers read it, announce/withdraw change it. */
  protected readonly originated = new Map<string, Route>();
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  protected constructor(
    readonly name: DaemonName,
    protected readonly spec: DaemonSpec,
    protected readonly options: LaunchOptions,
    configName: string,
    /** What provides the binary, for the error when it is missing, e.g. "Debian package bird2". */
    private readonly installHint: string,
  ) {
    this.family = checkSpec(name, spec);
    for (const route of spec.originate ?? []) {
      const normalized = normalizeRoute(route) as Route;
      this.originated.set(normalized.prefix, normalized);
    }
    this.dir = makeTempDir(`anchors-${name}`);
    this.configFile = join(this.dir, configName);
    this.logFile = join(this.dir, `${name}.log`);
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  /** The daemon binary, its arguments (foreground mode) and environment (default: ours). */
  protected abstract command(): { file: string; args: string[]; env?: NodeJS.ProcessEnv };
  protected abstract renderConfig(): string;
  /** True once the control interface answers. */
  protected abstract isReady(): Promise<boolean>;
  /** Anything to settle once before the first launch (GoBGP picks its API port). */
  protected async prepare(): Promise<void> {}
  /** Run-time state that is not in the config file (GoBGP's routes). */
  protected async afterReady(): Promise<void> {}
  protected abstract applyAnnounce(route: Route): Promise<void>;
  protected abstract applyWithdraw(prefix: string): Promise<void>;
  abstract peers(): Promise<PeerStatus[]>;
  abstract routes(): Promise<RouteEntry[]>;

  /** Starts the daemon; on failure nothing is left behind and the error carries the log's tail. */
  async start(): Promise<this> {
    try {
      await this.prepare();
      await this.launch();
      return this;
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  private async launch(): Promise<void> {
    writeFileSync(this.configFile, this.renderConfig());
    const { file, args, env } = this.command();
    const log = openSync(this.logFile, 'a');
    const wrapped = this.wrap(file, args);
    const child = spawn(wrapped.file, wrapped.args, { stdio: ['ignore', log, log], detached: true, env });
    closeSync(log);
    let failure: string | undefined;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        failure = `exited during start-up (${signal ?? `code ${code}`})`;
        live.delete(child.pid ?? 0);
        resolve();
      });
      child.once('error', (error) => {
        failure = `could not be started (${error.message}); is ${this.installHint} installed? (scripts/setup)`;
        resolve();
      });
    });
    this.child = child;
    if (child.pid !== undefined) live.set(child.pid, this.dir);
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 20_000);
    for (;;) {
      if (failure !== undefined)
        throw new Error(`${this.name} ${failure}; log ends with:\n${this.logTail()}`);
      if (await this.isReady().catch(() => false)) break;
      if (Date.now() > deadline)
        throw new Error(
          `${this.name} did not answer on its control interface in time; log:\n${this.logTail()}`,
        );
      await sleep(50);
    }
    await this.afterReady();
  }

  private logTail(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').slice(-3000) : '(no log)';
  }

  private wrap(file: string, args: string[]): { file: string; args: string[] } {
    return this.options.netns
      ? { file: 'ip', args: ['netns', 'exec', this.options.netns, file, ...args] }
      : { file, args };
  }

  /** Runs a control command (in the daemon's namespace) and returns its stdout. */
  protected run(file: string, args: string[]): Promise<string> {
    const wrapped = this.wrap(file, args);
    return new Promise((resolve, reject) => {
      execFile(wrapped.file, wrapped.args, { maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error)
          reject(
            new Error(`${this.name}: ${file} ${args.join(' ')} failed: ${stderr.trim() || error.message}`),
          );
        else resolve(stdout);
      });
    });
  }

  async announce(route: string | Route): Promise<void> {
    const normalized = normalizeRoute(route) as Route;
    checkRoute(this.name, 'announce', normalized, this.family);
    this.originated.set(normalized.prefix, normalized);
    await this.applyAnnounce(normalized);
  }

  async withdraw(prefix: string): Promise<void> {
    if (!this.originated.delete(prefix))
      throw new SpecError(this.name, 'withdraw', `"${prefix}" is not a prefix this daemon originates`);
    await this.applyWithdraw(prefix);
  }

  async waitFor<T>(
    probe: () => Promise<T | undefined | false>,
    what: string,
    timeoutMs = 15_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const result = await probe();
        if (result !== undefined && result !== false) return result;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > deadline) {
        const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
        throw new Error(
          `${this.name}: timed out after ${timeoutMs} ms waiting for ${what}${cause}; log: ${this.logFile}`,
        );
      }
      await sleep(200);
    }
  }

  waitForPeer(address: string, state: SessionState = 'Established', timeoutMs?: number): Promise<PeerStatus> {
    return this.waitFor(
      async () => (await this.peers()).find((peer) => peer.address === address && peer.state === state),
      `peer ${address} to be ${state}`,
      timeoutMs,
    );
  }

  waitForRoute(prefix: string, timeoutMs?: number): Promise<RouteEntry> {
    return this.waitFor(
      async () => (await this.routes()).find((route) => route.prefix === prefix),
      `a route to ${prefix}`,
      timeoutMs,
    );
  }

  rssBytes(): number {
    let total = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // Field 5 of /proc/<pid>/stat is the process group; the command name before it may contain spaces.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
        if (group !== this.pid) continue;
        const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
        total += Number(rss?.[1] ?? 0) * 1024;
      } catch {
        // the process ended while we looked
      }
    }
    return total;
  }

  async restart(): Promise<void> {
    await this.terminate();
    try {
      await this.launch();
    } catch (error) {
      await this.terminate();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.terminate();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async terminate(): Promise<void> {
    const pid = this.pid;
    if (!pid) return;
    signalGroup(pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      this.exited.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), 5000);
      }),
    ]);
    clearTimeout(timer);
    if (!exited) {
      signalGroup(pid, 'SIGKILL');
      await this.exited;
    }
    // Helpers the daemon forked (OpenBGPD's engines, ExaBGP's API bridge) leave with it.
    for (let i = 0; i < 100 && signalGroup(pid, 0); i++) await sleep(20);
    signalGroup(pid, 'SIGKILL');
    live.delete(pid);
    this.child = undefined;
  }

  /** The address family's name in a form most daemons use. */
  protected get afi(): 'ipv4' | 'ipv6' {
    return this.family === 4 ? 'ipv4' : 'ipv6';
  }
}
