import { formatTable, rows, targetLabel } from './report';
import type { Measurement } from './runner';

const MB = 1024 * 1024;

function measurement(
  target: Measurement['target'],
  routes: number,
  seconds: number,
  peakMb: number,
  idleMb = 0,
  cpuSeconds = seconds,
): Measurement {
  return {
    target,
    case: 'packed',
    routes,
    monitors: 2,
    updates: routes / 500,
    seconds,
    firstRouteSeconds: seconds / 10,
    testerSeconds: target === 'relay' ? seconds : seconds / 10,
    cpuSeconds,
    idleRssBytes: idleMb * MB,
    peakRssBytes: peakMb * MB,
  };
}

describe('report', () => {
  const runs = [
    measurement('relay', 1_000_000, 0.1, 64),
    measurement('bird', 1_000_000, 1, 100),
    measurement('gobgp', 250_000, 10, 500),
  ];

  it('compares time and memory with BIRD per route, and rates deliveries to every monitor session', () => {
    const [relay, bird, gobgp] = rows(runs);
    expect(bird).toMatchObject({ timeVsBird: 1, cpuVsBird: 1, memoryVsBird: 1, routesPerSecond: 2_000_000 });
    expect(gobgp!.timeVsBird).toBeCloseTo(40);
    expect(gobgp!.cpuVsBird).toBeCloseTo(40);
    expect(gobgp!.memoryVsBird).toBeCloseTo(20);
    expect(gobgp!.bytesPerRoute).toBeCloseTo((500 * MB) / 250_000);
    expect(relay!.injectionBound).toBe(true);
    expect(bird!.injectionBound).toBe(false);
  });

  it('counts memory per route above each target’s own idle RSS and compares that with BIRD’s', () => {
    const [bird, margay, gobgp] = rows([
      measurement('bird', 1_000_000, 1, 100, 4),
      measurement('margay', 1_000_000, 1, 160, 64),
      measurement('gobgp', 250_000, 10, 500, 20),
    ]);
    expect(bird).toMatchObject({
      idleRssMb: 4,
      bytesPerRouteAboveIdle: (96 * MB) / 1_000_000,
      aboveIdleVsBird: 1,
    });
    // Same growth as BIRD's (96 MB) on top of a larger idle process: 1.6× the peak, 1× above idle.
    expect(margay!.memoryVsBird).toBeCloseTo(1.6);
    expect(margay!.aboveIdleVsBird).toBeCloseTo(1);
    expect(gobgp!.bytesPerRouteAboveIdle).toBeCloseTo((480 * MB) / 250_000);
    expect(gobgp!.aboveIdleVsBird).toBeCloseTo(20);
  });

  it('counts no growth when the peak was not above idle, and gives no ratio against such a BIRD run', () => {
    const [bird, margay] = rows([
      measurement('bird', 1000, 1, 10, 12),
      measurement('margay', 1000, 1, 70, 60),
    ]);
    expect(bird!.bytesPerRouteAboveIdle).toBe(0);
    expect(bird!.aboveIdleVsBird).toBeUndefined();
    expect(margay!.bytesPerRouteAboveIdle).toBeCloseTo((10 * MB) / 1000);
    expect(margay!.aboveIdleVsBird).toBeUndefined();
    expect(margay!.memoryVsBird).toBeCloseTo(7);
  });

  it('names margay runs by the V8 flags they replaced the launcher’s with', () => {
    const run = measurement('margay', 1000, 1, 10);
    expect(targetLabel(run)).toBe('margay');
    expect(targetLabel({ ...run, nodeFlags: '' })).toBe('margay [no flags]');
    expect(targetLabel({ ...run, nodeFlags: '--max-semi-space-size=1' })).toBe(
      'margay [--max-semi-space-size=1]',
    );
    expect(rows([{ ...run, nodeFlags: '--optimize-for-size' }])[0]!.target).toBe(
      'margay [--optimize-for-size]',
    );
  });

  it('compares CPU time per route with BIRD’s apart from wall time', () => {
    const [bird, margay] = rows([
      measurement('bird', 1_000_000, 1, 100, 4, 0.5),
      measurement('margay', 500_000, 2, 100, 60, 1.5),
    ]);
    expect(bird!.cpuSeconds).toBe(0.5);
    expect(margay!.timeVsBird).toBeCloseTo(4);
    expect(margay!.cpuVsBird).toBeCloseTo(6);
    const [, idleBird] = rows([measurement('margay', 1000, 1, 10), measurement('bird', 1000, 1, 10, 0, 0)]);
    expect(idleBird!.cpuVsBird).toBeUndefined();
  });

  it('leaves the ratios out without a BIRD run', () => {
    const [only] = rows([measurement('margay', 1000, 1, 10)]);
    expect(only!.timeVsBird).toBeUndefined();
    expect(only!.aboveIdleVsBird).toBeUndefined();
    expect(formatTable('t', [measurement('margay', 1000, 1, 10, 6, 0.8)])).toContain(
      '| margay | 1,000 | 1.00 | 2,000 | 0.80 | 6 | 10 | 10,486 | 4,194 | — | — | — | — |',
    );
  });

  it('prints one row per target, the relay as the harness ceiling', () => {
    const table = formatTable('packed', runs).split('\n');
    expect(table[0]).toBe('### packed');
    expect(table[2]).toBe(
      '| target | routes | time (s) | routes/s | CPU (s) | idle RSS (MB) | peak RSS (MB) | bytes/route | bytes/route above idle | time vs BIRD | CPU vs BIRD | memory vs BIRD | above idle vs BIRD |',
    );
    expect(table.slice(4)).toEqual([
      '| harness ceiling (relay) (injection-bound) | 1,000,000 | 0.10 | 20,000,000 | 0.10 | 0 | 64 | 67 | 67 | 0.10× | 0.10× | 0.64× | 0.64× |',
      '| bird | 1,000,000 | 1.00 | 2,000,000 | 1.00 | 0 | 100 | 105 | 105 | 1.00× | 1.00× | 1.00× | 1.00× |',
      '| gobgp | 250,000 | 10.00 | 50,000 | 10.00 | 0 | 500 | 2,097 | 2,097 | 40.00× | 40.00× | 20.00× | 20.00× |',
    ]);
  });
});
