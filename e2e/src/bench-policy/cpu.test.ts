import { startCpuMeter } from './cpu';

/** Spins until this process has used `ms` more of user CPU (the spinning thread is nearly all of it). */
function spin(ms: number): void {
  const until = process.cpuUsage().user / 1000 + ms;
  while (process.cpuUsage().user / 1000 < until) {
    // busy
  }
}

test('CPU spent on the main thread is counted there, not as other threads or children', () => {
  const meter = startCpuMeter();
  spin(200);
  const used = meter.read();
  // /proc counts in 10 ms ticks; a tick either side.
  expect(used.mainThread).toBeGreaterThanOrEqual(180);
  expect(used.commands).toBe(0);
});
