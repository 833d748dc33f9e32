// BIRD as the node's BGP daemon, run the way calico-node runs it: margay-confd renders the first
// configuration once (BIRD refuses to start without a valid file), then BIRD starts on it and
// margay-confd keeps it in step with etcd. A child that dies is started again after a backoff
// that grows while it keeps dying. Stopping leaves BIRD's routes where they are: BIRD is asked for
// a graceful restart, so its peers keep our routes as stale and the kernel keeps BIRD's (persist).

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { statusKeys } from '@margay/api';
import { type Logger, silentLogger } from '@margay/bgp';
import type { CommandRunner } from '@margay/dataplane';
import type { Datastore } from '@margay/datastore';

/** Where BIRD's file and socket live unless told otherwise (calico-node uses /var/run/calico). */
export const DEFAULT_BIRD_RUN_DIR = '/var/run/margay/bird';

/**
 * margay-confd's status key. @margay/confd depends on this package (for the peering plan), so the
 * key is spelled here too; `margayctl node status` reads the same key.
 */
export const confdStatusKey = statusKeys.confd;

export type BirdChildName = 'bird' | 'confd';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A started child as the supervisor sees it. */
export interface SupervisedChild {
  readonly pid: number | undefined;
  /** Resolves once the process has ended (also when it never started). */
  readonly exited: Promise<ChildExit>;
  kill(signal: NodeJS.Signals): void;
}

export type Spawner = (name: BirdChildName, argv: readonly string[]) => SupervisedChild;

export interface BirdSupervisorOptions {
  readonly nodeName: string;
  /** Holds bird.cfg (rendered by margay-confd) and bird.ctl (BIRD's control socket). */
  readonly runDir: string;
  /** Where margay-confd reports how its last render went. */
  readonly store: Datastore;
  /** Runs `margay-confd --once` and `birdc` to completion. */
  readonly runner: CommandRunner;
  /** Export learned routes to the kernel (off for a node that only reflects routes). */
  readonly kernelRoutes: boolean;
  /** Starts the long-running children (default: real processes, their stderr into the log). */
  readonly spawn?: Spawner;
  /** How to run margay-confd (default: the checkout's bin/margay-confd, else margay-confd on PATH). */
  readonly confdCommand?: readonly string[];
  readonly logger?: Logger;
  /** First restart delay, doubled per quick death up to the maximum. Default 1 s and 30 s. */
  readonly backoffMs?: { readonly initial: number; readonly max: number };
  /** A child that ran this long before dying starts over with the initial delay. Default 60 s. */
  readonly stableAfterMs?: number;
  /** How often BIRD and confd's status are looked at. Default 2 s. */
  readonly pollIntervalMs?: number;
  /** How long each child gets to end before SIGKILL. Default 10 s. */
  readonly stopTimeoutMs?: number;
}

/** A BGP protocol row of `birdc show protocols`: name, state (up/start/...) and BIRD's info. */
export interface BirdProtocolState {
  readonly name: string;
  readonly state: string;
  readonly info: string;
}

export interface BirdSupervisorStatus {
  /** BIRD answered `birdc show status` with "Daemon is up and running" at the last look. */
  readonly birdUp: boolean;
  /** margay-confd's status key says ok: BIRD runs what etcd says. */
  readonly confdOk: boolean;
  readonly confdError?: string;
  /** The BGP protocols at the last look. */
  readonly protocols: readonly BirdProtocolState[];
  readonly pids: { readonly bird: number | undefined; readonly confd: number | undefined };
  /** How often each child has been started again after dying. */
  readonly restarts: { readonly bird: number; readonly confd: number };
}

interface ChildSlot {
  child?: SupervisedChild;
  startedAt: number;
  delayMs: number;
  restarts: number;
  timer?: NodeJS.Timeout;
}

export class BirdSupervisor {
  readonly configFile: string;
  readonly socket: string;
  private readonly log: Logger;
  private readonly spawnChild: Spawner;
  private readonly confd: readonly string[];
  private readonly slots: Record<BirdChildName, ChildSlot>;
  private stopping: Promise<void> | undefined;
  private starting: Promise<void> = Promise.resolve();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | undefined;
  private current: Omit<BirdSupervisorStatus, 'pids' | 'restarts'> = {
    birdUp: false,
    confdOk: false,
    protocols: [],
  };

