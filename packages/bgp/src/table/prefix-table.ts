// Maps from prefix to a number, the RIBs' one data structure. IPv4 keys (see prefix-key.ts)
// live in a key table over typed arrays, without per-entry objects (see ipv4-blocks.ts).
// Tables holding mostly the same prefixes (the Loc-RIB, the Adj-RIB-Ins and the Adj-RIB-Outs)
// can share one key table, each keeping a column of values beside it: one lookup finds a
// prefix for all of them, and one table grows instead of several. A column takes memory only
// once it holds a value, so a peer that announces nothing costs nothing. IPv6 keys use a
// plain Map per table.

import { ABSENT, Ipv4Keys, type ValueArray } from './ipv4-blocks';
import type { PrefixKey } from './prefix-key';

export type { ValueArray } from './ipv4-blocks';

/** Tables up to this many slots (tens of KB) keep them when emptied, for the next batch. */
const SMALL = 4096;

/** Prefix → number, for both families. Values must not be -2^31. */
export class PrefixTable {
  private readonly v4: Ipv4Keys;
  private readonly column: number;
  private readonly v6 = new Map<string, number>();

  /**
   * An empty table; with `sharing`, one that keeps its IPv4 keys in that table's key table.
   * `retainSlots`: how many slots an emptied table keeps (more for one refilled every batch).
   */
  constructor(values: ValueArray, sharing?: PrefixTable, retainSlots = SMALL) {
    this.v4 = sharing?.v4 ?? new Ipv4Keys(retainSlots);
    this.column = this.v4.addColumn(values);
  }

  get size(): number {
    return this.v4.sizes[this.column]! + this.v6.size;
  }

  /** Slots of the IPv4 key table (shared, if it is), live or not: what its memory grows with. */
  get ipv4Capacity(): number {
    return this.v4.capacity;
  }

  get(key: PrefixKey): number | undefined {
    return typeof key === 'number' ? this.v4.get(this.column, key) : this.v6.get(key);
  }

  has(key: PrefixKey): boolean {
    return this.get(key) !== undefined;
  }

  set(key: PrefixKey, value: number): void {
    this.put(key, value);
  }

  /** Sets the value of `key` and returns the one it replaced, or undefined: one lookup for both. */
  put(key: PrefixKey, value: number): number | undefined {
    if (value === ABSENT) throw new Error(`prefix table: value ${ABSENT} is reserved for absent keys`);
    if (typeof key !== 'number') {
      const previous = this.v6.get(key);
      this.v6.set(key, value);
      return previous;
    }
    const previous = this.v4.set(this.column, key, value);
    return previous === ABSENT ? undefined : previous;
  }

  /**
   * Sets `key` to `value` only if it has no value: returns the value it has, or undefined if
   * it took `value`. One lookup for both.
   */
  insert(key: PrefixKey, value: number): number | undefined {
    if (value === ABSENT) throw new Error(`prefix table: value ${ABSENT} is reserved for absent keys`);
    if (typeof key === 'number') {
      const existing = this.v4.insert(this.column, key, value);
      return existing === ABSENT ? undefined : existing;
    }
    const existing = this.v6.get(key);
    if (existing === undefined) this.v6.set(key, value);
    return existing;
  }

  /**
   * The slot of IPv4 key `key` in the (shared) key table, or -1: several tables sharing it read
   * and update their values there with one lookup. Valid while `generation` stays the same and
   * the key is not deleted.
   */
  slotOf(key: number): number {
    return this.v4.slotOf(key);
  }

  /**
   * The slot of IPv4 key `key` in the (shared) key table, taking one if the key is new: the
   * caller must then set some sharing table's value there (setAt) before anything else changes
   * the key table. Valid while `generation` stays the same and the key is not deleted.
   */
  slotFor(key: number): number {
    return this.v4.slotFor(key);
  }

  /**
   * slotFor for IPv4 prefix `address`/`length`, the address as int32 (`address | 0`): for hot
   * paths, where a key (a double) passed as an argument would be boxed.
   */
  slotForIpv4(address: number, length: number): number {
    return this.v4.slotForPrefix(address, length);
  }

  /** Changes when slots of the (shared) key table may have moved or been freed, but by delete. */
  get generation(): number {
    return this.v4.generation;
  }

  /** This table's value in a slot from slotOf or slotFor, or undefined. */
  at(slot: number): number | undefined {
    const value = this.v4.at(this.column, slot);
    return value === ABSENT ? undefined : value;
  }

  /** Sets this table's value in a slot from slotOf or slotFor. */
  setAt(slot: number, value: number): void {
    if (value === ABSENT) throw new Error(`prefix table: value ${ABSENT} is reserved for absent keys`);
    this.v4.setAt(this.column, slot, value);
  }

  delete(key: PrefixKey): boolean {
    return typeof key === 'number' ? this.v4.delete(this.column, key) : this.v6.delete(key);
  }

  clear(): void {
    this.v4.clear(this.column);
    this.v6.clear();
  }

  /** Empties the table for good, giving its column of a shared key table back. */
  release(): void {
    this.v4.releaseColumn(this.column);
    this.v6.clear();
  }

  *entries(): IterableIterator<[PrefixKey, number]> {
    yield* this.v4.entries(this.column);
    yield* this.v6.entries();
  }

  /** This table's IPv4 keys from slot `from` on, a bufferful at a time: see Ipv4Keys.scan. */
  scanIpv4(from: number, out: Float64Array): { count: number; next: number } {
    return this.v4.scan(this.column, from, out);
  }

  /** Like entries(), without an array per entry; `visit` must not change the table. */
  forEach(visit: (key: PrefixKey, value: number) => void): void {
    this.v4.forEach(this.column, visit);
    for (const [key, value] of this.v6) visit(key, value);
  }

  *keys(): IterableIterator<PrefixKey> {
    for (const [key] of this.entries()) yield key;
  }

  [Symbol.iterator](): IterableIterator<[PrefixKey, number]> {
    return this.entries();
  }
}
