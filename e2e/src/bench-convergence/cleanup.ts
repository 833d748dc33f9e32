// Everything the benchmark starts is registered here, so that nothing outlives it: processes
// are killed by pid (BIRD by its process group), temp dirs removed and network namespaces
// deleted, on a normal end, on an error and on exit after Ctrl-C.

import { type ChildProcess, execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const processes = new Set<ChildProcess>();
const dirs = new Set<string>();
const namespaces = new Set<string>();

/** Last resort: synchronous, so it also runs from process.on('exit'). */
export function cleanupNow(): void {
  for (const child of processes) killTree(child, 'SIGKILL');
  processes.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
  for (const ns of namespaces) {
    try {
      execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  namespaces.clear();
}
process.once('exit', cleanupNow);

export function trackProcess(child: ChildProcess): ChildProcess {
  processes.add(child);
  child.once('exit', () => processes.delete(child));
  return child;
}

export function trackDir(dir: string): string {
  dirs.add(dir);
  return dir;
}

export function untrackDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

export function trackNamespace(ns: string): string {
  namespaces.add(ns);
  return ns;
}

export function deleteNamespace(ns: string): void {
  try {
    execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
  } finally {
    namespaces.delete(ns);
  }
}

/** Detached children lead their own process group: signal the group. */
function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(isGroupLeader(child.pid) ? -child.pid : child.pid, signal);
  } catch {
    // exited meanwhile
  }
}

function isGroupLeader(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[2]) === pid; // pgrp
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killTree(child, 'SIGTERM');
    const timer = setTimeout(() => killTree(child, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  processes.delete(child);
}

/** Resident memory of one process, in bytes (0 once it has gone). */
export function rssBytes(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** CPU time (user + system) a process has used so far, in seconds (0 once it has gone). */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime (fields 14 and 15 of stat) in clock ticks, 100 per second on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
