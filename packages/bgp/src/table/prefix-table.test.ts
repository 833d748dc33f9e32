import fc from 'fast-check';
import type { PrefixKey } from './prefix-key';
import { PrefixTable } from './prefix-table';

// Keys from a small range, so that sets, overwrites and deletes of the same key mix, and
// enough of them to make the IPv4 table grow and reuse deleted slots.
const key: fc.Arbitrary<PrefixKey> = fc.oneof(
  // Distinct n give distinct (address, length) pairs: 100 and 33 are coprime.
  fc.integer({ min: 0, max: 300 }).map((n) => (0x64000000 + (n % 100)) * 64 + (n % 33)),
  fc.integer({ min: 0, max: 20 }).map((n) => `20010db8:${n.toString(16)}:0:0/64`),
);

test('PrefixTable behaves like a Map', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), key, fc.integer({ min: -5, max: 1 << 30 })), {
        maxLength: 2000,
        size: 'max',
      }),
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
    { numRuns: 40 },
  );
});

test('put and insert return what the key held, in one lookup', () => {
  const table = new PrefixTable(Float64Array);
  const v4 = 0x0a000000 * 64 + 8;
  const v6 = '20010db8:0:0:0/32';
  for (const k of [v4, v6]) {
    expect(table.insert(k, 1)).toBeUndefined();
    expect(table.insert(k, 2)).toBe(1);
    expect(table.get(k)).toBe(1);
    expect(table.put(k, 2 ** 40)).toBe(1);
    expect(table.get(k)).toBe(2 ** 40);
  }
  expect(table.put(32, 5)).toBeUndefined();
  expect(table.size).toBe(3);
  expect(() => table.insert(64, -(2 ** 31))).toThrow('value -2147483648 is reserved');
  expect(table.size).toBe(3);
});

test('a table told to retain slots keeps them when emptied, up to that many', () => {
  const scratch = new PrefixTable(Float64Array, undefined, 1 << 17);
  for (let n = 0; n < 20_000; n++) scratch.insert((0x64000000 + n) * 64 + 32, n);
  const capacity = scratch.ipv4Capacity;
  expect(capacity).toBeGreaterThan(20_000);
  scratch.clear();
  expect(scratch.ipv4Capacity).toBe(capacity);
  expect(scratch.size).toBe(0);
  expect(scratch.get((0x64000000 + 5) * 64 + 32)).toBeUndefined();
  for (let n = 0; n < 200_000; n++) scratch.insert((0x64000000 + n) * 64 + 32, n);
  scratch.clear();
  expect(scratch.ipv4Capacity).toBeLessThan(100);
});

test('adjacent /32s and prefixes of every length are found again in a large table', () => {
  // The hash keeps blocks of 4 adjacent addresses side by side: runs must still resolve.
  const table = new PrefixTable(Int32Array);
  const keys: number[] = [];
  for (let n = 0; n < 50_000; n++) keys.push((0x64000000 + n) * 64 + 32);
  for (let length = 0; length < 32; length++) keys.push(0x64000000 * 64 + length);
  for (let n = 0; n < 20_000; n++) keys.push(((0x0a000000 + n * 256) >>> 0) * 64 + 24);
  keys.forEach((k, n) => {
    expect(table.put(k, n)).toBeUndefined();
  });
  expect(table.size).toBe(keys.length);
  keys.forEach((k, n) => {
    expect(table.get(k)).toBe(n);
  });
  expect(table.get(0x64000000 * 64 + 31 + 64 * 1_000_000)).toBeUndefined();
});

test('a Float64Array table keeps path numbers above 2^32 exactly', () => {
  const table = new PrefixTable(Float64Array);
  table.set(1, 2 ** 52 + 7);
  expect(table.get(1)).toBe(2 ** 52 + 7);
});

test('IPv4 keys keep every length, including /0 and /32 of the same address', () => {
  const table = new PrefixTable(Int32Array);
  const keys = [0, 32, 0xffffffff * 64 + 32, 0xffffffff * 64, 0x0a000000 * 64 + 8];
  keys.forEach((k, n) => {
    table.set(k, n);
  });
  expect([...table.entries()].sort((a, b) => a[1] - b[1])).toEqual(keys.map((k, n) => [k, n]));
});

test('clearing a large table gives its slots back; a small one keeps them for the next batch', () => {
  const table = new PrefixTable(Int32Array);
  for (let n = 0; n < 100; n++) table.set((0x64000000 + n) * 64 + 32, n);
  const small = table.ipv4Capacity;
  table.clear();
  expect(table.ipv4Capacity).toBe(small);
  for (let n = 0; n < 100_000; n++) table.set((0x64000000 + n) * 64 + 32, n);
  expect(table.ipv4Capacity).toBeGreaterThan(100_000);
  table.clear();
  expect(table.ipv4Capacity).toBeLessThan(100);
  expect(table.size).toBe(0);
  table.set(32, 1);
  expect(table.get(32)).toBe(1);
});

test('deleting most keys of a large table shrinks it, keeping the rest', () => {
  const table = new PrefixTable(Int32Array);
  for (let n = 0; n < 100_000; n++) table.set((0x64000000 + n) * 64 + 32, n);
  const full = table.ipv4Capacity;
  for (let n = 1000; n < 100_000; n++) table.delete((0x64000000 + n) * 64 + 32);
  expect(table.ipv4Capacity).toBeLessThan(full / 8);
  expect(table.size).toBe(1000);
  for (let n = 0; n < 1000; n++) expect(table.get((0x64000000 + n) * 64 + 32)).toBe(n);
});

