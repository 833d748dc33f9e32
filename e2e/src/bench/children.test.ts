import { cpuSecondsOf, processTreeCpuSeconds } from './children';

/** Spins for `ms` of wall time on this thread. */
function spin(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

describe('CPU time from /proc', () => {
  it('counts this process’s CPU time, and it grows while the process works', () => {
    const before = processTreeCpuSeconds(process.pid);
    spin(300);
    const after = processTreeCpuSeconds(process.pid);
    expect(before).toBeGreaterThan(0);
    // 300 ms of spinning is 30 ticks of CPU time; a busy machine may take some of it away.
    expect(after - before).toBeGreaterThanOrEqual(0.05);
  });

  it('counts nothing for processes the predicate does not pick', () => {
    expect(cpuSecondsOf(() => false)).toBe(0);
    expect(cpuSecondsOf((pid) => pid === -1)).toBe(0);
  });
});
