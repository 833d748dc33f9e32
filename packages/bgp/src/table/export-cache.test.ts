import { ExportCache } from './export-cache';

describe('ExportCache', () => {
  it('keeps one value per (attribute set, slot), the first slot and any others alike', () => {
    const cache = new ExportCache();
    expect(cache.get(3, 10)).toBeUndefined();
    cache.set(3, 10, 100);
    cache.set(3, 11, 101);
    cache.set(3, 12, -1);
    cache.set(0, 10, 200);
    expect([cache.get(3, 10), cache.get(3, 11), cache.get(3, 12), cache.get(0, 10)]).toEqual([
      100, 101, -1, 200,
    ]);
    expect(cache.get(3, 13)).toBeUndefined();
    expect(cache.get(1, 10)).toBeUndefined();
    expect(cache.size).toBe(4);
  });

  it('forgets every entry of a set, handing each value over once', () => {
    const cache = new ExportCache();
    cache.set(5, 1, 50);
    cache.set(5, 2, 51);
    cache.set(6, 1, 60);
    const dropped: number[] = [];
    cache.forget(5, (value) => dropped.push(value));
    expect(dropped.sort()).toEqual([50, 51]);
    expect(cache.get(5, 1)).toBeUndefined();
    expect(cache.get(5, 2)).toBeUndefined();
    expect(cache.get(6, 1)).toBe(60);
    expect(cache.size).toBe(1);
    // A reused id starts empty.
    cache.set(5, 2, 52);
    expect(cache.get(5, 2)).toBe(52);
    expect(cache.get(5, 1)).toBeUndefined();
  });

  it('forgets the slots that match in every set and keeps the others reachable', () => {
    const cache = new ExportCache();
    cache.set(1, 7, 10);
    cache.set(1, 8, 11);
    cache.set(1, 9, 12);
    cache.set(2, 8, 20);
    const dropped: number[] = [];
    cache.forgetSlots(
      (slot) => slot === 7 || slot === 8,
      (value) => dropped.push(value),
    );
    expect(dropped.sort()).toEqual([10, 11, 20]);
    expect(cache.get(1, 9)).toBe(12);
    expect(cache.get(1, 7)).toBeUndefined();
    expect(cache.get(2, 8)).toBeUndefined();
    expect(cache.size).toBe(1);
    // The slot that moved up is the set's first now: a new slot goes beside it.
    cache.set(1, 7, 13);
    expect([cache.get(1, 9), cache.get(1, 7)]).toEqual([12, 13]);
    const rest: number[] = [];
    cache.forget(1, (value) => rest.push(value));
    expect(rest.sort()).toEqual([12, 13]);
    expect(cache.size).toBe(0);
  });
});
