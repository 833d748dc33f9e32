import fc from 'fast-check';
import type { PrefixKey } from './prefix-key';
import { PrefixTable } from './prefix-table';

// Keys from a small range, so that sets, overwrites and deletes of the same key mix, and
// enough of them to make the IPv4 table grow and reuse deleted slots.
const key: fc.Arbitrary<PrefixKey> = fc.oneof(
  fc.integer({ min: 0, max: 300 }).map((n) => (0x64000000 + n) * 64 + 32),
  fc.integer({ min: 0, max: 20 }).map((n) => `20010db8:${n.toString(16)}:0:0/64`),
);

test('PrefixTable behaves like a Map', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), key, fc.integer({ min: -5, max: 1 << 30 })), { maxLength: 2000 }),
      (ops) => {
        const table = new PrefixTable(Int32Array);
        const reference = new Map<PrefixKey, number>();
        for (const [insert, k, value] of ops) {
          if (insert) {
            table.set(k, value);
            reference.set(k, value);
          } else {
            expect(table.delete(k)).toBe(reference.delete(k));
          }
          expect(table.get(k)).toBe(reference.get(k));
        }
        expect(table.size).toBe(reference.size);
        expect(new Map(table.entries())).toEqual(reference);
        const visited = new Map<PrefixKey, number>();
        table.forEach((k, value) => {
          visited.set(k, value);
        });
        expect(visited).toEqual(reference);
        for (const k of reference.keys()) expect(table.has(k)).toBe(true);
        table.clear();
        expect(table.size).toBe(0);
        expect([...table.keys()]).toEqual([]);
      },
    ),
    { numRuns: 200 },
  );
});

test('a Float64Array table keeps path numbers above 2^32 exactly', () => {
  const table = new PrefixTable(Float64Array);
  table.set(1, 2 ** 52 + 7);
  expect(table.get(1)).toBe(2 ** 52 + 7);
});
