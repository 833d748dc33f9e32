import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** Alive and not a zombie (a killed child of ours stays a zombie until Node reaps it). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** SIGKILL every pid and wait until all are gone; pids already gone are fine. */
export async function killAndWait(pids: number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 500; i++) {
    if (!pids.some(isRunning)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`processes survived SIGKILL: ${pids.filter(isRunning).join(', ')}`);
}

/**
 * etcd processes whose --data-dir `matches`. Finding etcd by its data dir rather than by a recorded pid
 * alone is what makes teardown safe and complete: a crash while etcd starts leaves no pid recorded, and
 * a recorded pid may since belong to another process.
 */
export function etcdProcesses(matches: (dataDir: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    const dataDir = argv[argv.indexOf('--data-dir') + 1];
    if (basename(argv[0] ?? '') === 'etcd' && argv.includes('--data-dir') && dataDir && matches(dataDir)) {
      pids.push(Number(entry));
    }
  }
  return pids;
}

/** The environment variable that marks a process as an agent of cluster <value>, for sweeping. */
export const AGENT_MARKER = 'MARGAY_E2E_CLUSTER';

/**
 * Agent processes (marked with AGENT_MARKER) whose cluster `matches`. An agent whose namespace was
 * deleted under it keeps running in an anonymous one: only its marker still leads to it.
 */
export function agentProcesses(matches: (cluster: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string[];
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile, or a kernel thread
    }
    const marker = environ.find((item) => item.startsWith(`${AGENT_MARKER}=`));
    if (marker && matches(marker.slice(AGENT_MARKER.length + 1)) && isRunning(Number(entry))) {
      pids.push(Number(entry));
    }
  }
  return pids;
}

/** Sends `signal`, waits up to `timeoutMs` for the process to end, then SIGKILLs it and waits. */
export async function stopProcess(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return; // already gone
  }
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  if (isRunning(pid)) await killAndWait([pid]);
}
