import { formatTable, rows } from './report';
import type { Measurement } from './runner';

function measurement(
  target: Measurement['target'],
  routes: number,
  seconds: number,
  peakMb: number,
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
    idleRssBytes: 0,
    peakRssBytes: peakMb * 1024 * 1024,
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
    expect(bird).toMatchObject({ timeVsBird: 1, memoryVsBird: 1, routesPerSecond: 2_000_000 });
    expect(gobgp!.timeVsBird).toBeCloseTo(40);
    expect(gobgp!.memoryVsBird).toBeCloseTo(20);
    expect(gobgp!.bytesPerRoute).toBeCloseTo((500 * 1024 * 1024) / 250_000);
    expect(relay!.injectionBound).toBe(true);
    expect(bird!.injectionBound).toBe(false);
  });

  it('leaves the ratios out without a BIRD run', () => {
    const [only] = rows([measurement('margay', 1000, 1, 10)]);
    expect(only!.timeVsBird).toBeUndefined();
    expect(formatTable('t', [measurement('margay', 1000, 1, 10)])).toContain(
      '| margay | 1,000 | 1.00 | 2,000 | 10 | 10,486 | — | — |',
    );
  });

  it('prints one row per target, the relay as the harness ceiling', () => {
    const table = formatTable('packed', runs).split('\n');
    expect(table[0]).toBe('### packed');
    expect(table.slice(4)).toEqual([
      '| harness ceiling (relay) (injection-bound) | 1,000,000 | 0.10 | 20,000,000 | 64 | 67 | 0.10× | 0.64× |',
      '| bird | 1,000,000 | 1.00 | 2,000,000 | 100 | 105 | 1.00× | 1.00× |',
      '| gobgp | 250,000 | 10.00 | 50,000 | 500 | 2,097 | 40.00× | 20.00× |',
    ]);
  });
});
