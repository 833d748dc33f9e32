// Starting and stopping the harness's own processes (tester, monitor, relay, margay-bgpd) so that
// none outlives the run: each is killed on stop(), and on exit for whatever stop() did not reach.

import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildMessage, RunnerMessage } from './ipc';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Waits for `child` to exit, SIGKILLing it if SIGTERM has not worked within 5 s. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  live.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Registers a process started elsewhere (margay-bgpd) so that it dies with the runner. */
export function track(child: ChildProcess): void {
  live.add(child);
}

/** Resident memory of a process and its children, in bytes (what a daemon's forked helpers add). */
export function processTreeRss(pid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const parent = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      if (Number(entry) !== pid && parent !== pid) continue;
      total += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // the process ended while we looked
    }
  }
  return total;
}

/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/**
 * User + system CPU time of the processes `belongs` picks (by pid, parent pid and process group),
 * in seconds, all threads included (a runtime's GC and compiler threads count). Processes that
 * already exited are not counted.
 */
export function cpuSecondsOf(belongs: (pid: number, parent: number, group: number) => boolean): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The fields after the command name (which may hold spaces): state is field 3, ppid 4, pgrp 5,
      // utime 14, stime 15 of /proc/<pid>/stat.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (!belongs(Number(entry), Number(fields[1]), Number(fields[2]))) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended while we looked
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds of a process and its direct children (see cpuSecondsOf). */
export const processTreeCpuSeconds = (pid: number) =>
  cpuSecondsOf((candidate, parent) => candidate === pid || parent === pid);

/** CPU seconds of a process group (the anchors run as group leaders). */
export const processGroupCpuSeconds = (group: number) =>
  cpuSecondsOf((_pid, _parent, pgrp) => pgrp === group);

/** A forked harness process (tester.js, monitor.js, relay.js) and the messages it sends. */
export class HarnessChild {
  private readonly received: ChildMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private ended: string | undefined;
  readonly process: ChildProcess;

  constructor(
    readonly role: string,
    settings: unknown,
  ) {
    this.process = fork(join(__dirname, `${role}.js`), [JSON.stringify(settings)], { stdio: 'inherit' });
    live.add(this.process);
    this.process.on('message', (message: ChildMessage) => {
      this.received.push(message);
      this.wakeAll();
    });
    this.process.on('exit', (code, signal) => {
      this.ended = `the ${role} process exited (${signal ?? `code ${code}`})`;
      this.wakeAll();
    });
  }

  private wakeAll(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  send(message: RunnerMessage): void {
    this.process.send(message);
  }

  /** The latest message of this type seen so far, if any. */
  latest<T extends ChildMessage['type']>(type: T): Extract<ChildMessage, { type: T }> | undefined {
    for (let i = this.received.length - 1; i >= 0; i--) {
      const message = this.received[i]!;
      if (message.type === type) return message as Extract<ChildMessage, { type: T }>;
    }
    return undefined;
  }

  /** Resolves with the first message of `type`; rejects when the child fails, exits or `signal` aborts. */
  async waitFor<T extends ChildMessage['type']>(
    type: T,
    signal: AbortSignal,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    for (;;) {
      const failed = this.latest('failed');
      if (failed) throw new Error(failed.reason);
      const found = this.received.find((m): m is Extract<ChildMessage, { type: T }> => m.type === type);
      if (found) return found;
      if (this.ended) throw new Error(this.ended);
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          this.waiters.delete(done);
          resolve();
        };
        this.waiters.add(done);
        signal.addEventListener('abort', done);
      });
    }
  }

  stop(): Promise<void> {
    return stopProcess(this.process);
  }
}
