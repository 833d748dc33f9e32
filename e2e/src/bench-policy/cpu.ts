// CPU time of this process between two moments, split into its main thread, its other threads
// (V8's compiler and GC helpers, libuv's pool) and the children it waited for, from /proc.
import { readdirSync, readFileSync } from 'node:fs';
import type { StartCpu } from './protocol';

/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every architecture Node runs on. */
const MS_PER_TICK = 10;

/** utime, stime, cutime, cstime (fields 14–17 of stat; after the command name, which may hold spaces). */
function times(path: string): [number, number, number, number] {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(fields[11]), Number(fields[12]), Number(fields[13]), Number(fields[14])];
}

interface Sample {
  readonly threads: ReadonlyMap<string, number>;
  readonly children: number;
}

function sample(): Sample {
  const threads = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const [user, system] = times(`/proc/self/task/${tid}/stat`);
      threads.set(tid, user + system);
    } catch {
      // the thread ended while we looked
    }
  }
  const [, , childUser, childSystem] = times('/proc/self/stat');
  return { threads, children: childUser + childSystem };
}

/** Starts measuring; `read()` gives the CPU used since. */
export function startCpuMeter(): { read(): StartCpu } {
  const before = sample();
  return {
    read: () => {
      const after = sample();
      const main = String(process.pid);
      let mainThread = 0;
      let otherThreads = 0;
      for (const [tid, ticks] of after.threads) {
        const used = ticks - (before.threads.get(tid) ?? 0);
        if (tid === main) mainThread += used;
        else otherThreads += used;
      }
      return {
        mainThread: mainThread * MS_PER_TICK,
        otherThreads: otherThreads * MS_PER_TICK,
        commands: (after.children - before.children) * MS_PER_TICK,
      };
    },
  };
}