test('the value marking absent keys cannot be stored', () => {
  const table = new PrefixTable(Int32Array);
  expect(() => table.set(32, -(2 ** 31))).toThrow('value -2147483648 is reserved');
  expect(table.size).toBe(0);
});

test('tables sharing a key table each behave like their own Map', () => {
  const op = fc.tuple(
    fc.integer({ min: 0, max: 2 }),
    fc.constantFrom('set', 'set', 'set', 'put', 'insert', 'slot', 'delete', 'clear', 'replace'),
    key,
    fc.integer({ min: -5, max: 1 << 30 }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 1500, size: 'max' }), (ops) => {
      const owner = new PrefixTable(Int32Array);
      const tables = [owner, new PrefixTable(Float64Array, owner), new PrefixTable(Int32Array, owner)];
      const references = tables.map(() => new Map<PrefixKey, number>());
      for (const [t, action, k, value] of ops) {
        const reference = references[t]!;
        if (action === 'set') {
          tables[t]!.set(k, value);
          reference.set(k, value);
        } else if (action === 'put') {
          expect(tables[t]!.put(k, value)).toBe(reference.get(k));
          reference.set(k, value);
        } else if (action === 'insert') {
          expect(tables[t]!.insert(k, value)).toBe(reference.get(k));
          if (!reference.has(k)) reference.set(k, value);
        } else if (action === 'slot') {
          // One lookup in the shared key table, then every table reads (one writes) by slot.
          if (typeof k !== 'number') continue;
          const slot = owner.slotOf(k);
          const anyHolds = references.some((r) => r.has(k));
          expect(slot >= 0).toBe(anyHolds);
          if (slot < 0) continue;
          tables.forEach((table, n) => {
            expect(table.at(slot)).toBe(references[n]!.get(k));
          });
          tables[t]!.setAt(slot, value);
          reference.set(k, value);
        } else if (action === 'delete') {
          expect(tables[t]!.delete(k)).toBe(reference.delete(k));
        } else if (action === 'clear') {
          tables[t]!.clear();
          reference.clear();
        } else if (t > 0) {
          // Hand the column back and take a new one, as a dropped and a new update group do.
          tables[t]!.release();
          tables[t] = new PrefixTable(Int32Array, owner);
          reference.clear();
        }
        tables.forEach((table, n) => {
          expect(table.get(k)).toBe(references[n]!.get(k));
        });
      }
      tables.forEach((table, n) => {
        expect(table.size).toBe(references[n]!.size);
        expect(new Map(table.entries())).toEqual(references[n]);
      });
    }),
    { numRuns: 40 },
  );
});

test('a shared key table frees its slots only once no table holds a key', () => {
  const owner = new PrefixTable(Int32Array);
  const other = new PrefixTable(Int32Array, owner);
  for (let n = 0; n < 100_000; n++) {
    owner.set((0x64000000 + n) * 64 + 32, n);
    other.set((0x64000000 + n) * 64 + 32, -n);
  }
  owner.clear();
  expect(other.ipv4Capacity).toBeGreaterThan(100_000);
  expect(other.get((0x64000000 + 99_999) * 64 + 32)).toBe(-99_999);
  other.release();
  expect(owner.ipv4Capacity).toBeLessThan(100);
  owner.set(32, 1);
  expect(owner.get(32)).toBe(1);
});

test('scanIpv4 reads the IPv4 keys a bufferful at a time, resuming where it stopped', () => {
  const table = new PrefixTable(Int32Array);
  const keys = new Set<number>();
  // Neighbours and loners, so that blocks are full and sparse.
  for (let n = 0; n < 3000; n++) {
    const k = (0x0a000000 + (n % 3 === 0 ? n * 97 : n)) * 64 + 32;
    keys.add(k);
    table.set(k, n);
  }
  table.set('20010db8:1:0:0/64', 1);
  const out = new Float64Array(256);
  const scanAll = (deleting: boolean): { seen: number[]; calls: number } => {
    const seen: number[] = [];
    let calls = 0;
    let generation = table.generation;
    for (let from = 0; from >= 0; ) {
      const { count, next } = table.scanIpv4(from, out);
      calls++;
      seen.push(...out.subarray(0, count));
      if (deleting) for (let n = 0; n < count; n++) table.delete(out[n]!);
      // Deleting most keys compacts the table: what is left starts again at slot 0.
      from = table.generation === generation ? next : next < 0 ? -1 : 0;
      generation = table.generation;
    }
    return { seen, calls };
  };
  const reading = scanAll(false);
  expect(reading.calls).toBe(Math.ceil(3000 / 256));
  expect(reading.seen).toHaveLength(3000);
  expect(new Set(reading.seen)).toEqual(keys);
  const generation = table.generation;
  const deleting = scanAll(true);
  expect(table.generation).not.toBe(generation);
  expect(deleting.seen).toHaveLength(3000);
  expect(new Set(deleting.seen)).toEqual(keys);
  expect(table.size).toBe(1);
  expect(table.scanIpv4(0, out)).toEqual({ count: 0, next: -1 });
});
