import { KeyBatch } from './key-batch';

test('rows keep their keys of both families and their numbers through growth', () => {
  const batch = new KeyBatch(2);
  const keys: (number | string)[] = [];
  for (let n = 0; n < 1000; n++) keys.push(n % 7 === 0 ? `20010db8:${n.toString(16)}:0:0/64` : 2 ** 37 + n);
  keys.forEach((key, n) => {
    const row = batch.push(key);
    expect(row).toBe(n);
    batch.set(0, row, -n);
    batch.set(1, row, 2 ** 40 + n);
  });
  expect(batch.length).toBe(1000);
  keys.forEach((key, n) => {
    expect(batch.key(n)).toBe(key);
    expect(batch.get(0, n)).toBe(-n);
    expect(batch.column(1)[n]).toBe(2 ** 40 + n);
  });
  expect(Number.isNaN(batch.ipv4Key(0))).toBe(true);
  expect(batch.ipv4Key(1)).toBe(2 ** 37 + 1);
  batch.fill(0, -1);
  expect(batch.get(0, 999)).toBe(-1);
});

test('pushFrom copies a row key of either family; clear empties the batch for reuse', () => {
  const from = new KeyBatch(1);
  from.push(2 ** 36 + 5);
  from.push('20010db8:0:0:0/32');
  const to = new KeyBatch(0);
  expect(to.pushFrom(from, 1)).toBe(0);
  expect(to.pushFrom(from, 0)).toBe(1);
  expect([to.key(0), to.key(1)]).toEqual(['20010db8:0:0:0/32', 2 ** 36 + 5]);
  to.clear();
  expect(to.length).toBe(0);
  // A row reused after clear holds the new key, not the old IPv6 one.
  to.push(7);
  expect(to.key(0)).toBe(7);
  // A batch that grew large gives its arrays back when cleared and still works.
  for (let n = 0; n < 100_000; n++) to.push(n);
  to.clear();
  expect(to.push(3)).toBe(0);
  expect(to.key(0)).toBe(3);
});
