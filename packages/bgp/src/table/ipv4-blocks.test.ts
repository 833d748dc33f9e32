import fc from 'fast-check';
import { ABSENT, Ipv4Keys } from './ipv4-blocks';

const key = (address: number, length: number): number => (address >>> 0) * 64 + length;
/** The /32 n places after 100.0.0.0. */
const host = (n: number): number => key(0x64000000 + n, 32);

test('neighbouring prefixes of one length sit in consecutive slots of one block', () => {
  const keys = new Ipv4Keys(4096);
  // 100.0.0.8/32 .. 100.0.0.15/32: one block of 8, in address order.
  const slots = Array.from({ length: 8 }, (_, n) => keys.slotFor(host(8 + n)));
  expect(slots.map((slot) => slot - slots[0]!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(slots[0]! % 8).toBe(0);
  // /24s are neighbours at their own length: 10.0.0.0/24 .. 10.0.7.0/24.
  const nets = Array.from({ length: 8 }, (_, n) => keys.slotFor(key(0x0a000000 + n * 256, 24)));
  expect(nets.map((slot) => slot - nets[0]!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  // The same address at another length is another key, in another block.
  const other = keys.slotFor(key(0x64000008, 29));
  expect(Math.floor(other / 8)).not.toBe(Math.floor(slots[0]! / 8));
  expect(keys.slotOf(host(8))).toBe(slots[0]);
  expect(keys.slotOf(host(16))).toBe(-1);
});

test('a slot stays where it is while the table grows, and generation says when slots moved', () => {
  const keys = new Ipv4Keys(4096);
  const column = keys.addColumn(Int32Array);
  const other = keys.addColumn(Float64Array);
  const first = keys.slotFor(host(3));
  keys.setAt(column, first, 3);
  const generation = keys.generation;
  for (let n = 0; n < 200_000; n++) keys.set(column, host(1000 + n), n);
  for (let n = 199_000; n < 200_000; n++) keys.set(other, host(1000 + n), -n);
  expect(keys.capacity).toBeGreaterThan(200_000);
  expect(keys.slotOf(host(3))).toBe(first);
  expect(keys.at(column, first)).toBe(3);
  expect(keys.generation).toBe(generation);
  // Deleting most keys compacts the table: slots move, and generation changes.
  for (let n = 0; n < 199_000; n++) keys.delete(column, host(1000 + n));
  expect(keys.capacity).toBeLessThan(200_000 / 8);
  expect(keys.generation).not.toBe(generation);
  expect(keys.get(column, host(3))).toBe(3);
  for (let n = 199_000; n < 200_000; n++) {
    expect(keys.get(column, host(1000 + n))).toBe(n);
    expect(keys.get(other, host(1000 + n))).toBe(-n);
  }
  expect(keys.sizes[other]).toBe(1000);
  expect(keys.get(column, host(1000))).toBeUndefined();
});

test('a column holds values only where it was given them, even in slots other columns fill', () => {
  const keys = new Ipv4Keys(4096);
  const full = keys.addColumn(Int32Array);
  const sparse = keys.addColumn(Float64Array);
  for (let n = 0; n < 100_000; n++) keys.set(full, host(n), n);
  keys.set(sparse, host(99_999), 2 ** 40);
  expect(keys.sizes[sparse]).toBe(1);
  expect(keys.at(sparse, keys.slotOf(host(5)))).toBe(ABSENT);
  expect(keys.get(sparse, host(99_999))).toBe(2 ** 40);
  const seen: number[] = [];
  keys.forEach(sparse, (k, value) => seen.push(k, value));
  expect(seen).toEqual([host(99_999), 2 ** 40]);
  // Emptying the other column leaves this one's key in place.
  keys.clear(full);
  expect(keys.slotOf(host(5))).toBe(-1);
  expect(keys.get(sparse, host(99_999))).toBe(2 ** 40);
});

test('/0, /1 and /2, host bits and the top of the address space are keys of their own', () => {
  const keys = new Ipv4Keys(4096);
  const column = keys.addColumn(Int32Array);
  const all = [
    key(0, 0),
    key(0xffffffff, 0),
    key(0x80000000, 1),
    key(0, 1),
    key(0xc0000000, 2),
    key(0x40000000, 2),
    key(0xffffffff, 32),
    key(0xfffffff8, 29),
    key(0x0a000001, 24),
    key(0x0a000000, 24),
  ];
  all.forEach((k, n) => {
    keys.set(column, k, n);
  });
  all.forEach((k, n) => {
    expect(keys.get(column, k)).toBe(n);
  });
  expect([...keys.entries(column)].sort((a, b) => a[1] - b[1])).toEqual(all.map((k, n) => [k, n]));
});

test('the key table behaves like a Map per column over runs of neighbours, growth and compaction', () => {
  // Runs of adjacent prefixes at a few lengths, as UPDATEs carry them; deletes of whole runs
  // shrink the table while values stay in other columns.
  const run = fc.record({
    start: fc.integer({ min: 0, max: 5000 }),
    count: fc.integer({ min: 1, max: 3000 }),
    length: fc.constantFrom(32, 24, 22),
  });
  const op = fc.tuple(fc.constantFrom('set', 'set', 'delete', 'clear'), fc.integer({ min: 0, max: 2 }), run);
  fc.assert(
    fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const keys = new Ipv4Keys(4096);
      const columns = [keys.addColumn(Int32Array), keys.addColumn(Int32Array), keys.addColumn(Float64Array)];
      const references = columns.map(() => new Map<number, number>());
      let value = 0;
      for (const [action, c, { start, count, length }] of ops) {
        const column = columns[c]!;
        const reference = references[c]!;
        if (action === 'clear') {
          keys.clear(column);
          reference.clear();
          continue;
        }
        for (let n = start; n < start + count; n++) {
          const k = key(0x64000000 + n * 2 ** (32 - length), length);
          if (action === 'set') {
            value++;
            expect(keys.set(column, k, value)).toBe(reference.get(k) ?? ABSENT);
            reference.set(k, value);
          } else {
            expect(keys.delete(column, k)).toBe(reference.delete(k));
          }
        }
      }
      columns.forEach((column, c) => {
        const reference = references[c]!;
        expect(keys.sizes[column]).toBe(reference.size);
        expect(new Map(keys.entries(column))).toEqual(reference);
        for (const [k, v] of reference) expect(keys.at(column, keys.slotOf(k))).toBe(v);
      });
    }),
    { numRuns: 30 },
  );
});
