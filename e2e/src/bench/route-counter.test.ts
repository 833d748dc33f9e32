import { encodeWithdrawals, prefixList } from '@margay/bgp';
import fc from 'fast-check';
import { RouteCounter } from './route-counter';
import { buildWorkload, type WorkloadSpec } from './workload';

const ctx = { fourOctetAs: true, extendedMessages: false, ibgp: false };

/** The UPDATE bodies of concatenated messages. */
function bodies(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o < bytes.length; o += bytes.readUInt16BE(o + 16))
    out.push(bytes.subarray(o + 19, o + bytes.readUInt16BE(o + 16)));
  return out;
}

function workload(routes: number, perUpdate: number, attributeSets = 1): WorkloadSpec {
  return { routes, perUpdate, attributeSets, testerAs: 65001, ibgp: false };
}

describe('RouteCounter', () => {
  it('holds every route of a workload once all its UPDATEs are applied, and not before', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 800 }),
        (routes, perUpdate) => {
          const counter = new RouteCounter(routes);
          const updates = bodies(buildWorkload(workload(routes, perUpdate)).bytes);
          updates.forEach((body, i) => {
            expect(counter.complete).toBe(false);
            counter.applyUpdate(body);
            expect(counter.held).toBe(Math.min((i + 1) * perUpdate, routes));
          });
          expect(counter.complete).toBe(true);
          expect(counter.updates).toBe(updates.length);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('counts a re-announced route once and forgets a withdrawn one', () => {
    const counter = new RouteCounter(10);
    const [body] = bodies(buildWorkload(workload(10, 10)).bytes);
    counter.applyUpdate(body!);
    counter.applyUpdate(body!);
    expect(counter.held).toBe(10);
    const withdrawal = encodeWithdrawals(prefixList(1, ['100.0.0.3/32', '100.0.0.7/32']), ctx);
    counter.applyUpdate(withdrawal.subarray(19));
    expect(counter.held).toBe(8);
    expect(counter.complete).toBe(false);
  });

  it('ignores prefixes that are not among the benchmark routes', () => {
    const counter = new RouteCounter(5);
    counter.applyUpdate(bodies(buildWorkload(workload(20, 20)).bytes)[0]!);
    expect(counter.held).toBe(5);
    const other = encodeWithdrawals(prefixList(1, ['10.0.0.0/8', '100.0.0.0/24']), ctx);
    counter.applyUpdate(other.subarray(19));
    expect(counter.held).toBe(5);
  });

  it('rejects a body whose lengths overrun it', () => {
    const counter = new RouteCounter(5);
    expect(() => counter.applyUpdate(Buffer.of(0, 9, 0, 0))).toThrow('withdrawn routes length overruns');
    expect(() => counter.applyUpdate(Buffer.of(0, 0, 0, 9))).toThrow('path attribute length overruns');
    expect(() => counter.applyUpdate(Buffer.of(0, 0, 0, 0, 32, 100))).toThrow(
      'malformed IPv4 prefix at octet 4',
    );
    expect(counter.held).toBe(0);
  });
});
