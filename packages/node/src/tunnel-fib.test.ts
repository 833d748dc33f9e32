import type { BestChange, FibSink, Route } from '@margay/bgp';
import { TunnelOwnedRoutesFilter } from './tunnel-fib';

class RecordingFib implements FibSink {
  readonly applied: string[] = [];
  closed: boolean | undefined;
  apply(changes: readonly BestChange[]): void {
    for (const change of changes) this.applied.push(`${change.best ? 'install' : 'remove'} ${change.prefix}`);
  }
  async close(keepRoutes: boolean): Promise<void> {
    this.closed = keepRoutes;
  }
}

const best = {} as Route; // the filter looks at prefixes only
const added = (prefix: string): BestChange => ({ kind: 'added', prefix, best });
const removed = (prefix: string): BestChange => ({ kind: 'removed', prefix, best: null });

describe('TunnelOwnedRoutesFilter', () => {
  test("holds everything back until the pools are known, then passes on what is not the tunnel manager's", async () => {
    const fib = new RecordingFib();
    const filter = new TunnelOwnedRoutesFilter(fib);
    filter.apply([added('10.244.1.0/26'), added('10.96.0.0/26'), added('2001:db8::/64')]);
    expect(fib.applied).toEqual([]);
    filter.setEncapsulatedPools(['10.244.0.0/16']);
    await filter.ready;
    expect(fib.applied).toEqual(['install 10.96.0.0/26', 'install 2001:db8::/64']);
  });

  test('later changes inside encapsulated pools stop here; others pass', () => {
    const fib = new RecordingFib();
    const filter = new TunnelOwnedRoutesFilter(fib);
    filter.setEncapsulatedPools(['10.244.0.0/16']);
    filter.apply([
      added('10.244.2.0/26'),
      added('10.96.1.0/26'),
      removed('10.244.2.0/26'),
      removed('10.96.1.0/26'),
    ]);
    expect(fib.applied).toEqual(['install 10.96.1.0/26', 'remove 10.96.1.0/26']);
  });

  test('a pool that starts or stops encapsulating hands its prefixes over', () => {
    const fib = new RecordingFib();
    const filter = new TunnelOwnedRoutesFilter(fib);
    filter.setEncapsulatedPools([]);
    filter.apply([added('10.244.1.0/26'), added('10.96.0.0/26')]);
    fib.applied.length = 0;
    filter.setEncapsulatedPools(['10.244.0.0/16']); // flipped to VXLAN: the tunnel manager takes over
    expect(fib.applied).toEqual(['remove 10.244.1.0/26']);
    filter.setEncapsulatedPools([]); // back to Never: BGP installs it again
    expect(fib.applied).toEqual(['remove 10.244.1.0/26', 'install 10.244.1.0/26']);
  });

  test('close is passed through', async () => {
    const fib = new RecordingFib();
    await new TunnelOwnedRoutesFilter(fib).close(true);
    expect(fib.closed).toBe(true);
  });
});
