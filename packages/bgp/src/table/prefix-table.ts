// Maps from prefix to a number, the RIBs' one data structure. IPv4 keys (safe
// integers, see prefix-key.ts) live in an open-addressing hash table over typed arrays: no
// per-entry objects, and no boxed doubles, which a Map would allocate for every key above
// 2^31. IPv6 keys use a plain Map.

import type { PrefixKey } from './prefix-key';

const EMPTY = -1;
const DELETED = -2;
const MIN_CAPACITY = 16;

/** Values: any double, or int32 at half the size where that is all a table stores. */
export type ValueArray = typeof Float64Array | typeof Int32Array;

/** Open addressing with linear probing; keys are non-negative safe integers. */
class NumberTable {
  private keys = new Float64Array(MIN_CAPACITY).fill(EMPTY);
  private values: Float64Array | Int32Array;
  private mask = MIN_CAPACITY - 1;
  size = 0;
  /** Live and deleted slots: what probing has to walk over. */
  private used = 0;

  constructor(private readonly valueArray: ValueArray) {
    this.values = new valueArray(MIN_CAPACITY);
  }

  private home(key: number): number {
    // MurmurHash3's finaliser over both halves: consecutive prefixes must not cluster.
    let h = (key >>> 0) ^ Math.imul((key / 4294967296) | 0, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) & this.mask;
  }

  get(key: number): number | undefined {
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === key) return this.values[i];
      if (k === EMPTY) return undefined;
    }
  }

  set(key: number, value: number): void {
    let free = -1;
    let i = this.home(key);
    for (; ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === key) {
        this.values[i] = value;
        return;
      }
      if (k === EMPTY) break;
      if (k === DELETED && free < 0) free = i;
    }
    if (free < 0) {
      if ((this.used + 1) * 4 > this.keys.length * 3) {
        this.resize();
        this.set(key, value);
        return;
      }
      free = i;
      this.used++;
    }
    this.keys[free] = key;
    this.values[free] = value;
    this.size++;
  }

  delete(key: number): boolean {
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === key) {
        this.keys[i] = DELETED;
        this.size--;
        return true;
      }
      if (k === EMPTY) return false;
    }
  }

  *entries(): IterableIterator<[number, number]> {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i]! >= 0) yield [keys[i]!, this.values[i]!];
  }

  forEach(visit: (key: number, value: number) => void): void {
    const { keys, values } = this;
    for (let i = 0; i < keys.length; i++) if (keys[i]! >= 0) visit(keys[i]!, values[i]!);
  }

  clear(): void {
    if (this.used === 0) return;
    this.keys.fill(EMPTY);
    this.size = 0;
    this.used = 0;
  }

  /** Rehashes into a table sized for the live entries, dropping deleted slots. */
  private resize(): void {
    const { keys, values } = this;
    // At most half full afterwards: probes stay short, and memory at most doubles.
    let capacity = MIN_CAPACITY;
    while (capacity < (this.size + 1) * 2) capacity *= 2;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.values = new this.valueArray(capacity);
    this.mask = capacity - 1;
    // Keys are distinct and there is room: each goes to the first empty slot from its home.
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (key < 0) continue;
      let at = this.home(key);
      while (this.keys[at] !== EMPTY) at = (at + 1) & this.mask;
      this.keys[at] = key;
      this.values[at] = values[i]!;
    }
    this.used = this.size;
  }
}

/** Prefix → number, for both families. */
export class PrefixTable {
  private readonly v4: NumberTable;
  private readonly v6 = new Map<string, number>();

  constructor(values: ValueArray) {
    this.v4 = new NumberTable(values);
  }

  get size(): number {
    return this.v4.size + this.v6.size;
  }

  get(key: PrefixKey): number | undefined {
    return typeof key === 'number' ? this.v4.get(key) : this.v6.get(key);
  }

  has(key: PrefixKey): boolean {
    return this.get(key) !== undefined;
  }

  set(key: PrefixKey, value: number): void {
    if (typeof key === 'number') this.v4.set(key, value);
    else this.v6.set(key, value);
  }

  delete(key: PrefixKey): boolean {
    return typeof key === 'number' ? this.v4.delete(key) : this.v6.delete(key);
  }

  clear(): void {
    this.v4.clear();
    this.v6.clear();
  }

  *entries(): IterableIterator<[PrefixKey, number]> {
    yield* this.v4.entries();
    yield* this.v6.entries();
  }

  /** Like entries(), without an array per entry; `visit` must not change the table. */
  forEach(visit: (key: PrefixKey, value: number) => void): void {
    this.v4.forEach(visit);
    for (const [key, value] of this.v6) visit(key, value);
  }

  *keys(): IterableIterator<PrefixKey> {
    for (const [key] of this.entries()) yield key;
  }

  [Symbol.iterator](): IterableIterator<[PrefixKey, number]> {
    return this.entries();
  }
}