  private constructor(private readonly options: BirdSupervisorOptions) {
    this.configFile = join(options.runDir, 'bird.cfg');
    this.socket = join(options.runDir, 'bird.ctl');
    this.log = options.logger ?? silentLogger;
    this.spawnChild = options.spawn ?? spawnProcess(this.log);
    this.confd = options.confdCommand ?? defaultConfdCommand();
    const initial = options.backoffMs?.initial ?? 1000;
    this.slots = {
      bird: { startedAt: 0, delayMs: initial, restarts: 0 },
      confd: { startedAt: 0, delayMs: initial, restarts: 0 },
    };
  }

  /**
   * Returns at once; confd's first render, BIRD and confd's watch follow in the background (a
   * first render that fails is retried with backoff: the node may not be in etcd yet).
   */
  static start(options: BirdSupervisorOptions): BirdSupervisor {
    const supervisor = new BirdSupervisor(options);
    mkdirSync(options.runDir, { recursive: true });
    supervisor.starting = supervisor.firstRenderThenStart();
    supervisor.schedulePoll(0);
    return supervisor;
  }

  status(): BirdSupervisorStatus {
    return {
      ...this.current,
      pids: { bird: this.slots.bird.child?.pid, confd: this.slots.confd.child?.pid },
      restarts: { bird: this.slots.bird.restarts, confd: this.slots.confd.restarts },
    };
  }

  /** Looks at BIRD and confd's status now (the periodic poll does the same). */
  async refresh(): Promise<BirdSupervisorStatus> {
    const [birdUp, protocols, confd] = await Promise.all([
      this.birdAnswers(),
      this.bgpProtocols(),
      this.confdStatus(),
    ]);
    this.current = { birdUp, protocols, ...confd };
    return this.status();
  }

  /** margay-confd first (nothing to reconfigure once BIRD is gone), then BIRD in graceful restart. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.pollTimer);
      this.wakeUp?.();
      for (const slot of Object.values(this.slots)) clearTimeout(slot.timer);
      await this.starting;
      await this.polling;
      await this.end('confd', async (child) => child.kill('SIGTERM'));
      await this.end('bird', async (child) => {
        // BIRD closes its sessions without a Cease, so peers keep our routes for the restart time.
        const asked = await this.birdc(['graceful', 'restart']);
        if (!/Graceful restart requested/.test(asked)) child.kill('SIGTERM');
      });
      this.log.info('BIRD and margay-confd stopped; routes stay in the kernel and at the peers');
    })();
    return this.stopping;
  }

  private async firstRenderThenStart(): Promise<void> {
    const initial = this.options.backoffMs?.initial ?? 1000;
    let delay = initial;
    for (;;) {
      if (this.stopping) return;
      const argv = [...this.confd, ...this.confdArgs(), '--once'];
      const result = await this.options.runner.run(argv).catch((error: Error) => ({
        code: 1,
        stdout: '',
        stderr: error.message,
      }));
      if (result.code === 0) break;
      this.log.warn('the first BIRD configuration failed; trying again', {
        error: lastLine(result.stderr),
        retryInMs: delay,
      });
      await this.sleep(delay);
      delay = Math.min(delay * 2, this.options.backoffMs?.max ?? 30_000);
    }
    if (this.stopping) return;
    await this.retireLeftoverBird();
    this.launch('bird');
    this.launch('confd');
  }

  /** A BIRD that a previous run left on our socket would hold the BGP port: it goes first, gracefully. */
  private async retireLeftoverBird(): Promise<void> {
    if (!(await this.birdAnswers())) return;
    this.log.warn('a BIRD from a previous run answers on the socket; asking it for a graceful restart', {
      socket: this.socket,
    });
    await this.birdc(['graceful', 'restart']);
    for (let tries = 0; tries < 50 && (await this.birdAnswers()); tries++) await this.sleep(100);
  }

  private confdArgs(): string[] {
    return [
      '--node-name',
      this.options.nodeName,
      '--config-file',
      this.configFile,
      '--kernel-routes',
      this.options.kernelRoutes ? 'on' : 'off',
    ];
  }

  private argvOf(name: BirdChildName): string[] {
    return name === 'bird'
      ? ['bird', '-f', '-c', this.configFile, '-s', this.socket]
      : [...this.confd, ...this.confdArgs(), '--bird-socket', this.socket];
  }

  private launch(name: BirdChildName): void {
    const slot = this.slots[name];
    const argv = this.argvOf(name);
    const child = this.spawnChild(name, argv);
    slot.child = child;
    slot.startedAt = Date.now();
    this.log.info(`${name} started`, { pid: child.pid, argv: argv.join(' ') });
    void child.exited.then((exit) => this.onExit(name, child, exit));
  }

  private onExit(name: BirdChildName, child: SupervisedChild, exit: ChildExit): void {
    const slot = this.slots[name];
    if (this.stopping || slot.child !== child) return;
    const { initial, max } = this.options.backoffMs ?? { initial: 1000, max: 30_000 };
    if (Date.now() - slot.startedAt >= (this.options.stableAfterMs ?? 60_000)) slot.delayMs = initial;
    const delay = slot.delayMs;
    slot.delayMs = Math.min(delay * 2, max);
    this.log.warn(`${name} exited; starting it again`, { ...exit, pid: child.pid, restartInMs: delay });
    slot.timer = setTimeout(() => {
      if (this.stopping) return;
      slot.restarts++;
      this.launch(name);
    }, delay);
  }

  /** Asks `child` to end with `ask`, and SIGKILLs it when it has not ended in time. */
  private async end(name: BirdChildName, ask: (child: SupervisedChild) => Promise<void>): Promise<void> {
    const child = this.slots[name].child;
    if (!child) return;
    let ended = false;
    void child.exited.then(() => {
      ended = true;
    });
    await Promise.resolve(); // an already ended child resolves `ended` first
    if (ended) return;
    await ask(child);
    const timeout = new Promise<'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), this.options.stopTimeoutMs ?? 10_000);
      void child.exited.then(() => clearTimeout(timer));
    });
    if ((await Promise.race([child.exited, timeout])) === 'timeout') {
      this.log.warn(`${name} did not stop in time; killing it`, { pid: child.pid });
      child.kill('SIGKILL');
      await child.exited;
    }
  }

  private schedulePoll(delayMs: number): void {
    this.pollTimer = setTimeout(() => {
      this.polling = this.refresh()
        .then(() => undefined)
        .catch((error: Error) => this.log.debug('BIRD status poll failed', { error: error.message }))
        .finally(() => {
          if (!this.stopping) this.schedulePoll(this.options.pollIntervalMs ?? 2000);
        });
    }, delayMs);
  }

  private async birdAnswers(): Promise<boolean> {
    return /Daemon is up and running/.test(await this.birdc(['show', 'status']));
  }

  private async bgpProtocols(): Promise<BirdProtocolState[]> {
    return parseBgpProtocols(await this.birdc(['show', 'protocols']));
  }

  /** birdc's answer, or '' when BIRD does not answer (not running, not listening yet). */
  private async birdc(command: string[]): Promise<string> {
    if (!existsSync(this.socket)) return '';
    const result = await this.options.runner
      .run(['birdc', '-s', this.socket, ...command])
      .catch(() => undefined);
    return result?.stdout ?? '';
  }

  private async confdStatus(): Promise<{ confdOk: boolean; confdError?: string }> {
    const kv = await this.options.store.get(confdStatusKey(this.options.nodeName));
    if (!kv) return { confdOk: false, confdError: 'margay-confd has not reported yet' };
    try {
      const status = JSON.parse(kv.value) as { ok?: unknown; stage?: unknown; error?: unknown };
      if (status.ok === true) return { confdOk: true };
      return { confdOk: false, confdError: `${String(status.stage)}: ${String(status.error)}` };
    } catch {
      return { confdOk: false, confdError: `${confdStatusKey(this.options.nodeName)} is not JSON` };
    }
  }

  /** A delay that stop() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** The BGP rows of `birdc show protocols`: `Name Proto Table State Since Info`. */
export function parseBgpProtocols(output: string): BirdProtocolState[] {
  const rows: BirdProtocolState[] = [];
  for (const line of output.split('\n')) {
    const match = /^(\S+)\s+BGP\s+\S+\s+(\S+)\s+\S+\s*(.*)$/.exec(line);
    if (match) rows.push({ name: match[1]!, state: match[2]!, info: match[3]!.trim() });
  }
  return rows;
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

/** The checkout's shim when margay-node runs from one, else the installed margay-confd. */
function defaultConfdCommand(): string[] {
  const shim = join(__dirname, '..', '..', '..', 'bin', 'margay-confd');
  return [existsSync(shim) ? shim : 'margay-confd'];
}

/** Real children; their stderr lines go to the log, tagged with the child's name. */
function spawnProcess(log: Logger): Spawner {
  return (name, argv) => {
    const [file, ...args] = argv;
    const child: ChildProcess = spawn(file!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<ChildExit>((resolve) => {
      child.once('error', (error) => {
        log.error(`cannot run ${name}`, { file, error: error.message });
        resolve({ code: null, signal: null });
      });
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    if (child.stderr) {
      createInterface({ input: child.stderr }).on('line', (line) => {
        if (line.trim() !== '') log.info(line, { from: name });
      });
    }
    return {
      pid: child.pid,
      exited,
      kill: (signal) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    };
  };
}
